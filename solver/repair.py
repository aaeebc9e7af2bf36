"""Sickness repair: re-roster only what a carer's absence breaks, changing as little as possible.

``repair(instance, rota, absence, params) -> RepairResult`` and ``roster repair INSTANCE --rota
ROTA --absence CARER,START,END --out OUT``.

How (the model is kept small so that a repair on a medium caseload takes seconds):

1. The absence is added to the instance. The *broken* visits are the absent carer's visits the
   checker now rejects (R5: the visit touches the absence).
2. The *candidates* for a broken visit are its ``ripple_carers`` best eligible carers (known to
   the child, then nearest), whose own visits within ``ripple_hours`` of it may move so that a
   known carer can swap onto it; its ``free_carers`` best eligible carers with nothing booked
   around it; the other carer of a broken 2:1; and a few idle carers who could take the visits
   a swap would free. Each candidate's whole week is in the sub-week (the weekly rules need
   it); every row not allowed to move is locked exactly (carer and start), and a visit whose
   rows are all locked is pinned to its carers. Carers who are no candidate are not in the
   model at all, and their rows stay as they were.
3. A warm start changes nobody else: each broken visit goes to the first candidate whose week
   still keeps every rule with it added. When that covers every broken visit it is already
   best on coverage and on changes, and it is kept as it is. Otherwise the solver
   (``solver.solve``) searches from it,
   with the old rota as its reference and a strong change penalty (``Weights.change``) in one
   weighted search: coverage dominant, then the fewest changes to other families' carers,
   then the usual continuity, preferences and travel.
4. The result is merged back, travel (R13) is recomputed for every carer whose rows moved, and
   the whole week is checked against every hard rule (``roster.checker``). Should the merged
   rota break one (a bug), the old rota without the broken visits is kept instead and they are
   reported uncovered: a repair never returns a rota that breaks a rule.

Every family whose carers change is listed (``roster.changes``), and every visit that still
cannot be covered is listed first, with its reason, since "no family must be left without a due
visit" without being told (003 §8.8) and families must be consulted before a carer changes
(003 §12.9).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from roster.atomic import atomic_folder, refuse_foreign_folder
from roster.calendar import format_hhmm
from roster.changes import (
    Change,
    VisitChange,
    changes_csv,
    changes_report,
    visit_changes,
    visit_changes_csv,
)
from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.errors import InstanceError, Problem, UnknownIdError
from roster.io import load_instance, load_rota, write_instance, write_rota
from roster.model import (
    Absence,
    Assignment,
    Availability,
    Instance,
    Rota,
    Training,
    Unassigned,
)
from solver.explain import explain_unassigned
from solver.params import SolveParams, Weights
from solver.progress import run_stoppable
from solver.rota import RotaBugError
from solver.solve import solve
from solver.summary import with_objective

PIN_PREFIX = "__repair_pinned_"
"""Private competency that pins a locked visit to its carers inside the repair's sub-week."""

DEFAULT_CHANGE_PENALTY = 1_000.0
"""Cost per (carer, visit) pair of the old rota not kept: far above continuity (100 per distinct
carer), preferences and travel, so other families keep their carers unless that covers a broken
visit; a tenth of a carer slot's coverage weight (10 000), so covering a visit may move up to
ten other rows."""


@dataclass(frozen=True)
class RepairParams:
    """How far a repair may reach, and how long it may search."""

    time_limit: float = 2.5
    """Wall-clock seconds for the repair: the CP-SAT stages on the sub-week get what is left of
    it after the broken visits and the warm start are found (all of it when ``deterministic``)."""
    workers: int = 2
    seed: int = 0
    ripple_carers: int = 3
    """Per broken visit, how many of the best candidates may have their own visits moved."""
    free_carers: int = 5
    """Per broken visit, how many of the best candidates with nothing booked around it join."""
    ripple_hours: float = 12.0
    """A ripple candidate's visits starting within this many hours of a broken visit may move."""
    change_penalty: float = DEFAULT_CHANGE_PENALTY
    weights: Weights = field(default_factory=Weights)
    deterministic: bool = False
    always_search: bool = False
    """Run the solver even when the warm start already covers every broken visit without moving
    anyone else (it cannot do better on coverage or changes; only continuity or travel)."""
    lexicographic: bool = False
    """One weighted search from the warm start (coverage dominant, then changes) rather than the
    solver's stages: the first stage would otherwise return a rota that covers most visits with
    any number of changes when time runs out."""


