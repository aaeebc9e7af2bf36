"""The coverage stage on its own: a proven upper bound on staffed carer slots, and the proven
optimum when the master's answer checks, by logic-based Benders decomposition over the CP-SAT
model of ``solver.cpsat``.

Why: on the generator's S week the whole model (31 k variables, 124 k constraints) spent 10 s of
a 10 s limit in presolve and its coverage bound sat at 237 slots with 228 found after 60 s; the
coverage question is much smaller than the model that also has to place every journey.

* **Master** (a relaxation of the model, so its optimum is an upper bound on the slots the model
  can staff): the same ``x[c, v]``, shared starts and 2:1 staffing (``add_staffing``); per
  carer a ``NoOverlap`` of ``[start - t_min, end)`` (``t_min`` the shortest journey into the
  visit the model allows: from home when home is within the R9 cap, else from a visit that can
  feed it), the weekly rest block (R14), weekly hours with ``t_min`` (R10), young workers' days
  (R12), R6 between any two of a carer's visits as the model has it (the later starts after the
  earlier's end plus the journey), the model's cliques of visits that overlap whatever their
  starts, and pairs the model can never hold together: R6 (the journey does not fit between
  them), R11 (they can be in no duty of at most ``24 h - daily rest``) and R9/R13 (a visit
  whose home journey breaks the cap needs a feeding visit of the same carer less than
  ``return_home_gap_min`` before it); R15 between two visits that hold more than
  ``break_after`` of work (``add_carer_breaks``); and, for each carer whose week has failed a
  check, the model's R11 duties (``add_carer_duties``, added lazily: for all carers they
  triple the master).
* **Check** each carer's week of the master's answer with the model's own builders
  (``add_sequencing``, ``add_daily_rest``, ``add_weekly_rest``, ``add_weekly_hours``,
  ``add_young_worker_days``) on those visits alone, the visits as assumptions. An infeasible
  week gives a core; the cut "not all of the core, unless a visit that could feed one of the
  week's visits (R13) and was not in it is added" is valid for every solution of the model
  (``_Master.cut``): adding work never helps R6, R10-R12, R14 or R15, and the only way a
  visit makes another feasible is by being its close predecessor.
* **Rounds.** The first master solve is to optimality: its bound is the upper bound. After
  that each round asks for *any* answer staffing that many slots (an assumption, no
  objective: no proof of optimality each round); when there is none, the bound drops by one.
  A core becomes the strongest cut it can (``_Cutter``), and a week that fails is first mended
  by moving one visit of its core to another carer, or to a carer busy at that time with one
  visit that a third carer then takes (``_Checks.move_out``).
* When every week checks, the whole model with that assignment fixed gives the rota (2:1
  partners start together); its slots equal the master's bound, which is then proven. Before
  that, ``polish_continuity`` moves a child's visits (and places on 2:1 visits) to carers the
  child already has where the weeks still check, swapping out one visit of another child
  where that frees the carer, in passes until none moves. Pairs of visits the master never
  holds together skip the week check. Fifth session, S seeds 1-7 in ``solve`` with 10 s: the
  continuity cost summed 225-231 k with the one-way polish, 123 k with all of this (and week
  checks without CP-SAT's presolve, 2x faster); carers per child 1.68-2.18 in the bench,
  against the greedy's 2.13-2.49.

Measured on the generator's S weeks, seeds 1-7, in ``solve`` with 10 s (2 busy cores):
coverage proven optimal on all seven, 232 / 234 / 239 / 249 / 260 / 229 / 235 slots, the stage
taking 3.6-6.7 s (1-3 rounds). Without the R15 breaks and lazy R11 duties the master's answers
failed their checks by R15 or R11 on 2-8 weeks and seeds 4, 6 and 7 were not proven in 10 s
(seed 4 not in 120 s: every round a new near miss); its rota on seed 4 staffed 240 slots, the
proven optimum is 249. Before the search rounds,
closure cuts and moves, the bound stayed at 232 on seed 1 for 120 s (50 rounds, 265 cuts) and
no answer checked; the large-neighbourhood search had reached 231 after 150 s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from roster.eligibility import Eligibility
from roster.model import Instance
from roster.rules import limits
from solver.candidates import Pairs as Pairs  # re-exported: the bounds read it here
from solver.candidates import merge_ranges
from solver.cpbase import StopWatcher, Vars
from solver.objective import preference_mismatches
from solver.params import Weights
from solver.rules.breaks import add_carer_breaks
from solver.rules.daily_rest import add_carer_duties, add_daily_rest
from solver.rules.hours import add_weekly_hours
from solver.rules.journey import add_carer_time, add_sequencing
from solver.rules.staffing import add_staffing
from solver.rules.weekly_rest import add_weekly_rest
from solver.rules.young import add_young_worker_days

DETERMINISTIC_ITERATIONS = 3
FIRST_SHARE = 0.5
"""Share of the master's time its first (optimality) solve may take: on S seeds 4, 6 and 7 it
was not done in 60 s (bound 277 on seed 4, where the LP capacity bound is 259)."""
R6_IN_MASTER = True


@dataclass
class CoverageOutcome:
    """What the coverage stage proved and found."""

    upper: int | None
    """Upper bound on the carer slots any solution of the model staffs (None: no bound)."""
    proven: bool
    """The master's optimum was met by ``assignment``: ``upper`` slots is the optimum."""
    assignment: dict[tuple[int, int], int] | None
    """(carer, visit) -> 0/1 of a master answer whose every carer week checks (when proven)."""
    iterations: int = 0
    cuts: int = 0
    seconds: float = 0.0
    note: str = ""
    history: list[tuple[float, int]] = field(default_factory=list)
    """(seconds, master bound) after each master solve."""
    last: dict[tuple[int, int], int] | None = None
    """The last master answer (checked or not): a start for ``repair``."""


@dataclass
class _CarerData:
    visits: list[int]
    """Candidate visits in planned-start order."""
    feeders: dict[int, list[int]]
    """visit -> candidate visits that may be its close predecessor (an arc of the model)."""
    t_min: dict[int, int]
    journeys: list[tuple[int, int, int]] = field(default_factory=list)
    """(i, j, minutes): if both, j starts at least this long after i starts (R6)."""


