"""Large-neighbourhood search over the CP-SAT model, seeded by the greedy.

A move frees a small neighbourhood — the carers living nearest to a visit still unstaffed (or to
a random child when every visit is staffed), with the whole of each one's week — and re-solves it
with ``solver.solve`` on a sub-instance, warm-started from the current rows. Everyone else's
rota is untouched. Because each carer's week is entirely inside the neighbourhood, every weekly
rule (R10-R15) and the R13 travel chain are re-checked by the sub-solve; a 2:1 visit brings its
other carer along. A move is kept when the whole week's rota then staffs more carer slots, or as
many at a lower objective (``solver.solve.rota_terms`` on the whole instance, so that continuity
counts the carers a child sees outside the neighbourhood too). The final rota is checked against
the whole instance.

While visits are open, a move (``day_share`` of them) frees instead *one day* of the open
visit's own eligible carers, those whose home keeps the child's mileage cap first
(``_day_neighbourhood``), with the day's open visits they could take; their other days stay in
the sub-instance as locks (start and all), so the weekly rules still see the whole week, and the
merged week is checked before it is kept. The carers are drawn at random from the
``day_carers + 2`` nearest (the same few every time stall: from a 10-minute rota at 1,308 slots,
60 s more kept nothing), with ``day_second`` more: for the chosen carers' visits around the open
visit's time, the carer who could take each over (an ejection chain of two steps). On the generator's M week the open visits sit at
peak hours (after school, evening, weekend late mornings) and the nearest free carers are
mostly over the mileage cap from home (R9), so a visit is staffed only by moving the work of the
carers who *can* reach it. Measured (M, 60 s ``solve``, 2 busy cores): whole-week moves of the
nearest carers kept 3 moves of 53 and ended at 1,289 / 1,229 slots (seeds 1 / 2; 1,289 after
10 minutes too); day moves of 4 carers kept 28 of 88 and 27 of 114: 1,310 / 1,238 slots
(6 carers: 1,309; 8: 1,306; 1 s a move: 1,305); 10 minutes of them: 1,308. Drawn at random
with 2 carers of the second step: 1,317 / 1,239 in 60 s; 3 + 3 carers: 1,314 from the same start
as 4 + 2's 1,319 (60 s from the 10-minute rota). A day move's sub-solve is one weighted stage
(twice the moves: 128 against 60 in 60 s from that rota), and the kind of each move (day or whole
week) is drawn in proportion to each kind's recent rate of moves that staffed more slots: 1,322 /
1,238 in a 60 s ``solve`` (82 and 56 moves). Whole-week moves whose 2:1 partners chain in more
than ``MAX_WEEK_CARERS`` carers are not made (on seed 2 they reached 60 carers and 600 visits,
and spent 1.9 s each to give up): 1,321 / 1,245. Then 6 + 3 carers a day move: 1,321 / 1,251;
8 + 4: 1,305 / 1,251 (more day moves pass ``MAX_DAY_CARERS``); 6 + 3 with 18 at most: 1,318 /
1,249. Runs of the same setting differ by a few slots.

Measured on the generator's S week (30 carers, 226 visits, 30 s, seed 0): 4 carers and 1.5 s a
move staffed 231 slots at a cost of 54,601, against 230 at 69,608 for the monolithic model and
70,532 for the greedy; 8 carers a move kept nothing (each sub-solve timed out), 3 or 5 carers at
1 s a move kept one move or none.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from roster.model import Assignment, Instance, Rota, Visit
from roster.travel import great_circle_miles_matrix
from solver.params import SolveParams, StopFlag

DAY_RATE, WEEK_RATE = 0.3, 0.05
"""Starting rates of moves that staff more slots, for the adaptive choice of a move's kind (M,
60 s: day moves kept 28 of 88, whole-week moves of the nearest carers 3 of 53). Only slots
count: whole-week moves that only lower the cost of the greedy's rota would otherwise take
turns from the moves that staff visits."""
RATE_KEEP = 0.9
"""Each move's outcome moves its kind's rate by (1 - RATE_KEEP) of the way."""
RATE_FLOOR = 0.02
"""A kind's rate never falls below this, so that it is still tried now and then."""