@dataclass(frozen=True)
class RepairResult:
    """A repaired rota and everything the families must be told."""

    instance: Instance
    """The instance with the absence added: the repaired rota is valid against it."""
    rota: Rota
    absence: Absence
    broken: tuple[str, ...]
    """Visits the absence broke (the absent carer's visits touching the absence), in visit order."""
    uncovered: tuple[Unassigned, ...]
    """Visits covered before and not covered now, with reasons: tell these families first."""
    still_unassigned: tuple[Unassigned, ...]
    """Visits that were already not covered before the absence (with fresh reasons)."""
    changes: tuple[Change, ...]
    """Per family (child id): carers gained and lost."""
    visit_changes: tuple[VisitChange, ...]
    families: tuple[str, ...]
    """Child ids of every family to consult or tell, sorted."""
    free_visits: int
    locked_assignments: int
    carers_in_model: int
    status: str
    seconds: float
    invalid_before: tuple[str, ...] = ()
    """Visits that broke a hard rule before the absence (besides travel, which is recomputed):
    re-rostered as well, since no rota that breaks a rule is ever written."""
    fallback: bool = False
    """True when the sub-week's rota broke a rule once merged (a bug): the old rota without the
    broken visits was kept instead, and those visits are listed as uncovered."""
    stages: tuple[Any, ...] = ()


# ---- parsing the absence ---------------------------------------------------------------------


def parse_absence(text: str, instance: Instance) -> Absence:
    """``CARER,START,END`` -> ``Absence``. START/END are ISO wall-clock datetimes
    (``2026-11-24T08:00``) or dates (a START date is its midnight; an END date counts whole, to
    the next midnight). Raises ``InstanceError`` naming the field and value."""
    where = "--absence"
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3:
        raise InstanceError(
            [Problem(where, None, None, "value", text, "it must be CARER,START,END, e.g. K12,2026-11-24T08:00,2026-11-25")]
        )
    carer_id, start_text, end_text = parts
    problems: list[Problem] = []
    if carer_id not in instance.carer_index:
        problems.append(
            Problem(where, None, None, "carer_id", carer_id, "it is not a carer of the instance", kind="lookup")
        )
    start = _moment(start_text, is_end=False)
    end = _moment(end_text, is_end=True)
    if start is None:
        problems.append(Problem(where, None, None, "start", start_text, "it must be an ISO date or datetime (2026-11-24T08:00)"))
    if end is None:
        problems.append(Problem(where, None, None, "end", end_text, "it must be an ISO date or datetime (2026-11-25T08:00)"))
    if start is not None and end is not None and end <= start:
        problems.append(Problem(where, None, None, "end", end_text, f"it must be after the start {start_text}"))
    if problems:
        kinds = {p.kind for p in problems}
        if kinds == {"lookup"}:
            raise UnknownIdError(problems)
        raise InstanceError(problems)
    assert start is not None and end is not None
    return Absence(carer_id, start, end)


def _moment(text: str, is_end: bool) -> datetime | None:
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text)
            return moment.replace(tzinfo=None) if moment.tzinfo is None else moment
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if is_end:
        day += timedelta(days=1)
    return datetime.combine(day, dtime(0, 0))


# ---- the repair ------------------------------------------------------------------------------


def broken_visits(instance: Instance, rota: Rota, absence: Absence) -> tuple[str, ...]:
    """Visits of ``rota`` the absent carer can no longer do once ``absence`` is in ``instance``
    (already added): the checker's verdict on that carer's rows alone (R5: the visit touches the
    absence), in the instance's visit order."""
    mine = tuple(a for a in rota.assignments if a.carer_id == absence.carer_id)
    flagged = {
        v.visit_id
        for v in check(instance, Rota(mine))
        if v.rule != "structure" and v.carer_id == absence.carer_id and v.visit_id in instance.visit_index
    }
    order = instance.visit_index
    return tuple(sorted(flagged, key=lambda vid: order[vid]))