def carer_data(
    instance: Instance, elig: Eligibility, travel: Any, pairs: Pairs, c: int, visits: list[int]
) -> tuple[_CarerData, list[tuple[int, int]], list[int]]:
    """Feeders, shortest journeys, the pairs the model never holds together, and visits the
    carer can never take (home over the cap and nothing to feed them)."""
    vs = instance.visits
    gap = instance.settings.return_home_gap_min
    lim = limits(instance, instance.carers[c])
    n = len(visits)
    lo = np.array([pairs[(c, v)][0][0] for v in visits], dtype=np.int64)
    hi = np.array([pairs[(c, v)][-1][1] for v in visits], dtype=np.int64)
    dur = np.array([vs[v].duration_min for v in visits], dtype=np.int64)
    trip = np.array([vs[v].trip_miles for v in visits], dtype=float)
    cap = np.array([instance.child_cap(instance.child(vs[v].child_id)) for v in visits])
    miles, minutes = travel.block(visits, visits)
    minutes = np.asarray(minutes, dtype=np.int64)
    # i (row) before j (column) in planned order: i < j
    later = np.triu(np.ones((n, n), dtype=bool), k=1)
    min_gap = lo[None, :] - (hi + dur)[:, None]
    max_gap = hi[None, :] - (lo + dur)[:, None]
    never = later & (max_gap < minutes)  # R6: the journey never fits between them, in order
    arc = later & ~never & (min_gap < gap) & (miles + trip[None, :] <= cap[None, :] + 1e-9)
    home_ok = np.array([bool(elig.home_within_cap[c, v]) for v in visits])
    home_min = np.array([int(elig.home_minutes[c, v]) for v in visits], dtype=np.int64)
    big = np.int64(10**6)
    via_arc = np.where(arc, minutes, big).min(axis=0) if n else np.zeros(0, dtype=np.int64)
    t_min = np.minimum(np.where(home_ok, home_min, big), via_arc)
    dead = [visits[k] for k in range(n) if t_min[k] >= big]
    t_min = np.where(t_min >= big, 0, t_min)
    # R11: both in one duty (the gap between them is shorter than the rest whatever the starts)
    # and that duty spans more than 24 h - rest whatever the starts
    span = 24 * 60 - lim.daily_rest_min
    work_gap_max = (hi - t_min)[None, :] - (lo + dur)[:, None]
    span_min = (lo + dur)[None, :] - (hi - t_min)[:, None]
    r11 = later & (work_gap_max < lim.daily_rest_min) & (span_min > span)
    conflict = np.argwhere(never | r11)
    # R6 as the model has it between any two of the carer's visits: where the journey may not
    # fit, the later one starts after the earlier one's end plus the journey
    order = np.argwhere(later & ~never & ~r11 & (min_gap < minutes))
    journeys = [(visits[i], visits[j], int(dur[i] + minutes[i, j])) for i, j in order]
    feeders = {
        visits[j]: [visits[i] for i in np.flatnonzero(arc[:, j])] for j in range(n)
    }
    data = _CarerData(
        visits=visits,
        feeders=feeders,
        t_min={visits[k]: int(t_min[k]) for k in range(n)},
        journeys=journeys,
    )
    pairs_out = [(visits[i], visits[j]) for i, j in conflict]
    # home over the cap: a feeder is needed (recorded in data.feeders; see the master)
    for k in range(n):
        if not home_ok[k] and t_min[k] > 0 and not feeders[visits[k]]:
            dead.append(visits[k])
    return data, pairs_out, sorted(set(dead))


def add_carer_week(
    m: cp_model.CpModel,
    instance: Instance,
    elig: Eligibility,
    travel: Any,
    pairs: Pairs,
    c: int,
    visits: list[int],
    x: dict[tuple[int, int], Any],
    start: dict[int, Any],
) -> tuple[_CarerData, list[tuple[int, int]]]:
    """Carer c's week in the master (``visits`` in planned-start order, ``x[(c, v)]`` and
    ``start[v]`` in ``m``): visits it can never take, pairs it never holds together, R6
    journeys, R9/R13 feeders, ``add_carer_time`` and ``add_carer_breaks``. A relaxation of the
    model's week, so the master's optimum bounds the model's; ``solver.contbound`` prices a
    carer's weeks over it. Returns the carer's data and the never-together pairs."""
    data, never, dead = carer_data(instance, elig, travel, pairs, c, visits)
    for v in dead:
        m.add(x[(c, v)] == 0)
    for i, j in never:
        m.add_bool_or([x[(c, i)].negated(), x[(c, j)].negated()])
    if R6_IN_MASTER:
        for i, j, gap_ij in data.journeys:
            m.add(start[j] >= start[i] + gap_ij).only_enforce_if([x[(c, i)], x[(c, j)]])
    for v in visits:
        if not bool(elig.home_within_cap[c, v]) and data.feeders[v]:
            m.add_bool_or([x[(c, k)] for k in data.feeders[v]]).only_enforce_if(x[(c, v)])
    add_carer_time(m, instance, c, visits, pairs, x, start, data.t_min)
    minutes = None if travel.model.matrix else travel.block(visits, visits)[1].tolist()
    add_carer_breaks(m, instance, c, visits, pairs, x, start, data.t_min, minutes)
    return data, never


