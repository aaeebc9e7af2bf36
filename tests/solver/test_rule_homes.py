"""Every encoding of a rule agrees with the checker (issue 18: one home per hard rule).

Route checks (``solver.rules.*.route_*``, what the search engine calls): on random one-carer
weeks, each family's route check accepts exactly the routes that the checker's functions for the
same rules accept. The weeks are drawn to sit on the rules' edges (small limits, close visits,
young carers, tight mileage caps), and a meta-test checks that the corpus holds, for every rule
family, routes each way, so no family can pass by never being exercised.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster import rules as R
from roster.eligibility import compute_eligibility
from roster.model import Assignment, Instance
from solver.params import Weights
from solver.rules.breaks import route_breaks
from solver.rules.daily_rest import route_daily_rest
from solver.rules.hours import route_weekly_hours
from solver.rules.journey import route_journeys
from solver.rules.weekly_rest import route_weekly_rest
from solver.rules.young import route_young
from solver.search.data import build_data
from tests import factory as F

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def random_week(rng: random.Random) -> tuple[Instance, list[int], list[int]]:
    """A one-carer week on the rules' edges: its instance, the visits' order and starts."""
    week = F.WEEK if rng.random() < 0.7 else date(2026, 10, 19)  # a clock-change week too
    n = rng.randint(1, 7)
    young = rng.random() < 0.3
    dob = date(week.year - 17, week.month, min(28, week.day + rng.choice((-3, 2, 30)))) if young \
        else date(1990, 1, 1)
    carer = F.carer("K1", date_of_birth=dob, overnight_ok=True,
                    lat=F.DORCHESTER[0] + rng.uniform(-0.1, 0.1),
                    lon=F.DORCHESTER[1] + rng.uniform(-0.1, 0.1))
    child = F.child("C1", mileage_cap_miles=rng.choice((None, 3.0, 6.0, 40.0)))
    visits = []
    starts = []
    day0 = rng.randint(0, 5)
    for i in range(n):
        day = min(6, day0 + rng.choice((0, 0, 0, 1, 2)))
        minute = rng.randint(0, 23 * 60 + 30)
        minute -= minute % 5
        dur = rng.choice((30, 60, 90, 120, 180, 240, 300))
        lat = F.DORCHESTER[0] + rng.uniform(-0.12, 0.12)
        lon = F.DORCHESTER[1] + rng.uniform(-0.12, 0.12)
        trip = rng.choice((0.0, 0.0, 0.0, 2.0))
        vdate = week + timedelta(days=day)
        visits.append(F.visit(f"V{i}", "C1", date=vdate, start=f"{minute // 60:02d}:{minute % 60:02d}",
                              duration_min=dur, lat=lat, lon=lon, trip_miles=trip))
    inst = F.make_instance(
        [carer], [child], visits, week_start=week,
        availability=tuple(F.everyday("K1", "00:00", "23:59")),
        max_week_hours=rng.choice((4.0, 8.0, 48.0)),
        daily_rest_hours=rng.choice((2.0, 6.0, 11.0)),
        weekly_rest_hours=rng.choice((24.0, 60.0, 100.0)),
        break_after_hours=rng.choice((1.0, 3.0, 6.0)),
        break_min=rng.choice((10, 20, 45)),
        return_home_gap_min=rng.choice((30, 120, 240)),
        mileage_cap_miles=rng.choice((3.0, 8.0, 20.0)),
    )
    planned = list(inst.planned_start)
    order = sorted(range(n), key=lambda v: (planned[v], v))
    if rng.random() < 0.5:
        # nudge planned starts a little so that visits sometimes meet or overlap
        starts = [planned[v] + rng.choice((0, 0, -15, 10)) for v in order]
    else:
        # a chain: each visit a chosen gap after the previous one ends, often exactly on a
        # rule's edge (the journey's minutes, the return-home gap, the daily rest, the break)
        gap = inst.settings.return_home_gap_min
        rest = int(inst.settings.daily_rest_hours * 60)
        brk = inst.settings.break_min
        starts = [planned[order[0]]]
        for prev, v in zip(order, order[1:], strict=False):
            travel = R.journey_between(inst, inst.visits[prev], inst.visits[v])[1]
            end = starts[-1] + inst.visits[prev].duration_min
            home = R.journey_from_home(inst, inst.carers[0], inst.visits[v])[1]
            offset = rng.choice((travel, travel - 1, travel + 1, gap - 1, gap, gap + 1, rest, rest - 1,
                                 rest + travel, rest + home, rest + home - 1, travel + brk,
                                 travel + brk - 1, home + brk, rng.randint(0, 600)))
            starts.append(end + offset)
    pairs = sorted(zip(starts, order, strict=True))
    return inst, [v for _, v in pairs], [s for s, _ in pairs]


def rows_of(inst: Instance, order: list[int], starts: list[int]) -> list[Assignment]:
    """The carer's rows at those starts, each with its R13 journey (as a solver writes them)."""
    carer = inst.carers[0]
    rows: list[Assignment] = []
    previous = None
    for v, s in zip(order, starts, strict=True):
        origin, miles, minutes = R.journey_into(inst, carer, previous, v, s)
        row = Assignment(inst.visits[v].visit_id, carer.carer_id, s, s + inst.visits[v].duration_min,
                         origin, miles, minutes)
        rows.append(row)
        previous = row
    return rows