def _what_is_broken(
    inst: Instance, rota: Rota, absence: Absence
) -> tuple[Rota, tuple[str, ...], tuple[str, ...]]:
    """(rota, broken visits, visits that broke a rule before the absence).

    A rota that already broke a rule elsewhere (made by an older version, or edited by hand) is
    repaired too: travel (R13) is derived data and is recomputed for the carers it is wrong for;
    any visit still breaking a rule after that is re-rostered with the absent carer's."""
    from roster.store import retravel  # roster.store loads SQLAlchemy (here and below)

    order = inst.visit_index
    found = [
        v for v in check(inst, rota) if v.rule != "structure" and v.visit_id in order
    ]
    if any(v.carer_id != absence.carer_id for v in found):
        drift = {v.carer_id for v in found if v.carer_id in inst.carer_index}
        rows = retravel(inst, list(rota.assignments), drift)
        rows.sort(key=lambda a: (order[a.visit_id], a.carer_id))
        rota = Rota(tuple(rows), rota.unassigned, rota.summary)
        found = [v for v in check(inst, rota) if v.rule != "structure" and v.visit_id in order]
    absent = broken_visits(inst, rota, absence)
    everything = {v.visit_id for v in found} | set(absent)
    broken = tuple(sorted(everything, key=lambda vid: order[vid]))
    return rota, broken, tuple(vid for vid in broken if vid not in absent)


def repair(
    instance: Instance,
    rota: Rota,
    absence: Absence,
    params: RepairParams | None = None,
    stop: Any = None,
) -> RepairResult:
    """Re-roster what ``absence`` breaks in ``rota``, with the fewest changes to other families.

    Returns the repaired rota (valid against the instance with the absence added: checked), the
    visits still uncovered with reasons, and the changes per family. ``stop`` (a
    ``solver.params.StopFlag``) ends the search early with the best checked repair so far.
    """
    params = params or RepairParams()
    t0 = time.perf_counter()
    if absence.carer_id not in instance.carer_index:
        raise InstanceError(
            [Problem("--absence", None, None, "carer_id", absence.carer_id, "it is not a carer of the instance", kind="lookup")]
        )
    inst = replace(instance, absences=tuple(instance.absences) + (absence,))
    rota = _complete_rows_only(inst, rota)
    rota, broken, invalid_before = _what_is_broken(inst, rota, absence)
    elig = compute_eligibility(inst)

    plan = _plan(inst, rota, broken, elig, params)
    weights = replace(params.weights, change=params.change_penalty)
    solve_params = SolveParams(
        time_limit=params.time_limit,
        workers=params.workers,
        seed=params.seed,
        weights=weights,
        reference=plan.reference,
        locks=plan.locks,
        deterministic=params.deterministic,
        lexicographic=params.lexicographic,
    )
    fallback = False
    status = "UNCHANGED"
    stages: tuple[Any, ...] = ()
    merged = rota
    if broken:
        if plan.sub_instance.carers:
            hint = _insertion_hint(plan, broken)
            if _covers(plan.sub_instance, hint, broken) and not params.always_search:
                # every broken visit went to a free candidate and nobody else moved: already
                # the best coverage and the fewest changes, so there is nothing to search for
                status, sub_rota = "INSERTED", hint
            else:
                # the limit is the repair's: finding the broken visits and the warm start (4-6 s
                # on M with both cores busy) come out of it, so that it is kept (limit + 5 s);
                # a deterministic repair keeps its whole budget, to stay repeatable
                left = params.time_limit if params.deterministic else max(
                    0.5, params.time_limit - (time.perf_counter() - t0))
                result = solve(plan.sub_instance,
                               replace(solve_params, hint=hint, time_limit=left), stop=stop)
                status, stages, sub_rota = result.status, tuple(result.stages), result.rota
        else:  # nobody at all can take the broken visits
            status, sub_rota = "NO_CANDIDATE", Rota(())
        merged = _merge(inst, rota, plan, sub_rota)

    final, uncovered, still = _with_unassigned(inst, rota, merged, elig)
    violations = check(inst, final)
    if violations and broken:
        # should not happen; never leave a broken rota: the old one without the broken visits
        fallback = True
        merged = _merge(inst, rota, plan, _without_visits(plan.reference, broken))
        final, uncovered, still = _with_unassigned(inst, rota, merged, elig)
        violations = check(inst, final)
    if violations:
        listing = "\n".join(f"  {v}" for v in violations[:20])
        raise RotaBugError(f"repair made a rota that breaks {len(violations)} hard rule(s):\n{listing}")
    changes = tuple(changes_report(inst, rota, final))
    moved = tuple(visit_changes(inst, rota, final))
    seconds = time.perf_counter() - t0
    final = Rota(final.assignments, final.unassigned, _summary(inst, final, status, seconds, changes, broken))
    final = with_objective(inst, final)
    return RepairResult(
        instance=inst,
        rota=final,
        absence=absence,
        broken=broken,
        uncovered=uncovered,
        still_unassigned=still,
        changes=changes,
        visit_changes=moved,
        families=tuple(sorted({c.child_id for c in changes} | {c.child_id for c in moved}
                              | {inst.visit(u.visit_id).child_id for u in uncovered})),
        free_visits=plan.free_visits,
        locked_assignments=len(plan.locks),
        carers_in_model=len(plan.sub_instance.carers) if broken else 0,
        status=status,
        seconds=seconds,
        fallback=fallback,
        stages=tuple(stages),
        invalid_before=invalid_before,
    )


