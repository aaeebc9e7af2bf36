"""The CP-SAT model of a week's rota: one builder per constraint, the objective in one place.

Variables live only on eligible (carer, visit) pairs (``roster.eligibility``):

* ``x[c, v]`` the carer works the visit; ``staffed[v]`` the visit is fully staffed; a visit's
  start ``s[v]`` is shared by its carers (R4: a 2:1 starts together), and ``x[c, v]`` restricts it
  to ``allowed_starts(c, v)`` (R4 flex window, R5 availability and absences, R7 core hours, R12
  young-worker hours).
* Per carer, candidate visits are taken in planned-start order and a carer's visits happen in that
  order. For two visits that can be close in time an arc literal ``p[c, i, j]`` says "j comes
  straight after i, less than ``return_home_gap_min`` later" and ``h[c, j]`` says "the carer
  comes to j from home" (R13). Exactly one of them holds for each assigned visit, so the travel
  into a visit, its minutes (working time, R10) and miles (R9 cap, travel objective) are exact.
* Per carer, each visit's working time ``[start - travel, end)`` is an optional interval; they
  share a ``NoOverlap`` with one weekly-rest block (R14). R11 is a duty-start chain (below).

Modelling choices (each keeps every rota this model accepts valid under the contract; the
checker is run on every decoded rota):

* **Order.** A carer's visits follow planned-start order (ties by visit id). Two visits whose
  windows would let them swap are never done in the swapped order.
* **R6** is enforced between every ordered pair of a carer's visits that can be close, not only
  consecutive ones: ``start_j >= end_i + travel(i, j)``.
* **R11** holds iff every duty (work separated by gaps shorter than the daily rest) spans at most
  ``24 h - daily rest``: from any start of work in such a duty the window reaches past its end
  and holds the whole following rest. ``add_daily_rest`` enforces exactly that.
* **R15** (conservative): a *run* is a chain of visits whose gaps free of work are shorter than
  ``break_min``; a run of two or more visits holds at most ``break_after_hours`` of working time.
  Any duty that breaks R15 contains such a run, so R15 holds; a duty of, e.g., 4 h + 3 h back to
  back followed by a break and another hour is refused although R15 would allow it.
* **R9** on the journey from home is a property of the pair (``home_within_cap``): ``h`` is fixed
  to false where home is over the cap, so such a carer may take the visit only straight after a
  nearby visit.
* **R15 and coming home**: a carer who comes to j from home must have ended every earlier visit at
  least ``max(return_home_gap, home travel + break_min)`` before j (conservative when the journey
  home is longer than the gap minus a break; never with the contract's 20-mile cap and 120 min).
* **Candidates**: ``SolveParams.max_candidates`` (default 12) carers per visit, known carers first,
  then the nearest; fully locked visits keep only their locked carers.

The objective's travel miles are exact (the R13 journey of each row, not a home approximation);
continuity counts distinct carers per child through ``y[c, child] >= x[c, v]``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from roster.eligibility import Eligibility
from roster.model import Assignment, Instance, Rota
from roster.rules import YOUNG_DAY_MAX_MIN, limits
from solver.candidates import Travel, candidate_pairs, lock_ids, merge_ranges
from solver.cpbase import Arc, CarerModel, Vars
from solver.objective import TERM_WEIGHT as TERM_WEIGHT  # re-exported: tests read it here
from solver.objective import Term, TermModel, model_terms
from solver.objective import (  # re-exported: the search engine reads it here
    preference_mismatches as preference_mismatches,
)
from solver.params import Lock, SolveParams

_Travel = Travel
"""The old name of ``solver.candidates.Travel`` (tests build journeys with it)."""


@dataclass
class RotaModel:
    """The built model and the handles the stages, hints and decoding need."""

    instance: Instance
    eligibility: Eligibility
    model: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar]
    start: dict[int, cp_model.IntVar]
    staffed: dict[int, Any]
    carers: dict[int, CarerModel]
    terms: dict[str, Term]
    variables: list[cp_model.IntVar]
    aux: dict[str, Any] = field(default_factory=dict)
    """y (carer, child), over (child), dev (carer -> (var, target minutes)) for hints."""
    pairs: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)
    """(carer, visit) -> allowed start ranges: the candidate pairs the model was built over."""


# ---- the builders ------------------------------------------------------------------------------


def add_staffing(
    m: cp_model.CpModel,
    new: Vars,
    instance: Instance,
    pairs: dict[tuple[int, int], list[tuple[int, int]]],
) -> tuple[dict[tuple[int, int], cp_model.IntVar], dict[int, cp_model.IntVar], dict[int, Any]]:
    """R4: a visit is staffed by exactly ``carers`` different carers or not at all, all starting
    together at a start inside the flex window that each carer's ``allowed_starts`` permits.

    A 2:1 visit is never half staffed: one carer alone cannot do a session the care plan sets
    for two, so its two carer slots are covered or missed together.
    """
    by_visit: dict[int, list[int]] = {}
    for c, v in pairs:
        by_visit.setdefault(v, []).append(c)
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    start: dict[int, cp_model.IntVar] = {}
    staffed: dict[int, Any] = {}
    for v, visit in enumerate(instance.visits):
        carers = sorted(by_visit.get(v, []))
        if len(carers) < visit.carers:
            staffed[v] = 0
            continue
        union = sorted(r for c in carers for r in pairs[(c, v)])
        start[v] = new.domain(merge_ranges(union), f"s{v}")
        staffed[v] = new.boolean(f"staffed{v}")
        for c in carers:
            lit = new.boolean(f"x{c}_{v}")
            x[(c, v)] = lit
            ranges = pairs[(c, v)]
            if merge_ranges(union) != ranges:
                m.add_linear_expression_in_domain(
                    start[v], cp_model.Domain.from_intervals([[a, b] for a, b in ranges])
                ).only_enforce_if(lit)
        m.add(sum(x[(c, v)] for c in carers) == visit.carers * staffed[v])
    return x, start, staffed


def add_sequencing(
    m: cp_model.CpModel,
    new: Vars,
    instance: Instance,
    elig: Eligibility,
    travel: Travel,
    c: int,
    visits: list[int],
    x: dict[tuple[int, int], cp_model.IntVar],
    start: dict[int, cp_model.IntVar],
    bounds: dict[int, tuple[int, int]],
) -> CarerModel:
    """R6 no double booking with travel, R13 travel origin and R9 on the real journey, R15 runs.

    ``bounds[v]`` is the carer's (earliest, latest) start of v. Returns the carer's model with the
    exact travel minutes into each visit (a variable, 0 when the visit is not the carer's).
    """
    carer = instance.carers[c]
    lim = limits(instance, carer)
    gap = instance.settings.return_home_gap_min
    vs = instance.visits
    cm = CarerModel(c=c, limits=lim, visits=visits)
    n = len(visits)
    dur = [vs[v].duration_min for v in visits]
    lo = [bounds[v][0] for v in visits]
    hi = [bounds[v][1] for v in visits]
    caps = [instance.child_cap(instance.child(vs[v].child_id)) for v in visits]
    miles_np, minutes_np = travel.block(visits, visits) if n else (np.zeros((0, 0)), np.zeros((0, 0)))
    # plain lists: numpy scalar indexing in the pair loop below costs more than the loop itself
    miles_m: list[list[float]] = miles_np.tolist()
    minutes_m: list[list[int]] = minutes_np.astype(np.int64).tolist()
    reach_in = [int(minutes_np[:k, k].max()) if k else 0 for k in range(n)]
    # Visits that overlap whatever their starts (their mandatory parts [latest start, earliest
    # end) share a minute) form cliques: one at-most-one per clique instead of a clause per pair.
    mandatory = [(hi[k], lo[k] + dur[k]) for k in range(n)]
    points = sorted({a for a, b in mandatory if a < b})
    for point in points:
        clique = [x[(c, visits[k])] for k in range(n) if mandatory[k][0] <= point < mandatory[k][1]]
        if len(clique) > 1:
            m.add_at_most_one(clique)
    runs_into: dict[int, list[Arc]] = {}
    prefix_max_end: list[int] = []
    best = -(10**9)
    for k in range(n):
        best = max(best, hi[k] + dur[k])
        prefix_max_end.append(best)
    for jj in range(n):
        j = visits[jj]
        xj = x[(c, j)]
        home_ok = bool(elig.home_within_cap[c, j])
        home_min = int(elig.home_minutes[c, j])
        # Coming from home, an earlier visit must have ended the return-home gap before, and
        # long enough before that the journey from home leaves a break (R15 runs, conservative).
        far = max(gap, home_min + lim.break_min)
        reach = max(far, reach_in[jj])
        h: Any = new.boolean(f"h{c}_{j}") if home_ok else 0
        arcs: list[Arc] = []
        closers: list[tuple[int, int]] = []  # earlier visits that may end < gap before j
        last_end = [new.integer(-(10**6), 10**6, f"L{c}_{j}")]
        for ii in range(jj - 1, -1, -1):
            if prefix_max_end[ii] <= lo[jj] - reach:
                break  # every earlier visit ends long enough before j: nothing to say
            i = visits[ii]
            xi = x[(c, i)]
            t = minutes_m[ii][jj]
            mi = miles_m[ii][jj]
            min_gap = lo[jj] - (hi[ii] + dur[ii])  # smallest possible start_j - end_i
            max_gap = hi[jj] - (lo[ii] + dur[ii])
            if max_gap < t:
                # never fits in order (R6 with the fixed order): not both
                if max(hi[ii], hi[jj]) >= min(lo[ii] + dur[ii], lo[jj] + dur[jj]):
                    m.add_bool_or([xi.negated(), xj.negated()])  # else an at-most-one clique has it
                continue
            if min_gap < t:
                m.add(start[j] >= start[i] + dur[ii] + t).only_enforce_if([xi, xj])
            if min_gap < far and not isinstance(h, int):
                # coming from home means every earlier visit ended at least the gap before (R13)
                if max_gap < far:
                    m.add_bool_or([h.negated(), xi.negated()])
                else:
                    m.add(start[j] >= start[i] + dur[ii] + far).only_enforce_if([h, xi])
            if min_gap < gap and mi + vs[j].trip_miles <= caps[jj] + 1e-9:
                lit = new.boolean(f"p{c}_{i}_{j}")
                m.add_implication(lit, xi)
                m.add_implication(lit, xj)
                if max_gap >= gap:
                    m.add(start[j] <= start[i] + dur[ii] + gap - 1).only_enforce_if(lit)
                # j's close predecessor is the assigned visit that ends last before it
                m.add(last_end[0] <= start[i] + dur[ii]).only_enforce_if(lit)
                arc = Arc(i=i, j=j, lit=lit, minutes=t, miles=mi)
                free_min = min_gap - t
                free_max = max_gap - t
                if free_min < lim.break_min:
                    if free_max < lim.break_min:
                        arc.run = lit
                    else:
                        run = new.boolean(f"r{c}_{i}_{j}")
                        m.add_implication(run, lit)
                        m.add(start[j] >= start[i] + dur[ii] + t + lim.break_min).only_enforce_if(
                            [lit, run.negated()]
                        )
                        arc.run = run
                    runs_into.setdefault(j, []).append(arc)
                arcs.append(arc)
            # Without an arc (R9 from i over the cap) i cannot be j's close predecessor: the
            # exactly-one constraint below then needs h or a later arc.
            if min_gap < gap:
                closers.append((ii, i))
        if arcs:
            # L_j >= the end of every assigned visit that may be close: with the arc's L_j <= end_i
            # no assigned visit lies between an arc's ends (R13: the *immediately* previous one).
            for ii, i in closers:
                m.add(last_end[0] >= start[i] + dur[ii]).only_enforce_if([x[(c, i)], xj])
        else:
            m.add(last_end[0] == 0)
        if not isinstance(h, int):
            m.add_implication(h, xj)
        m.add(sum(a.lit for a in arcs) + h == xj)
        cm.arcs_into[j] = arcs
        cm.home[j] = h
        cm.last_end[j] = last_end[0]
        t_max = max([home_min if home_ok else 0] + [a.minutes for a in arcs])
        tt = new.integer(0, t_max, f"tt{c}_{j}")
        m.add(tt == sum(a.lit * a.minutes for a in arcs) + h * home_min)
        cm.travel[j] = tt
        cm.max_travel[j] = t_max
        # the visit's whole window, not the carer's: x = 0 must leave the shared start free
        ws = new.integer(int(elig.start_lo[j]) - t_max, int(elig.start_hi[j]), f"ws{c}_{j}")
        m.add(ws == start[j] - tt)
        size = vs[j].duration_min
        cm.work_start[j] = ws
        cm.presence[j] = xj
        cm.intervals[j] = m.new_optional_interval_var(
            ws, tt + size, start[j] + size, xj, f"work{c}_{j}"
        )
    _add_runs(m, new, cm, runs_into)
    return cm


def _add_runs(
    m: cp_model.CpModel, new: Vars, cm: CarerModel, runs_into: dict[int, list[Arc]]
) -> None:
    """R15 (conservative, see module docstring): a run of two or more visits holds at most
    ``break_after`` minutes of working time. ``W[j]`` is the working time of j's run up to j."""
    if not runs_into:
        return
    involved = set(runs_into)
    for arcs in runs_into.values():
        involved.update(a.i for a in arcs)
    limit = cm.limits.break_after_min
    work: dict[int, cp_model.IntVar] = {}
    for v in involved:
        w = new.integer(0, 10 * 24 * 60, f"W{cm.c}_{v}")
        size: Any = cm.intervals[v].size_expr()
        m.add(w >= size)
        work[v] = w
    cm.run_work = work
    for j, arcs in runs_into.items():
        for a in arcs:
            size_j: Any = cm.intervals[j].size_expr()
            m.add(work[j] >= work[a.i] + size_j).only_enforce_if(a.run)
            m.add(work[j] <= limit).only_enforce_if(a.run)


def add_daily_rest(
    m: cp_model.CpModel, new: Vars, instance: Instance, cm: CarerModel, bounds: dict[int, tuple[int, int]]
) -> None:
    """R11 daily rest: every duty (work separated by gaps shorter than the daily rest) spans at
    most ``24 h - daily_rest``.

    ``D[j]`` is a lower bound on the start of j's duty: ``D[j] <= work start of j``, and for each
    earlier visit i that may end less than a daily rest before j, a literal "i is in j's duty":
    if it holds ``D[j] <= D[i]``, if not i ends a full rest before j's work. Then
    ``end_j - D[j] <= 24 h - rest``. Exact: the visits ending less than a rest before j are all in
    j's duty, and the earliest duty start among them is the duty's own.
    """
    if not cm.visits:
        return
    rest = cm.limits.daily_rest_min
    span = 24 * 60 - rest
    vs = instance.visits
    c = cm.c
    order = cm.visits
    lo = {v: bounds[v][0] - cm.max_travel[v] for v in order}  # earliest work start
    hi_end = {v: bounds[v][1] + vs[v].duration_min for v in order}
    lo_end = {v: bounds[v][0] + vs[v].duration_min for v in order}
    duty: dict[int, Any] = {}
    prefix_max_end: list[int] = []
    best = -(10**9)
    for v in order:
        best = max(best, hi_end[v])
        prefix_max_end.append(best)
    for jj, j in enumerate(order):
        dj = new.integer(lo[j] - span, 10**6, f"D{c}_{j}")
        duty[j] = dj
        m.add(dj <= cm.work_start[j])
        m.add(vs[j].duration_min + cm.work_start[j] + cm.travel[j] - dj <= span).only_enforce_if(
            _x_of(cm, j)
        )
        for ii in range(jj - 1, -1, -1):
            if prefix_max_end[ii] <= lo[j] - rest:
                break
            i = order[ii]
            if hi_end[i] <= lo[j] - rest:
                continue  # always a full rest between them
            xi, xj = _x_of(cm, i), _x_of(cm, j)
            max_gap = bounds[j][1] - lo_end[i]
            if max_gap < rest:
                m.add(dj <= duty[i]).only_enforce_if([xi, xj])
            else:
                same = new.boolean(f"duty{c}_{i}_{j}")
                m.add_implication(same, xi)
                m.add_implication(same, xj)
                m.add(dj <= duty[i]).only_enforce_if(same)
                end_i: Any = cm.intervals[i].end_expr()
                m.add(cm.work_start[j] >= end_i + rest).only_enforce_if(
                    [xi, xj, same.negated()]
                )
                cm.duty_links.append((i, j, same))
    cm.duty_start = duty


def _x_of(cm: CarerModel, v: int) -> Any:
    return cm.presence[v]


def add_weekly_rest(
    m: cp_model.CpModel, new: Vars, instance: Instance, cm: CarerModel, x: dict[tuple[int, int], Any]
) -> None:
    """R14 weekly rest: one block of ``weekly_rest`` minutes inside the week, free of work."""
    if not cm.visits:
        return
    week = instance.clock.week_minutes
    rest = cm.limits.weekly_rest_min
    if rest > week:  # no rest of that length fits the week: the carer cannot work at all
        m.add(sum(x[(cm.c, v)] for v in cm.visits) == 0)
        return
    s = new.integer(0, week - rest, f"wrest{cm.c}")
    block = m.new_fixed_size_interval_var(s, rest, f"wrest{cm.c}")
    cm.weekly_rest = s
    m.add_no_overlap(list(cm.intervals.values()) + [block])


def add_weekly_hours(
    m: cp_model.CpModel, instance: Instance, cm: CarerModel, x: dict[tuple[int, int], cp_model.IntVar]
) -> Any:
    """R10 weekly hours: visit + travel minutes within the carer's weekly limit. Returns the
    carer's working minutes."""
    vs = instance.visits
    total = sum(x[(cm.c, v)] * vs[v].duration_min + cm.travel[v] for v in cm.visits)
    m.add(total <= cm.limits.max_week_min)
    return total


def add_young_worker_days(
    m: cp_model.CpModel, instance: Instance, cm: CarerModel, x: dict[tuple[int, int], cp_model.IntVar]
) -> None:
    """R12 young workers: at most 8 h of working time per local day under 18.

    Eligibility keeps a young worker's visits and their journey from home inside 06:00-22:00 (a
    journey from an earlier visit starts after it), so each visit's working time lies in its day.
    """
    carer = instance.carers[cm.c]
    by_day: dict[Any, list[int]] = {}
    for v in cm.visits:
        visit = instance.visits[v]
        if carer.age_on(visit.date) < 18:
            by_day.setdefault(visit.date, []).append(v)
    for _day, vs in by_day.items():
        m.add(
            sum(x[(cm.c, v)] * instance.visits[v].duration_min + cm.travel[v] for v in vs)
            <= YOUNG_DAY_MAX_MIN
        )


def add_locks(
    m: cp_model.CpModel,
    instance: Instance,
    locks: Sequence[Lock],
    x: dict[tuple[int, int], cp_model.IntVar],
    start: dict[int, cp_model.IntVar],
) -> None:
    """Assignments fixed by hand stay as they are (and their start, when given)."""
    for lock in locks:
        vid, cid = lock_ids(lock)
        if vid not in instance.visit_index:
            raise ValueError(f"lock: visit_id {vid!r} is not a visit of this instance.")
        if cid not in instance.carer_index:
            raise ValueError(f"lock: carer_id {cid!r} is not a carer of this instance.")
        c, v = instance.carer_index[cid], instance.visit_index[vid]
        if (c, v) not in x:
            raise ValueError(
                f"lock: carer {cid} cannot take visit {vid}: the pair breaks a hard rule "
                "(see `roster check` or the eligibility reasons)."
            )
        m.add(x[(c, v)] == 1)
        when: int | None = None
        if isinstance(lock, Assignment):
            when = lock.start
        elif len(lock) == 3:
            when = int(lock[2])
        if when is not None:
            m.add(start[v] == when)


# ---- assembly --------------------------------------------------------------------------------


BUILD_SHARE = 0.6
"""Building the whole model may take at most this share of the time left after the greedy
(``solver.solve``; a search move's build, of its move time): past it the build stops and the
rest of the time goes to large-neighbourhood search (or the greedy rota is returned), so that
the time limit holds in wall-clock terms."""


class BuildTimeout(RuntimeError):
    """Building the model would run past the solve's deadline (``build_model(deadline=...)``)."""


BUILD_SECONDS_PER_PAIR = 0.0012
"""Measured model-building cost per candidate pair on 2 busy cores: S (2,186 pairs) 1.3-2.3 s,
M with 12 candidates (14,656 pairs) 15.5 s; denser weeks cost more per pair (M with every
eligible carer, 57,728 pairs: 191 s), which the deadline check inside the build catches."""


def estimated_build_seconds(n_pairs: int) -> float:
    """A first guess at ``build_model``'s wall time, to skip a build that cannot fit."""
    return n_pairs * BUILD_SECONDS_PER_PAIR


def build_model(
    instance: Instance,
    elig: Eligibility,
    params: SolveParams,
    warm: Rota | None = None,
    deadline: float | None = None,
) -> RotaModel:
    """Build the whole model: constraints for every rule, and every objective term. The pairs of
    ``warm`` (the warm start) are kept among the candidates, so it stays a complete solution.

    ``deadline`` (``time.perf_counter()`` seconds): raise ``BuildTimeout`` as soon as the build
    passes it, or at once when the estimate says it cannot end before it."""

    m = cp_model.CpModel()
    new = Vars(m)
    keep = []
    if warm is not None:
        keep = [
            (instance.carer_index[a.carer_id], instance.visit_index[a.visit_id])
            for a in warm.assignments
            if a.carer_id in instance.carer_index and a.visit_id in instance.visit_index
        ]
    pairs = candidate_pairs(instance, elig, params, keep)
    if deadline is not None:
        left = deadline - time.perf_counter()
        if estimated_build_seconds(len(pairs)) > left:
            raise BuildTimeout(
                f"{len(pairs)} candidate pairs: about {estimated_build_seconds(len(pairs)):.0f} s "
                f"to build, {max(0.0, left):.1f} s left"
            )
    x, start, staffed = add_staffing(m, new, instance, pairs)
    travel = Travel(instance, params.travel)
    planned = instance.planned_start
    by_carer: dict[int, list[int]] = {}
    for c, v in x:
        by_carer.setdefault(c, []).append(v)
    carers: dict[int, CarerModel] = {}
    work_total: dict[int, Any] = {}
    for c in sorted(by_carer):
        if deadline is not None and time.perf_counter() > deadline:
            raise BuildTimeout(f"model building passed its deadline at carer {len(carers)} of {len(by_carer)}")
        visits = sorted(by_carer[c], key=lambda v: (planned[v], instance.visits[v].visit_id))
        bounds = {v: (pairs[(c, v)][0][0], pairs[(c, v)][-1][1]) for v in visits}
        cm = add_sequencing(m, new, instance, elig, travel, c, visits, x, start, bounds)
        add_daily_rest(m, new, instance, cm, bounds)
        add_weekly_rest(m, new, instance, cm, x)
        work_total[c] = add_weekly_hours(m, instance, cm, x)
        add_young_worker_days(m, instance, cm, x)
        carers[c] = cm
    add_locks(m, instance, params.locks, x, start)

    # ---- terms, each in its own unit (the table in solver.objective) ----
    aux: dict[str, Any] = {"y": {}, "over": {}, "dev": {}}
    raw = model_terms(TermModel(model=m, new=new, instance=instance, elig=elig, params=params,
                                x=x, staffed=staffed, carers=carers, work_total=work_total,
                                aux=aux))

    return RotaModel(
        instance=instance,
        eligibility=elig,
        model=m,
        x=x,
        start=start,
        staffed=staffed,
        carers=carers,
        terms=raw,
        variables=new.all,
        aux=aux,
        pairs=pairs,
    )


# ---- hints and answers ------------------------------------------------------------------------


def chosen_of(rm: RotaModel, value: Any) -> dict[str, list[tuple[str, int]]]:
    """carer_id -> [(visit_id, start)] of an answer of ``rm``, read through ``value`` (a
    solver's ``value``, or a snapshot's): what ``solver.solve.decode`` turns into rota rows."""
    chosen: dict[str, list[tuple[str, int]]] = {}
    for (c, v), lit in rm.x.items():
        if value(lit):
            chosen.setdefault(rm.instance.carers[c].carer_id, []).append(
                (rm.instance.visits[v].visit_id, int(value(rm.start[v])))
            )
    return chosen


def hint_values(rm: RotaModel, rota: Rota) -> dict[int, int]:
    """Values of x, staffed, start, travel origin and travel minutes for a rota (a warm start)."""
    inst = rm.instance
    gap = inst.settings.return_home_gap_min
    values: dict[int, int] = {}
    for lit in rm.x.values():
        values[lit.index] = 0
    for st in rm.staffed.values():
        if not isinstance(st, int):
            values[st.index] = 0
    by_visit: dict[int, list[Assignment]] = {}
    for a in rota.assignments:
        if a.visit_id in inst.visit_index and a.carer_id in inst.carer_index:
            by_visit.setdefault(inst.visit_index[a.visit_id], []).append(a)
    for v, rows in by_visit.items():
        keys = [(inst.carer_index[a.carer_id], v) for a in rows]
        if not all(k in rm.x for k in keys) or len(rows) != inst.visits[v].carers:
            continue
        for k in keys:
            values[rm.x[k].index] = 1
        values[rm.staffed[v].index] = 1
        values[rm.start[v].index] = rows[0].start
    for cm in rm.carers.values():
        for v in cm.visits:
            h = cm.home[v]
            if not isinstance(h, int):
                values[h.index] = 0
            for arc in cm.arcs_into[v]:
                values[arc.lit.index] = 0
    for c, cm in rm.carers.items():
        mine = sorted(
            (values[rm.start[v].index], v)
            for v in cm.visits
            if values.get(rm.x[(c, v)].index) == 1
        )
        prev: tuple[int, int] | None = None
        for s, v in mine:
            origin_arc: Arc | None = None
            if prev is not None and s - (prev[0] + inst.visits[prev[1]].duration_min) < gap:
                origin_arc = next((arc for arc in cm.arcs_into[v] if arc.i == prev[1]), None)
            for arc in cm.arcs_into[v]:
                values[arc.lit.index] = int(arc is origin_arc)
            h = cm.home[v]
            if not isinstance(h, int):
                values[h.index] = int(origin_arc is None)
            prev = (s, v)
    _complete_hint(rm, values)
    return values


def _complete_hint(rm: RotaModel, values: dict[int, int]) -> None:
    """Fill travel, work starts, runs, duty starts, rest, continuity and hours from x, start, h, p,
    so that CP-SAT can take a feasible warm start as its first solution at once."""
    inst = rm.instance
    vs = inst.visits
    elig = rm.eligibility
    for v, st in rm.start.items():
        if st.index not in values:
            values[st.index] = int(elig.start_lo[v])
    week = inst.clock.week_minutes
    for c, cm in rm.carers.items():
        lim = cm.limits
        mine: list[tuple[int, int, int]] = []  # (start, visit, travel)
        run_into: dict[int, bool] = {}
        for v in cm.visits:
            s = values[rm.start[v].index]
            tt = 0
            if values.get(rm.x[(c, v)].index) == 1:
                h = cm.home[v]
                if not isinstance(h, int) and values.get(h.index) == 1:
                    tt = int(elig.home_minutes[c, v])
                for a in cm.arcs_into[v]:
                    if values.get(a.lit.index) == 1:
                        tt = a.minutes
                        free = s - (values[rm.start[a.i].index] + vs[a.i].duration_min) - a.minutes
                        cont = free < lim.break_min and a.run is not None
                        run_into[v] = cont
                        if a.run is not None and a.run is not a.lit:
                            values[a.run.index] = int(cont)
                    elif a.run is not None and a.run is not a.lit:
                        values[a.run.index] = 0
                mine.append((s, v, tt))
            else:
                for a in cm.arcs_into[v]:
                    if a.run is not None and a.run is not a.lit:
                        values[a.run.index] = 0
            values[cm.travel[v].index] = tt
            values[cm.work_start[v].index] = s - tt
        mine.sort()
        ends = sorted((s + vs[v].duration_min, v) for s, v, _ in mine)
        for v in cm.visits:
            s = values[rm.start[v].index]
            before = [e for e, w in ends if e <= s and w != v]
            values[cm.last_end[v].index] = (
                max(before) if before and values.get(rm.x[(c, v)].index) == 1 and cm.arcs_into[v] else 0
            )
        work_of = {v: vs[v].duration_min + tt for _, v, tt in mine}
        acc: dict[int, int] = {}
        last: int | None = None
        for _, v, _tt in mine:
            acc[v] = work_of[v] + (acc[last] if last is not None and run_into.get(v) else 0)
            last = v
        for v, w in cm.run_work.items():
            values[w.index] = acc.get(v, vs[v].duration_min)
        # duty starts (R11)
        if cm.duty_start:
            spans = sorted((s - tt, s + vs[v].duration_min, v) for s, v, tt in mine)
            start_of: dict[int, int] = {}
            end_of: dict[int, int] = {}
            current = None
            last_end = None
            for ws, we, v in spans:
                if last_end is None or ws - last_end >= lim.daily_rest_min:
                    current = ws
                start_of[v] = current  # type: ignore[assignment]
                end_of[v] = we
                last_end = we if last_end is None else max(last_end, we)
            for v, d in cm.duty_start.items():
                values[d.index] = start_of.get(v, values[cm.work_start[v].index])
            for i, j, same in cm.duty_links:
                gap_ij = values[cm.work_start[j].index] - end_of.get(i, 0)
                on = i in start_of and j in start_of and gap_ij < lim.daily_rest_min
                values[same.index] = int(on)
        if cm.weekly_rest is not None:
            edges = [0]
            for s, v, tt in mine:
                w0, w1 = max(0, s - tt), min(week, s + vs[v].duration_min)
                if w0 < w1:
                    edges += [w0, w1]
            edges.append(week)
            best = max(range(0, len(edges), 2), key=lambda k: edges[k + 1] - edges[k])
            values[cm.weekly_rest.index] = min(edges[best], week - lim.weekly_rest_min)
        if c in rm.aux["dev"]:
            dev, target = rm.aux["dev"][c]
            values[dev.index] = abs(sum(work_of.values()) - target)
    seen: dict[int, int] = {}
    for (c, k), y in rm.aux["y"].items():
        on = any(
            values.get(rm.x[(c, v)].index) == 1
            for v in rm.carers[c].visits
            if inst.child_index[vs[v].child_id] == k
        )
        values[y.index] = int(on)
        seen[k] = seen.get(k, 0) + int(on)
    for k, (var, target) in rm.aux["over"].items():
        values[var.index] = max(0, seen.get(k, 0) - target)


