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


# ---- CP-SAT encodings (the sections under "CP-SAT encoding" of solver/rules/*) -----------------
#
# The same seeded one-carer weeks, each visit's flex widened so that every route's starts are
# allowed (R4). The whole model (``solver.cpsat.build_model``: every family's encoding) with the
# carer's route fixed must admit it only if the checker finds nothing wrong, so a route broken in
# one family alone is refused by that family's encoding; and each relaxation of the coverage
# master must admit every route the whole model admits.

from typing import Any  # noqa: E402 - this section's own imports

from ortools.sat.python import cp_model  # noqa: E402

from roster.checker import check  # noqa: E402
from roster.model import Rota  # noqa: E402
from solver.candidates import Travel  # noqa: E402
from solver.coverage import add_carer_week, carer_data  # noqa: E402
from solver.cpsat import build_model  # noqa: E402
from solver.params import SolveParams  # noqa: E402
from solver.rules.breaks import add_carer_breaks  # noqa: E402
from solver.rules.daily_rest import add_carer_duties  # noqa: E402
from solver.rules.journey import add_carer_time  # noqa: E402

FAMILY_CODES: dict[str, tuple[str, ...]] = {
    "journey (R6, R9, R13)": ("R6", "R9", "R13"),
    "hours (R10)": ("R10",),
    "daily rest (R11)": ("R11",),
    "young workers (R12)": ("R12",),
    "weekly rest (R14)": ("R14",),
    "breaks (R15)": ("R15",),
}
"""Each family of the route checks, by the checker's rule codes."""

WIDE_FLEX = 720
CP_CASES = 120
"""Seeded weeks per family (one CP-SAT model of a few visits each, milliseconds)."""

LOOSE: dict[str, Any] = {"mileage_cap_miles": 40.0, "max_week_hours": 48.0,
                         "daily_rest_hours": 2.0, "weekly_rest_hours": 24.0,
                         "break_after_hours": 6.0, "break_min": 10}
"""Settings that no route of ``random_week`` comes near, for the families not in focus."""

FOCUS: dict[str, tuple[str, ...]] = {
    "journey (R6, R9, R13)": ("mileage_cap_miles",),
    "hours (R10)": ("max_week_hours",),
    "daily rest (R11)": ("daily_rest_hours",),
    "young workers (R12)": (),
    "weekly rest (R14)": ("weekly_rest_hours",),
    "breaks (R15)": ("break_after_hours", "break_min"),
}
"""The drawn settings each family's weeks keep (the rest are ``LOOSE``)."""


def focused_week(seed: int, family: str) -> tuple[Instance, list[int], list[int]]:
    """``random_week`` with the other families' limits loosened, so that a route it breaks is
    often broken in ``family`` alone; each visit's flex widened so that its start is allowed (R4)."""
    inst, order, starts = random_week(random.Random(seed))
    keep = FOCUS[family]
    loose = {k: v for k, v in LOOSE.items() if k not in keep}
    carer, child = inst.carers[0], inst.children[0]
    if family == "young workers (R12)":
        week = inst.settings.week_start
        carer = replace(carer, date_of_birth=date(week.year - 17, 1, 1))
    if "mileage_cap_miles" not in keep:
        child = replace(child, mileage_cap_miles=None)
    inst = replace(inst, settings=replace(inst.settings, **loose), carers=(carer,),
                   children=(child,),
                   visits=tuple(replace(v, flex_min=WIDE_FLEX) for v in inst.visits))
    return inst, order, starts


def _feasible(m: cp_model.CpModel) -> bool:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = 120.0  # a tiny model: only catches a hang
    code = solver.solve(m)
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.INFEASIBLE), solver.status_name(code)
    return code != cp_model.INFEASIBLE