@dataclass(frozen=True)
class LnsParams:
    time_limit: float = 60.0
    seed: int = 0
    carers_per_move: int = 4
    move_time: float = 1.5
    workers: int = 1
    check: bool = True
    day_share: float | None = None
    """Share of the moves (while visits are open) that free one day of the open visit's own
    eligible carers, their other days locked (``_day_neighbourhood``). None: adaptive, in
    proportion to each kind's recent rate of kept moves (``DAY_RATE``, ``WEEK_RATE`` to start)."""
    day_carers: int = 6
    """Carers freed by such a move (those whose home keeps the visit's mileage cap first)."""
    day_sample: bool = True
    """Draw those carers at random from the ``day_carers + 2`` first, not the first."""
    day_second: int = 3
    """And up to this many carers who could take over their visits around the open visit's time."""


@dataclass(frozen=True)
class LnsResult:
    rota: Rota
    status: str
    moves: int
    improved: int
    seconds: float
    note: str = ""


def _staffed_rows(instance: Instance, rows: list[Assignment]) -> list[Assignment]:
    count: dict[str, int] = {}
    for a in rows:
        count[a.visit_id] = count.get(a.visit_id, 0) + 1
    return [a for a in rows if count[a.visit_id] >= instance.visit(a.visit_id).carers]


def improve(
    instance: Instance,
    rota: Rota | None = None,
    params: LnsParams | None = None,
    base: SolveParams | None = None,
    stop: StopFlag | None = None,
) -> LnsResult:
    """Improve ``rota`` (default: the greedy's) by LNS moves until ``params.time_limit`` or
    ``stop`` is set. ``base`` gives the weights and travel model (its locks and reference are
    not supported: ``solver.solve`` uses the monolithic model for those)."""
    from dataclasses import replace

    from solver.decompose import _rota, sub_instance
    from solver.solve import _is_valid, solve

    params = params or LnsParams()
    base = base or SolveParams()
    t0 = time.perf_counter()
    rng = random.Random(params.seed)
    if rota is None:
        rota = solve(instance, replace(base, use_greedy_only=True, seed=params.seed)).rota
    rows = _staffed_rows(instance, list(rota.assignments))
    level = _level(instance, rows, base)
    reasons = {u.visit_id: u.reasons for u in rota.unassigned}
    homes = np.array([(c.lat, c.lon) for c in instance.carers])
    moves = improved = day_kept = 0
    rate = {"day": DAY_RATE, "week": WEEK_RATE}
    uncovered_before = level[0]
    last_kind: str | None = None
    elig = None
    spent = 0.0  # wall time of the moves so far: no move starts that would end past the limit
    while time.perf_counter() - t0 < params.time_limit - params.move_time * 0.5:
        if stop is not None and stop.is_set():
            break
        if moves and params.time_limit - (time.perf_counter() - t0) < spent / moves:
            break
        if last_kind is not None:  # the previous move's outcome updates its kind's rate
            rate[last_kind] = max(RATE_FLOOR, RATE_KEEP * rate[last_kind]
                                  + (1 - RATE_KEEP) * float(level[0] < uncovered_before))
        uncovered_before = level[0]
        began = time.perf_counter()
        moves += 1
        staffed = {a.visit_id for a in rows}
        open_ids = [v.visit_id for v in instance.visits if v.visit_id not in staffed]
        pivot = instance.visit(rng.choice(open_ids)) if open_ids else rng.choice(instance.visits)
        hood = None
        share = params.day_share
        if share is None:
            share = rate["day"] / (rate["day"] + rate["week"])
        last_kind = "week"
        if open_ids and rng.random() < share:
            last_kind = "day"
            if elig is None:
                from roster.eligibility import compute_eligibility

                elig = compute_eligibility(instance, base.travel)
            k, second = params.day_carers, params.day_second
            hood = _day_neighbourhood(instance, rows, pivot, open_ids, elig, k,
                                      rng if params.day_sample else None, second)
        if hood is not None:
            sub, carer_ids, locks = hood
            current = Rota(assignments=tuple(a for a in rows if a.carer_id in sub.carer_index
                                             and a.visit_id in sub.visit_index))
            left = params.time_limit - (time.perf_counter() - t0)
            sp = replace(base, time_limit=min(params.move_time, max(0.5, left)),
                         workers=params.workers, seed=rng.randrange(1 << 30), hint=current,
                         lns=False, locks=locks, reference=None,
                         lexicographic=base.lexicographic and not WEIGHTED_DAY_MOVES)
            try:
                res = solve(sub, sp, stop=stop)
            except Exception:  # a failed move changes nothing
                spent += time.perf_counter() - began
                continue
            spent += time.perf_counter() - began
            trial = _staffed_rows(
                instance,
                [a for a in rows if a.carer_id not in carer_ids]
                + [a for a in res.rota.assignments if a.carer_id in carer_ids],
            )
            trial_level = _level(instance, trial, base)
            # the move saw the rest of the carers' weeks only as locks: check the whole week
            if trial_level < level and _is_valid(instance, Rota(assignments=tuple(trial)),
                                                 base.travel):
                improved += 1
                day_kept += 1
                rows, level = trial, trial_level
                for u in res.rota.unassigned:
                    reasons[u.visit_id] = u.reasons
            continue
        lat, lon = instance.visit_location(pivot)
        miles = great_circle_miles_matrix(homes[:, 0], homes[:, 1], np.array([lat]), np.array([lon]))[:, 0]
        nearest = np.argsort(miles)[: params.carers_per_move]
        carer_ids = {instance.carers[int(c)].carer_id for c in nearest}
        visit_ids = {a.visit_id for a in rows if a.carer_id in carer_ids}
        open_near = sorted(open_ids, key=lambda vid: _miles_to(instance, vid, lat, lon))[:10]
        visit_ids |= set(open_near)
        while True:  # bring the other carer of every 2:1 visit inside, with their week
            partners = {a.carer_id for a in rows if a.visit_id in visit_ids and a.carer_id not in carer_ids}
            if not partners:
                break
            carer_ids |= partners
            visit_ids |= {a.visit_id for a in rows if a.carer_id in carer_ids}
            if len(carer_ids) > MAX_WEEK_CARERS:
                break
        if len(carer_ids) > MAX_WEEK_CARERS:
            # 2:1 partners chained to half the week (M seed 2: 60 carers, 600 visits): a
            # model too big to build in a move's time, so no move
            spent += time.perf_counter() - began
            continue
        child_ids = {instance.visit(v).child_id for v in visit_ids}
        sub = sub_instance(instance, sorted(carer_ids), sorted(child_ids), sorted(visit_ids))
        current = Rota(assignments=tuple(a for a in rows if a.carer_id in carer_ids))
        left = params.time_limit - (time.perf_counter() - t0)
        sp = replace(base, time_limit=min(params.move_time, max(0.5, left)), workers=params.workers,
                     seed=rng.randrange(1 << 30), hint=current, lns=False, locks=(), reference=None)
        try:
            res = solve(sub, sp, stop=stop)
        except Exception:  # a failed move changes nothing
            spent += time.perf_counter() - began
            continue
        spent += time.perf_counter() - began
        if res.status == "GREEDY":
            continue
        trial = _staffed_rows(
            instance, [a for a in rows if a.carer_id not in carer_ids] + list(res.rota.assignments)
        )
        trial_level = _level(instance, trial, base)
        if trial_level < level:
            improved += 1
            rows, level = trial, trial_level
            for u in res.rota.unassigned:
                reasons[u.visit_id] = u.reasons
    rows = _staffed_rows(instance, rows)
    final = _rota(instance, rows, reasons)
    if params.check:
        from roster.checker import check
        from solver.solve import RotaBugError

        found = check(instance, final, base.travel)
        if found:
            raise RotaBugError(f"LNS made a rota that breaks {len(found)} hard rule(s): {found[:5]}")
    return LnsResult(final, "LNS", moves, improved, time.perf_counter() - t0,
                     note=f"{moves} moves, {improved} kept ({day_kept} of one day)")


