"""Can we take this referral? A decision, a rota, a rationale and what would change the answer.

A council's brokerage team sends a referral: a new child and the sessions they need. The provider
must answer within days, bid only for what it can staff (003 §8.1-8.3) and give a rationale for a
decline (002 §5.9). ``evaluate_referral`` answers on top of the current rota:

1. The referral is merged into the instance (its ids must be new).
2. The question is local: only carers who could take a referral session, and the carers who could
   take over their sessions, can be involved. The solve runs on that *neighbourhood* (their whole
   weeks, so every weekly rule holds) and everyone else's rota is kept exactly.
3. Lexicographic, as a manager would: first with every existing assignment locked (no family is
   affected); only if a referral session is left unstaffed, again with the sessions of the carers
   who could take it (on the days around it) unlocked and the current rota as ``reference``, so
   the solver staffs as many referral slots as it can and then changes as few existing
   assignments as it can. An existing session that was staffed must stay staffed: if the solve
   drops one, it is locked back and the solve repeated.
4. The decision: ``accept`` only when every referral session is staffed; counts, carers, changes
   to existing families, the first date from which every remaining session is staffed, weekly
   hours, cost (pay with travel time and mileage), charge and margin from ``rates.csv``, and a
   rationale in plain English naming, for each unstaffed session, the requirement that binds.
5. For a decline, *what would change the answer*, each verified by solving again: a mileage
   exception agreed in writing (002 §5.8), moving a session within a stated window, or a recruit
   with a stated profile.

Children are named by id only, in logs and outputs.

CLI: ``roster referral INSTANCE REFERRAL [REFERRAL ...] --out OUT [--rota CURRENT_ROTA]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from roster import io as rio
from roster.atomic import atomic_write_text
from roster.calendar import DAY_NAMES, format_hhmm, parse_hhmm
from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.errors import InstanceError, Problem, raise_if_any
from roster.geocode import make_geocoder
from roster.io import load_instance, load_rota, load_travel, write_rota
from roster.model import (
    Assignment,
    Availability,
    Carer,
    Child,
    Instance,
    Rota,
    Training,
    Unassigned,
    Visit,
)
from roster.packages import expand, read_packages
from roster.rates import RateCard, cost_assignments, load_rates
from roster.rules import RULES_BY_CODE, journey_between, journey_into
from roster.towns import COUNTIES
from roster.travel import great_circle_miles
from solver.explain import explain_visit
from solver.greedy import greedy
from solver.params import SolveParams, Weights
from solver.solve import solve
from solver.summary import with_objective

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from roster.eligibility import Eligibility
    from roster.travel import TravelModel

SHIFTS_MIN: tuple[int, ...] = (30, -30, 60, -60, 90, -90)
"""Moves of a session's planned start tried as an alternative, nearest first."""
RECRUIT_PREFIX = "RECRUIT"
CHANGE_WEIGHT = 100_000.0
"""Weight of a change to an existing assignment: far above the other continuity terms, so that
within the continuity stage the solver first keeps the current rota (lexicographic)."""


# ---- the referral ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Referral:
    """A referral: new children and their sessions for the week."""

    name: str
    children: tuple[Child, ...]
    visits: tuple[Visit, ...]

    @property
    def visit_ids(self) -> frozenset[str]:
        return frozenset(v.visit_id for v in self.visits)


def load_referral(instance: Instance, folder: str | Path, name: str | None = None) -> Referral:
    """Read a referral folder: ``children.csv`` and ``visits.csv`` (contract columns), or
    ``children.csv`` and ``packages.csv`` (a weekly pattern, expanded into the instance's week).

    Raises ``InstanceError`` listing every problem, each naming the referral's file, row, field
    and value; ids that clash with the instance are problems too.
    """
    source = Path(folder)
    if not source.is_dir():
        raise FileNotFoundError(2, "No such referral folder", str(source))
    label = source.name
    sink = rio.Sink()
    children_path = source / "children.csv"
    visits_path = source / "visits.csv"
    packages_path = source / "packages.csv"
    problems: list[Problem] = []
    if not children_path.exists():
        problems.append(Problem(f"{label}/children.csv", None, None, None, None, "the file is missing from the referral folder."))
    if not visits_path.exists() and not packages_path.exists():
        problems.append(Problem(f"{label}/visits.csv", None, None, None, None, "the referral folder needs visits.csv (its sessions) or packages.csv (a weekly pattern)."))
    raise_if_any(problems)
    ctx = rio.ParseContext(instance.settings, None, "off")
    with contextlib.suppress(Exception):  # postcode lookup is optional; lat/lon still work
        ctx = rio.ParseContext(instance.settings, make_geocoder("offline"), "offline")
    children_t = rio.read_csv_table(children_path, f"{label}/children.csv", sink)
    children: dict[str, Child] = {}
    if children_t is not None:
        rio.check_required_columns(children_t, sink)
        known_carers = rio.Known.from_ids(instance.carer_index, "the instance's carers.csv", "carer")
        children = rio.parse_children(children_t, known_carers, ctx, sink)
        for index, row in enumerate(children_t.rows):
            cid = row.get("child_id", "")
            if cid and cid in instance.child_index:
                sink.add(Problem(children_t.label, children_t.numbers[index], cid, "child_id", cid,
                                 "the instance already has a child with this id; a referral needs a new id."))  # fmt: skip
    visits: tuple[Visit, ...] = ()
    if visits_path.exists():
        visits_t = rio.read_csv_table(visits_path, f"{label}/visits.csv", sink)
        if visits_t is not None:
            rio.check_required_columns(visits_t, sink)
            # A competency no carer holds is a reason to decline, not an input error.
            known = {t.competency for t in instance.training} | set(instance.settings.mandatory_training)
            known |= {c for row in visits_t.rows for c in rio.split_list(row.get("competencies", ""))}
            known_children = rio.Known.from_ids(children, f"{label}/children.csv", "child")
            parsed = rio.parse_visits(
                visits_t, known_children, len(instance.carers), "the instance's carers.csv", known, ctx, sink
            )
            for index, row in enumerate(visits_t.rows):
                vid = row.get("visit_id", "")
                if vid and vid in instance.visit_index:
                    sink.add(Problem(visits_t.label, visits_t.numbers[index], vid, "visit_id", vid,
                                     "the instance already has a visit with this id; a referral needs new ids."))  # fmt: skip
            visits = tuple(parsed.values())
    else:
        rows = read_packages(packages_path)
        if not sink.errors:
            visits = expand(rows, children, instance.settings.week_start, instance.settings.bank_holidays)
            clash = [v.visit_id for v in visits if v.visit_id in instance.visit_index]
            if clash:
                sink.add(Problem(f"{label}/packages.csv", None, None, None, None,
                                 f"it expands to visit ids the instance already has ({', '.join(clash[:3])}); a referral needs a new child_id."))  # fmt: skip
    if not sink.errors and not visits:
        sink.add(Problem(f"{label}/visits.csv", None, None, None, None, "it holds no session for the week."))
    raise_if_any(sink.problems)
    return Referral(name or label, tuple(children.values()), visits)