def model_admits(inst: Instance, order: list[int], starts: list[int]) -> bool:
    """The whole model's encodings admit the carer working ``order`` at ``starts``."""
    elig = compute_eligibility(inst)
    rm = build_model(inst, elig, SolveParams(max_candidates=None))
    for v, s in zip(order, starts, strict=True):
        if (0, v) not in rm.x:
            return False  # no allowed start: a pair rule (R5, R7, R12) refuses the pair
        rm.model.add(rm.x[(0, v)] == 1)
        rm.model.add(rm.start[v] == s)
    return _feasible(rm.model)


def _master_week(build: Callable[..., None]) -> Callable[[Instance, list[int], list[int]], bool]:
    """Whether one relaxation of the master (``build``, given the carer's data) admits a route."""

    def admits(inst: Instance, order: list[int], starts: list[int]) -> bool:
        elig = compute_eligibility(inst)
        at = dict(zip(order, starts, strict=True))
        visits = sorted(order, key=lambda v: (inst.planned_start[v], inst.visits[v].visit_id))
        ranges = {(0, v): [(at[v] - WIDE_FLEX, at[v] + WIDE_FLEX)] for v in visits}
        m = cp_model.CpModel()
        x = {(0, v): m.new_bool_var(f"x{v}") for v in visits}
        start = {v: m.new_int_var(at[v] - WIDE_FLEX, at[v] + WIDE_FLEX, f"s{v}") for v in visits}
        build(m, inst, elig, ranges, visits, x, start)
        for v in visits:
            m.add(x[(0, v)] == 1)
            m.add(start[v] == at[v])
        return _feasible(m)

    return admits


def _t_min(inst: Instance, elig: Any, ranges: Any, visits: list[int]) -> dict[int, int]:
    return carer_data(inst, elig, Travel(inst), ranges, 0, visits)[0].t_min


RELAXATIONS: dict[str, Callable[[Instance, list[int], list[int]], bool]] = {
    "journey, hours, young, weekly rest (add_carer_time)": _master_week(
        lambda m, inst, elig, r, vs, x, s: add_carer_time(m, inst, 0, vs, r, x, s,
                                                          _t_min(inst, elig, r, vs))),
    "daily rest (add_carer_duties)": _master_week(
        lambda m, inst, elig, r, vs, x, s: add_carer_duties(m, inst, 0, vs, r, x, s,
                                                            _t_min(inst, elig, r, vs))),
    "breaks (add_carer_breaks)": _master_week(
        lambda m, inst, elig, r, vs, x, s: add_carer_breaks(m, inst, 0, vs, r, x, s,
                                                            _t_min(inst, elig, r, vs))),
    "the master's whole week (add_carer_week)": _master_week(
        lambda m, inst, elig, r, vs, x, s: add_carer_week(m, inst, elig, Travel(inst), r, 0, vs,
                                                          x, s)),
}
"""The coverage master's relaxations, each on one carer's week."""

RELAXATION_FAMILIES: dict[str, tuple[str, ...]] = {
    "journey, hours, young, weekly rest (add_carer_time)": ("R6", "R10", "R12", "R14"),
    "daily rest (add_carer_duties)": ("R11",),
    "breaks (add_carer_breaks)": ("R15",),
    "the master's whole week (add_carer_week)": ("R6", "R9", "R10", "R11", "R12", "R13", "R14",
                                                 "R15"),
}
"""The rules each relaxation encodes: a route broken in these alone is one it may refuse."""


def cp_case(seed: int, family: str) -> tuple[set[str], dict[str, bool]]:
    """The checker's rule codes broken by a seeded route, and each CP-SAT verdict on it."""
    inst, order, starts = focused_week(seed, family)
    rows = rows_of(inst, order, starts)
    broken = {v.rule for v in check(inst, Rota(assignments=tuple(rows))) if v.rule != "structure"}
    got = {"model": model_admits(inst, order, starts)}
    got.update({name: admits(inst, order, starts) for name, admits in RELAXATIONS.items()})
    return broken, got