def _level(instance: Instance, rows: list[Assignment], base: SolveParams) -> tuple[int, float]:
    """(uncovered carer slots, weighted cost) of the whole week: smaller is better."""
    from solver.solve import objective_of, rota_terms

    terms = rota_terms(instance, Rota(assignments=tuple(rows)), base)
    return int(round(terms["uncovered_slots"])), round(objective_of(terms, base.weights), 6)


def _miles_to(instance: Instance, visit_id: str, lat: float, lon: float) -> float:
    vlat, vlon = instance.visit_location(instance.visit(visit_id))
    return float(great_circle_miles_matrix(np.array([vlat]), np.array([vlon]),
                                           np.array([lat]), np.array([lon]))[0, 0])


MAX_WEEK_CARERS = 12
"""A whole-week move whose 2:1 partners bring in more carers than this is not made."""

WEIGHTED_DAY_MOVES = True
"""A day move's sub-solve is one weighted CP-SAT stage (coverage's weight leads) instead of the
lexicographic stages."""

MAX_DAY_CARERS = 14
"""A day move whose 2:1 partners on the day bring in more carers than this is not made."""


def _day_neighbourhood(
    instance: Instance, rows: list[Assignment], pivot: Visit, open_ids: list[str], elig: Any,
    k: int, rng: random.Random | None = None, second: int = 0,
) -> tuple[Instance, set[str], tuple[tuple[str, str, int], ...]] | None:
    """The sub-instance, freed carers and locks of a move that frees one day of the open
    ``pivot``'s own carers.

    The carers: up to ``k`` of the pivot's eligible carers, those whose home keeps the child's
    mileage cap first (nearest first), then the nearest others; and the other carer of each
    2:1 visit they work that day (until none is left out). Free: their visits on the pivot's
    date and the open visits of that date they could take (nearest the pivot first, at most
    10). Locked, start and all: their visits on other dates, so that the weekly rules (R10, R11
    across midnight, R13 chains, R14) see the whole week. The other carer of a locked 2:1 visit
    comes in with that visit alone, locked, and absent on the pivot's date so that the move
    gives them no new work. None when the day's partners pass ``MAX_DAY_CARERS``."""
    from datetime import datetime, timedelta
    from datetime import time as clock_time

    from roster.model import Absence
    from solver.decompose import sub_instance

    j = instance.visit_index[pivot.visit_id]
    cands = [int(c) for c in elig.eligible_carers(j)]
    near = sorted(cands, key=lambda c: (not bool(elig.home_within_cap[c, j]),
                                        float(elig.home_miles[c, j]), c))
    pick = near[:k] if rng is None else rng.sample(near[: k + 2], min(k, len(near)))
    carer_ids = {instance.carers[c].carer_id for c in pick}
    if not carer_ids:
        return None
    day = pivot.date
    on_day = [a for a in rows if instance.visit(a.visit_id).date == day]
    if second:
        # the carers who could take over what the chosen carers do around the pivot's time
        p0 = instance.planned_start[j]
        lo, hi = p0 - pivot.flex_min - 60, p0 + pivot.flex_min + pivot.duration_min + 60
        extra: list[str] = []
        for a in on_day:
            if a.carer_id not in carer_ids or not (a.start < hi and a.end > lo):
                continue
            w = instance.visit_index[a.visit_id]
            def rank(c: int, w: int = w) -> tuple[bool, float, int]:
                return (not bool(elig.home_within_cap[c, w]), float(elig.home_miles[c, w]), c)

            for c in sorted((int(c) for c in elig.eligible_carers(w)), key=rank):
                cid = instance.carers[c].carer_id
                if cid not in carer_ids and cid not in extra:
                    extra.append(cid)
                    break
        carer_ids |= set(extra[:second])
    while True:  # the day's 2:1 partners, freed too
        mine = {a.visit_id for a in on_day if a.carer_id in carer_ids}
        partners = {a.carer_id for a in on_day if a.visit_id in mine and a.carer_id not in carer_ids}
        if not partners:
            break
        carer_ids |= partners
        if len(carer_ids) > MAX_DAY_CARERS:
            return None
    locked = [a for a in rows if a.carer_id in carer_ids and instance.visit(a.visit_id).date != day]
    locked_ids = {a.visit_id for a in locked}
    others = [a for a in rows if a.visit_id in locked_ids and a.carer_id not in carer_ids]
    index = [instance.carer_index[c] for c in carer_ids]
    lat, lon = instance.visit_location(pivot)
    same_day = [vid for vid in open_ids if instance.visit(vid).date == day and
                elig.ok[index, instance.visit_index[vid]].any()]
    same_day = sorted(same_day, key=lambda vid: (vid != pivot.visit_id,
                                                 _miles_to(instance, vid, lat, lon)))[:10]
    visit_ids = {a.visit_id for a in on_day if a.carer_id in carer_ids} | locked_ids | set(same_day)
    outside = {a.carer_id for a in others}
    child_ids = {instance.visit(v).child_id for v in visit_ids}
    sub = sub_instance(instance, sorted(carer_ids | outside), sorted(child_ids), sorted(visit_ids))
    midnight = datetime.combine(day, clock_time())
    away = tuple(Absence(cid, midnight, midnight + timedelta(days=1)) for cid in sorted(outside))
    if away:
        sub = replace(sub, absences=tuple(sub.absences) + away)
    locks = tuple(sorted((a.visit_id, a.carer_id, a.start) for a in locked + others))
    return sub, carer_ids, locks
