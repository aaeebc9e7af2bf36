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

from ortools.sat.python import cp_model

from roster.eligibility import Eligibility
from roster.model import Assignment, Instance, Rota
from solver.candidates import Travel, candidate_pairs, lock_ids
from solver.cpbase import Arc, CarerModel, Vars
from solver.objective import TERM_WEIGHT as TERM_WEIGHT  # re-exported: tests read it here
from solver.objective import Term, TermModel, model_terms
from solver.objective import (  # re-exported: the search engine reads it here
    preference_mismatches as preference_mismatches,
)
from solver.params import Lock, SolveParams
from solver.rules.daily_rest import add_daily_rest
from solver.rules.hours import add_weekly_hours
from solver.rules.journey import add_sequencing
from solver.rules.staffing import add_staffing
from solver.rules.weekly_rest import add_weekly_rest
from solver.rules.young import add_young_worker_days

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