@pytest.fixture(scope="module")
def cp_corpus() -> dict[str, list[tuple[set[str], dict[str, bool]]]]:
    return {family: [cp_case(seed, family) for seed in range(CP_CASES)] for family in FOCUS}


@pytest.mark.parametrize("family", list(FOCUS))
def test_every_route_the_whole_model_admits_passes_the_checker(family: str, cp_corpus: dict) -> None:
    wrong = [(seed, sorted(broken)) for seed, (broken, got) in enumerate(cp_corpus[family])
             if got["model"] and broken]
    assert not wrong, f"the model admits routes the checker refuses (seed, rules): {wrong[:10]}"


@pytest.mark.parametrize("family", list(FOCUS))
def test_each_family_s_encoding_refuses_the_routes_broken_only_there(family: str,
                                                                    cp_corpus: dict) -> None:
    codes = set(FAMILY_CODES[family])
    only = [(seed, got) for seed, (broken, got) in enumerate(cp_corpus[family])
            if broken and broken <= codes]
    admitted = [seed for seed, got in only if got["model"]]
    assert not admitted, f"{family}: the model admits routes that break it alone: {admitted[:10]}"


@pytest.mark.parametrize("family", list(FOCUS))
def test_each_relaxation_admits_every_route_the_whole_model_admits(family: str,
                                                                   cp_corpus: dict) -> None:
    """The master's bound is a bound of the model's weeks: each relaxation admits every route
    the model does. (Not every route the checker accepts: the model itself keeps a carer's
    visits in planned order and refuses the R15 runs of its conservative reading, and the
    relaxations relax that model; the test above shows the model keeps the checker's rules.)"""
    wrong = [(seed, name) for seed, (_broken, got) in enumerate(cp_corpus[family])
             for name in RELAXATIONS if got["model"] and not got[name]]
    assert not wrong, f"relaxations refuse routes the model admits: {wrong[:10]}"


@pytest.mark.parametrize("relaxation", list(RELAXATIONS))
def test_each_relaxation_refuses_some_route_broken_in_its_rules(relaxation: str,
                                                                cp_corpus: dict) -> None:
    """Not vacuous: of the routes broken in its rules alone, it refuses some."""
    codes = set(RELAXATION_FAMILIES[relaxation])
    refused = [seed for cases in cp_corpus.values() for seed, (broken, got) in enumerate(cases)
               if broken and broken <= codes and not got[relaxation]]
    assert refused, f"{relaxation} refuses no route broken in {sorted(codes)} alone"


def test_every_contract_rule_has_cp_sat_cases_each_way(cp_corpus: dict) -> None:
    """Meta-test: every week rule the families hold (R6, R9-R12, R14, R15) is broken alone by
    some route of its family's weeks, which the model then refuses (the test above), and every
    family has routes that keep every rule, which the model admits. R13 is never broken: a
    route's rows carry their R13 journey (``rows_of``); its encoding decides the journeys that
    R6, R9, R10, R11 and R15 then measure. R1-R5, R7, R8 are pair rules: the model has no
    variable for a pair they refuse (eligibility; ``solver.rules.pair``)."""
    for family, cases in cp_corpus.items():
        alone = {code for broken, _ in cases if len(broken) == 1 for code in broken}
        want = set(FAMILY_CODES[family]) - {"R13"}
        assert want & alone, f"{family}: no route breaks {sorted(want)} alone"
        if family == "journey (R6, R9, R13)":
            assert {"R6", "R9"} <= alone, f"journey: alone only {sorted(alone)}"
        clean = sum(1 for broken, got in cases if not broken and got["model"])
        assert clean >= 5, f"{family}: the model admits {clean} routes that keep every rule"


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=10_000, max_value=10**9), st.sampled_from(list(FOCUS)))
def test_cp_sat_agrees_with_the_checker_on_random_weeks(seed: int, family: str) -> None:
    broken, got = cp_case(seed, family)
    if got["model"]:
        assert not broken
        assert all(got[name] for name in RELAXATIONS)