@dataclass(frozen=True)
class _Plan:
    sub_instance: Instance
    reference: Rota
    locks: tuple[Assignment, ...]
    free_visits: int
    ranked: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """broken visit -> candidates, best first (known to the child, then nearest)."""


def _plan(
    inst: Instance, rota: Rota, broken: Sequence[str], elig: Any, params: RepairParams
) -> _Plan:
    """The sub-week to re-roster: which carers and visits are in the model, which rows are locked.

    Candidates for a broken visit: its ``ripple_carers`` best eligible carers (known to the
    child, then nearest), who may have nearby visits of their own moved, and its
    ``free_carers`` best eligible carers who have nothing booked around it; plus the other carer
    of a broken 2:1. Every candidate's whole week is in the sub-week (weekly rules), locked
    except the ripple visits. A visit whose every row is locked is pinned to its carers by a
    private competency only they hold in the sub-week, so the model holds no other pair for it
    (the merged rota is checked against the real instance).
    """
    by_carer = rota.by_carer()
    by_visit = rota.by_visit()
    history = inst.history_hours
    broken_set = set(broken)
    candidates: set[str] = set()
    ripple: dict[str, list[int]] = {}  # ripple carer -> planned starts of the broken visits near
    margin = 60  # minutes of travel either side that a free carer must have clear
    ranked_of: dict[str, tuple[str, ...]] = {}

    def ranked(v: int) -> list[str]:
        child_id = inst.visits[v].child_id
        eligible = [inst.carers[int(c)].carer_id for c in elig.eligible_carers(v)]

        def rank(k: str) -> tuple[float, float, str]:
            known = history.get((child_id, k), 0.0)
            return (-known, float(elig.home_miles[inst.carer_index[k], v]), k)

        return sorted(eligible, key=rank)

    def idle(v: int, carers: Sequence[str], limit: int) -> list[str]:
        """The first ``limit`` of ``carers`` with nothing booked around visit ``v``."""
        lo = int(elig.start_lo[v]) - margin
        hi = int(elig.start_hi[v]) + inst.visits[v].duration_min + margin
        out = []
        for k in carers:
            if not any(a.start - a.travel_min < hi and lo < a.end for a in by_carer.get(k, [])):
                out.append(k)
                if len(out) >= limit:
                    break
        return out

    window = int(params.ripple_hours * 60)
    for vid in broken:
        v = inst.visit_index[vid]
        order_k = ranked(v)
        # the other carer of a broken 2:1 may stay on it, if the rules still allow
        on_it = [a.carer_id for a in by_visit.get(vid, []) if a.carer_id in order_k]
        ranked_of[vid] = tuple(on_it) + tuple(k for k in order_k if k not in on_it)
        swappers = order_k[: params.ripple_carers] + on_it
        candidates.update(swappers, idle(v, order_k, params.free_carers))
        for k in swappers:
            ripple.setdefault(k, []).append(inst.planned_start[v])
    # the swappers' own visits near the broken ones may move; idle carers who could take them join
    moving = {
        a.visit_id
        for k, times in ripple.items()
        for a in by_carer.get(k, [])
        if a.visit_id not in broken_set and any(abs(a.start - t) <= window for t in times)
    }
    for vid in sorted(moving):
        v = inst.visit_index[vid]
        candidates.update(idle(v, ranked(v), max(1, params.free_carers // 2)))

    sub_visits: set[str] = set(broken_set)
    for k in candidates:
        sub_visits.update(a.visit_id for a in by_carer.get(k, []))
    partners: set[str] = set()
    for vid in sub_visits:
        partners.update(a.carer_id for a in by_visit.get(vid, []) if a.carer_id not in candidates)

    locks: list[Assignment] = []
    reference: list[Assignment] = []
    free_visits = set(broken_set)
    for vid in sub_visits:
        for a in by_visit.get(vid, []):
            if vid in broken_set:
                if a.carer_id in candidates:
                    reference.append(a)  # a partner on a broken 2:1 may stay
                continue
            reference.append(a)
            if vid in moving and a.carer_id in ripple:
                free_visits.add(vid)
            else:
                locks.append(a)
    order = inst.visit_index
    keep_carers = candidates | partners
    pinned = sorted(sub_visits - free_visits, key=lambda vid: order[vid])
    pin = {vid: f"{PIN_PREFIX}{vid}" for vid in pinned}
    visits = []
    for vid in sorted(sub_visits, key=lambda vid: order[vid]):
        visit = inst.visits[order[vid]]
        if vid in pin:
            visit = replace(visit, competencies=tuple(visit.competencies) + (pin[vid],))
        visits.append(visit)
    pins = tuple(Training(a.carer_id, pin[a.visit_id]) for a in locks if a.visit_id in pin)
    sub = replace(
        inst,
        carers=tuple(c for c in inst.carers if c.carer_id in keep_carers),
        visits=tuple(visits),
        training=tuple(t for t in inst.training if t.carer_id in keep_carers) + pins,
        availability=tuple(a for a in inst.availability if a.carer_id in candidates)
        + _only_their_rows(inst, [a for a in locks if a.carer_id in partners]),
        absences=tuple(a for a in inst.absences if a.carer_id in keep_carers),
    )
    ranked_of = {vid: tuple(k for k in ks if k in candidates) for vid, ks in ranked_of.items()}
    return _Plan(sub, Rota(tuple(reference)), tuple(locks), len(free_visits), ranked_of)


def _only_their_rows(inst: Instance, rows: Sequence[Assignment]) -> tuple[Availability, ...]:
    """Availability for a carer who is in the sub-week only as the partner on a locked 2:1 visit:
    exactly the times of those rows, so the model cannot give them anything else (the rest of
    their week is not in the sub-week)."""
    clock = inst.clock
    out = []
    for a in rows:
        begin = clock.datetime_of(a.start)
        end = clock.datetime_of(a.end)
        out.append(
            Availability(
                a.carer_id,
                begin.date().isoformat(),
                format_hhmm(begin.hour * 60 + begin.minute),
                format_hhmm(end.hour * 60 + end.minute),
            )
        )
    return tuple(out)


def _merge(inst: Instance, rota: Rota, plan: _Plan, sub_rota: Rota) -> Rota:
    """Rows outside the sub-week as they were, the sub-week's rows as solved; R13 travel redone
    for every carer in the sub-week (and the absent carer, whose day lost rows)."""
    from roster.store import retravel

    sub_visits = {v.visit_id for v in plan.sub_instance.visits}
    keep = [a for a in rota.assignments if a.visit_id not in sub_visits]
    rows = keep + list(sub_rota.assignments)
    touched = {c.carer_id for c in plan.sub_instance.carers}
    touched |= {a.carer_id for a in rota.assignments if a.visit_id in sub_visits}
    fixed = retravel(inst, rows, touched)
    order = inst.visit_index
    fixed.sort(key=lambda a: (order[a.visit_id], a.carer_id))
    return Rota(tuple(fixed))


def _with_unassigned(
    inst: Instance, old: Rota, rows: Rota, elig: Any
) -> tuple[Rota, tuple[Unassigned, ...], tuple[Unassigned, ...]]:
    """The rota with every visit short of carers listed, with a fresh reason: first those the
    repair leaves uncovered, then those already uncovered before it."""
    reasons = explain_unassigned(inst, elig, rows)
    staffed_now, staffed_before = _staffed(rows), _staffed(old)
    unassigned = tuple(
        Unassigned(v.visit_id, v.carers - staffed_now.get(v.visit_id, 0), reasons[v.visit_id])
        for v in inst.visits
        if v.visit_id in reasons
    )
    before_short = {u.visit_id for u in old.unassigned} | {
        v.visit_id for v in inst.visits if staffed_before.get(v.visit_id, 0) < v.carers
    }
    uncovered = tuple(u for u in unassigned if u.visit_id not in before_short)
    still = tuple(u for u in unassigned if u.visit_id in before_short)
    return Rota(rows.assignments, uncovered + still, {}), uncovered, still


def _covers(sub: Instance, rota: Rota, visits: Sequence[str]) -> bool:
    staffed = _staffed(rota)
    return all(staffed.get(vid, 0) >= sub.visit(vid).carers for vid in visits)


def _without_visits(rota: Rota, visits: Sequence[str]) -> Rota:
    gone = set(visits)
    return Rota(tuple(a for a in rota.assignments if a.visit_id not in gone))


def _insertion_hint(plan: _Plan, broken: Sequence[str]) -> Rota:
    """A warm start for the sub-week: the old rows as they were, and each broken visit given to
    the first candidate (in rank order) whose week still keeps every rule with it added. The
    solver keeps it when CP-SAT finds nothing better in time; it changes no other family."""
    from roster.store import retravel

    sub = plan.sub_instance
    rows = retravel(sub, list(plan.reference.assignments), {a.carer_id for a in plan.reference.assignments})
    for vid in broken:
        visit = sub.visit(vid)
        on_it = [a for a in rows if a.visit_id == vid]
        for carer_id in plan.ranked.get(vid, ()):
            if len(on_it) >= visit.carers:
                break
            if any(a.carer_id == carer_id for a in on_it):
                continue
            start = on_it[0].start if on_it else sub.planned_start[sub.visit_index[vid]]
            trial = retravel(
                sub,
                [a for a in rows if a.carer_id == carer_id]
                + [Assignment(vid, carer_id, start, start + visit.duration_min)],
                {carer_id},
            )
            mine = Rota(tuple(trial))
            if any(v.rule != "structure" for v in check(sub, mine)):
                continue
            rows = [a for a in rows if a.carer_id != carer_id] + trial
            on_it = [a for a in rows if a.visit_id == vid]
        if len(on_it) < visit.carers:  # no partial 2:1 in a rota
            rows = [a for a in rows if a.visit_id != vid]
            rows = retravel(sub, rows, {a.carer_id for a in on_it})
    order = sub.visit_index
    rows.sort(key=lambda a: (order[a.visit_id], a.carer_id))
    return Rota(tuple(rows))


def _complete_rows_only(inst: Instance, rota: Rota) -> Rota:
    """Drop rows of unknown visits or carers (a rota from another week) so the plan is sound."""
    rows = tuple(
        a for a in rota.assignments if a.visit_id in inst.visit_index and a.carer_id in inst.carer_index
    )
    return rota if len(rows) == len(rota.assignments) else Rota(rows, rota.unassigned, rota.summary)


def _staffed(rota: Rota) -> dict[str, int]:
    staffed: dict[str, int] = {}
    for a in rota.assignments:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    return staffed


def _summary(
    inst: Instance,
    rota: Rota,
    status: str,
    seconds: float,
    changes: Sequence[Change],
    broken: Sequence[str],
) -> dict[str, Any]:
    seen: dict[str, set[str]] = {}
    for a in rota.assignments:
        seen.setdefault(inst.visit(a.visit_id).child_id, set()).add(a.carer_id)
    return {
        "visits": len(inst.visits),
        "visits_covered": len(inst.visits) - len(rota.unassigned),
        "carer_slots": sum(v.carers for v in inst.visits),
        "carer_slots_covered": len(rota.assignments),
        "travel_miles": round(sum(a.travel_miles for a in rota.assignments), 2),
        "mean_carers_per_child": round(sum(len(s) for s in seen.values()) / len(inst.children), 4)
        if inst.children
        else 0.0,
        "objective": None,
        "bound": None,
        "solve_seconds": round(seconds, 3),
        "status": status,
        "repair": {
            "broken_visits": len(broken),
            "changes": len(changes),
            "families_changed": len({c.child_id for c in changes}),
        },
    }


# ---- output ----------------------------------------------------------------------------------

UNCOVERED_COLUMNS = ("visit_id", "child_id", "date", "start", "missing", "cause", "reasons")


def uncovered_csv(result: RepairResult) -> str:
    """Visits not covered: those the absence left uncovered first (cause ``absence``), then those
    already uncovered before it (cause ``before``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(UNCOVERED_COLUMNS)
    for cause, rows in (("absence", result.uncovered), ("before", result.still_unassigned)):
        for u in rows:
            v = result.instance.visit(u.visit_id)
            writer.writerow([u.visit_id, v.child_id, v.date.isoformat(), v.start, u.missing, cause, u.reasons])
    return buffer.getvalue()


def write_result(result: RepairResult, out: str) -> None:
    """OUT/rota/ (contract), OUT/instance/ (with the absence), OUT/uncovered.csv,
    OUT/changes.csv and OUT/visit_changes.csv, all in one atomic folder swap."""
    names = ("rota", "instance", "uncovered.csv", "changes.csv", "visit_changes.csv")
    with atomic_folder(out, keep_others_except=names) as tmp:
        write_rota(result.instance, result.rota, tmp / "rota")
        write_instance(result.instance, tmp / "instance")
        (tmp / "uncovered.csv").write_text(uncovered_csv(result), encoding="utf-8")
        (tmp / "changes.csv").write_text(changes_csv(result.changes), encoding="utf-8")
        (tmp / "visit_changes.csv").write_text(visit_changes_csv(result.visit_changes), encoding="utf-8")


def report_lines(result: RepairResult) -> list[str]:
    """What the command prints: uncovered visits first, then the families to tell."""
    lines: list[str] = []
    inst = result.instance
    if result.uncovered:
        lines.append(f"NOT COVERED: {len(result.uncovered)} visit(s) the absence leaves without a carer; tell these families now:")
        for u in result.uncovered:
            v = inst.visit(u.visit_id)
            lines.append(f"  {u.visit_id} (child {v.child_id}, {v.date:%a %d %b} {v.start}): {u.reasons}")
    else:
        lines.append("every visit the absence broke is covered")
    lines.append(
        f"absence of {result.absence.carer_id} broke {len(result.broken)} visit(s); "
        f"{len(result.changes)} carer change(s) for {len({c.child_id for c in result.changes})} family(ies)"
    )
    for c in result.changes:
        what = "gains" if c.change == "gains" else "loses"
        lines.append(f"  child {c.child_id} {what} carer {c.carer_id} on {', '.join(c.visit_ids)}")
    if result.invalid_before:
        lines.append(
            f"the rota already broke a hard rule on {len(result.invalid_before)} other visit(s), "
            f"re-rostered as well: {', '.join(result.invalid_before[:10])}"
        )
    if result.still_unassigned:
        lines.append(f"{len(result.still_unassigned)} visit(s) were already not covered before the absence")
    lines.append(
        f"repair: {result.status}, {result.seconds:.2f} s, {result.carers_in_model} carer(s) and "
        f"{result.free_visits} free visit(s) in the model, {result.locked_assignments} locked"
        + (" (fallback: the model's rota broke a rule; broken visits left uncovered)" if result.fallback else "")
    )
    return lines


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance", help="instance folder or workbook")
    parser.add_argument("--rota", required=True, help="the current rota folder")
    parser.add_argument("--absence", required=True, help="CARER,START,END (ISO datetimes or dates)")
    parser.add_argument("--out", required=True, help="output folder")
    # above 0 and finite; at least 1 (the CLI's argparse types, loaded by the command only)
    from solver.cli import time_limit_arg, workers_arg

    parser.add_argument("--time-limit", type=time_limit_arg, default=RepairParams.time_limit)
    parser.add_argument("--workers", type=workers_arg, default=RepairParams.workers)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ripple-carers", type=int, default=RepairParams.ripple_carers)
    parser.add_argument("--ripple-hours", type=float, default=RepairParams.ripple_hours)
    parser.add_argument("--free-carers", type=int, default=RepairParams.free_carers)
    parser.add_argument("--change-penalty", type=float, default=DEFAULT_CHANGE_PENALTY)
    parser.add_argument(
        "--db", default=None, help="also save the repaired rota in this store (with --version)"
    )
    parser.add_argument(
        "--version", type=int, default=None, dest="store_version",
        help="the stored rota version repaired: the new draft's parent",
    )
    parser.add_argument("--user", default=None, help="who is repairing (default: the login name)")


def run_command(args: argparse.Namespace) -> int:
    outputs = ("rota", "instance", "uncovered.csv", "changes.csv", "visit_changes.csv")
    refuse_foreign_folder(args.out, outputs, "repair")  # before the work, not after it
    instance = load_instance(args.instance)
    rota = load_rota(instance, args.rota)
    absence = parse_absence(args.absence, instance)
    params = RepairParams(
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        ripple_carers=args.ripple_carers,
        ripple_hours=args.ripple_hours,
        free_carers=args.free_carers,
        change_penalty=args.change_penalty,
    )
    # Ctrl-C / SIGTERM ask the search to stop: the best checked repair so far is written
    result, stopped_by = run_stoppable(
        lambda stop: repair(instance, rota, absence, params, stop=stop),
        lambda name: print(f"roster repair: {name} received; stopping and keeping the best "
                           "repair checked so far", file=sys.stderr),
    )
    result = replace(result, rota=replace(result.rota, summary={
        **result.rota.summary, "stopped_early": stopped_by is not None,
        **({"stopped_by": stopped_by} if stopped_by else {})}))
    write_result(result, args.out)
    for line in report_lines(result):
        print(line)
    print(f"written to {args.out}: rota/, instance/, uncovered.csv, changes.csv, visit_changes.csv")
    if args.db is not None or args.store_version is not None:
        if args.db is None or args.store_version is None:
            print("roster repair: --db and --version go together; nothing saved", file=sys.stderr)
            return 2
        from roster.store import Store, StoreError, acting_user  # SQLAlchemy

        try:
            with Store.open(args.db) as store:
                new_id = store.save_repair(
                    args.store_version, result.instance, result.rota, user=acting_user(args)
                )
        except StoreError as exc:
            print(f"roster repair: {exc}", file=sys.stderr)
            return 2
        print(f"saved as draft rota version {new_id} (parent {args.store_version})")
    if stopped_by is not None:
        print(f"roster repair: stopped early by {stopped_by}; {args.out} holds the best repair "
              "checked by then (rota/summary.json: stopped_early)", file=sys.stderr)
        return {"SIGINT": 130, "SIGTERM": 143}.get(stopped_by, 130)
    return 0


__all__ = [
    "DEFAULT_CHANGE_PENALTY",
    "RepairParams",
    "RepairResult",
    "broken_visits",
    "parse_absence",
    "repair",
    "uncovered_csv",
    "write_result",
]