def merge(instance: Instance, referral: Referral) -> Instance:
    """The instance with the referral's children and visits added (ids must be new)."""
    problems = [
        Problem("referral", None, c.child_id, "child_id", c.child_id, "the instance already has a child with this id.")
        for c in referral.children
        if c.child_id in instance.child_index
    ] + [
        Problem("referral", None, v.visit_id, "visit_id", v.visit_id, "the instance already has a visit with this id.")
        for v in referral.visits
        if v.visit_id in instance.visit_index
    ]
    raise_if_any(problems)
    return replace(
        instance,
        children=instance.children + referral.children,
        visits=instance.visits + referral.visits,
    )


# ---- the decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralParams:
    time_limit: float = 10.0
    """Seconds for each CP-SAT solve (the neighbourhood is small)."""
    workers: int = 1
    seed: int = 0
    alternatives: bool = True
    """For a decline, search (and verify) what would change the answer."""
    alternatives_time: float = 60.0
    """Seconds, in all, for the alternatives."""
    free_candidates: int = 8
    """Per referral session, the nearest carers free then who join the first (no-change) solve."""
    busy_candidates: int = 4
    """Per unstaffed session, the nearest busy carers whose sessions may be handed over, and per
    handed-over session, the nearest free carers who may take it."""
    max_candidates: int | None = 10
    wide: bool = False
    """If the near neighbourhood leaves a session unstaffed, try every carer who could take it."""
    """Per visit, the carers the CP-SAT model considers (locked and current pairs always)."""


@dataclass(frozen=True)
class Attempt:
    """One solve of the referral on top of the current rota."""

    rota: Rota
    """The full rota of the merged instance."""
    staffed: Mapping[str, int]
    """Referral visit id -> carers staffed."""
    changes: tuple[dict[str, Any], ...]
    stage: str
    seconds: float

    def accepted(self, referral_visits: Sequence[Visit]) -> bool:
        return all(self.staffed.get(v.visit_id, 0) >= v.carers for v in referral_visits)

    def slots(self) -> int:
        return sum(self.staffed.values())


def _sub_instance(
    instance: Instance,
    carer_ids: set[str],
    visit_ids: set[str],
    pinned: Mapping[str, Sequence[Assignment]] | None = None,
) -> Instance:
    """The instance cut to some carers and visits. A *pinned* carer is present only for the
    given rows (a 2:1 partner outside the neighbourhood): their availability becomes exactly
    those rows, so the solver cannot give them anything else."""
    pinned = pinned or {}
    visits = tuple(v for v in instance.visits if v.visit_id in visit_ids)
    child_ids = {v.child_id for v in visits}
    keep = carer_ids | set(pinned)
    clock = instance.clock
    availability = [a for a in instance.availability if a.carer_id in carer_ids]
    for cid, rows in pinned.items():
        for r in rows:
            availability.append(
                Availability(
                    cid,
                    clock.local_date(r.start).isoformat(),
                    format_hhmm(clock.local_minute_of_day(r.start)),
                    format_hhmm(clock.local_minute_of_day(r.end)),
                )
            )
    # A pinned carer's journey in is not the sub-instance's business (their real rows are kept),
    # so put their home at the session: a home over the mileage cap must not make the pin fail.
    homes = {
        cid: instance.visit_location(instance.visit(rows[0].visit_id)) for cid, rows in pinned.items()
    }
    carers = tuple(
        replace(c, lat=homes[c.carer_id][0], lon=homes[c.carer_id][1]) if c.carer_id in homes else c
        for c in instance.carers
        if c.carer_id in keep
    )
    return replace(
        instance,
        carers=carers,
        children=tuple(c for c in instance.children if c.child_id in child_ids),
        visits=visits,
        training=tuple(t for t in instance.training if t.carer_id in keep),
        availability=tuple(availability),
        absences=tuple(a for a in instance.absences if a.carer_id in carer_ids),
        history=tuple(h for h in instance.history if h.carer_id in keep and h.child_id in child_ids),
    )


def close_neighbourhood(
    instance: Instance, current: Rota, carers: set[str]
) -> tuple[set[str], set[str], dict[str, list[Assignment]]]:
    """The carers, visits and pinned partners of the neighbourhood of ``carers`` in ``current``.

    Every carer on one of the neighbourhood's visits is either in it (with their whole week) or
    pinned: they share sessions at one place only, and keep them exactly. A partner shared over
    sessions at different places joins with their whole week, which may bring in more partners,
    so this repeats to a fixed point. Each round only adds carers, so it ends; a fixed cut-off of
    three rounds once left 2:1 partners neither in nor pinned (their locks then named no carer of
    the cut, and the solve failed).
    """
    by_carer = current.by_carer()
    by_visit = current.by_visit()
    kset = {c for c in carers if c in instance.carer_index}
    vset = {a.visit_id for c in kset for a in by_carer.get(c, ())}
    while True:
        pinned: dict[str, list[Assignment]] = {}
        for vid in vset:
            for a in by_visit.get(vid, ()):
                if a.carer_id not in kset:
                    pinned.setdefault(a.carer_id, []).append(a)
        spread = {
            cid
            for cid, rows in pinned.items()
            if len({instance.visit_location(instance.visit(a.visit_id)) for a in rows}) > 1
        }
        if not spread:
            return kset, vset, pinned
        kset |= spread
        vset |= {a.visit_id for c in spread for a in by_carer.get(c, ())}


