"""The coordinator's first fit: a fast greedy rota, used as CP-SAT's warm start and as the
benchmark baseline.

Visits are taken by planned start (at equal times, 2:1 visits and those with fewest eligible
carers first). Each goes to the carers a coordinator would call first: own staff before agency,
carers the child already sees this week, then carers the child knows (history), then the nearest;
at the start closest to the planned one that the carer's week allows. Every rule is checked as the
carer's week grows (a visit is only ever appended after the carer's previous one), with the same
readings as the CP-SAT model (``solver.cpsat``), so the greedy rota is also a feasible hint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from roster.eligibility import compute_eligibility
from roster.model import Assignment, Instance, Rota
from roster.rules import (
    YOUNG_DAY_MAX_MIN,
    Limits,
    journey_between,
    journey_from_home,
    limits,
    travel_model,
)
from roster.travel import TravelModel
from solver.candidates import candidate_pairs, lock_ids
from solver.params import Lock, SolveParams


@dataclass
class _Week:
    """One carer's week so far, with what the next appended visit must respect."""

    limits: Limits
    rows: list[Assignment] = field(default_factory=list)
    work: int = 0
    duty_start: int = 0
    run_work: int = 0
    day_work: dict[date, int] = field(default_factory=dict)
    intervals: list[tuple[int, int]] = field(default_factory=list)


class _Greedy:
    def __init__(self, instance: Instance, elig: Any, travel: TravelModel | None):
        self.inst = instance
        self.elig = elig
        self.model = travel_model(instance, travel)
        self.between: dict[tuple[int, int], tuple[float, int]] = {}
        self.home: dict[tuple[int, int], tuple[float, int]] = {}
        self.weeks: dict[int, _Week] = {}

    def journey(self, i: int, j: int) -> tuple[float, int]:
        key = (i, j)
        if key not in self.between:
            vs = self.inst.visits
            self.between[key] = journey_between(self.inst, vs[i], vs[j], self.model)
        return self.between[key]

    def from_home(self, c: int, v: int) -> tuple[float, int]:
        key = (c, v)
        if key not in self.home:
            self.home[key] = journey_from_home(
                self.inst, self.inst.carers[c], self.inst.visits[v], self.model
            )
        return self.home[key]

    def week(self, c: int) -> _Week:
        if c not in self.weeks:
            self.weeks[c] = _Week(limits=limits(self.inst, self.inst.carers[c]))
        return self.weeks[c]

    def try_row(self, c: int, v: int, start: int) -> tuple[Assignment, dict[str, Any]] | None:
        """The row carer c would have on visit v at ``start``, appended to their week, or None
        when a rule (as the model reads it) forbids it."""
        inst = self.inst
        visit = inst.visits[v]
        week = self.week(c)
        lim = week.limits
        gap = inst.settings.return_home_gap_min
        cap = inst.child_cap(inst.child(visit.child_id))
        end = start + visit.duration_min
        prev = week.rows[-1] if week.rows else None
        home_miles, home_min = self.from_home(c, v)
        if prev is not None:
            p = inst.visit_index[prev.visit_id]
            between_miles, between_min = self.journey(p, v)
            if start < prev.end + between_min:  # R6
                return None
            if start - prev.end < gap:  # R13: from the previous visit
                origin, miles, minutes = prev.visit_id, between_miles, between_min
            else:
                origin, miles, minutes = "home", home_miles, home_min
                if start - prev.end < home_min + lim.break_min:
                    return None  # the model's reading: a journey home leaves a break (R15)
        else:
            origin, miles, minutes = "home", home_miles, home_min
        if miles + visit.trip_miles > cap + 1e-9:  # R9, unrounded as roster.rules
            return None
        ws = start - minutes
        work = visit.duration_min + minutes
        if week.work + work > lim.max_week_min:  # R10
            return None
        duty_start = ws
        run_work = work
        if prev is not None:
            free = ws - prev.end
            if free < lim.daily_rest_min:  # R11: same duty
                duty_start = week.duty_start
                if end - duty_start > 24 * 60 - lim.daily_rest_min:
                    return None
            if free < lim.break_min:  # R15 (model's reading): same run
                run_work = week.run_work + work
                if run_work > lim.break_after_min:
                    return None
        young_day = visit.date if inst.carers[c].age_on(visit.date) < 18 else None
        if young_day is not None and week.day_work.get(young_day, 0) + work > YOUNG_DAY_MAX_MIN:
            return None  # R12
        if not self._weekly_rest_left(week, (ws, end)):  # R14
            return None
        row = Assignment(visit.visit_id, inst.carers[c].carer_id, start, end, origin, miles, minutes)
        return row, {"work": work, "duty_start": duty_start, "run_work": run_work,
                     "young_day": young_day}

    def _weekly_rest_left(self, week: _Week, new: tuple[int, int]) -> bool:
        end_of_week = self.inst.clock.week_minutes
        edges = [0]
        for s, e in [*week.intervals, new]:
            s, e = max(s, 0), min(e, end_of_week)
            if s < e:
                edges += [s, e]
        edges.append(end_of_week)
        best = max(edges[k + 1] - edges[k] for k in range(0, len(edges), 2))
        return best >= week.limits.weekly_rest_min

    def commit(self, c: int, row: Assignment, info: dict[str, Any]) -> None:
        week = self.week(c)
        week.rows.append(row)
        week.work += info["work"]
        week.duty_start = info["duty_start"]
        week.run_work = info["run_work"]
        if info["young_day"] is not None:
            week.day_work[info["young_day"]] = week.day_work.get(info["young_day"], 0) + info["work"]
        week.intervals.append((row.start - row.travel_min, row.end))

    def starts_for(self, c: int, v: int, ranges: Sequence[tuple[int, int]]) -> list[int]:
        """Starts worth trying for carer c: the allowed start nearest the planned one, the
        earliest the carer's week allows, and the first that lets them come from home."""
        inst = self.inst
        planned = inst.planned_start[v]
        week = self.week(c)
        earliest = -(10**9)
        wishes = [planned]
        if week.rows:
            prev = week.rows[-1]
            _, t = self.journey(inst.visit_index[prev.visit_id], v)
            earliest = prev.end + t
            _, home_min = self.from_home(c, v)
            wishes += [earliest, prev.end + max(inst.settings.return_home_gap_min,
                                                home_min + week.limits.break_min)]
        out: list[int] = []
        for wish in wishes:
            wish = max(wish, earliest)
            best = None
            for lo, hi in ranges:
                if hi < earliest:
                    continue
                s = min(max(wish, lo, earliest), hi)
                if best is None or abs(s - wish) < abs(best - wish):
                    best = s
            if best is not None and best not in out:
                out.append(best)
        out.sort(key=lambda s: (abs(s - planned), s))
        return out