def checker_journey(inst: Instance, rows: list[Assignment]) -> bool:
    carer = inst.carers[0]
    previous = None
    for a in rows:
        visit = inst.visit(a.visit_id)
        for fn in (R.r6_no_double_booking, R.r9_mileage_cap):
            if fn(inst, carer, visit, a, previous=previous):
                return False
        previous = a
    return not R.locate_r13(inst, carer, rows)


def _week(locate: Callable[..., list[tuple[str, str]]]) -> Callable[[Instance, list[Assignment]], bool]:
    return lambda inst, rows: not locate(inst, inst.carers[0], rows)


CHECKER: dict[str, Callable[[Instance, list[Assignment]], bool]] = {
    "journey (R6, R9, R13)": checker_journey,
    "hours (R10)": _week(R.locate_r10),
    "daily rest (R11)": _week(R.locate_r11),
    "young workers (R12)": _week(R.locate_r12),
    "weekly rest (R14)": _week(R.locate_r14),
    "breaks (R15)": _week(R.locate_r15),
}


def route_verdicts(inst: Instance, order: list[int], starts: list[int]) -> dict[str, bool]:
    """Each family's route check on the same route, through the engine's arrays."""
    elig = compute_eligibility(inst)
    n_v = len(inst.visits)
    pairs = {(0, v): [(-10**6, 10**6)] for v in range(n_v)}
    d = build_data(inst, elig, pairs, Weights())
    n = len(order)
    vis = np.array(order, dtype=np.int64)
    st_ = np.array(starts, dtype=np.int64)
    tm = np.zeros(n, dtype=np.int64)
    mi = np.zeros(n)
    fr = np.zeros(n, dtype=np.int64)
    code = route_journeys(vis, st_, n, d.dur, d.trip, d.cap, d.tmin, d.tmil, d.hmin[0], d.hmil[0], d.gap,
                          tm, mi, fr)
    out = {"journey (R6, R9, R13)": code == 0}
    # the week rules judge the working time of the rows as written, whatever R6 says
    rows = rows_of(inst, order, starts)
    ws = np.array([a.start - a.travel_min for a in rows], dtype=np.int64)
    we = np.array([a.end for a in rows], dtype=np.int64)
    out["hours (R10)"] = bool(route_weekly_hours(ws, we, n, d.maxweek[0]))
    out["daily rest (R11)"] = bool(route_daily_rest(ws, we, n, d.drest[0]))
    out["young workers (R12)"] = bool(route_young(ws, we, vis, n, d.vday, d.young_day[0], d.day_lo, d.ylo, d.yhi))
    out["weekly rest (R14)"] = bool(route_weekly_rest(ws, we, n, d.wrest[0], d.week_minutes))
    out["breaks (R15)"] = bool(route_breaks(ws, we, n, d.drest[0], d.brk_after[0], d.brk[0]))
    if code == 0:
        # the journeys the route check computes are the ones the checker expects (R13)
        assert list(tm) == [a.travel_min for a in rows]
        assert np.allclose(mi, [a.travel_miles for a in rows])
    return out