def _solve_neighbourhood(
    merged: Instance,
    current: Rota,
    referral: Referral,
    carers: set[str],
    unlocked: set[tuple[str, str]],
    params: ReferralParams,
    travel: TravelModel | None,
    stage: str,
) -> Attempt:
    """Solve the referral on the neighbourhood of ``carers`` (their whole weeks); everyone else
    keeps their rota exactly. A 2:1 partner outside the neighbourhood is pinned to the shared
    session."""
    t0 = time.perf_counter()
    kset, vset, pinned = close_neighbourhood(merged, current, carers)
    vset |= set(referral.visit_ids)
    sub = _sub_instance(merged, kset, vset, pinned)
    kept = tuple(a for a in current.assignments if a.visit_id in vset)
    locks = tuple(a for a in kept if (a.visit_id, a.carer_id) not in unlocked)
    # Warm start from the current rota (valid in the cut once pinned carers come from home).
    hint_rows = []
    for a in kept:
        if a.carer_id in pinned:
            j = sub.visit_index[a.visit_id]
            frm, miles, minutes = journey_into(sub, sub.carer(a.carer_id), None, j, a.start, travel)
            a = replace(a, travel_from=frm, travel_miles=miles, travel_min=minutes)
        hint_rows.append(a)
    hint = Rota(tuple(hint_rows))
    relock: set[tuple[str, str]] = set()
    for _ in range(3):
        sp = SolveParams(
            hint=hint,
            time_limit=params.time_limit,
            workers=params.workers,
            seed=params.seed,
            weights=Weights(change=CHANGE_WEIGHT),
            reference=Rota(kept),
            locks=locks,
            travel=travel,
            max_candidates=params.max_candidates,
        )
        result = solve(sub, sp)
        _log.debug(
            "referral for %s: %s: %d carers, %d visits, %d locks -> %s %s",
            ",".join(c.child_id for c in referral.children), stage, len(sub.carers), len(sub.visits), len(locks), result.status,
            [(st["stage"], st["status"], st["seconds"]) for st in result.stages],
        )  # fmt: skip
        staffed_sub: dict[str, int] = {}
        for a in result.rota.assignments:
            staffed_sub[a.visit_id] = staffed_sub.get(a.visit_id, 0) + 1
        # An existing session that was staffed must stay staffed.
        dropped = {
            vid for vid in {a.visit_id for a in kept}
            if staffed_sub.get(vid, 0) < merged.visit(vid).carers
        }
        if not dropped:
            break
        relock |= {(a.visit_id, a.carer_id) for a in kept if a.visit_id in dropped}
        locks = tuple(a for a in kept if (a.visit_id, a.carer_id) not in unlocked or (a.visit_id, a.carer_id) in relock)
    # Pinned carers keep their own rows (their journeys come from visits outside the cut).
    rows = tuple(a for a in current.assignments if a.carer_id not in kset) + tuple(
        a for a in result.rota.assignments if a.carer_id in kset
    )
    return _attempt(merged, current, referral, rows, result.rota.unassigned, stage, t0, result.status)


def _attempt(
    merged: Instance,
    current: Rota,
    referral: Referral,
    rows: tuple[Assignment, ...],
    found: Sequence[Unassigned],
    stage: str,
    t0: float,
    status: str,
) -> Attempt:
    """The attempt whose full rota is ``rows``: every visit not fully staffed is listed
    (contract §2), with the reason ``found`` gives, else the current rota's."""
    count: dict[str, int] = {}
    for a in rows:
        count[a.visit_id] = count.get(a.visit_id, 0) + 1
    reasons = {u.visit_id: u.reasons for u in current.unassigned}
    reasons.update({u.visit_id: u.reasons for u in found})
    unassigned = tuple(
        Unassigned(v.visit_id, v.carers - count.get(v.visit_id, 0), reasons.get(v.visit_id, "not staffed in the current rota"))
        for v in merged.visits
        if count.get(v.visit_id, 0) < v.carers
    )
    full = Rota(rows, unassigned, {"solve_seconds": round(time.perf_counter() - t0, 3), "status": status})
    staffed = {v.visit_id: count.get(v.visit_id, 0) for v in referral.visits}
    return Attempt(full, staffed, _changes(merged, current, full, referral), stage, time.perf_counter() - t0)


def unreachable_sessions(
    merged: Instance, el: Eligibility, indices: Sequence[int], travel: TravelModel | None = None
) -> set[int]:
    """The sessions (visit indices) no rota can staff, whatever happens to everyone else's.

    A session needs ``carers`` carers eligible for it (``el.ok``: every rule that holds whatever
    the rota). Each of them comes from home or straight from a previous visit (R13); R9 caps that
    journey. So if fewer than ``carers`` eligible carers live within the cap, and no visit could
    end within ``return_home_gap_min`` before the session's latest start at a place within the
    cap, no rota staffs it. Both tests over-approximate what a rota could do, so a session named
    here is truly out of reach; one not named may still be (the solver decides).
    """
    if not indices:
        return set()
    gap = merged.settings.return_home_gap_min
    durations = np.array([v.duration_min for v in merged.visits], dtype=np.int64)
    end_lo = el.start_lo + durations
    end_hi = el.start_hi + durations
    out: set[int] = set()
    for j in indices:
        v = merged.visits[j]
        elig = el.eligible_carers(j)
        if len(elig) < v.carers:
            out.add(j)
            continue
        if int(np.count_nonzero(el.home_within_cap[elig, j])) >= v.carers:
            continue
        cap = merged.child_cap(merged.child(v.child_id))
        before = np.flatnonzero((end_lo <= el.start_hi[j]) & (end_hi >= el.start_lo[j] - gap))
        if not any(
            journey_between(merged, merged.visits[int(k)], v, travel)[0] + v.trip_miles <= cap + 1e-9
            for k in before
            if int(k) != j
        ):
            out.add(j)
    return out


def _changes(instance: Instance, current: Rota, new: Rota, referral: Referral) -> tuple[dict[str, Any], ...]:
    """Existing sessions whose carers differ between the current and the new rota."""
    before = current.by_visit()
    after = new.by_visit()
    out: list[dict[str, Any]] = []
    for vid, rows in sorted(before.items()):
        if vid in referral.visit_ids or vid not in instance.visit_index:
            continue
        old = sorted(a.carer_id for a in rows)
        now = sorted(a.carer_id for a in after.get(vid, ()))
        if old != now:
            v = instance.visit(vid)
            out.append({
                "visit_id": vid,
                "child_id": v.child_id,
                "when": _when(instance, instance.visit_index[vid]),
                "from": old,
                "to": now,
            })  # fmt: skip
    return tuple(out)


def _when(instance: Instance, visit_index: int, start: int | None = None) -> str:
    v = instance.visits[visit_index]
    s = instance.planned_start[visit_index] if start is None else start
    clock = instance.clock
    return (
        f"{clock.datetime_of(s):%a %d %b} {format_hhmm(clock.local_minute_of_day(s))}-"
        f"{format_hhmm(clock.local_minute_of_day(s + v.duration_min))}"
    )