class _Master:
    def __init__(self, instance: Instance, elig: Eligibility, travel: Any, pairs: Pairs):
        self.instance = instance
        m = cp_model.CpModel()
        new = Vars(m)
        x, start, staffed = add_staffing(m, new, instance, pairs)
        self.model, self.x, self.start, self.staffed = m, x, start, staffed
        vs = instance.visits
        planned = instance.planned_start
        by_carer: dict[int, list[int]] = {}
        self.carers_of: dict[int, list[int]] = {}
        for c, v in x:
            by_carer.setdefault(c, []).append(v)
            self.carers_of.setdefault(v, []).append(c)
        self.carers: dict[int, _CarerData] = {}
        self.never: dict[int, set[tuple[int, int]]] = {}
        """Per carer, the pairs of visits the master never holds together (both ways)."""
        for c in sorted(by_carer):
            visits = sorted(by_carer[c], key=lambda v: (planned[v], vs[v].visit_id))
            data, never = add_carer_week(m, instance, elig, travel, pairs, c, visits, x, start)
            self.carers[c] = data
            self.never[c] = {(i, j) for i, j in never} | {(j, i) for i, j in never}
        self.pairs = pairs
        self.with_duties: set[int] = set()
        self.objective = sum(
            vs[v].carers * st for v, st in staffed.items() if not isinstance(st, int)
        )
        m.maximize(self.objective)

    def add_duties(self, c: int) -> int:
        """Carer c's duties (R11) in the master, once: added for the carers whose week failed
        a check. For every carer at once they tripled the master (14 k to 47 k constraints on
        S seed 1) and its first solve (1.8 s to 6-8 s); for the few that fail, their weeks
        stop failing by R11 alone, where a cut removes one core at a time."""
        if c in self.with_duties:
            return 0
        self.with_duties.add(c)
        data = self.carers[c]
        add_carer_duties(self.model, self.instance, c, data.visits, self.pairs, self.x,
                         self.start, data.t_min)
        return 1

    def cut(self, c: int, core: list[int], chosen: set[int]) -> None:
        """Not all of ``core`` for carer c, unless a visit that could feed one of the checked
        week's visits (and was not in it) joins.

        Valid: take any schedule of a week T that holds the core and none of those feeders.
        Every checked visit in T then has its close predecessor among the checked visits
        (an arc comes from a feeder, and a visit between an arc's ends would be the arc), so
        dropping T's other visits leaves each remaining visit's origin and journey as they
        were and only relaxes the rest (R6, R10-R12, R14, R15): a schedule of checked visits
        holding the core, which the check refuted."""
        core_cut(self.model, self.x, self.carers[c].feeders, c, core, chosen)


def core_cut(m: cp_model.CpModel, x: Any, feeders: dict[int, list[int]], c: int,
             core: list[int] | Any, chosen: set[int]) -> bool:
    """Add ``_Master.cut``'s clause to ``m`` over ``x``: not all of ``core`` for carer c,
    unless a visit that could feed one of ``chosen`` (and is not in it) joins. False, and no
    clause, when such a feeder has no variable in ``x`` (a part of the week, as in
    ``solver.daybound``): the way out could not be written, and the cut without it is not
    valid."""
    feed = sorted({k for v in chosen for k in feeders[v] if k not in chosen})
    if any((c, k) not in x for k in feed):
        return False
    m.add_bool_or([x[(c, v)].negated() for v in core] + [x[(c, k)] for k in feed])
    return True


def _team_cut(master: _Master, core: list[tuple[int, int]], weeks: dict[int, list[int]]) -> None:
    """Not all of ``core`` (pairs of several carers), unless a visit that could feed one of a
    checked week's visits (and was not in it) joins that carer's week: valid as
    ``_Master.cut`` is, carer by carer, the shared starts kept."""
    lits: list[Any] = [master.x[key].negated() for key in core]
    for c, chosen in weeks.items():
        feed = {k for v in chosen for k in master.carers[c].feeders[v]} - set(chosen)
        lits += [master.x[(c, k)] for k in sorted(feed)]
    master.model.add_bool_or(lits)


def check_week(
    instance: Instance,
    elig: Eligibility,
    travel: Any,
    pairs: Pairs,
    c: int,
    chosen: list[int],
    time_limit: float = 5.0,
    required: list[int] | None = None,
) -> list[int] | None | str:
    """Carer c's week of ``chosen`` visits alone in the model's own constraints: None when it
    has a schedule holding every ``required`` visit (default: all of ``chosen``; the others
    may be left out), else a core (required visits that cannot be together), or
    ``"unknown"``."""
    found = check_team(instance, elig, travel, pairs, {c: chosen}, time_limit,
                       None if required is None else {c: required})
    if isinstance(found, list):
        return [v for _, v in found]
    return found


def check_team(
    instance: Instance,
    elig: Eligibility,
    travel: Any,
    pairs: Pairs,
    weeks: dict[int, list[int]],
    time_limit: float = 5.0,
    required: dict[int, list[int]] | None = None,
) -> list[tuple[int, int]] | None | str:
    """The weeks of several carers together in the model's own constraints, a visit two of
    them share starting at one time (R4): None when they have a schedule holding every
    required (carer, visit) (default: all), else a core of such pairs, or ``"unknown"``."""
    vs = instance.visits
    planned = instance.planned_start
    m = cp_model.CpModel()
    new = Vars(m)
    x: dict[tuple[int, int], Any] = {}
    start: dict[int, Any] = {}
    for c, chosen in weeks.items():
        for v in chosen:
            x[(c, v)] = new.boolean(f"x{c}_{v}")
    for v in sorted({v for chosen in weeks.values() for v in chosen}):
        holders = [c for c in weeks if (c, v) in x]
        if len(holders) == 1:
            start[v] = new.domain(pairs[(holders[0], v)], f"s{v}")
            continue
        start[v] = new.domain(merge_ranges(sorted(r for c in holders for r in pairs[(c, v)])),
                              f"s{v}")
        for c in holders:
            m.add_linear_expression_in_domain(
                start[v], cp_model.Domain.from_intervals([[a, b] for a, b in pairs[(c, v)]])
            ).only_enforce_if(x[(c, v)])
    cms = []
    for c, chosen in weeks.items():
        order = sorted(chosen, key=lambda v: (planned[v], vs[v].visit_id))
        xc = {(c, v): x[(c, v)] for v in order}
        bounds = {v: (pairs[(c, v)][0][0], pairs[(c, v)][-1][1]) for v in order}
        cm = add_sequencing(m, new, instance, elig, travel, c, order, xc, start, bounds)
        add_daily_rest(m, new, instance, cm, bounds)
        add_weekly_rest(m, new, instance, cm, xc)
        add_weekly_hours(m, instance, cm, xc)
        add_young_worker_days(m, instance, cm, xc)
        cms.append(cm)
    need = {(c, v) for c, chosen in (required or weeks).items() for v in chosen}
    m.add_assumptions([lit for key, lit in x.items() if key in need])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    # a week is small: CP-SAT's presolve cost more than the search (S seed 4, 97 weeks of
    # the greedy's and those with one visit more: 8.7 ms a check with it, 4.0 without, the
    # same answers and cores)
    solver.parameters.cp_model_presolve = False
    code = solver.solve(m)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if code != cp_model.INFEASIBLE:
        return "unknown"
    core = set(solver.sufficient_assumptions_for_infeasibility())
    found = [key for key, lit in x.items() if key in need and lit.index in core]
    return found or sorted(need)


