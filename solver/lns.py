"""Large-neighbourhood search over the CP-SAT model, seeded by the greedy.

A move frees a small neighbourhood — the carers living nearest to a visit still unstaffed (or to
a random child when every visit is staffed), with the whole of each one's week — and re-solves it
with one CP-SAT search of the model (``solver.cpsat``) on a sub-instance, warm-started from
the current rows. Everyone else's rota is untouched. Because each carer's week is entirely inside the neighbourhood, every weekly
rule (R10-R15) and the R13 travel chain are re-checked by the sub-solve; a 2:1 visit brings its
other carer along. A move is kept when the whole week's rota then staffs more carer slots, or as
many at a lower objective (``solver.objective.rota_terms`` on the whole instance, so that continuity
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
1,238 in a 60 s ``solve`` (82 and 56 moves). Whole-week moves whose 2:1 partners chained in more
than 12 carers were not made (on seed 2 they reached 60 carers and 600 visits,
and spent 1.9 s each to give up): 1,321 / 1,245 (fifth session: such partners are held instead,
``_week_neighbourhood``). Then 6 + 3 carers a day move: 1,321 / 1,251;
8 + 4: 1,305 / 1,251 (more day moves pass ``MAX_DAY_CARERS``); 6 + 3 with 18 at most: 1,318 /
1,249. Runs of the same setting differ by a few slots.

Fourth session (M, 60 s ``solve``, 2 busy cores, runs beside the previous code in the same
minutes). A day move now holds the visits that feed an outside partner's locked 2:1 visit
(``_outside_rows``): without them 8 of 37 day moves on seed 2 were infeasible. A move's search
is one weighted CP-SAT stage with a light presolve (``MOVE_SOLVER``; the default presolve's
probing left 6 of 34 moves with no answer at all), built straight from the model, with no
greedy or checker of its own. And ``solver.solve`` runs two moves at once (``threads``; CP-SAT
leaves Python's lock while it searches), each merged into the rota as it is when it ends.
Seeds 1 / 2: 1,323, 1,322 / 1,253, 1,254 against 1,310, 1,323 / 1,246, 1,246 for the previous
code (one move at a time: 1,323, 1,324 / 1,251, 1,251).

Fifth session. A whole-week move holds the other carer of a shared 2:1 visit (locked, away
around it all week: ``_week_neighbourhood``) instead of chaining their weeks in; on S seed 7
every chain had passed the 12-carer cap and the search after a proof made 40,363 empty moves
in 9 s. After a proven coverage, half the moves free the weeks of one child's carers, the
child drawn by its continuity cost (``_child_carers``): S seed 7 with 30 s, continuity cost
32,220 -> 24,020. M, one idle run each against week moves skipped: 1,326 / 1,259 against
1,323 / 1,257.

Measured on the generator's S week (30 carers, 226 visits, 30 s, seed 0): 4 carers and 1.5 s a
move staffed 231 slots at a cost of 54,601, against 230 at 69,608 for the monolithic model and
70,532 for the greedy; 8 carers a move kept nothing (each sub-solve timed out), 3 or 5 carers at
1 s a move kept one move or none.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.model import Absence, Assignment, Instance, Rota, Visit
from roster.travel import great_circle_miles_matrix
from solver.cpbase import StopWatcher
from solver.cpsat import BUILD_SHARE, build_model, chosen_of, hint_values
from solver.decompose import sub_instance
from solver.explain import explain_unassigned
from solver.greedy import greedy_with
from solver.objective import TERM_WEIGHT, TERMS_BY_STAGE, objective_of, rota_terms, stage_costs
from solver.params import SolveParams, StopFlag
from solver.rota import RotaBugError, decode, finish, is_valid, rota_of_rows, staffed_rows

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
    threads: int = 1
    """Moves run at once (``improve``); ``solver.solve`` gives one per CP-SAT worker it has."""
    coverage_proven: bool = False
    """No open visit can be staffed (``solver.coverage`` proved the rota's slots optimal):
    moves pick any visit, not the open ones, and never a day move for an open visit."""
    child_share: float = 0.5
    """With ``coverage_proven``: share of the moves that free the weeks of one child's carers
    (``_child_carers``), the child drawn in proportion to its continuity cost."""
    child_carers: int = 5
    """Carers freed by such a move: the child's carers this week, then carers who know it."""
    stall_moves: int | None = None
    """With ``coverage_proven``: stop once this many moves in a row ended without a kept one
    (``LnsResult.stalled``), so that ``solver.solve`` can hand the time left to the whole model."""


@dataclass(frozen=True)
class LnsResult:
    rota: Rota
    status: str
    moves: int
    improved: int
    seconds: float
    note: str = ""
    stalled: bool = False
    """Stopped by ``LnsParams.stall_moves``, not by the time limit."""


def improve(
    instance: Instance,
    rota: Rota | None = None,
    params: LnsParams | None = None,
    base: SolveParams | None = None,
    stop: StopFlag | None = None,
    on_better: Callable[[Rota], Any] | None = None,
) -> LnsResult:
    """Improve ``rota`` (default: the greedy's) by LNS moves until ``params.time_limit`` or
    ``stop`` is set. ``base`` gives the weights and travel model (its locks and reference are
    not supported: ``solver.solve`` uses the monolithic model for those). ``on_better`` gets
    each better rota kept (its rows; the open visits unexplained).

    With ``params.threads`` > 1, that many moves run at once, each on the rota as it was when
    it started (CP-SAT leaves Python's lock while it searches); a move's rows replace only its
    own carers' rows (of its date, for a day move) in the rota as it is when the move ends, and
    the merged week is checked before it is kept."""
    params = params or LnsParams()
    base = base or SolveParams()
    t0 = time.perf_counter()
    rng = random.Random(params.seed)
    if rota is None:
        # the pipeline's greedy-only rota (``solve(use_greedy_only=True)``), without the pipeline
        elig0 = compute_eligibility(instance, base.travel)
        rota = finish(instance, greedy_with(instance, elig0, locks=base.locks, travel=base.travel),
                      replace(base, use_greedy_only=True, seed=params.seed), elig0, "GREEDY",
                      None, [], t0).rota
    rows = staffed_rows(instance, list(rota.assignments))
    level = _level(instance, rows, base)
    reasons = {u.visit_id: u.reasons for u in rota.unassigned}
    homes = np.array([(c.lat, c.lon) for c in instance.carers])
    moves = improved = day_kept = 0
    since_kept = 0  # moves ended in a row without a kept one

    def stalled() -> bool:
        return (params.coverage_proven and params.stall_moves is not None
                and since_kept >= params.stall_moves)
    rate = {"day": DAY_RATE, "week": WEEK_RATE}
    elig = None
    spent = 0.0  # wall time of the moves so far: no move starts that would end past the limit
    threads = max(1, params.threads)
    running: dict[Future[_Outcome | None], tuple[str, date | None, float]] = {}
    pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def start_move() -> None:
        nonlocal moves, elig
        moves += 1
        staffed = {a.visit_id for a in rows}
        open_ids = [] if params.coverage_proven else [
            v.visit_id for v in instance.visits if v.visit_id not in staffed]
        busy = {d for _k, d, _t in running.values() if d is not None}
        share = params.day_share
        if share is None:
            share = rate["day"] / (rate["day"] + rate["week"])
        kind = "day" if open_ids and rng.random() < share else "week"
        excess = _continuity_excess(instance, rows) if params.coverage_proven else {}
        if excess and rng.random() < params.child_share:
            kind = "child"
        # a move running at once works on another date where it can
        pool_ids = [vid for vid in open_ids if instance.visit(vid).date not in busy] or open_ids
        if kind == "day":
            pivot = instance.visit(rng.choice(pool_ids))
        elif kind == "child":
            names = sorted(excess)
            child = rng.choices(names, weights=[excess[n] for n in names])[0]
            pivot = next(v for v in instance.visits if v.child_id == child)
        else:
            pivot = instance.visit(rng.choice(open_ids)) if open_ids else rng.choice(instance.visits)
        if kind == "day" and elig is None:
            elig = compute_eligibility(instance, base.travel)
        began = time.perf_counter()
        left = params.time_limit - (began - t0)
        sp = replace(base, time_limit=min(params.move_time, max(0.5, left)),
                     workers=params.workers, seed=rng.randrange(1 << 30), lns=False,
                     reference=None)
        job = _MoveJob(kind, pivot, tuple(open_ids), tuple(rows), sp,
                       random.Random(rng.randrange(1 << 30)))
        if pool is None:
            fut: Future[_Outcome | None] = Future()
            fut.set_result(_run_move(instance, job, params, elig, homes, stop))
        else:
            fut = pool.submit(_run_move, instance, job, params, elig, homes, stop)
        running[fut] = (kind, pivot.date if kind == "day" else None, began)

    try:
        while True:
            while len(running) < threads:
                now = time.perf_counter() - t0
                if now >= params.time_limit - params.move_time * 0.5:
                    break
                if stop is not None and stop.is_set():
                    break
                if moves and params.time_limit - now < spent / moves:
                    break
                if stalled():
                    break
                start_move()
            if not running:
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                kind, _day, began = running.pop(fut)
                out = fut.result()
                before = level[0]
                spent += time.perf_counter() - began
                kept = False
                if out is not None:
                    trial = _merge(instance, rows, out, base.travel)
                    if trial is not None:
                        trial_level = _level(instance, trial, base)
                        # the move saw the rest of the week as it was: check the merged week
                        if trial_level < level and is_valid(
                                instance, Rota(assignments=tuple(trial)), base.travel):
                            improved += 1
                            kept = True
                            day_kept += out.day is not None
                            rows, level = trial, trial_level
                            if on_better is not None:
                                on_better(Rota(assignments=tuple(rows)))
                since_kept = 0 if kept else since_kept + 1
                if kind in rate:
                    rate[kind] = max(RATE_FLOOR, RATE_KEEP * rate[kind]
                                     + (1 - RATE_KEEP) * float(level[0] < before))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    rows = staffed_rows(instance, rows)
    if improved and params.check:  # (``solver.solve`` explains the open visits itself)
        reasons = explain_unassigned(
            instance, elig if elig is not None else compute_eligibility(instance, base.travel),
            Rota(assignments=tuple(rows)))
    final = rota_of_rows(instance, rows, reasons)
    if params.check:
        found = check(instance, final, base.travel)
        if found:
            raise RotaBugError(f"LNS made a rota that breaks {len(found)} hard rule(s): {found[:5]}")
    return LnsResult(final, "LNS", moves, improved, time.perf_counter() - t0,
                     note=f"{moves} moves, {improved} kept ({day_kept} of one day)"
                     + (f"; stopped: {since_kept} in a row kept nothing" if stalled() else ""),
                     stalled=stalled())


@dataclass(frozen=True)
class _MoveJob:
    kind: str
    pivot: Visit
    open_ids: tuple[str, ...]
    rows: tuple[Assignment, ...]
    params: SolveParams
    rng: random.Random


@dataclass(frozen=True)
class _Outcome:
    """A move's answer: the new rows of ``carers`` (on ``day`` only, for a day move)."""

    carers: frozenset[str]
    day: date | None
    rows: tuple[Assignment, ...]


def _run_move(
    instance: Instance, job: _MoveJob, params: LnsParams, elig: Any, homes: np.ndarray,
    stop: StopFlag | None,
) -> _Outcome | None:
    """Build one move's neighbourhood from ``job.rows`` and re-solve it; None when there is no
    move or the sub-solve fails (a failed move changes nothing)."""
    rows = list(job.rows)
    pivot = job.pivot
    if job.kind == "day":
        hood = _day_neighbourhood(instance, rows, pivot, list(job.open_ids), elig,
                                  params.day_carers, job.rng if params.day_sample else None,
                                  params.day_second)
        if hood is None:
            return None
        sub, carer_ids, locks = hood
        current = Rota(assignments=tuple(a for a in rows if a.carer_id in sub.carer_index
                                         and a.visit_id in sub.visit_index))
        answer = _sub_solve(sub, replace(job.params, hint=current, locks=locks), stop)
        if answer is None:
            return None
        day = pivot.date
        new = tuple(a for a in answer.assignments
                    if a.carer_id in carer_ids and instance.visit(a.visit_id).date == day)
        return _Outcome(frozenset(carer_ids), day, new)
    staffed = {a.visit_id for a in rows}
    open_ids = [v for v in job.open_ids if v not in staffed]
    if job.kind == "child":
        carer_ids = _child_carers(instance, rows, pivot.child_id, params.child_carers, job.rng)
        visit_ids: set[str] = set()
    else:
        lat, lon = instance.visit_location(pivot)
        miles = great_circle_miles_matrix(homes[:, 0], homes[:, 1], np.array([lat]),
                                          np.array([lon]))[:, 0]
        nearest = np.argsort(miles)[: params.carers_per_move]
        carer_ids = {instance.carers[int(c)].carer_id for c in nearest}
        visit_ids = set(sorted(open_ids, key=lambda vid: _miles_to(instance, vid, lat, lon))[:10])
    sub, locks = _week_neighbourhood(instance, rows, carer_ids, visit_ids)
    current = Rota(assignments=tuple(a for a in rows if a.carer_id in sub.carer_index
                                     and a.visit_id in sub.visit_index))
    answer = _sub_solve(sub, replace(job.params, hint=current, locks=locks), stop)
    if answer is None:
        return None
    return _Outcome(frozenset(carer_ids), None,
                    tuple(a for a in answer.assignments if a.carer_id in carer_ids))


def _sub_solve(sub: Instance, sp: SolveParams, stop: StopFlag | None) -> Rota | None:
    """One weighted CP-SAT search (every term, coverage's weight leading) of a move's
    sub-instance, warm-started from the current rows (``sp.hint``), with a light presolve
    (``MOVE_SOLVER``); nothing else of ``solver.solve``: no greedy, no coverage master, no
    explanations, check or KPIs (the merged week is checked before it is kept). None when the
    model gives no answer or cannot be built (a failed move changes nothing)."""
    t0 = time.perf_counter()
    try:
        elig = compute_eligibility(sub, sp.travel)
        rm = build_model(sub, elig, sp, sp.hint, deadline=t0 + BUILD_SHARE * sp.time_limit)
    except Exception:  # BuildTimeout, or locks the model cannot keep
        return None
    m = rm.model
    factor = LEX_FACTOR if sp.lexicographic else {}
    exprs = [rm.terms[n].scaled(factor.get(stage, 1) * getattr(sp.weights, TERM_WEIGHT[n]))[0]
             for stage, names in TERMS_BY_STAGE for n in names]
    m.minimize(cp_model.LinearExpr.sum(exprs))
    if sp.hint is not None:
        m.clear_hints()
        hint = hint_values(rm, sp.hint)
        for var in rm.variables:
            if var.index in hint:
                m.add_hint(var, hint[var.index])
    solver = cp_model.CpSolver()
    left = max(0.05, t0 + sp.time_limit - time.perf_counter())
    solver.parameters.max_time_in_seconds = left
    if sp.deterministic:
        solver.parameters.max_deterministic_time = left
    solver.parameters.num_workers = max(1, sp.workers)
    solver.parameters.random_seed = sp.seed
    for key, value in MOVE_SOLVER.items():
        setattr(solver.parameters, key, value)
    if stop is not None:
        with StopWatcher(solver, stop):
            code = solver.solve(m)
    else:
        code = solver.solve(m)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return decode(sub, chosen_of(rm, solver.value), sp.travel)


MOVE_SOLVER: dict[str, Any] = {"cp_model_probing_level": 0, "max_presolve_iterations": 1}
"""CP-SAT parameters of a move's search. Measured on 34 day moves of M seed 2 (1.5 s each,
one worker): with CP-SAT's default presolve 29 returned an answer and 25 were proven optimal
in 31 s, 6 ended with none at all (the presolve's probing took the time, though the warm start
was complete and feasible); with no probing and one presolve pass all 34 answered, 31 proven,
in 17.5 s, and one more move staffed a slot. With no presolve at all 34 answered but 6 were
proven, in 45.9 s."""


def _merge(instance: Instance, rows: list[Assignment], out: _Outcome,
           travel: Any = None) -> list[Assignment] | None:
    """``rows`` with the move's carers' rows (of its date, for a day move) replaced by the
    move's, the journeys into those carers' visits worked out again (R13: a changed evening
    changes the next morning's journey); None when a visit would then have more carers than it
    needs (another move running at once staffed it)."""
    def replaced(a: Assignment) -> bool:
        return a.carer_id in out.carers and (
            out.day is None or instance.visit(a.visit_id).date == out.day)

    kept = [a for a in rows if not replaced(a)]
    theirs: dict[str, list[tuple[str, int]]] = {}
    for a in [a for a in kept if a.carer_id in out.carers] + list(out.rows):
        theirs.setdefault(a.carer_id, []).append((a.visit_id, a.start))
    merged = [a for a in kept if a.carer_id not in out.carers] + list(
        decode(instance, theirs, travel).assignments)
    count: dict[str, int] = {}
    for a in merged:
        count[a.visit_id] = count.get(a.visit_id, 0) + 1
    if any(n > instance.visit(vid).carers for vid, n in count.items()):
        return None
    staffed = staffed_rows(instance, merged)
    if len(staffed) == len(merged):
        return staffed
    # a half-staffed 2:1 left out: the journeys of its carers' later rows are worked out again
    # (R13: the next row came from the visit that is no longer theirs)
    left = set(map(id, staffed))
    touched = {a.carer_id for a in merged if id(a) not in left}
    redo: dict[str, list[tuple[str, int]]] = {}
    for a in staffed:
        if a.carer_id in touched:
            redo.setdefault(a.carer_id, []).append((a.visit_id, a.start))
    return [a for a in staffed if a.carer_id not in touched] + list(
        decode(instance, redo, travel).assignments)


def _level(instance: Instance, rows: list[Assignment],
           base: SolveParams) -> tuple[int, float, float]:
    """What a move must lower, of the whole week: (uncovered carer slots, the continuity
    stage's cost, the quality stage's cost) in lexicographic mode, (uncovered carer slots, 0,
    weighted cost) in weighted mode."""
    terms = rota_terms(instance, Rota(assignments=tuple(rows)), base)
    uncovered = int(round(terms["uncovered_slots"]))
    if not base.lexicographic:
        return uncovered, 0.0, round(objective_of(terms, base.weights), 6)
    cost = stage_costs(terms, base.weights)
    return uncovered, cost["continuity"], cost["quality"]


def _miles_to(instance: Instance, visit_id: str, lat: float, lon: float) -> float:
    vlat, vlon = instance.visit_location(instance.visit(visit_id))
    return float(great_circle_miles_matrix(np.array([vlat]), np.array([vlon]),
                                           np.array([lat]), np.array([lon]))[0, 0])


LEX_FACTOR: dict[str, int] = {"coverage": 20, "continuity": 20}
"""In lexicographic mode a move's search multiplies the coverage and continuity terms by these
(the quality stage's by 1): one carer fewer for a child is then worth 2,000 cost units, against
20 for a journey at the 20-mile cap (R9), 5 for an unmet preference and 0.5 for an hour off a
carer's contracted hours, so a move of a few carers' weeks puts continuity before travel, as the
stages do. Before, a move traded them at the weights' rate (a carer for 100 miles). A move is
kept when it lowers (uncovered slots, continuity cost, quality cost) in that order (``_level``).
Measured on 20 carers / 37 children, seeds 1-3, 10 s and 30 s: the same continuity cost within
the runs' noise (6,740 / 7,120 / 11,980 against 6,740 / 8,400 / 12,160 at 10 s): the search's
local optima there are not a matter of miles."""

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
    others = _outside_rows(instance, rows, carer_ids, locked_ids, day)
    if others is None:
        return None
    locked_ids |= {a.visit_id for a in others}
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


def _outside_rows(
    instance: Instance, rows: list[Assignment], carer_ids: set[str], locked_ids: set[str],
    day: Any,
) -> list[Assignment] | None:
    """The rows of carers outside the move that a day move must hold, locked: the other carer
    of each locked 2:1 visit, with the visits that feed it (R13: the journey into a visit
    starts at the carer's previous visit when that ended less than the return-home gap
    before), and so on back along the chain, each with its own 2:1 partners. Without the
    feeders the sub-instance had such a carer travel from home, over the child's mileage cap
    (R9), and the move was infeasible: 8 of 37 day moves on M seed 2. None when a feeder
    falls on the move's own date (the outside carer is absent that date in the sub-instance)."""
    mine: dict[tuple[str, str], Assignment] = {(a.visit_id, a.carer_id): a for a in rows}
    by_visit: dict[str, list[Assignment]] = {}
    for a in rows:
        by_visit.setdefault(a.visit_id, []).append(a)
    held: dict[tuple[str, str], Assignment] = {}
    todo = [a for vid in sorted(locked_ids) for a in by_visit.get(vid, ())
            if a.carer_id not in carer_ids]
    while todo:
        a = todo.pop()
        key = (a.visit_id, a.carer_id)
        if key in held:
            continue
        held[key] = a
        if a.travel_from == "home":
            continue
        feeder = mine.get((a.travel_from, a.carer_id))
        if feeder is None:
            continue
        if instance.visit(feeder.visit_id).date == day:
            return None
        todo += [b for b in by_visit[feeder.visit_id]
                 if b.carer_id not in carer_ids and (b.visit_id, b.carer_id) not in held]
    return sorted(held.values(), key=lambda a: (a.visit_id, a.carer_id))


def _week_neighbourhood(
    instance: Instance, rows: list[Assignment], carer_ids: set[str], extra_ids: set[str],
) -> tuple[Instance, tuple[tuple[str, str, int], ...]]:
    """The sub-instance and locks of a move that frees the whole weeks of ``carer_ids`` (and
    the visits ``extra_ids``, open ones it may staff).

    A 2:1 visit they share with a carer outside the move stays as it is: locked, start and
    both carers, the outside carer coming in with that visit and the visits that feed it
    (``_outside_rows``) and nothing else: absent around them all week, so that the move gives
    them no new work. Before, a whole-week move pulled each such partner in with their whole
    week, and their partners in turn; on S seed 7 every chain passed 12 carers (the cap then) and
    the search after a proven coverage made 40,363 moves in 9 s, none of them a real one."""
    mine = {a.visit_id for a in rows if a.carer_id in carer_ids}
    tied = {a.visit_id for a in rows if a.visit_id in mine and a.carer_id not in carer_ids}
    others = _outside_rows(instance, rows, carer_ids, tied, None) or []
    held = [a for a in rows if a.carer_id in carer_ids and a.visit_id in tied] + others
    visit_ids = mine | extra_ids | {a.visit_id for a in others}
    outside = {a.carer_id for a in others}
    child_ids = {instance.visit(v).child_id for v in visit_ids}
    sub = sub_instance(instance, sorted(carer_ids | outside), sorted(child_ids), sorted(visit_ids))
    if outside:
        sub = replace(sub, absences=tuple(sub.absences) + _away_but(instance, others))
    locks = tuple(sorted((a.visit_id, a.carer_id, a.start) for a in held))
    return sub, locks


def _away_but(instance: Instance, held: list[Assignment]) -> tuple[Any, ...]:
    """Absences that keep each carer of ``held`` off everything but those rows all week (a
    visit may not touch an absence: each gap ends a minute before a row and starts a minute
    after one)."""
    clock = instance.clock
    first, last = -24 * 60, 9 * 24 * 60

    def wall(minute: int) -> Any:
        return clock.datetime_of(minute).replace(tzinfo=None)

    spans: dict[str, list[tuple[int, int]]] = {}
    for a in held:
        spans.setdefault(a.carer_id, []).append((a.start, a.end))
    away = []
    for cid, these in sorted(spans.items()):
        edge = first
        for s, e in sorted(these):
            if s - 1 > edge:
                away.append(Absence(cid, wall(edge), wall(s - 1)))
            edge = max(edge, e + 1)
        away.append(Absence(cid, wall(edge), wall(last)))
    return tuple(away)


def _child_carers(instance: Instance, rows: list[Assignment], child_id: str, k: int,
                  rng: random.Random) -> set[str]:
    """The carers of a continuity move for ``child_id``: those who work for the child this
    week, then those who know the child (history), at most ``k`` (at random beyond that)."""
    serving: dict[str, int] = {}
    for a in rows:
        if instance.visit(a.visit_id).child_id == child_id:
            serving[a.carer_id] = serving.get(a.carer_id, 0) + 1
    known = sorted({h.carer_id for h in instance.history if h.child_id == child_id
                    and h.hours > 0 and h.carer_id not in serving})
    pool = sorted(serving) + known
    if len(pool) <= k:
        return set(pool)
    return set(rng.sample(pool, k))


def _continuity_excess(instance: Instance, rows: list[Assignment]) -> dict[str, float]:
    """Per child, the continuity cost (``Weights``'s units of 100 per carer) above one carer
    who knows the child: the draw weight of a continuity move."""
    carers: dict[str, set[str]] = {}
    for a in rows:
        carers.setdefault(instance.visit(a.visit_id).child_id, set()).add(a.carer_id)
    out: dict[str, float] = {}
    for child in instance.children:
        mine = carers.get(child.child_id, set())
        strangers = sum(1 for c in mine if not instance.knows(child.child_id, c))
        over = max(0, len(mine) - child.continuity_target)
        excess = max(0, len(mine) - 1) + 0.6 * strangers + 4 * over
        if excess > 0:
            out[child.child_id] = excess
    return out