def _nearest(merged: Instance, el: Eligibility, j: int, current: Rota, free: bool | None, k: int) -> list[str]:
    """Up to ``k`` carers eligible for visit ``j``, nearest home first (home within the cap before
    the rest); ``free``: only those with nothing in the current rota within 90 minutes of the
    visit's window (True), only those with something (False), or either (None)."""
    v = merged.visits[j]
    lo = int(el.start_lo[j]) - 90
    hi = int(el.start_hi[j]) + v.duration_min + 90
    by_carer = current.by_carer()
    able = el.eligible_carers(j)
    order = sorted(
        (int(c) for c in able),
        key=lambda c: (not bool(el.home_within_cap[c, j]), float(np.asarray(el.home_miles)[c, j])),
    )
    out: list[str] = []
    for c in order:
        cid = merged.carers[c].carer_id
        busy = any(a.start - a.travel_min < hi and lo < a.end for a in by_carer.get(cid, ()))
        if free is None or busy != free:
            out.append(cid)
        if len(out) >= k:
            break
    return out


def try_referral(
    merged: Instance,
    current: Rota,
    referral: Referral,
    params: ReferralParams,
    travel: TravelModel | None = None,
    eligibility: Eligibility | None = None,
) -> Attempt:
    """Staff the referral on top of ``current``: first changing nobody's sessions (carers free
    then, nearest first), then, if a session is left, letting the nearest carers who could take
    it hand over their sessions around it to carers free to take them."""
    el = eligibility if eligibility is not None else compute_eligibility(merged, travel)
    idx = [merged.visit_index[v.visit_id] for v in referral.visits]
    # Sessions out of anyone's reach need no solve: when none is within reach the answer is at
    # once the current rota with the referral unstaffed (the explanations say why).
    out_of_reach = unreachable_sessions(merged, el, idx, travel)
    if len(out_of_reach) == len(idx):
        return _attempt(merged, current, referral, current.assignments, (), "out of reach", time.perf_counter(), "NOT_SOLVED")
    candidates: set[str] = set()
    for j in idx:
        candidates |= set(_nearest(merged, el, j, current, True, params.free_candidates))
    first = _solve_neighbourhood(merged, current, referral, candidates, set(), params, travel, "no changes")
    if first.accepted(referral.visits):
        return first
    # Unlock the sessions around each unstaffed referral session of the nearest carers who
    # could take it; carers free to take those sessions over join the neighbourhood.
    short = [
        j for j in (merged.visit_index[v.visit_id] for v in referral.visits if first.staffed.get(v.visit_id, 0) < v.carers)
        if j not in out_of_reach
    ]
    by_carer = current.by_carer()
    unlocked: set[tuple[str, str]] = set()
    freed: set[int] = set()
    movers: set[str] = set()
    for j in short:
        day = merged.visits[j].date
        for cid in _nearest(merged, el, j, current, False, params.busy_candidates):
            movers.add(cid)
            for a in by_carer.get(cid, ()):
                if abs((merged.visit(a.visit_id).date - day).days) <= 1:
                    unlocked.add((a.visit_id, cid))
                    freed.add(merged.visit_index[a.visit_id])
    if not unlocked:
        return first
    helpers = candidates | movers
    # A handed-over session goes to a nearby carer free then, or to a nearby busy one who in turn
    # hands over their overlapping session (a chain of two).
    for j in sorted(freed):
        helpers |= set(_nearest(merged, el, j, current, True, params.busy_candidates))
        v = merged.visits[j]
        lo, hi = int(el.start_lo[j]) - 90, int(el.start_hi[j]) + v.duration_min + 90
        for cid in _nearest(merged, el, j, current, False, max(1, params.busy_candidates // 2)):
            if cid in movers:
                continue
            helpers.add(cid)
            for a in by_carer.get(cid, ()):
                if a.start - a.travel_min < hi and lo < a.end:
                    unlocked.add((a.visit_id, cid))
                    k = merged.visit_index[a.visit_id]
                    helpers |= set(_nearest(merged, el, k, current, True, max(1, params.busy_candidates // 2)))
    second = _solve_neighbourhood(merged, current, referral, helpers, unlocked, params, travel, "with changes")
    best = second if second.slots() > first.slots() else first
    if best.accepted(referral.visits) or not params.wide:
        return best
    # Wide: every carer who could take an unstaffed session hands over their sessions around
    # it, and every carer who could take those over joins. Slower; tried last.
    short = [
        j for j in (merged.visit_index[v.visit_id] for v in referral.visits if best.staffed.get(v.visit_id, 0) < v.carers)
        if j not in out_of_reach
    ]
    if not short:
        return best
    wide_unlocked: set[tuple[str, str]] = set()
    wide_freed: set[int] = set()
    wide = set(helpers)
    for j in short:
        day = merged.visits[j].date
        for c in el.eligible_carers(j):
            cid = merged.carers[int(c)].carer_id
            wide.add(cid)
            for a in by_carer.get(cid, ()):
                if abs((merged.visit(a.visit_id).date - day).days) <= 1:
                    wide_unlocked.add((a.visit_id, cid))
                    wide_freed.add(merged.visit_index[a.visit_id])
    for j in wide_freed:
        wide |= {merged.carers[int(c)].carer_id for c in el.eligible_carers(j)}
    third = _solve_neighbourhood(merged, current, referral, wide, wide_unlocked | unlocked, params, travel, "with changes (wide)")
    return third if third.slots() > best.slots() else best


# ---- why a session cannot be staffed ----------------------------------------------------------

_FILTERS: tuple[str, ...] = ("R1", "R2", "R3", "R8", "R7", "R12", "R10", "R11", "R5", "R9")


def _requirement(instance: Instance, j: int) -> str:
    v = instance.visits[j]
    child = instance.child(v.child_id)
    gender = {"F": "female ", "M": "male "}.get(child.gender_required, "")
    parts = [f"no {gender}carer"]
    comps = [c for c in v.competencies if c not in instance.settings.mandatory_training]
    if comps:
        parts.append("with " + " and ".join(comps))
    if v.needs_driver or v.trip_miles > 0:
        parts.append("and a car" if comps else "with a car")
    lo, hi = instance.core_band
    p = instance.planned_start[j]
    if instance.clock.outside_daily_band(p + v.flex_min, p - v.flex_min + v.duration_min, lo, hi):
        parts.append("cleared for overnight work")
    cap = instance.child_cap(child)
    parts.append(f"within {cap:g} miles")
    return " ".join(parts)


def explain_session(instance: Instance, el: Eligibility, j: int, rota: Rota) -> str:
    """Plain English: why session ``j`` is not staffed, naming the requirement that binds."""
    v = instance.visits[j]
    when = _when(instance, j)
    codes = np.asarray(el.reason_codes[:, j])
    real = np.array([not c.carer_id.startswith(RECRUIT_PREFIX) for c in instance.carers], dtype=bool)
    n = int(real.sum())
    # Competencies nobody holds (valid on the date) are the clearest answer.
    held = instance.training_by_carer
    for comp in (*instance.settings.mandatory_training, *v.competencies):
        if not any(
            comp in held.get(c.carer_id, {})
            and (held[c.carer_id][comp] is None or v.date <= held[c.carer_id][comp])  # type: ignore[operator]
            for c in instance.carers
        ):
            return f"{when}: no carer holds {comp} (valid on {v.date:%d %b %Y}); none of our {n} carers can take it"
    passing = real.copy()
    binding = None
    for code in _FILTERS:
        nxt = passing & ((codes & RULES_BY_CODE[code].bit) == 0)
        if not nxt.any():
            binding = code
            break
        passing = nxt
    need = _requirement(instance, j)
    if binding is not None:
        if binding == "R9":
            nearest = int(np.flatnonzero(passing)[np.argmin(np.asarray(el.home_miles[passing, j]))])
            miles = float(el.home_miles[nearest, j]) + v.trip_miles
            return f"{when}: {need} is free; nearest is {instance.carers[nearest].carer_id} at {miles:.1f} miles"
        if binding == "R5":
            return f"{when}: {need} is available then ({int(passing.sum())} would be, at other times)"
        words = {
            "R1": "has a current enhanced DBS with the children's barred list",
            "R2": "holds the training",
            "R3": "meets the family's wishes",
            "R8": "drives",
            "R7": "is cleared for overnight work",
            "R12": "is old enough for the hours",
            "R10": "has the weekly hours for it",
            "R11": "can take it and keep daily rest",
        }
        return f"{when}: {need}: no carer who passes the checks before also {words.get(binding, RULES_BY_CODE[binding].name)}"
    # Eligible carers exist: they are busy, at their weekly limits or too far from their last visit.

    # The council sees counts, not other families' sessions; the detail stays in the office.
    able = np.flatnonzero(passing)
    near = able[np.asarray(el.home_within_cap)[able, j]]
    far = able[~np.asarray(el.home_within_cap)[able, j]]
    parts = []
    if len(near):
        parts.append(f"the {len(near)} who could are booked with other families then or at their weekly limits")
    if len(far):
        k = int(far[np.argmin(np.asarray(el.home_miles)[far, j])])
        miles = float(el.home_miles[k, j]) + v.trip_miles
        parts.append(
            f"{len(far)} more live beyond the cap and have no nearby session just before "
            f"(nearest is {instance.carers[k].carer_id} at {miles:.1f} miles)"
        )
    return f"{when}: {need} is free; " + "; ".join(parts)


def explain_session_detail(instance: Instance, el: Eligibility, j: int, rota: Rota) -> str:
    """For the office: what each carer who could take session ``j`` is doing instead."""
    try:
        return explain_visit(instance, el, j, rota.by_carer())
    except Exception:  # noqa: BLE001 - the detail is a courtesy; the decision stands
        return ""


# ---- the decision -----------------------------------------------------------------------------


@dataclass
class Decision:
    referral: str
    accept: bool
    sessions_total: int
    sessions_staffed: int
    slots_total: int
    slots_staffed: int
    carers: list[str]
    changed_assignments: list[dict[str, Any]]
    earliest_start: str | None
    weekly_hours: float
    weekly_cost: float
    weekly_charge: float | None
    margin: float | None
    rationale: str
    unstaffed: list[dict[str, Any]] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    child_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    rota: Rota | None = None
    instance: Instance | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "referral": self.referral,
            "child_ids": self.child_ids,
            "accept": self.accept,
            "sessions_total": self.sessions_total,
            "sessions_staffed": self.sessions_staffed,
            "slots_total": self.slots_total,
            "slots_staffed": self.slots_staffed,
            "carers": self.carers,
            "changed_assignments": self.changed_assignments,
            "changes": len(self.changed_assignments),
            "earliest_start": self.earliest_start,
            "weekly_hours": self.weekly_hours,
            "weekly_cost": self.weekly_cost,
            "weekly_charge": self.weekly_charge,
            "margin": self.margin,
            "rationale": self.rationale,
            "unstaffed": self.unstaffed,
            "alternatives": self.alternatives,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


def _earliest_start(referral: Referral, staffed: Mapping[str, int]) -> str | None:
    """First date from which every remaining session of the week is staffed."""
    days = sorted({v.date for v in referral.visits})
    for day in days:
        if all(staffed.get(v.visit_id, 0) >= v.carers for v in referral.visits if v.date >= day):
            return day.isoformat()
    return None


def _decide(
    merged: Instance,
    referral: Referral,
    attempt: Attempt,
    card: RateCard | None,
    el: Eligibility,
) -> Decision:
    rows = [a for a in attempt.rota.assignments if a.visit_id in referral.visit_ids]
    staffed_rows = [a for a in rows if attempt.staffed.get(a.visit_id, 0) >= merged.visit(a.visit_id).carers]
    money = cost_assignments(merged, staffed_rows, card)
    full = [v for v in referral.visits if attempt.staffed.get(v.visit_id, 0) >= v.carers]
    accept = len(full) == len(referral.visits)
    unstaffed: list[dict[str, Any]] = []
    for v in referral.visits:
        if attempt.staffed.get(v.visit_id, 0) >= v.carers:
            continue
        j = merged.visit_index[v.visit_id]
        unstaffed.append({
            "visit_id": v.visit_id,
            "when": _when(merged, j),
            "missing": v.carers - attempt.staffed.get(v.visit_id, 0),
            "reason": explain_session(merged, el, j, attempt.rota),
            "detail_for_office": explain_session_detail(merged, el, j, attempt.rota),
        })  # fmt: skip
    carers = sorted({a.carer_id for a in staffed_rows})
    n_changes = len(attempt.changes)
    children = ", ".join(c.child_id for c in referral.children)
    if accept:
        change_words = (
            "no existing family's carers change"
            if not n_changes
            else f"{n_changes} existing session(s) change carer to make room (listed)"
        )
        rationale = (
            f"Accept: all {len(referral.visits)} sessions for {children} can be staffed "
            f"by {len(carers)} carer(s) ({', '.join(carers)}); {change_words}. "
            f"{money.carer_hours:g} carer-hours a week"
        )
        if money.margin is not None:
            rationale += f", margin £{money.margin:,.2f} a week."
        else:
            rationale += f"; margin unknown ({money.note})."
    else:
        lines = "; ".join(u["reason"] for u in unstaffed)
        rationale = (
            f"Decline: {len(unstaffed)} of {len(referral.visits)} sessions for {children} cannot be "
            f"staffed safely without breaking the contract's rules. {lines}."
        )
    notes = [money.note] if money.note and money.charge is None else []
    return Decision(
        referral=referral.name,
        accept=accept,
        sessions_total=len(referral.visits),
        sessions_staffed=len(full),
        slots_total=sum(v.carers for v in referral.visits),
        slots_staffed=sum(min(attempt.staffed.get(v.visit_id, 0), v.carers) for v in referral.visits),
        carers=carers,
        changed_assignments=list(attempt.changes),
        earliest_start=_earliest_start(referral, attempt.staffed),
        weekly_hours=money.carer_hours,
        weekly_cost=money.cost,
        weekly_charge=money.charge,
        margin=money.margin,
        rationale=rationale,
        unstaffed=unstaffed,
        child_ids=[c.child_id for c in referral.children],
        notes=notes,
        rota=attempt.rota,
        instance=merged,
    )


def evaluate_referral(
    instance: Instance,
    referral: Referral,
    current: Rota,
    card: RateCard | None = None,
    params: ReferralParams | None = None,
    travel: TravelModel | None = None,
) -> Decision:
    """The decision on one referral, on top of the current rota (see the module docstring)."""
    params = params or ReferralParams()
    t0 = time.perf_counter()
    merged = merge(instance, referral)
    el = compute_eligibility(merged, travel)
    attempt = try_referral(merged, current, referral, params, travel, el)
    decision = _decide(merged, referral, attempt, card, el)
    if not decision.accept and params.alternatives:
        decision.alternatives = find_alternatives(
            merged, referral, current, attempt, card, params, travel, el, deadline=time.perf_counter() + params.alternatives_time
        )
        if decision.alternatives:
            best = decision.alternatives[0]
            decision.rationale += f" It could be accepted with {best['summary']}."
    decision.seconds = time.perf_counter() - t0
    return decision


# ---- what would change the answer -------------------------------------------------------------


def _with_child(referral: Referral, child: Child) -> Referral:
    return replace(referral, children=tuple(child if c.child_id == child.child_id else c for c in referral.children))


def _verify(
    instance: Instance,
    referral: Referral,
    current: Rota,
    card: RateCard | None,
    params: ReferralParams,
    travel: TravelModel | None,
) -> tuple[bool, Decision]:
    merged = merge(instance, referral)
    el = compute_eligibility(merged, travel)
    attempt = try_referral(merged, current, referral, params, travel, el)
    decision = _decide(merged, referral, attempt, card, el)
    return decision.accept, decision


def _alt(kind: str, summary: str, decision: Decision, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "summary": summary,
        "verified": True,
        "sessions_staffed": decision.sessions_staffed,
        "changes": len(decision.changed_assignments),
        "carers": decision.carers,
        "weekly_cost": decision.weekly_cost,
        "weekly_charge": decision.weekly_charge,
        "margin": decision.margin,
        **extra,
    }


def find_alternatives(
    merged: Instance,
    referral: Referral,
    current: Rota,
    attempt: Attempt,
    card: RateCard | None,
    params: ReferralParams,
    travel: TravelModel | None,
    el: Eligibility,
    deadline: float,
) -> list[dict[str, Any]]:
    """The cheapest ways to accept, each verified by solving again; best margin first."""
    base = replace(merged, children=merged.children[: len(merged.children) - len(referral.children)],
                   visits=merged.visits[: len(merged.visits) - len(referral.visits)])  # fmt: skip
    short = [v for v in referral.visits if attempt.staffed.get(v.visit_id, 0) < v.carers]
    out: list[dict[str, Any]] = []

    # (a) a mileage exception agreed in writing (002 §5.8), smallest that works.
    for child in referral.children:
        mine = [v for v in short if v.child_id == child.child_id]
        if not mine or time.perf_counter() > deadline:
            continue
        cap = merged.child_cap(child)
        needed: set[int] = set()
        floor = 0  # one exception must serve every session: none below the farthest nearest
        r9 = RULES_BY_CODE["R9"].bit
        for v in mine:
            j = merged.visit_index[v.visit_id]
            codes = np.asarray(el.reason_codes[:, j])
            only_miles = np.flatnonzero(codes == r9)
            mine_needed = {
                int(math.ceil(float(el.home_miles[c, j]) + v.trip_miles - 1e-9)) for c in only_miles
            }
            needed |= mine_needed
            floor = max(floor, min(mine_needed, default=0))
        over = sorted(m for m in needed if m > cap and m >= floor)
        # the smallest exceptions first, then a spread, since the nearest carers may be busy
        trials = sorted(set(over[:3] + over[3::max(1, len(over) // 4)][:3]))
        for miles in trials:
            if time.perf_counter() > deadline:
                break
            trial = _with_child(referral, replace(child, mileage_cap_miles=float(miles)))
            ok, dec = _verify(base, trial, current, card, params, travel)
            if ok:
                out.append(_alt(
                    "mileage_exception",
                    f"a mileage exception of {miles} miles for {child.child_id} agreed in writing "
                    f"with the brokerage team and contract manager (002 §5.8; the cap is {cap:g})",
                    dec, child_id=child.child_id, miles=miles,
                ))  # fmt: skip
                break

    # (b) moving sessions within a stated window: only where time is what binds. A session no
    # carer could take at any time (vetting, training, family wishes, driving, distance) is not
    # helped by moving it, and trying every shift would spend the budget the recruit needs.
    timeless = 0
    for code in ("R1", "R2", "R3", "R8", "R9"):
        timeless |= RULES_BY_CODE[code].bit
    movable = all(
        bool(np.any((np.asarray(el.reason_codes[:, merged.visit_index[v.visit_id]]) & timeless) == 0))
        for v in short
    )
    if movable and time.perf_counter() < deadline:
        moved: dict[str, str] = {}
        trial = referral
        possible = True
        for v in short:
            found = False
            for shift in SHIFTS_MIN:
                if time.perf_counter() > deadline:
                    break
                new_start = parse_hhmm(v.start) + shift
                if not 0 <= new_start < 24 * 60:
                    continue
                nv = replace(v, start=format_hhmm(new_start))
                candidate = replace(trial, visits=tuple(nv if x.visit_id == v.visit_id else x for x in trial.visits))
                ok_one, dec = _verify(base, candidate, current, card, params, travel)
                if dec.unstaffed and any(u["visit_id"] == v.visit_id for u in dec.unstaffed):
                    continue
                trial = candidate
                moved[v.visit_id] = f"{v.date:%a} {v.start} -> {nv.start} ({'+' if shift > 0 else '-'}{abs(shift)} min)"
                found = True
                break
            if not found:
                possible = False
                break
        if possible and moved:
            ok, dec = _verify(base, trial, current, card, params, travel)
            if ok:
                out.append(_alt(
                    "move_sessions",
                    "moving " + "; ".join(moved.values()) + " (agreed with the family)",
                    dec, moves=moved,
                ))  # fmt: skip

    # (c) a recruit profile: always tried once, even when the cheaper options used the budget,
    # since it is the answer that works when nothing else does.
    if short:
        recruits = _recruit_profile(merged, referral, short)
        first = max(v.carers for v in short)
        for count in range(first, first + 2):
            if count > first and time.perf_counter() > deadline:
                break
            extra = recruits(count)
            grown = replace(
                base,
                carers=base.carers + extra[0],
                training=base.training + extra[1],
                availability=base.availability + extra[2],
            )
            ok, dec = _verify(grown, referral, current, card, params, travel)
            if ok:
                out.append(_alt("recruit", _describe_recruits(merged, referral, short, extra[0], extra[1]), dec,
                                recruits=[_recruit_dict(c, extra[1], extra[2]) for c in extra[0]]))  # fmt: skip
                break
    out.sort(key=lambda a: -(a["margin"] if a["margin"] is not None else -1e9))
    return out


RecruitFactory = Callable[[int], tuple[tuple[Carer, ...], tuple[Training, ...], tuple[Availability, ...]]]


def _recruit_profile(merged: Instance, referral: Referral, short: Sequence[Visit]) -> RecruitFactory:
    """A function count -> (carers, training, availability) of synthetic recruits who could take
    exactly the unstaffed sessions: at the child's home, with what the sessions need."""
    costs = [c.hourly_cost for c in merged.carers if c.hourly_cost > 0]
    cost = statistics.median(costs) if costs else 13.0
    comps = sorted({c for v in short for c in v.competencies} | set(merged.settings.mandatory_training))
    children = {v.child_id for v in short}
    child = merged.child(sorted(children)[0])
    gender = child.gender_required or child.gender_preferred or "F"
    drives = any(v.needs_driver or v.trip_miles > 0 for v in short)
    lo, hi = merged.core_band
    overnight = False
    windows: list[tuple[str, str, str]] = []
    for v in short:
        j = merged.visit_index[v.visit_id]
        p = merged.planned_start[j]
        s, e = p - v.flex_min - 60, p + v.flex_min + v.duration_min + 30
        clock = merged.clock
        if clock.outside_daily_band(p + v.flex_min, p - v.flex_min + v.duration_min, lo, hi):
            overnight = True
        windows.append((clock.local_date(s).isoformat(), format_hhmm(clock.local_minute_of_day(s)), format_hhmm(clock.local_minute_of_day(e))))
    hours = sum(v.duration_min * v.carers for v in short) / 60.0

    def make(count: int) -> tuple[tuple[Carer, ...], tuple[Training, ...], tuple[Availability, ...]]:
        carers: list[Carer] = []
        training: list[Training] = []
        avail: list[Availability] = []
        for k in range(1, count + 1):
            cid = f"{RECRUIT_PREFIX}{k}"
            carers.append(Carer(
                carer_id=cid, name=f"Recruit {k}", gender=gender,  # type: ignore[arg-type]
                date_of_birth=date(1990, 1, 1), lat=child.lat, lon=child.lon, drives=drives,
                dbs_check="enhanced_barred_children", dbs_issued=merged.settings.week_start,
                dbs_update_service=True, languages=(child.language,) if child.language else (),
                culture=child.culture, overnight_ok=overnight, max_week_hours=None,
                contracted_hours=round(hours / count, 1), hourly_cost=cost, agency=False,
            ))  # fmt: skip
            training += [Training(cid, comp) for comp in comps]
            avail += [Availability(cid, d, s, e) for d, s, e in windows]
        return tuple(carers), tuple(training), tuple(avail)

    return make


def _nearest_town(lat: float, lon: float) -> str:
    try:
        towns = [t for ts in COUNTIES.values() for t in ts]
        best = min(towns, key=lambda t: great_circle_miles((lat, lon), (t.lat, t.lon)))
        if great_circle_miles((lat, lon), (best.lat, best.lon)) < 15:
            return best.name
    except Exception:  # noqa: BLE001 - the area name is a courtesy
        pass
    return f"{lat:.3f}, {lon:.3f}"


def _describe_recruits(merged: Instance, referral: Referral, short: Sequence[Visit], carers: Sequence[Carer], training: Sequence[Training]) -> str:
    c = carers[0]
    comps = [t.competency for t in training if t.carer_id == c.carer_id and t.competency not in merged.settings.mandatory_training]
    child = merged.child(short[0].child_id)
    cap = merged.child_cap(child)
    days: dict[str, list[str]] = {}
    for v in short:
        end = format_hhmm((parse_hhmm(v.start) + v.duration_min) % (24 * 60))
        days.setdefault(DAY_NAMES[v.date.weekday()], []).append(f"{v.start}-{end}")
    when = ", ".join(f"{d} {' & '.join(sorted(set(t)))}" for d, t in days.items())
    words = [{"F": "female", "M": "male"}.get(c.gender, "")]
    if comps:
        words.append("with " + " and ".join(comps))
    if c.drives:
        words.append("who drives")
    if c.overnight_ok:
        words.append("cleared for overnight work")
    profile = " ".join(w for w in words if w)
    n = len(carers)
    return (
        f"recruiting {n} carer{'s' if n > 1 else ''} ({profile}, enhanced DBS with the children's "
        f"barred list) living within {cap:g} miles of {_nearest_town(child.lat, child.lon)}, "
        f"available {when}"
    )


def _recruit_dict(c: Carer, training: Sequence[Training], avail: Sequence[Availability]) -> dict[str, Any]:
    return {
        "carer_id": c.carer_id,
        "gender": c.gender,
        "competencies": [t.competency for t in training if t.carer_id == c.carer_id],
        "drives": c.drives,
        "overnight_ok": c.overnight_ok,
        "area": {"lat": round(c.lat, 4), "lon": round(c.lon, 4), "near": _nearest_town(c.lat, c.lon)},
        "availability": [{"day": a.day, "start": a.start, "end": a.end} for a in avail if a.carer_id == c.carer_id],
        "hourly_cost": c.hourly_cost,
    }


# ---- several referrals at once ----------------------------------------------------------------


def rank_referrals(
    instance: Instance,
    referrals: Sequence[Referral],
    current: Rota,
    card: RateCard | None = None,
    params: ReferralParams | None = None,
    travel: TravelModel | None = None,
) -> tuple[list[Decision], dict[str, Any]]:
    """Each referral alone, then which can be accepted together (greedy by margin, re-solving
    on top of the rota grown by the ones accepted so far)."""
    params = params or ReferralParams()
    decisions = [evaluate_referral(instance, r, current, card, params, travel) for r in referrals]
    order = sorted(
        range(len(referrals)),
        key=lambda i: (not decisions[i].accept, -(decisions[i].margin or 0.0), referrals[i].name),
    )
    together: list[str] = []
    base, rota = instance, current
    combined: Decision | None = None
    for i in order:
        if not decisions[i].accept:
            continue
        r = referrals[i]
        merged = merge(base, r)
        el = compute_eligibility(merged, travel)
        attempt = try_referral(merged, rota, r, params, travel, el)
        if attempt.accepted(r.visits):
            together.append(r.name)
            base, rota = merged, attempt.rota
            combined = _decide(merged, r, attempt, card, el)
    ranking = [
        {
            "referral": referrals[i].name,
            "accept": decisions[i].accept,
            "margin": decisions[i].margin,
            "sessions_staffed": decisions[i].sessions_staffed,
            "sessions_total": decisions[i].sessions_total,
            "changes": len(decisions[i].changed_assignments),
        }
        for i in order
    ]
    summary: dict[str, Any] = {
        "ranking": ranking,
        "accept_together": together,
        "combined_margin": round(sum(decisions[[r.name for r in referrals].index(n)].margin or 0.0 for n in together), 2),
    }
    if combined is not None:
        summary["_combined"] = (base, rota)
    return decisions, summary


# ---- CLI ----------------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance", help="instance folder (or .xlsx workbook)")
    parser.add_argument("referrals", nargs="+", metavar="REFERRAL",
                        help="referral folder(s): children.csv + visits.csv (or packages.csv)")  # fmt: skip
    parser.add_argument("--out", required=True, help="output folder for decision.json and rota/")
    parser.add_argument("--rota", help="the current rota folder (default: the greedy rota of INSTANCE)")
    # above 0 and finite; at least 1 (the CLI's argparse types, loaded by the command only)
    from solver.cli import time_limit_arg, workers_arg

    parser.add_argument("--time-limit", type=time_limit_arg, default=10.0, help="seconds per solve (default 10)")
    parser.add_argument("--workers", type=workers_arg, default=1, help="CP-SAT workers (default 1)")
    parser.add_argument("--alternatives-time", type=float, default=60.0,
                        help="seconds in all for verifying alternatives to a decline (default 60)")  # fmt: skip
    parser.add_argument("--no-alternatives", action="store_true", help="do not search alternatives")
    parser.add_argument("--wide", action="store_true",
                        help="if the near neighbourhood cannot staff a session, also try every carer "
                        "who could take it (slower)")  # fmt: skip


def _write_decision(folder: Path, decision: Decision, travel: TravelModel | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if decision.accept and decision.rota is not None and decision.instance is not None:
        violations = check(decision.instance, decision.rota, travel)
        if violations:
            raise RuntimeError(
                "the referral rota breaks a hard rule (a bug): " + "; ".join(str(v) for v in violations[:5])
            )
        write_rota(decision.instance, with_objective(decision.instance, decision.rota), folder / "rota")
    atomic_write_text(folder / "decision.json", json.dumps(decision.as_dict(), indent=2, ensure_ascii=False) + "\n")


def run_command(args: argparse.Namespace) -> int:
    instance = load_instance(args.instance)
    travel = load_travel(args.instance, instance)
    travel_arg = travel if travel.matrix else None
    card = load_rates(args.instance)
    notes: list[str] = []
    if args.rota:
        current = load_rota(instance, args.rota)
    else:
        current = greedy(instance, travel=travel_arg)
        notes.append("no current rota was given; the greedy rota of the instance stands for it")
    params = ReferralParams(
        time_limit=args.time_limit,
        workers=args.workers,
        alternatives=not args.no_alternatives,
        alternatives_time=args.alternatives_time,
        wide=args.wide,
    )
    referrals = [load_referral(instance, path) for path in args.referrals]
    names = [r.name for r in referrals]
    if len(set(names)) != len(names):
        raise InstanceError([Problem("referrals", None, None, None, None, "two referral folders have the same name; give each its own folder name.")])
    out = Path(args.out)
    if len(referrals) == 1:
        decision = evaluate_referral(instance, referrals[0], current, card, params, travel_arg)
        decision.notes = notes + decision.notes
        _write_decision(out, decision, travel_arg)
        print(("ACCEPT" if decision.accept else "DECLINE") + f" {decision.referral}: {decision.rationale}")
        for alt in decision.alternatives:
            print(f"  would accept with {alt['summary']} (verified; margin {alt['margin']})")
        print(f"wrote {out / 'decision.json'}" + (f" and {out / 'rota'}" if decision.accept else ""))
        return 0
    decisions, summary = rank_referrals(instance, referrals, current, card, params, travel_arg)
    for d in decisions:
        d.notes = notes + d.notes
        _write_decision(out / d.referral, d, travel_arg)
    combined = summary.pop("_combined", None)
    if combined is not None:
        merged, rota = combined
        if check(merged, rota, travel_arg):
            raise RuntimeError("the combined referral rota breaks a hard rule (a bug)")
        write_rota(merged, with_objective(merged, rota), out / "together" / "rota")
    atomic_write_text(out / "ranking.json", json.dumps(summary, indent=2) + "\n")
    for row in summary["ranking"]:
        verdict = "accept" if row["accept"] else "decline"
        print(f"{row['referral']}: {verdict}, margin {row['margin']}, {row['sessions_staffed']}/{row['sessions_total']} sessions, {row['changes']} change(s)")
    print("together: " + (", ".join(summary["accept_together"]) or "none"))
    return 0

