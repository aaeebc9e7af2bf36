"""The engine's view of a week: flat, read-only numpy arrays built once per solve.

Everything a move needs is here, indexed by visit (``v``), carer (``c``) and child (``k``)
numbers, so that the compiled kernel (``solver.search.kernel``) never touches a Python object:
visit times and sizes, the travel matrices (visit to visit, home to visit), each candidate pair's
allowed start ranges (R4's flex window narrowed by R5, R7 and R12's journey from home:
``roster.eligibility``), each carer's working-time limits (``roster.rules.limits``), the local
days of the week for R12 (``roster.calendar.Clock``, exact across clock changes), and the
objective's per-row and per-child coefficients (``solver.params.Weights``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, NamedTuple

import numpy as np

from roster.model import Instance
from roster.rules import YOUNG_NIGHT, is_young, journey_between, limits, travel_model
from roster.travel import TravelModel
from solver.objective import preference_mismatches

N_DAYS = 10
"""Day indices 0..9 stand for the week's Monday - 1 day .. Monday + 8 days: a journey may start
before the week, and an overnight visit may end after it."""

W_COVERAGE, W_DISTINCT, W_OVER, W_STRANGER, W_CHANGE, W_MILE, W_DEVIATION, W_LEX = range(8)
"""Indices of ``Data.weights``."""


class Data(NamedTuple):
    """The week as arrays (see the module docstring). Minutes are epoch minutes."""

    dur: np.ndarray
    planned: np.ndarray
    slots: np.ndarray
    child: np.ndarray
    trip: np.ndarray
    cap: np.ndarray
    vday: np.ndarray
    tmin: np.ndarray
    tmil: np.ndarray
    hmin: np.ndarray
    hmil: np.ndarray
    pid: np.ndarray
    """(carer, visit) -> candidate pair number, -1 when the pair is not a candidate."""
    rng_ptr: np.ndarray
    rng_lo: np.ndarray
    rng_hi: np.ndarray
    cand_ptr: np.ndarray
    cand: np.ndarray
    maxweek: np.ndarray
    drest: np.ndarray
    wrest: np.ndarray
    brk_after: np.ndarray
    brk: np.ndarray
    young_any: np.ndarray
    young_day: np.ndarray
    day_lo: np.ndarray
    ylo: np.ndarray
    yhi: np.ndarray
    week_minutes: int
    gap: int
    rowq: np.ndarray
    """(carer, visit) quality cost of the row itself: stranger visit, preferences, agency hours."""
    refkeep: np.ndarray
    """(carer, visit) 1 when the reference rota has this row (each kept one saves a change)."""
    ref_total: int
    known: np.ndarray
    target: np.ndarray
    contracted: np.ndarray
    """Contracted minutes a week; -1 for agency carers (no hours-deviation term)."""
    weights: np.ndarray
    neigh: np.ndarray
    """(visit, NEIGHBOURS) nearby visits in time and place, nearest first (ruin moves)."""


NEIGHBOURS = 24


def day_arrays(instance: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local midnights (``N_DAYS + 1``) and R12's 06:00 / 22:00 (``N_DAYS`` each), epoch minutes."""
    clock = instance.clock
    first = instance.settings.week_start - timedelta(days=1)
    days = [first + timedelta(days=d) for d in range(N_DAYS + 1)]
    day_lo = np.array([clock.minute_of(d, 0) for d in days], dtype=np.int64)
    ylo = np.array([clock.minute_of(d, YOUNG_NIGHT[0]) for d in days[:-1]], dtype=np.int64)
    yhi = np.array([clock.minute_of(d, YOUNG_NIGHT[1]) for d in days[:-1]], dtype=np.int64)
    return day_lo, ylo, yhi


def young_days(instance: Instance) -> np.ndarray:
    """(carer, day index) 1 when the carer is under 18 on that day."""
    first = instance.settings.week_start - timedelta(days=1)
    out = np.zeros((len(instance.carers), N_DAYS), dtype=np.uint8)
    for c, carer in enumerate(instance.carers):
        for d in range(N_DAYS):
            out[c, d] = is_young(carer, first + timedelta(days=d))
    return out


def visit_travel(instance: Instance, model: TravelModel) -> tuple[np.ndarray, np.ndarray]:
    """(miles, minutes) between every two visits' places, as ``roster.rules.journey_between``."""
    vs = instance.visits
    if not model.matrix:
        places = np.array([instance.visit_location(v) for v in vs], dtype=float).reshape(-1, 2)
        miles, minutes = model.journey_matrix(places[:, 0], places[:, 1], places[:, 0], places[:, 1])
        np.fill_diagonal(miles, 0.0)
        np.fill_diagonal(minutes, 0)
        return np.ascontiguousarray(miles, dtype=np.float64), np.ascontiguousarray(minutes, dtype=np.int64)
    n = len(vs)
    miles = np.zeros((n, n))
    minutes = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            if i != j:
                miles[i, j], minutes[i, j] = journey_between(instance, vs[i], vs[j], model)
    return miles, minutes