def _teams(weeks: dict[int, list[int]], instance: Instance) -> list[dict[int, list[int]]]:
    """Carers tied by the 2:1 visits they share, two or more to a team."""
    holders: dict[int, list[int]] = {}
    for c, chosen in weeks.items():
        for v in chosen:
            if instance.visits[v].carers > 1:
                holders.setdefault(v, []).append(c)
    parent = {c: c for c in weeks}

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for cs in holders.values():
        for other in cs[1:]:
            parent[root(other)] = root(cs[0])
    groups: dict[int, list[int]] = {}
    for c in weeks:
        groups.setdefault(root(c), []).append(c)
    return [{c: weeks[c] for c in g} for g in groups.values() if len(g) > 1]


CLOSURE_MAX = 60
"""Largest set of visits (a core and the visits that could feed it, transitively) checked to
make a core cut unconditional (``_Cutter.refute``)."""


class _Cutter:
    """Turns a carer week that does not check into cuts, each added once.

    A core is re-checked with every visit that could feed it (its possible close predecessors,
    R13, and theirs, transitively: the closure under feeders) as optional visits the schedule
    may also take. When that still has no schedule, the cut is "not all of the core", with no
    way out: any schedule holding the core, restricted to the closure, keeps every journey
    (each close predecessor of a closure visit is in the closure) and only relaxes the rest.
    The week's own cut ("unless a feeder of the week joins") let the master slip out of the
    same conflict again and again by adding a feeder: on S seed 1 the bound stayed at 232 for
    50 rounds (120 s) with it, while these cuts and ``_Checks.move_out`` prove 232 in under 4 s.

    (Tried and left out, S seeds 1-2: shrinking cores by a deletion filter — CP-SAT's were
    already minimal; lifting a core to every other carer who could take it — as many master
    rounds, twice the time.)
    """

    def __init__(
        self, instance: Instance, elig: Eligibility, travel: Any, pairs: Pairs, master: _Master
    ) -> None:
        self.instance, self.elig, self.travel, self.pairs = instance, elig, travel, pairs
        self.master = master
        self.done: set[tuple[Any, ...]] = set()

    def closure(self, c: int, core: list[int]) -> tuple[list[int], bool]:
        """The core and the visits that could feed it, transitively; False when that passes
        ``CLOSURE_MAX`` visits (then the set is cut off there)."""
        feeders = self.master.carers[c].feeders
        seen = set(core)
        frontier = list(core)
        while frontier:
            nxt = []
            for v in frontier:
                for k in feeders.get(v, ()):
                    if k not in seen:
                        if len(seen) >= CLOSURE_MAX:
                            return sorted(seen), False
                        seen.add(k)
                        nxt.append(k)
            frontier = nxt
        return sorted(seen), True

    def add(self, c: int, core: list[int], chosen: list[int]) -> int:
        key = (c, frozenset(core), frozenset(chosen))
        if key in self.done:
            return 0
        self.done.add(key)
        self.master.cut(c, core, set(chosen))
        return 1

    def team(
        self, core: list[tuple[int, int]], weeks: dict[int, list[int]], deadline: float
    ) -> int:
        """The cut for a core of several carers' weeks (a 2:1 visit's shared start), from the
        closures of each carer's part of it when they still have no schedule together."""
        parts: dict[int, list[int]] = {}
        for c, v in core:
            parts.setdefault(c, []).append(v)
        within = {c: self.closure(c, vs_c)[0] for c, vs_c in parts.items()}
        found = check_team(self.instance, self.elig, self.travel, self.pairs, within,
                           _left(deadline, 1.0), required=parts)
        use, chosen = (found, within) if isinstance(found, list) else (core, weeks)
        key = (-1, frozenset(use), frozenset((c, v) for c, vs_c in chosen.items() for v in vs_c))
        if key in self.done:
            return 0
        self.done.add(key)
        _team_cut(self.master, use, chosen)
        return 1

    def week(self, c: int, week: list[int], core: list[int], deadline: float) -> int:
        """The cut for a core of carer c's checked ``week``: from the core's closure when that
        still has no schedule, else the week's own (its feeders the way out)."""
        within, _ = self.closure(c, core)
        found = check_week(self.instance, self.elig, self.travel, self.pairs, c, within,
                           _left(deadline, 1.0), required=core)
        if isinstance(found, list):
            added = self.add(c, found, within)
            if added:
                return added
            # the same cut again: the master left it by a feeder past the closure
        return self.add(c, core, week)


def _left(deadline: float, cap: float) -> float:
    """Seconds a check may take: what is left before ``deadline``, at most ``cap``, at least a
    twentieth of a second."""
    return max(0.05, min(cap, deadline - time.perf_counter()))


def weeks_of(answer: dict[tuple[int, int], int]) -> dict[int, list[int]]:
    """carer -> the visits a master answer gives them."""
    weeks: dict[int, list[int]] = {}
    for (c, v), val in answer.items():
        if val:
            weeks.setdefault(c, []).append(v)
    return weeks


def _solver(workers: int, limit: float, seed: int, first_answer: bool) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = max(0.01, limit)
    solver.parameters.stop_after_first_solution = first_answer
    solver.parameters.random_seed = seed
    return solver


def _run(solver: cp_model.CpSolver, model: cp_model.CpModel, stop: Any) -> Any:
    if stop is None:
        return solver.solve(model)
    with StopWatcher(solver, stop):
        return solver.solve(model)