def verdicts(seed: int) -> tuple[dict[str, bool], dict[str, bool]]:
    inst, order, starts = random_week(random.Random(seed))
    rows = rows_of(inst, order, starts)
    return {k: fn(inst, rows) for k, fn in CHECKER.items()}, route_verdicts(inst, order, starts)


CORPUS = range(600)


@pytest.fixture(scope="module")
def corpus() -> list[tuple[dict[str, bool], dict[str, bool]]]:
    return [verdicts(seed) for seed in CORPUS]


@pytest.mark.parametrize("family", list(CHECKER))
def test_route_check_agrees_with_the_checker(family: str, corpus: list) -> None:
    wrong = [seed for seed, (want, got) in zip(CORPUS, corpus, strict=True) if want[family] != got[family]]
    assert not wrong, f"{family}: route check and checker disagree on seeds {wrong[:10]}"


@pytest.mark.parametrize("family", list(CHECKER))
def test_every_family_has_routes_each_way(family: str, corpus: list) -> None:
    kept = sum(1 for want, _ in corpus if want[family])
    broken = len(corpus) - kept
    assert kept >= 5 and broken >= 5, f"{family}: {kept} routes keep it, {broken} break it"


def test_every_contract_rule_has_a_home() -> None:
    """Every rule R1-R15 of roster.rules is named by a solver/rules module's docstring."""
    import solver.rules.breaks
    import solver.rules.daily_rest
    import solver.rules.hours
    import solver.rules.journey
    import solver.rules.pair
    import solver.rules.staffing
    import solver.rules.weekly_rest
    import solver.rules.young

    docs = " ".join(
        (m.__doc__ or "") for m in (
            solver.rules.pair, solver.rules.staffing, solver.rules.journey, solver.rules.hours,
            solver.rules.daily_rest, solver.rules.young, solver.rules.weekly_rest, solver.rules.breaks,
        )
    )
    missing = [r.code for r in R.RULES if f"{r.code} " not in docs and f"{r.code}," not in docs
               and f"{r.code}/" not in docs and f"{r.code}:" not in docs]
    assert not missing


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=10_000, max_value=10**9))
def test_route_checks_agree_on_random_weeks(seed: int) -> None:
    want, got = verdicts(seed)
    assert want == got


def test_young_carer_on_the_week_edge_is_judged_per_day() -> None:
    """A carer who turns 18 mid-week: R12 binds before the birthday only (route and checker)."""
    week = F.WEEK
    carer = F.carer("K1", date_of_birth=date(week.year - 18, week.month, week.day + 2), overnight_ok=True)
    visits = [F.visit("V0", date=week, start="21:00", duration_min=120),
              F.visit("V1", date=week + timedelta(days=4), start="21:00", duration_min=120)]
    for chosen, expect in (([0], False), ([1], True)):
        inst = F.make_instance([carer], [F.child()], [visits[i] for i in chosen],
                               availability=tuple(F.everyday("K1", "00:00", "23:59")))
        order = [0]
        starts = [inst.planned_start[0]]
        rows = rows_of(inst, order, starts)
        assert CHECKER["young workers (R12)"](inst, rows) is expect
        assert route_verdicts(inst, order, starts)["young workers (R12)"] is expect
    _ = replace
