"""``solve(instance, params) -> Result``: eligibility -> greedy warm start -> coverage master
(``solver.coverage``: a proven upper bound on staffed slots, and a rota from its answer when that
staffs more) -> CP-SAT stages, or large-neighbourhood search on weeks of ``LNS_MIN_VISITS``
visits or more, or when the whole model cannot be built in time -> decode (R13 travel) ->
explanations -> checker -> KPIs.

``SolveParams.time_limit`` is wall-clock for all of it up to the final explanations, check and
KPIs: the master gets ``COVERAGE_SHARE`` of the time left, the model build at most
``BUILD_SHARE`` (else it is skipped), and CP-SAT or LNS stop by the deadline.

The checker runs on every rota returned; a violation is a bug in the model and raises
``RotaBugError`` naming each violation, never a rota that breaks a hard rule.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from roster.eligibility import compute_eligibility
from roster.model import Instance, Rota
from solver.bounds import capacity_bound
from solver.candidates import Travel, candidate_pairs
from solver.decompose import DecomposeParams, DecomposeResult, solve_regions
from solver.greedy import greedy_with
from solver.objective import TERM_NAMES as TERM_NAMES
from solver.objective import objective_of as objective_of
from solver.objective import rota_terms, stage_costs
from solver.params import Lock, Progress, Result, SolveParams, StopFlag
from solver.progress import Reporter
from solver.rota import RotaBugError as RotaBugError
from solver.rota import decode, finish, is_valid, staffed_slots

# The CP-SAT methods (solver.cpsat, solver.stages, solver.coverage, solver.lns,
# solver.daybound) are imported where the pipeline first uses them: they load ortools, and
# ``import solver`` stays light (the app's pages and the CLI's --help load it).

LNS_MIN_VISITS = 110
"""From this many visits (no locks, no reference) ``solve`` improves the greedy rota by
large-neighbourhood search rather than one model of the whole week: on the generator's S week
(226 visits, 30 s, 2 cores) the whole model ended at 230 slots and a cost of 69,608, the search at
231 slots and 54,411-54,601 (seeds 0, 1); on M the whole model found nothing beyond the greedy.
Sixth session (was 200), ``solve`` with 10 s, every eligible carer, idle, both paths reaching
the proven coverage on every week: at 20 carers / 37 children (131-157 visits) the search's
continuity cost was lower on all five seeds (6,740 / 7,120 / 11,040 / 10,400 / 8,420 against
7,100 / 10,360 / 15,140 / 15,640 / 8,740) and its whole cost too; at 16 / 30 on the four seeds
of 109-126 visits with a lower whole cost, not at 105 (seed 5); at 12 / 22 (81-102 visits) the
whole model was better on all five. The whole model is what proves the lower stages on small
weeks (the frontier suite)."""


DECOMPOSE_MIN_CARERS = 500
"""From this many carers (no locks, reference, hint or forced method) ``solve`` hands the week
to ``solver.decompose`` (regions by greedy + coordination): on L (1,000 carers, 9,995 visits)
the monolithic eligibility and greedy alone took 57 s on 2 cores and 119 s when they were
busy, so a 120 s limit could not be kept (131 s and 130 s measured); the decomposed greedy
took 51.5 s. (The monolithic greedy staffed more: 10,430 slots against 9,917.)"""


def _use_decompose(instance: Instance, params: SolveParams) -> bool:
    return (
        len(instance.carers) >= DECOMPOSE_MIN_CARERS
        and not params.use_greedy_only
        and params.lns is None
        and not params.locks
        and params.reference is None
        and params.hint is None
        and params.travel is None
    )


def _solve_decomposed(
    instance: Instance, params: SolveParams, elig: Any, t0: float, deadline: float,
    report: Reporter,
) -> Result:
    reserve = FINISH_SECONDS_PER_VISIT * len(instance.visits)
    began = time.perf_counter()
    # a daemonic process (a benchmark's measuring child) may not start worker processes
    serial = mp.current_process().daemon
    result = solve_decomposed(instance, DecomposeParams(
        time_limit=max(1.0, deadline - began - reserve), seed=params.seed,
        greedy_only=True, deterministic=params.deterministic, check=False,
        backend="serial" if serial else "auto", processes=1 if serial else 2,
    ))
    stages = [{"stage": "decomposed", "status": result.status,
               "seconds": round(time.perf_counter() - began, 3),
               "regions": len(result.regions)}]
    rota = Rota(assignments=result.rota.assignments)
    report.rota(instance, rota, params)
    status = "GREEDY"
    left = deadline - time.perf_counter() - reserve
    if left > 2 * LNS_MIN_SECONDS:
        # the time left: open visits into the locked week (starts free), whole instance
        rota, status = _insert_stage(instance, params, rota, status, deadline - reserve, stages,
                                     share=0.9)
    return finish(instance, rota, params, elig, status, None, stages, t0, None)


def solve_decomposed(
    instance: Instance, params: DecomposeParams | None = None
) -> DecomposeResult:
    """``solver.decompose.solve_regions`` with this pipeline solving each region: a large
    week by regions and coordination across their borders (the decomposition's entry point)."""
    return solve_regions(instance, replace(params or DecomposeParams(), solve_region=solve))


def _use_lns(instance: Instance, params: SolveParams) -> bool:
    if params.lns is not None:
        return params.lns
    return (
        len(instance.visits) >= LNS_MIN_VISITS and not params.locks and params.reference is None
    )


LNS_MIN_SECONDS = 1.0
"""Below this much time left, no large-neighbourhood search is started."""


def solve(
    instance: Instance,
    params: SolveParams | None = None,
    progress: Progress | None = None,
    locks: Sequence[Lock] = (),
    stop: StopFlag | None = None,
) -> Result:
    """Make the week's rota. Deterministic with a fixed seed and one worker (see
    ``SolveParams.deterministic`` for runs that hit the time limit).

    ``stop`` (a ``threading.Event`` or anything with ``is_set()``) cancels the search: CP-SAT
    stops within a fraction of a second and the best rota found so far is returned, checked.
    A ``progress`` callback that returns True asks for the same; it gets
    ``(seconds, best objective, bound)`` on each better rota or bound, on every path, and
    every ``solver.progress.TICK`` seconds in between.
    """
    params = params or SolveParams()
    if locks:
        params = replace(params, locks=tuple(params.locks) + tuple(locks))
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit
    if progress is not None and stop is None:
        stop = threading.Event()  # a report returning True cancels, on every path
    report = Reporter(progress, t0, stop)
    try:
        result = _solve(instance, params, report, stop, t0, deadline)
        report.final(result.objective, result.bound)
        return result
    finally:
        report.close()


def _solve(
    instance: Instance, params: SolveParams, report: Reporter, stop: StopFlag | None,
    t0: float, deadline: float,
) -> Result:
    elig = compute_eligibility(instance, params.travel)
    if _use_decompose(instance, params):
        return _solve_decomposed(instance, params, elig, t0, deadline, report)
    warm = params.hint
    # The greedy considers every eligible carer, as a coordinator would; the model keeps its
    # pairs among the candidates, so that it stays a complete solution of the model.
    greedy_rota = greedy_with(instance, elig, locks=params.locks, travel=params.travel)
    if warm is None:
        warm = greedy_rota
    report.rota(instance, greedy_rota, params)
    stages: list[dict[str, Any]] = []
    status = "GREEDY"
    bound: float | None = None
    slots_bound: int | None = None
    chosen = warm if params.hint is not None and is_valid(instance, warm, params.travel) else greedy_rota
    use_lns = not params.use_greedy_only and _use_lns(instance, params)
    cover = None
    beside = None
    if (use_lns and params.weights.coverage > 0 and params.travel is None
            and COVERAGE_MAX_PAIRS < int(elig.ok.sum()) <= LP_MAX_PAIRS):
        # the bound by days (weekend masters) beside the LP, insertion and search, from now:
        # M seed 2, 1,266 where the LP gives 1,268
        from solver.daybound import SIDE_SECONDS, BoundBeside  # heavy: ortools

        beside = BoundBeside(instance, elig, Travel(instance, None), min(
            SIDE_SECONDS, 0.5 * (deadline - time.perf_counter())), params.seed).start()
    if (
        not params.use_greedy_only
        and params.weights.coverage > 0
        and not params.locks
        and params.reference is None
    ):
        # (repairs and referrals lock most of the week and have seconds: no master for them)
        if use_lns and int(elig.ok.sum()) <= COVERAGE_MAX_PAIRS:
            # open visits inserted first (a fraction of a second on S): the master starts from
            # a better rota, and if it runs out of time the search still starts from that
            chosen, status = _insert_stage(instance, params, chosen, status, deadline, stages,
                                           share=PRE_INSERT_SHARE, stop=stop)
            warm = chosen
            report.rota(instance, chosen, params)
        cover = _coverage_bound(instance, elig, params, chosen, deadline, stop)
        if cover is not None:
            stages.append(_coverage_stage(instance, cover, chosen))
            if cover.upper is not None:
                slots_bound = cover.upper
                report.lower(params.weights.coverage
                             * (sum(v.carers for v in instance.visits) - cover.upper))
            began = time.perf_counter()
            better = None
            if stop is None or not stop.is_set():
                better = _from_master(instance, elig, params, cover, chosen, deadline)
            if better is not None:
                stages.append({"stage": "master_rota", "status": "FEASIBLE",
                               "seconds": round(time.perf_counter() - began, 3),
                               "slots": staffed_slots(instance, better)})
                chosen = warm = better
                status = "FEASIBLE"
                report.rota(instance, chosen, params)
    engine = use_engine(instance, params)
    if not params.use_greedy_only and not use_lns and not engine:
        whole = _whole_model(instance, elig, params, warm, report, t0, stop, deadline,
                             slots_bound, stages)
        if whole is None:
            use_lns = not params.locks and params.reference is None
        elif whole.assignments is not None:
            chosen = decode(instance, whole.assignments, params.travel)
            status = whole.status
            bound = whole.bound
            if whole.slots_bound is not None:
                slots_bound = min(whole.slots_bound, slots_bound or whole.slots_bound)
    if use_lns and deadline - time.perf_counter() > LNS_MIN_SECONDS:
        chosen, status = _insert_stage(instance, params, chosen, status, deadline, stages,
                                       stop=stop)
        report.rota(instance, chosen, params)
    if engine and deadline - time.perf_counter() > LNS_MIN_SECONDS:
        chosen, status = _engine_stage(instance, params, elig, chosen, status, deadline, stages,
                                       report, stop)
        use_lns = False
    if use_lns and deadline - time.perf_counter() > LNS_MIN_SECONDS:
        from solver.lns import LnsParams, improve  # heavy: ortools

        lns = improve(
            instance,
            chosen,
            LnsParams(time_limit=(1 - FINAL_INSERT_SHARE) * (deadline - time.perf_counter())
                      - FINISH_SECONDS_PER_VISIT * len(instance.visits),
                      seed=params.seed, check=False,
                      threads=1 if params.deterministic else max(1, params.workers),
                      coverage_proven=slots_bound is not None
                      and staffed_slots(instance, chosen) >= slots_bound,
                      stall_moves=STALL_MOVES),
            base=params,
            stop=stop,
            on_better=lambda better: report.rota(instance, better, params),
        )
        stages.append({"stage": "lns", "status": lns.note, "seconds": round(lns.seconds, 3)})
        if lns.improved:
            chosen = Rota(assignments=lns.rota.assignments)
            status = "FEASIBLE"
        if lns.stalled and deadline - time.perf_counter() > STALL_MIN_SECONDS:
            # the search's moves found nothing more: the whole model's continuity and quality
            # stages from its rota, kept only if lexicographically no worse
            # (the finish's explanations, check and KPIs keep their reserve, as on the search)
            whole = _whole_model(instance, elig, params, chosen, report, t0, stop,
                                 deadline - FINISH_SECONDS_PER_VISIT * len(instance.visits),
                                 slots_bound, stages)
            if whole is not None and whole.assignments is not None:
                rota = decode(instance, whole.assignments, params.travel)
                new, old = (tuple(stage_costs(rota_terms(instance, r, params),
                                              params.weights).values()) for r in (rota, chosen))
                if new <= old:
                    chosen, status, bound = rota, whole.status, whole.bound
        if lns.improved or lns.stalled:
            chosen, status = _insert_stage(instance, params, chosen, status, deadline, stages,
                                           share=0.9, stop=stop)
            report.rota(instance, chosen, params)
    if beside is not None:
        days = beside.result(wait=0.5)
        stages.append({"stage": "day_bound", "status": "BOUND" if days else "NO BOUND",
                       "seconds": round(days.seconds, 3) if days else None,
                       "slots_upper": days.upper if days else None,
                       "note": days.note if days else ""})
        if days is not None and (slots_bound is None or days.upper < slots_bound):
            slots_bound = days.upper
    if bound is None and slots_bound is not None:
        # every other term is >= 0: the proven coverage bound bounds the whole cost
        slots = sum(v.carers for v in instance.visits)
        bound = params.weights.coverage * (slots - slots_bound)
    return finish(instance, chosen, params, elig, status, bound, stages, t0, slots_bound)


def use_engine(instance: Instance, params: SolveParams) -> bool:
    """Whether the local-search engine improves the rota: wherever the search runs, and with
    locks or a reference on weeks of ``LNS_MIN_VISITS`` visits or more (too large for the
    whole model to do more than return its warm start)."""
    if params.use_greedy_only or params.engine is False:
        return False
    if params.engine:
        return True
    if params.lns is not None:
        return False  # a method asked for by name: the CP-SAT move search, or the whole model
    return len(instance.visits) >= LNS_MIN_VISITS


def _engine_stage(
    instance: Instance, params: SolveParams, elig: Any, chosen: Rota, status: str,
    deadline: float, stages: list[dict[str, Any]], report: Reporter, stop: StopFlag | None,
) -> tuple[Rota, str]:
    """The local-search engine from ``chosen`` (or the kept rota ``params.hint``, whose rows
    that no longer keep a rule it drops) for the time left, less the finish's reserve."""
    from solver.search import SearchParams, improve  # heavy: numba

    start = params.hint if params.hint is not None else chosen
    began = time.perf_counter()
    left = (deadline - began) - FINISH_SECONDS_PER_VISIT * len(instance.visits)
    result = improve(
        instance, start, weights=params.weights, lexicographic=params.lexicographic,
        reference=params.reference, locks=params.locks, travel=params.travel, elig=elig,
        max_candidates=params.max_candidates, stop=stop,
        search=SearchParams(time_limit=max(0.0, left), seed=params.seed),
        on_better=lambda better: report.rota(instance, better, params),
    )
    stages.append({
        "stage": "search", "status": "FEASIBLE", "seconds": round(time.perf_counter() - began, 3),
        "moves": result.moves, "accepted": result.accepted, "evaluations": result.evaluations,
        "evaluations_per_second": round(result.evaluations / max(result.search_seconds, 1e-9)),
        "dropped_rows": len(result.dropped),
    })
    new = result.rota
    if start is not chosen or tuple(stage_costs(rota_terms(instance, new, params), params.weights).values()) \
            <= tuple(stage_costs(rota_terms(instance, chosen, params), params.weights).values()):
        return new, "FEASIBLE"
    return chosen, status


def _whole_model(
    instance: Instance, elig: Any, params: SolveParams, warm: Rota, report: Any, t0: float,
    stop: StopFlag | None, deadline: float, slots_bound: int | None,
    stages: list[dict[str, Any]],
) -> Any:
    """The monolithic CP-SAT model warm-started from ``warm``, its stages run until
    ``deadline`` (``solver.cpsat.run_stages``'s outcome), or None when it could not be built in
    its share of the time (``BUILD_SHARE``)."""
    from solver.cpsat import BUILD_SHARE, BuildTimeout, build_model  # heavy: ortools
    from solver.stages import run_stages  # heavy: ortools

    # building counts against the limit; it may use at most BUILD_SHARE of what is left
    now = time.perf_counter()
    try:
        rm = build_model(instance, elig, params, warm,
                         deadline=now + BUILD_SHARE * max(0.0, deadline - now))
    except BuildTimeout as exc:
        stages.append({"stage": "build", "status": f"skipped: {exc}",
                       "seconds": round(time.perf_counter() - now, 3)})
        return None
    stages.append({"stage": "build", "status": "built",
                   "seconds": round(time.perf_counter() - now, 3),
                   "variables": len(rm.variables)})
    outcome = run_stages(rm, params, warm, report, t0, stop, deadline=deadline,
                         slots_upper=slots_bound)
    stages += outcome.stages
    return outcome


STALL_MOVES = 40
"""Once coverage is proven, the search stops after this many moves in a row kept nothing, and
the whole model's stages run from its rota for the time left (``STALL_MIN_SECONDS`` at least).
Measured (idle, seed by seed, continuity cost): at 20 carers / 37 children the search alone
stalls within 10 s (seed 1: 6,740 after 10, 30 and 60 s; 1,083 moves, 13 kept); 12 s of search
then 18 s of the whole model from its rota gave 6,480 / 6,940 / 9,900 on seeds 1-3, against
6,740 / 7,000 / 11,540 for 30 s of search. On S the search was still keeping moves at 30 s and
did better alone (12,720 / 15,080 on seeds 1 / 7, against 13,440 / 17,840). In ``solve`` with
30 s (the app's default), 20 / 37 seeds 1-3: 6,340 / 7,000 / 9,660 (the search stopped after
4.5-6.2 s); S seeds 1 / 7 never stalled. With 10 s the search at 20 / 37 stops at about 7 s,
too late for the whole model (``STALL_MIN_SECONDS``); in the frontier suite's 10 s solves the
switch came once (16 / 30 seed 3, after 4.5 s of search), never on S."""

STALL_MIN_SECONDS = 3.0
"""Seconds that must be left for the whole model after a stalled search."""

COVERAGE_MAX_PAIRS = 6_000
"""The coverage master (``solver.coverage``) runs on weeks with at most this many eligible
pairs: on S (2,186-2,255 pairs) its first answer takes 1-4 s on 2 busy cores; on M (57,728) it
gave no answer in 40 s."""

PRE_INSERT_SHARE = 0.1
"""Share of the time left that the insertion before the coverage master may use."""

COVERAGE_SHARE = 0.85
"""Share of the time left after the greedy that the coverage master may use: on S seeds 1-7
(10 s, 2 cores shared with another solve) it proved coverage optimal in 3.2-6.8 s, and its
answer is the rota (0.3-0.4 s) that the search then improves on the lower terms. At 0.75,
seeds 4 and 7 ran out of time in a bench run on busy cores; at 0.4, seeds 1-3 all did."""


def _coverage_bound(
    instance: Instance, elig: Any, params: SolveParams, warm: Rota, deadline: float,
    stop: StopFlag | None,
) -> Any:
    """The coverage master's proven upper bound on staffed slots (over every eligible pair, so
    a bound on any rota the model allows), or None when the week is too big or time is short."""
    from solver.coverage import solve_coverage  # heavy: ortools

    left = deadline - time.perf_counter()
    if left < 0.5:
        return None
    keep = [
        (instance.carer_index[a.carer_id], instance.visit_index[a.visit_id])
        for a in warm.assignments
        if a.carer_id in instance.carer_index and a.visit_id in instance.visit_index
    ]
    if int(elig.ok.sum()) > COVERAGE_MAX_PAIRS:
        return _lp_bound(instance, elig, params, left)
    pairs = candidate_pairs(instance, elig, replace(params, max_candidates=None), keep)
    known = {k: 1 for k in keep if k in pairs}
    lower = staffed_slots(instance, warm) if len(known) == len(keep) else 0
    # the LP capacity bound (a fraction of a second here) holds the master to it: on S seeds
    # 4, 6 and 7 it is 259 / 230 / 235 where the master's first solve reached 277 / 241 / 242
    _quiet_highs_banner()
    lp = _lp_bound(instance, elig, params, left)
    if lp is not None and (lp.upper is None or lp.upper < lower):
        lp = None  # (a rota of ``lower`` slots exists: an LP below it was not solved well)
    out = solve_coverage(
        instance, elig, pairs, Travel(instance, params.travel),
        time.perf_counter() + COVERAGE_SHARE * left, params.workers, params.seed,
        known if lower else None, lower, stop,
        COVERAGE_SHARE * params.time_limit if params.deterministic else None,
        upper=None if lp is None else lp.upper, weights=params.weights,
    )
    if lp is not None and lp.upper is not None and (out.upper is None or lp.upper < out.upper):
        out.upper = lp.upper
    return out


def _from_master(
    instance: Instance, elig: Any, params: SolveParams, cover: Any, current: Rota,
    deadline: float,
) -> Rota | None:
    """A rota from the coverage master's last answer, each carer's week repaired until it
    checks (``solver.coverage.repair``) and the 2:1 partners started together by a model of
    just those pairs; None unless it staffs more slots than ``current``."""
    from ortools.sat.python import cp_model  # heavy, as are the next two

    from solver.coverage import repair, weeks_of
    from solver.cpsat import BuildTimeout, add_locks, build_model, chosen_of

    answer = cover.assignment if cover.proven else cover.last
    left = deadline - time.perf_counter()
    if not answer or left < (PROVEN_ROTA_MIN_SECONDS if cover.proven else 1.0):
        return None
    have = staffed_slots(instance, current)
    keep = [(c, v) for (c, v), on in answer.items() if on]
    pairs = candidate_pairs(instance, elig, replace(params, max_candidates=None), keep)
    if cover.proven:
        # every week (and every team of 2:1 partners) of a proven answer checked: no repair,
        # and the time left is its own, since without this rota the proof is lost (S seed 7
        # once ended at 227 slots with 235 proven, the build cut off at 0.3 of 1.4 s)
        budget = deadline - 0.05 * left
        weeks: dict[int, list[int]] | None = weeks_of(answer)
    else:
        budget = time.perf_counter() + 0.3 * left
        weeks = repair(instance, elig, pairs, Travel(instance, params.travel), answer, budget)
    if weeks is None:
        return None
    locks = tuple(
        (instance.visits[v].visit_id, instance.carers[c].carer_id)
        for c, vs in weeks.items() for v in vs
    )
    if sum(1 for _ in locks) <= have:
        return None
    fixed = replace(params, locks=locks, max_candidates=0, reference=None, hint=None)
    try:
        rm = build_model(instance, elig, fixed, None, deadline=budget)
    except (BuildTimeout, ValueError):
        return None
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.max_time_in_seconds = max(0.1, budget - time.perf_counter())
    try:
        add_locks(rm.model, instance, locks, rm.x, rm.start)
    except ValueError:
        return None
    code = solver.solve(rm.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    rota = decode(instance, chosen_of(rm, solver.value), params.travel)
    if staffed_slots(instance, rota) <= have or not is_valid(instance, rota, params.travel):
        return None
    return rota


PROVEN_ROTA_MIN_SECONDS = 0.2
"""Below this much time left, a proven master answer is not built into the rota (it takes
0.3-0.4 s on S)."""

INSERT_SHARE = 0.25
"""Share of the time left that the insertion step (``_insert_open``) may use."""


FINISH_SECONDS_PER_VISIT = 0.0008
"""Time kept after the search for the explanations, the check and the KPIs (about 8 s on L's
10,000 visits, under a second on M)."""

FINAL_INSERT_SHARE = 0.1
"""Share of the time after the first insertion kept for a last one after LNS."""


def _insert_stage(
    instance: Instance, params: SolveParams, chosen: Rota, status: str, deadline: float,
    stages: list[dict[str, Any]], share: float = INSERT_SHARE, stop: StopFlag | None = None,
) -> tuple[Rota, str]:
    if stop is not None and stop.is_set():
        return chosen, status
    began = time.perf_counter()
    inserted = _insert_open(instance, params, chosen, deadline, share, stop)
    stages.append({"stage": "insert", "status": "FEASIBLE" if inserted else "NO GAIN",
                   "seconds": round(time.perf_counter() - began, 3),
                   "slots": staffed_slots(instance, inserted or chosen)})
    if inserted is None:
        return chosen, status
    return inserted, "FEASIBLE"


def _insert_open(
    instance: Instance, params: SolveParams, current: Rota, deadline: float,
    share: float = INSERT_SHARE,
    stop: StopFlag | None = None,
) -> Rota | None:
    """Staff open visits without undoing any staffed one: the whole model with every current
    (visit, carer) pair locked (starts free within the rules) and the nearest candidates of the
    open visits only, so it stays small. Returns the rota when it staffs more slots.

    Measured (2 busy cores): S seed 2, 228 -> 232 slots in 0.6 s; M seed 1, 1,284 -> 1,288 in
    3.4 s. Unlocking the weeks of the two nearest carers of each open visit as well gained
    nothing on S seed 1 or M seed 1 (14 s on M)."""
    left = deadline - time.perf_counter()
    if left < 0.5:
        return None
    have = staffed_slots(instance, current)
    if have >= sum(v.carers for v in instance.visits):
        return None
    locks = tuple((a.visit_id, a.carer_id) for a in current.assignments)
    sp = replace(
        params, locks=locks, reference=None, hint=current, lns=False,
        max_candidates=params.max_candidates or 12, time_limit=share * left,
    )
    try:
        res = solve(instance, sp, stop=stop)
    except (ValueError, RotaBugError):
        return None
    if staffed_slots(instance, res.rota) <= have:
        return None
    return Rota(assignments=res.rota.assignments)


LP_SHARE = 0.1
"""Share of the time left that the LP capacity bound may take on weeks too big for the master
(its LP; building it comes on top: 2.5 s in all on M)."""


LP_MAX_PAIRS = 100_000
"""Above this many eligible pairs the LP is not attempted inside a solve (on L, 1.1 M pairs,
it takes tens of seconds to set up whatever its time limit): ``roster bench`` reports it."""


_highs_greeted = False


def _quiet_highs_banner() -> None:
    """HiGHS prints a two-line banner to the process's stdout the first time a solver is made,
    which landed in the middle of ``roster solve``'s progress bar: make that first one with
    stdout pointed at /dev/null (once per process)."""
    global _highs_greeted
    if _highs_greeted:
        return
    _highs_greeted = True
    try:
        import highspy  # optional: the LP bounds' solver
    except ImportError:
        return
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _lp_bound(instance: Instance, elig: Any, params: SolveParams, left: float) -> Any:
    """The LP capacity bound (``solver.bounds.capacity_bound``, valid for any rota) as the
    coverage bound of a week too big for the master; None with a supplied travel matrix (the
    LP uses the instance's own model) or when it fails."""
    from solver.coverage import CoverageOutcome  # heavy: ortools

    if params.travel is not None or int(elig.ok.sum()) > LP_MAX_PAIRS:
        return None
    began = time.perf_counter()
    try:
        lp = capacity_bound(instance, elig, time_limit=max(1.0, LP_SHARE * left))
    except Exception:  # the bound is a report, never a reason to fail a solve
        return None
    return CoverageOutcome(
        upper=int(lp.bound), proven=False, assignment=None,
        seconds=time.perf_counter() - began, note=f"LP capacity bound ({lp.status}, {lp.backend})",
    )


def _coverage_stage(instance: Instance, cover: Any, warm: Rota) -> dict[str, Any]:
    staffed = staffed_slots(instance, warm)
    return {
        "stage": "coverage_bound",
        "status": "OPTIMAL" if cover.proven or (cover.upper is not None and cover.upper <= staffed)
        else ("BOUND" if cover.upper is not None else "NO BOUND"),
        "seconds": round(cover.seconds, 3),
        "slots_upper": cover.upper,
        "iterations": cover.iterations,
        "cuts": cover.cuts,
        "note": cover.note,
    }