def greedy(instance: Instance, locks: Sequence[Lock] = (), travel: TravelModel | None = None) -> Rota:
    """The coordinator-first-fit rota (every hard rule holds; unstaffed visits are left out)."""
    elig = compute_eligibility(instance, travel)
    return greedy_with(instance, elig, locks=locks, travel=travel)


def greedy_with(
    instance: Instance,
    elig: Any,
    locks: Sequence[Lock] = (),
    travel: TravelModel | None = None,
    max_candidates: int | None = None,
) -> Rota:
    """``greedy`` with eligibility already computed."""
    pairs = candidate_pairs(
        instance, elig, SolveParams(locks=tuple(locks), max_candidates=max_candidates)
    )
    g = _Greedy(instance, elig, travel)
    by_visit: dict[int, list[int]] = {}
    for c, v in pairs:
        by_visit.setdefault(v, []).append(c)
    locked: dict[int, dict[int, int | None]] = {}
    locked_of_carer: dict[int, list[int]] = {}
    for lock in locks:
        vid, cid = lock_ids(lock)
        if vid not in instance.visit_index or cid not in instance.carer_index:
            continue
        v, c = instance.visit_index[vid], instance.carer_index[cid]
        when: int | None = None
        if isinstance(lock, Assignment):
            when = lock.start
        elif len(lock) == 3:
            when = int(lock[2])
        locked.setdefault(v, {})[c] = when
        locked_of_carer.setdefault(c, []).append(v)
    planned = instance.planned_start
    vs = instance.visits
    order = sorted(
        range(len(vs)),
        key=lambda v: (planned[v], -vs[v].carers, len(by_visit.get(v, ())), vs[v].visit_id),
    )
    history = instance.history_hours
    seen: dict[str, set[int]] = {}
    done: set[int] = set()

    def clashes_with_lock(c: int, v: int, start: int) -> bool:
        end = start + vs[v].duration_min
        for w in locked_of_carer.get(c, ()):
            if w == v or w in done:
                continue
            lo = planned[w] - vs[w].flex_min
            hi = planned[w] + vs[w].flex_min + vs[w].duration_min
            if lo < end + 180 and start < hi:
                return True
        return False

    for v in order:
        visit = vs[v]
        child = visit.child_id
        forced = locked.get(v, {})

        def rank(
            c: int, v: int = v, child: str = child, forced: dict[int, int | None] = forced
        ) -> tuple[Any, ...]:
            carer = instance.carers[c]
            return (
                c not in forced,
                carer.agency,
                c not in seen.get(child, set()),
                -history.get((child, carer.carer_id), 0.0),
                float(elig.home_miles[c, v]),
                c,
            )

        carers = sorted(by_visit.get(v, []), key=rank)
        if len(carers) < visit.carers:
            done.add(v)
            continue
        starts: list[int] = []
        for c in carers[: max(visit.carers * 4, 8)]:
            for s in g.starts_for(c, v, pairs[(c, v)]):
                if s not in starts:
                    starts.append(s)
        fixed = {w for w in forced.values() if w is not None}
        if fixed:
            starts = sorted(fixed)
        starts.sort(key=lambda s: (abs(s - planned[v]), s))
        chosen: list[tuple[int, Assignment, dict[str, Any]]] = []
        trials: list[int | None] = list(starts[:8]) if visit.carers > 1 else [None]
        for trial in trials:
            chosen = []
            for c in carers:
                if c not in forced and clashes_with_lock(
                    c, v, trial if trial is not None else planned[v]
                ):
                    continue
                options = [trial] if trial is not None else (sorted(fixed) or g.starts_for(c, v, pairs[(c, v)]))
                for start in options:
                    if not any(lo <= start <= hi for lo, hi in pairs[(c, v)]):
                        continue
                    got = g.try_row(c, v, start)
                    if got is not None:
                        chosen.append((c, *got))
                        break
                if len(chosen) == visit.carers:
                    break
            if len(chosen) == visit.carers:
                break
        done.add(v)
        if len(chosen) < visit.carers:
            continue
        for c, row, info in chosen:
            g.commit(c, row, info)
            seen.setdefault(child, set()).add(c)
    rows = [row for week in g.weeks.values() for row in week.rows]
    rows.sort(key=lambda a: (instance.visit_index[a.visit_id], a.carer_id))
    return Rota(assignments=tuple(rows))