def build_data(
    instance: Instance,
    elig: Any,
    pairs: Mapping[tuple[int, int], list[tuple[int, int]]],
    weights: Any,
    *,
    lexicographic: bool = True,
    reference: Any = None,
    travel: TravelModel | None = None,
    lex_factor: float = 20.0,
) -> Data:
    """The arrays of ``instance`` over the candidate ``pairs`` ((carer, visit) -> start ranges,
    ``solver.cpsat.candidate_pairs``), with the objective's ``weights`` (``solver.params.Weights``)
    and the ``reference`` rota whose rows count as kept (``Weights.change``)."""
    model = travel_model(instance, travel)
    vs, cs = instance.visits, instance.carers
    n_v, n_c = len(vs), len(cs)
    week_start = instance.settings.week_start
    planned = np.array(instance.planned_start, dtype=np.int64)
    dur = np.array([v.duration_min for v in vs], dtype=np.int64)
    children = {k.child_id: i for i, k in enumerate(instance.children)}
    child = np.array([children[v.child_id] for v in vs], dtype=np.int64)
    tmil, tmin = visit_travel(instance, model)
    pid = np.full((n_c, n_v), -1, dtype=np.int64)
    ptr = [0]
    lo: list[int] = []
    hi: list[int] = []
    by_visit: dict[int, list[int]] = {}
    for number, ((c, v), ranges) in enumerate(sorted(pairs.items())):
        pid[c, v] = number
        for a, b in ranges:
            lo.append(int(a))
            hi.append(int(b))
        ptr.append(len(lo))
        by_visit.setdefault(v, []).append(c)
    cand_ptr = [0]
    cand: list[int] = []
    for v in range(n_v):
        cand += by_visit.get(v, [])
        cand_ptr.append(len(cand))
    lims = [limits(instance, c) for c in cs]
    young = young_days(instance)
    day_lo, ylo, yhi = day_arrays(instance)
    rowq = np.zeros((n_c, n_v))
    for (c, v) in pairs:
        carer = cs[c]
        visit = vs[v]
        cost = weights.preference * preference_mismatches(instance, c, v)
        if not instance.knows(visit.child_id, carer.carer_id):
            cost += weights.stranger_visit
        if carer.agency:
            cost += weights.agency_hour * visit.duration_min / 60.0
        rowq[c, v] = cost
    refkeep = np.zeros((n_c, n_v), dtype=np.uint8)
    ref_total = 0
    if reference is not None:
        for a in reference.assignments:
            if a.visit_id in instance.visit_index and a.carer_id in instance.carer_index:
                refkeep[instance.carer_index[a.carer_id], instance.visit_index[a.visit_id]] = 1
            ref_total += 1
    known = np.zeros((len(instance.children), n_c), dtype=np.uint8)
    for (child_id, carer_id), hours in instance.history_hours.items():  # Instance.knows
        if hours > 0 and child_id in children and carer_id in instance.carer_index:
            known[children[child_id], instance.carer_index[carer_id]] = 1
    w = np.zeros(8)
    w[W_COVERAGE] = weights.coverage if not lexicographic else 1e6
    w[W_DISTINCT] = weights.distinct_carers
    w[W_OVER] = weights.over_target
    w[W_STRANGER] = weights.stranger
    w[W_CHANGE] = weights.change
    w[W_MILE] = weights.travel_mile
    w[W_DEVIATION] = weights.hours_deviation
    w[W_LEX] = lex_factor if lexicographic else 1.0
    # neighbours for ruin moves: a mile is worth 6 minutes of difference in planned start
    score = tmil + np.abs(planned[:, None] - planned[None, :]) / 6.0
    np.fill_diagonal(score, np.inf)
    k_n = min(NEIGHBOURS, max(n_v - 1, 0))
    neigh = np.argsort(score, axis=1, kind="stable")[:, :k_n].astype(np.int64) if k_n else np.zeros((n_v, 0), dtype=np.int64)
    return Data(
        dur=dur,
        planned=planned,
        slots=np.array([v.carers for v in vs], dtype=np.int64),
        child=child,
        trip=np.array([v.trip_miles for v in vs], dtype=np.float64),
        cap=np.array([instance.child_cap(instance.child(v.child_id)) for v in vs], dtype=np.float64),
        vday=np.array([(v.date - week_start).days + 1 for v in vs], dtype=np.int64),
        tmin=tmin,
        tmil=tmil,
        hmin=np.ascontiguousarray(elig.home_minutes, dtype=np.int64),
        hmil=np.ascontiguousarray(elig.home_miles, dtype=np.float64),
        pid=pid,
        rng_ptr=np.array(ptr, dtype=np.int64),
        rng_lo=np.array(lo, dtype=np.int64),
        rng_hi=np.array(hi, dtype=np.int64),
        cand_ptr=np.array(cand_ptr, dtype=np.int64),
        cand=np.array(cand, dtype=np.int64),
        maxweek=np.array([x.max_week_min for x in lims], dtype=np.int64),
        drest=np.array([x.daily_rest_min for x in lims], dtype=np.int64),
        wrest=np.array([x.weekly_rest_min for x in lims], dtype=np.int64),
        brk_after=np.array([x.break_after_min for x in lims], dtype=np.int64),
        brk=np.array([x.break_min for x in lims], dtype=np.int64),
        young_any=np.array([young[c].any() for c in range(n_c)], dtype=np.uint8),
        young_day=young,
        day_lo=day_lo,
        ylo=ylo,
        yhi=yhi,
        week_minutes=int(instance.clock.week_minutes),
        gap=int(instance.settings.return_home_gap_min),
        rowq=rowq,
        refkeep=refkeep,
        ref_total=ref_total,
        known=known,
        target=np.array([k.continuity_target for k in instance.children], dtype=np.int64),
        contracted=np.array(
            [-1 if c.agency else int(round(c.contracted_hours * 60)) for c in cs], dtype=np.int64
        ),
        weights=w,
        neigh=neigh,
    )