def _edge_week(case: str, broken: bool) -> tuple[Instance, list[int], list[int]]:
    """A hand-made route on one rule's edge: broken in ``family`` alone, or its twin that keeps
    every rule. These are the edges the seeded weeks rarely reach (a journey longer than the
    return-home gap; a young carer's long day that keeps every other rule)."""
    lat, lon = F.DORCHESTER
    far = (lat + 0.25, lon)  # about 17 miles north
    day = F.WEEK
    if case.startswith("journey"):
        # two visits far apart, the carer living by the second: the gap between them is over the
        # return-home gap, so the carer comes from home (R13, a short journey) and R6 still asks
        # for the journey between the two places
        carer = F.carer("K1", lat=far[0], lon=far[1] + 0.005)
        v1 = F.visit("V1", date=day, start="09:00", duration_min=60, lat=lat, lon=lon)
        v2 = F.visit("V2", date=day, start="11:00", duration_min=60, lat=far[0], lon=far[1])
        base = F.make_instance([carer], [F.child(mileage_cap_miles=40.0)], [v1, v2])
        t = R.journey_between(base, base.visits[0], base.visits[1])[1]
        if case.endswith("fixed starts"):
            # no flex: the model knows the two cannot both be done (its clause for that pair)
            at = 10 * 60 + (t - 3 if broken else t)
            v2 = replace(v2, start=f"{at // 60:02d}:{at % 60:02d}")
            base = F.make_instance([carer], [F.child(mileage_cap_miles=40.0)], [v1, v2])
            inst = replace(base, settings=replace(base.settings, return_home_gap_min=t - 6,
                                                  mileage_cap_miles=40.0, break_min=1))
            return inst, [0, 1], [inst.planned_start[0], inst.planned_start[1]]
        home = R.journey_into(base, carer, None, 1, 0)[2]
        inst = replace(base, settings=replace(base.settings, return_home_gap_min=t - 6,
                                              mileage_cap_miles=40.0, break_min=1),
                       visits=tuple(replace(v, flex_min=WIDE_FLEX) for v in base.visits))
        assert home + 1 < t - 6, "the journey from home must be the shorter one"
        end1 = inst.planned_start[0] + 60
        return inst, [0, 1], [inst.planned_start[0], end1 + (t - 3 if broken else t)]
    if case == "young workers (R12)":
        # 4 h + 4 h 15 min at one place with a 45 min break: over 8 h a day (broken) or 7 h 45
        carer = F.carer("K1", date_of_birth=date(day.year - 17, 1, 1))
        second = 255 if broken else 225
        v1 = F.visit("V1", date=day, start="07:00", duration_min=240)
        v2 = F.visit("V2", date=day, start="11:45", duration_min=second)
        inst = F.make_instance([carer], [F.child()], [v1, v2])
        return inst, [0, 1], [inst.planned_start[0], inst.planned_start[1]]
    raise KeyError(case)


EDGE_CASES = {"journey (R6, R9, R13)": "journey (R6, R9, R13)",
              "journey (R6, R9, R13), fixed starts": "journey (R6, R9, R13)",
              "young workers (R12)": "young workers (R12)"}
"""Hand-made edge case -> its family."""


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_a_route_on_the_rule_s_edge_is_refused_and_its_twin_admitted(case: str) -> None:
    family = EDGE_CASES[case]
    codes = set(FAMILY_CODES[family])
    for broken in (True, False):
        inst, order, starts = _edge_week(case, broken)
        rows = rows_of(inst, order, starts)
        rules = {v.rule for v in check(inst, Rota(assignments=tuple(rows))) if v.rule != "structure"}
        assert (rules <= codes and bool(rules)) if broken else not rules, (broken, rules)
        assert model_admits(inst, order, starts) is not broken, (family, broken)