def _side_by_side(
    runs: list[tuple[cp_model.CpSolver, cp_model.CpModel]], stop: Any, done: set[Any]
) -> list[Any]:
    """Each (solver, model) in a thread of its own; the first whose status is in ``done``
    stops the others. Returns every run's status."""
    codes: list[Any] = [None] * len(runs)

    def go(k: int) -> None:
        solver, model = runs[k]
        codes[k] = _run(solver, model, stop)
        if codes[k] in done:
            for j, (other, _model) in enumerate(runs):
                if j != k:
                    other.stop_search()

    threads = [threading.Thread(target=go, args=(k,)) for k in range(len(runs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


REPAIR_CONFLICTS = 1000
"""CP-SAT's ``hint_conflict_limit`` in a search round, which starts by repairing the last
answer (``repair_hint``). Measured in ``solve`` with 10 s on S seeds 1-7, CP-SAT seeds 0 and
the instance's: proven on 13 of 14 with it, 12 of 14 without (seed 4 with CP-SAT seed 4: a
round ran 5.7 s with no answer, 1.9 s with the repair); two one-worker searches side by side,
one repairing and one fresh, also 12 of 14."""


def _first_solve(
    m: cp_model.CpModel, objective: Any, lower: int, limit: float, seed: int, stop: Any
) -> tuple[cp_model.CpSolver, Any, float | None]:
    """The master's first (optimality) solve as two one-worker searches side by side, one with
    "at least ``lower`` slots" (a rota staffs that many) and one without; the first to prove
    its optimum stops the other. Either bound is valid (an optimum of at least ``lower``
    exists). Measured on S seeds 1-7 (first solve alone): with the constraint, seeds 1, 2, 3
    and 5 were optimal in 0.7-2.3 s and 4, 6, 7 not in 6 s; without it, the reverse held for
    seed 2 and 4, 6, 7 were optimal in 1.6-2.4 s; side by side, all seven in 1.2-2.9 s."""
    held = m.clone()
    held.add(objective >= lower)
    runs = [(_solver(1, limit, seed, False), m), (_solver(1, limit, seed, False), held)]
    codes = _side_by_side(runs, stop, {cp_model.OPTIMAL})
    solved = [k for k in (0, 1) if codes[k] == cp_model.OPTIMAL]
    if solved:
        return runs[solved[0]][0], codes[solved[0]], None
    found = [k for k in (0, 1) if codes[k] == cp_model.FEASIBLE]
    if not found:
        return runs[1][0], codes[1], None
    # neither proved: the answer of the better one, the smaller of the two bounds
    best = max(found, key=lambda k: runs[k][0].objective_value)
    return runs[best][0], codes[best], min(runs[k][0].best_objective_bound for k in found)


POLISH_SHARE = 1.0
"""Share of the master's time left after its proof that ``polish_continuity`` may use. In
``solve`` with 10 s on S seeds 1-7 (CP-SAT seed the instance's, idle cores), the cost of the
terms below coverage summed 296 k with no polish (the search had the time), 253 k at 0.5 and
225 k at 1.0, lower on every seed; all seven proven either way."""


class _Checks:
    """Checks a master answer's carer weeks, and the teams of carers tied by 2:1 visits, and
    turns each failure into cuts and the failing carers' duties (``_Master.add_duties``)."""

    def __init__(
        self, instance: Instance, elig: Eligibility, travel: Any, pairs: Pairs, master: _Master
    ) -> None:
        self.instance, self.elig, self.travel, self.pairs = instance, elig, travel, pairs
        self.master = master
        self.cutter = _Cutter(instance, elig, travel, pairs, master)
        self.good: set[tuple[int, frozenset[int]]] = set()
        """Carer weeks that checked."""

    def _check(self, c: int, visits: list[int], deadline: float) -> list[int] | None | str:
        return check_week(self.instance, self.elig, self.travel, self.pairs, c, visits,
                          _left(deadline, 5.0))

    def fits(self, c: int, visits: set[int], deadline: float) -> bool:
        """Carer c's week of ``visits`` checks (remembered when it does)."""
        key = (c, frozenset(visits))
        if key in self.good:
            return True
        if check_week(self.instance, self.elig, self.travel, self.pairs, c, sorted(visits),
                      _left(deadline, 1.0)) is None:
            self.good.add(key)
            return True
        return False

    def teams_fit(self, weeks: dict[int, set[int]], changed: dict[int, set[int]],
                  carers: set[int], deadline: float) -> bool:
        """The weeks of ``carers`` in ``weeks`` changed by ``changed`` each check, with the
        carers they share 2:1 visits with (weeks that check are remembered)."""
        vs = self.instance.visits
        trial = {**weeks, **changed}
        for c in sorted(carers):
            v_c = trial[c]
            key = (c, frozenset(v_c))
            if not v_c or (key in self.good and all(vs[v].carers == 1 for v in v_c)):
                continue
            tied = {c} | {o for v in v_c if vs[v].carers > 1
                          for o in self.master.carers_of.get(v, ()) if v in trial.get(o, ())}
            team = {o: sorted(trial[o]) for o in tied}
            found = check_team(self.instance, self.elig, self.travel, self.pairs, team,
                               _left(deadline, 1.0))
            if found is not None:
                return False
            self.good.add(key)
        return True

    def place(
        self, weeks: dict[int, set[int]], changed: dict[int, set[int]], v: int, b: int, k: int,
        serves: dict[int, dict[int, list[int]]], deadline: float,
    ) -> tuple[dict[int, set[int]], tuple[int, int, int] | None] | None:
        """Visit v (of child k) added to carer b's week in ``weeks`` changed by ``changed``,
        when b's week then checks; where b is busy at that time with one visit u of another
        child, u goes to a carer who already works for u's child (``serves``; the carer giving
        v up, in a swap) when both weeks then check. Returns (the weeks that change, (u, b, that
        carer) or None), or None."""
        vs = self.instance.visits
        week_b = changed.get(b, weeks.get(b, set())) | {v}
        clash = self.clash(b, v, week_b)
        if not clash:
            if self.teams_fit(weeks, {**changed, b: week_b}, {b}, deadline):
                return {b: week_b}, None
            return None
        if len(clash) != 1 or vs[clash[0]].carers != 1:
            return None
        u = clash[0]
        j = self.instance.child_index[vs[u].child_id]
        if j == k:
            return None
        for d in self.master.carers_of.get(u, ()):
            if d == b or d not in serves.get(j, {}):
                continue
            week_d = changed.get(d, weeks.get(d, set())) | {u}
            if self.clash(d, u, week_d):
                continue
            update = {b: week_b - {u}, d: week_d}
            if self.teams_fit(weeks, {**changed, **update}, {b, d}, deadline):
                return update, (u, b, d)
        return None

    def move_out(
        self, sol: dict[tuple[int, int], int], failing: dict[int, list[int]], deadline: float
    ) -> dict[tuple[int, int], int] | None:
        """The master's answer with each failing week mended by moving visits of its cores,
        one at a time, to other carers whose weeks then still check, until it checks: an
        answer of the same size whose every week checks, or None. Near misses are common —
        the master answers with one or two weeks out of reach — and a move costs a few small
        checks where another master round costs the whole model."""
        weeks = {c: set(vs_c) for c, vs_c in weeks_of(sol).items()}
        carers_of = self.master.carers_of
        for c, core in failing.items():
            found: list[int] | None | str = core
            while found is not None:
                if not isinstance(found, list) or time.perf_counter() > deadline:
                    return None
                target = next(
                    ((v, other) for v in found for other in carers_of.get(v, ())
                     if other != c and v not in weeks.get(other, set())
                     and not self.clash(other, v, weeks.get(other, set()))
                     and self.fits(other, weeks.get(other, set()) | {v}, deadline)),
                    None,
                )
                if target is None:
                    chain = self._eject(c, found, weeks, deadline)
                    if chain is None:
                        return None
                    v, other, u, third = chain
                    weeks[other].discard(u)
                    weeks.setdefault(third, set()).add(u)
                else:
                    v, other = target
                weeks[c].discard(v)
                weeks.setdefault(other, set()).add(v)
                if self.fits(c, weeks[c], deadline):
                    break
                found = check_week(self.instance, self.elig, self.travel, self.pairs, c,
                                   sorted(weeks[c]), _left(deadline, 1.0))
        return {(c, v): int(v in weeks.get(c, ())) for (c, v) in sol}

    def clash(self, c: int, v: int, week: set[int]) -> list[int]:
        """The visits of ``week`` the master never holds with v for carer c."""
        never = self.master.never.get(c, set())
        return [u for u in week if (v, u) in never]

    def _eject(
        self, c: int, core: list[int], weeks: dict[int, set[int]], deadline: float
    ) -> tuple[int, int, int, int] | None:
        """A visit v of the core for another carer who is busy with one visit u at that time,
        u going to a third carer: (v, other, u, third) when both weeks then check."""
        vs = self.instance.visits
        carers_of = self.master.carers_of
        for v in core:
            for other in carers_of.get(v, ()):
                week_o = weeks.get(other, set())
                if other == c or v in week_o:
                    continue
                clash = self.clash(other, v, week_o)
                if len(clash) != 1 or vs[clash[0]].carers > 1:
                    continue
                u = clash[0]
                for third in carers_of.get(u, ()):
                    week_t = weeks.get(third, set())
                    if (third in (c, other) or u in week_t or self.clash(third, u, week_t)):
                        continue
                    if (self.fits(third, week_t | {u}, deadline)
                            and self.fits(other, (week_o - {u}) | {v}, deadline)):
                        return v, other, u, third
                    if time.perf_counter() > deadline:
                        return None
        return None

    def weeks(
        self, sol: dict[tuple[int, int], int], deadline: float, out: CoverageOutcome
    ) -> tuple[int, int, dict[int, list[int]]]:
        """(weeks that failed, cuts added, carer -> a core of each failed week)."""
        bad = cut = 0
        failing: dict[int, list[int]] = {}
        for c, vs_c in weeks_of(sol).items():
            if time.perf_counter() > deadline:
                break
            key = (c, frozenset(vs_c))
            if key in self.good:
                continue
            core = self._check(c, vs_c, deadline)
            if core is None:
                self.good.add(key)
                continue
            bad += 1
            cut += self.master.add_duties(c)
            if isinstance(core, list):
                failing[c] = list(core)
            rest = list(vs_c)
            while isinstance(core, list) and time.perf_counter() < deadline:
                cut += self.cutter.week(c, vs_c, list(core), deadline)
                # the week's other conflicts: its visits outside this core, checked again
                rest = [v for v in rest if v not in set(core)]
                core = self._check(c, rest, deadline)
        out.cuts += cut
        return bad, cut, failing

    def teams(
        self, sol: dict[tuple[int, int], int], deadline: float, out: CoverageOutcome
    ) -> tuple[int, int]:
        """(teams that failed, cuts added): every week checks alone, and carers sharing 2:1
        visits must also agree on their starts."""
        bad = cut = 0
        for team in _teams(weeks_of(sol), self.instance):
            if time.perf_counter() > deadline:
                bad += 1
                break
            found = check_team(self.instance, self.elig, self.travel, self.pairs, team,
                               _left(deadline, 5.0))
            if found is None:
                continue
            bad += 1
            for c in team:
                cut += self.master.add_duties(c)
            if isinstance(found, list):
                cut += self.cutter.team(found, team, deadline)
        out.cuts += cut
        return bad, cut


def solve_coverage(
    instance: Instance,
    elig: Eligibility,
    pairs: Pairs,
    travel: Any,
    deadline: float,
    workers: int = 2,
    seed: int = 0,
    known: dict[tuple[int, int], int] | None = None,
    lower: int = 0,
    stop: Any = None,
    deterministic: float | None = None,
    upper: int | None = None,
    weights: Weights | None = None,
) -> CoverageOutcome:
    """Prove the coverage optimum of the model over ``pairs`` before ``deadline``
    (``time.perf_counter()`` seconds), or return the best upper bound reached.

    ``known`` is a solution of the model (the warm start's x) staffing ``lower`` slots: it
    hints the master, and a master bound equal to ``lower`` proves it optimal at once.
    ``deterministic`` (a budget): each master solve stops on that much of CP-SAT's
    deterministic time and at most ``DETERMINISTIC_ITERATIONS`` rounds run, so that a run with
    one worker is repeatable unless the wall-clock deadline comes first.
    ``upper`` is a bound proven elsewhere (the LP capacity bound): no answer of the master
    above it is a rota, so the search rounds look for answers of at most that size (it is not
    a constraint of the first solve: as one, it kept the solve on S seed 4 from proving its
    own 250 in 6 s, which it does in 1.6 s without). The first (optimality) solve may take at
    most ``FIRST_SHARE`` of the time; past that its bound is returned and the caller's search
    gets the rest. After a proof the answer is polished for continuity
    (``polish_continuity``) and, given ``weights``, for visits by known carers
    (``polish_known``) in the master's time left.
    """
    t0 = time.perf_counter()
    master = _Master(instance, elig, travel, pairs)
    m = master.model
    keys = sorted(master.x)
    hint = dict(known or {})
    checks = _Checks(instance, elig, travel, pairs, master)
    out = CoverageOutcome(upper=None, proven=False, assignment=None)
    note = "time"
    level: Any = None  # in the search rounds: the literal asking for ``out.upper`` slots
    while True:
        left = deadline - time.perf_counter()
        if left <= 0.05 or (stop is not None and stop.is_set()):
            break
        if deterministic is not None and out.iterations >= DETERMINISTIC_ITERATIONS:
            note = "round limit (deterministic)"
            break
        out.iterations += 1
        m.clear_hints()
        for k in keys:
            m.add_hint(master.x[k], hint.get(k, 0))
        m.clear_assumptions()
        if level is not None:
            m.add_assumptions([level])
        limit = left if level is not None else min(left, FIRST_SHARE * (deadline - t0))
        if level is None and lower > 0 and workers >= 2 and deterministic is None:
            solver, code, first_bound = _first_solve(m, master.objective, lower, limit, seed, stop)
        else:
            first_bound = None
            solver = _solver(max(1, workers), limit, seed, level is not None)
            if level is not None:
                # the last answer is the hint, and the new cuts refute it in a few places
                solver.parameters.repair_hint = True
                solver.parameters.hint_conflict_limit = REPAIR_CONFLICTS
            if deterministic is not None:
                solver.parameters.max_deterministic_time = (
                    deterministic / DETERMINISTIC_ITERATIONS
                )
            code = _run(solver, m, stop)
        if code == cp_model.INFEASIBLE and level is not None and out.upper is not None:
            # no answer staffs ``out.upper`` slots any more: one fewer is the bound
            out.upper -= 1
            out.history.append((round(time.perf_counter() - t0, 3), out.upper))
            m.add(master.objective <= out.upper)
            if out.upper <= lower and known is not None:
                out.proven, out.assignment, note = True, dict(known), "warm start proven optimal"
                break
            level = m.new_bool_var("")
            m.add(master.objective >= out.upper).only_enforce_if(level)
            continue
        if code == cp_model.INFEASIBLE:
            # only possible when ``lower`` came from outside the model; no bound then
            note = "master infeasible"
            break
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            note = "master: no answer in time"
            break
        if level is None:
            bound = int(np.floor(
                (solver.best_objective_bound if first_bound is None else first_bound) + 1e-6
            ))
            if upper is not None:
                bound = min(bound, upper)
            out.upper = bound if out.upper is None else min(out.upper, bound)
            out.history.append((round(time.perf_counter() - t0, 3), out.upper))
            if out.upper <= lower and known is not None:
                out.proven, out.assignment, note = True, dict(known), "warm start proven optimal"
                break
            if code != cp_model.OPTIMAL:
                note = "master not solved to optimality in time"
                break
        value = int(solver.value(master.objective))
        sol = {k: int(solver.value(master.x[k])) for k in keys}
        hint = sol
        out.last = sol
        bad, cut, failing = checks.weeks(sol, deadline, out)
        if bad and failing and time.perf_counter() < deadline:
            moved = checks.move_out(sol, failing, deadline)
            if moved is not None:
                sol, bad = moved, 0
                hint = out.last = sol
        if bad == 0:
            bad, cut = checks.teams(sol, deadline, out)
        if bad == 0 and time.perf_counter() <= deadline:
            out.proven = True
            out.assignment = sol
            out.upper = min(out.upper, value) if out.upper is not None else value
            note = "master answer checks"
            if POLISH_SHARE > 0:
                began = time.perf_counter()
                end = began + POLISH_SHARE * (deadline - began)
                polished, pairs_moved = polish_continuity(checks, sol, end)
                moved_now = pairs_moved
                while moved_now and time.perf_counter() < end:
                    # a pair moved frees room another pair can now take
                    polished, moved_now = polish_continuity(checks, polished, end)
                    pairs_moved += moved_now
                note += (f"; {pairs_moved} child-carer pairs moved to carers the child has"
                         f" ({time.perf_counter() - began:.1f} s)")
                if weights is not None and time.perf_counter() < end:
                    began = time.perf_counter()
                    polished, rows_moved = polish_known(checks, polished, end, weights)
                    note += (f"; {rows_moved} visits moved from strangers to carers the child"
                             f" knows ({time.perf_counter() - began:.1f} s)")
                out.assignment = polished
            break
        if cut == 0:
            note = "a week could not be checked in time"
            break
        if level is None and out.upper is not None:
            # from now on: search for any answer staffing the bound (not a proof of optimality
            # each round); when there is none, the bound drops by one
            m.add(master.objective <= out.upper)
            m.clear_objective()
            level = m.new_bool_var("")
            m.add(master.objective >= out.upper).only_enforce_if(level)
    out.seconds = time.perf_counter() - t0
    out.note = note
    return out


def _serves(instance: Instance, weeks: dict[int, set[int]]) -> dict[int, dict[int, list[int]]]:
    """child -> carer -> that carer's visits of the child."""
    serves: dict[int, dict[int, list[int]]] = {}
    for c, v_c in weeks.items():
        for v in v_c:
            k = instance.child_index[instance.visits[v].child_id]
            serves.setdefault(k, {}).setdefault(c, []).append(v)
    return serves


def _reassign(serves: dict[int, dict[int, list[int]]], k: int, v: int, a: int, b: int) -> None:
    """In ``serves``: child k's visit v goes from carer a to carer b."""
    serves[k][a].remove(v)
    if not serves[k][a]:
        del serves[k][a]
    serves[k].setdefault(b, []).append(v)


def _known(instance: Instance) -> Callable[[int, int], bool]:
    """``known(k, c)``: child k (index) has history with carer c (index)."""
    def known(k: int, c: int) -> bool:
        return instance.knows(instance.children[k].child_id, instance.carers[c].carer_id)
    return known


def polish_known(
    checks: _Checks,
    answer: dict[tuple[int, int], int],
    deadline: float,
    weights: Weights,
) -> tuple[dict[tuple[int, int], int], int]:
    """An answer staffing the same visits in which a visit of a child given to a carer the
    child does not know goes to a carer the child knows who already works for the child,
    when both weeks (with their 2:1 partners) still check and the visit's other quality costs
    for that carer (journey from home, preferences, agency hours, in ``weights``) exceed the
    stranger's by less than ``weights.stranger_visit``. Where that carer is busy at the time
    with one visit of another child, that visit may go to a carer who already works for its
    child (``_Checks.place``, the continuity polish's swap), when the two moves together still
    gain. No child gains a carer; a stranger whose last visit of the child moves is gone.
    Returns the answer and the rows moved.

    Why: ``polish_continuity`` moves a (child, carer) pair whole or not at all, and the
    search that follows judges quality last with little time left, so a child with a known
    and a new carer kept most visits with the new one (S, 10 s: 20-37 % of rows by a known
    carer, fewer than the greedy's 28-44 %)."""
    if weights.stranger_visit <= 0:
        return answer, 0
    instance, elig = checks.instance, checks.elig
    vs = instance.visits
    weeks = {c: set(v_c) for c, v_c in weeks_of(answer).items()}
    serves = _serves(instance, weeks)
    known = _known(instance)

    def cost(c: int, v: int) -> float:
        agency = vs[v].duration_min / 60 if instance.carers[c].agency else 0.0
        return (weights.travel_mile * float(elig.home_miles[c, v])
                + weights.preference * preference_mismatches(instance, c, v)
                + weights.agency_hour * agency)

    def stranger(k: int, c: int) -> float:
        return 0.0 if known(k, c) else weights.stranger_visit

    def child(v: int) -> int:
        return instance.child_index[vs[v].child_id]

    moved = 0
    for k in sorted(serves):
        for a in sorted(c for c in serves[k] if not known(k, c)):
            for v in sorted(serves[k].get(a, ())):
                if time.perf_counter() > deadline:
                    return {(c, u): int(u in weeks.get(c, ())) for (c, u) in answer}, moved
                options = sorted(
                    (b for b in checks.master.carers_of.get(v, ())
                     if b in serves[k] and known(k, b) and v not in weeks.get(b, set())
                     and cost(b, v) - cost(a, v) < weights.stranger_visit),
                    key=lambda b: (cost(b, v), b),
                )
                for b in options:
                    changed = {a: weeks[a] - {v}}
                    got = checks.place(weeks, changed, v, b, k, serves, deadline)
                    if got is None:
                        continue
                    update, swap = got
                    gain = weights.stranger_visit + cost(a, v) - cost(b, v)
                    if swap is not None:
                        u, _, d = swap
                        j = child(u)
                        gain -= cost(d, u) + stranger(j, d) - cost(b, u) - stranger(j, b)
                    changed.update(update)
                    if gain <= 0 or not checks.teams_fit(weeks, changed, {a}, deadline):
                        continue
                    weeks.update(changed)
                    _reassign(serves, k, v, a, b)
                    if swap is not None:
                        _reassign(serves, child(swap[0]), *swap)
                    moved += 1
                    break
    return {(c, u): int(u in weeks.get(c, ())) for (c, u) in answer}, moved


def polish_continuity(
    checks: _Checks,
    answer: dict[tuple[int, int], int],
    deadline: float,
) -> tuple[dict[tuple[int, int], int], int]:
    """An answer staffing the same visits with fewer carers per child, each carer's week (with
    the weeks of the carers it shares 2:1 visits with) checked: for each (child, carer) pair,
    fewest visits first and strangers before known carers, every visit of that carer for that
    child (its place on a 2:1 visit too, to a carer not already on it) is moved to a carer
    who already works for the child, or, for a stranger, to a carer the child knows, when both
    weeks still check — where that carer is busy at the time with one visit of another child,
    that visit may go to a carer who already works for its own child; else nothing of the
    pair moves. Returns the answer and the number of pairs moved.

    Why: the master's answer is any answer of the optimal size, and its continuity is what
    CP-SAT's search left (S seed 3: 192 child-carer pairs where the greedy had 116); the
    search that follows has a few seconds, and on a proven week its open visits cannot be
    staffed, so it mended little of it."""
    instance = checks.instance
    vs = instance.visits
    weeks = {c: set(v_c) for c, v_c in weeks_of(answer).items()}
    serves = _serves(instance, weeks)
    known = _known(instance)
    order = sorted(
        ((k, c) for k, by in serves.items() for c in by),
        key=lambda kc: (len(serves[kc[0]][kc[1]]), known(*kc), kc),
    )
    moved = 0
    for k, a in order:
        if time.perf_counter() > deadline:
            break
        mine = serves[k].get(a)
        if not mine:
            continue
        stranger = not known(k, a)
        changed: dict[int, set[int]] = {a: set(weeks[a])}
        plan: list[tuple[int, int]] = []
        ejected: list[tuple[int, int, int]] = []  # (visit, from, to) of other children
        for v in sorted(mine):
            options = [b for b in checks.master.carers_of.get(v, ())
                       if b != a and (b in serves[k] or (stranger and known(k, b)))]
            options.sort(key=lambda b: (b not in serves[k], not known(k, b), b))
            changed[a].discard(v)
            placed = False
            for b in options:
                if v in changed.get(b, weeks.get(b, set())):
                    continue  # b is the other carer of this 2:1 visit
                got = checks.place(weeks, changed, v, b, k, serves, deadline)
                if got is not None:
                    update, swap = got
                    changed.update(update)
                    if swap is not None:
                        ejected.append(swap)
                    plan.append((v, b))
                    placed = True
                    break
            if not placed:
                plan = []
                break
        if not plan or not checks.teams_fit(weeks, changed, set(changed), deadline):
            continue
        for c, v_c in changed.items():
            weeks[c] = v_c
        del serves[k][a]
        for v, b in plan:
            serves[k].setdefault(b, []).append(v)
        for u, b, d in ejected:
            _reassign(serves, instance.child_index[vs[u].child_id], u, b, d)
        moved += 1
    return {(c, v): int(v in weeks.get(c, ())) for (c, v) in answer}, moved


def repair(
    instance: Instance,
    elig: Eligibility,
    pairs: Pairs,
    travel: Any,
    answer: dict[tuple[int, int], int],
    deadline: float,
) -> dict[int, list[int]] | None:
    """Make a master answer a set of weeks that each check: while a carer's week has a core,
    leave out its visit that has the most eligible carers (the easiest to staff otherwise),
    with every carer of it (a 2:1 visit is never half staffed). Returns carer -> visits, or
    None when time ran out."""
    weeks = {c: set(vs_c) for c, vs_c in weeks_of(answer).items()}
    on: dict[int, set[int]] = {}
    for c, vs_c in weeks.items():
        for v in vs_c:
            on.setdefault(v, set()).add(c)
    pending = sorted(weeks)
    while pending:
        if time.perf_counter() > deadline:
            return None
        c = pending.pop()
        if not weeks.get(c):
            continue
        core = check_week(instance, elig, travel, pairs, c, sorted(weeks[c]),
                          _left(deadline, 2.0))
        if core is None:
            continue
        if isinstance(core, str):
            return None
        drop = max(core, key=lambda v: (len(elig.eligible_carers(v)), v))
        for other in on.pop(drop, set()):
            weeks[other].discard(drop)
            if other != c and other not in pending:
                pending.append(other)
        pending.append(c)
    return {c: sorted(vs_c) for c, vs_c in weeks.items() if vs_c}

