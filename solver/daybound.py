"""A proven upper bound on staffed carer slots for weeks too big for one coverage master: the
master of ``solver.coverage`` written over each day of the week on its own, summed.

Why it is valid. Split the visits into disjoint parts P (their dates). Take any rota the model
allows (``solver.cpsat``: every eligible pair, the checker's rules) and keep only its rows for
the visits of P. Those rows satisfy every constraint of the *part master* below, so the slots
the rota staffs in P are at most the part master's optimum, hence at most CP-SAT's proven bound
on it. The parts are disjoint, so the week's staffed slots are the sum over parts, at most the
sum of the parts' bounds (the argument of ``solver.bounds.partitioned_bound``).

The part master is the coverage master (``solver.coverage._Master``) restricted to P's
visits, with each carer's facts taken from the *whole* week:

* staffing (R4, 2:1 together), the cliques of visits that overlap whatever their starts, the
  pairs the model never holds together (R6: the journey never fits; R11: no duty can hold
  both) and R6 between two of a carer's visits: each is a statement about visits of P alone,
  true of any schedule that holds them, whatever else it holds;
* the shortest journey into a visit (``t_min``: from home within the R9 cap, or from any
  visit of the carer's *week* that could be its close predecessor, R13) bounds the travel into
  it from below whichever visit feeds it, so the optional interval [start - t_min, end), the
  weekly hours (R10 with ``t_min``) and young workers' days (R12) are relaxations;
* the weekly rest block (R14) is left free by the week's work, so by P's part of it too;
* a visit whose home journey breaks the R9 cap needs one of its feeders: written only when
  every feeder lies in P (a feeder on another day would be outside the part's variables); a
  visit no visit of the week can feed and home cannot reach is never taken.

Dropping the cross-part feeders and R11 between days (a late visit and the next morning's)
only loosens a part master, never cuts a rota off. Each carer keeps the whole weekly limit in
every part (the split "hours of the week used in P" is at most the week's), which loosens it
too. Only CP-SAT's proven bound of each part is used (``best_objective_bound``), never the
value of an answer, so a part stopped by the time limit still gives a valid, weaker, bound; a
part with no bound at all counts its eligibility bound (every slot a reachable carer could take).

What it adds to the LP capacity bound (``solver.bounds``): whole visits (a 2:1 visit staffed by
two carers or not at all), R13 chains (a carer over the cap from home must come from a nearby
visit), R6 journeys and R11 within a day. A part's master takes the part's visits and their
``context`` (the visits that could feed them, e.g. the evening before an early visit), so that
the shortest journeys and feeders are the whole week's.

Measured on the generator's M week (2 busy cores). The LP of each date alone sums to the whole
LP's bound (1,330 / 1,268 on seeds 1 / 2): every weekday's LP staffs every slot, so the LP's
missing slots are all at weekends. A weekend day's master (3-5 k pairs) is solved in 2.5-5 s:
seed 1 Saturday 95 of 97 and Sunday 104 of 107, as the LP; seed 2 Saturday 100 of 103 (the LP
102). A weekday's master (10.6 k pairs) took 40 s on 2 workers to answer, and its answer staffs
every slot (seed 1 Monday: 236 of 236, 20 of 94 carer-days then fail their check: R11 between
an early morning and the evening peak, which the master sees only in pairs). So
``week_bound`` gives 1,330 / 1,266 on M in 6-8 s. The third session kept it out of
``solver.solve``: in a thread beside the search it cost the search a third of its moves (1,302
slots against 1,317 on seed 1) for 2 slots of bound on seed 2. Since the fourth session's
faster moves, ``solver.solve`` runs it beside the LP, the insertion and the search on weeks
too big for the coverage master (``BoundBeside``, ``SIDE_SECONDS``): on seed 2 it reports
1,266 for the LP's 1,268.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from roster.eligibility import Eligibility
from roster.model import Instance
from solver.bounds import build_lp_pairs, dual_bound, reachable_pairs, solve_direct
from solver.coverage import carer_data, check_week, core_cut
from solver.cpbase import Vars
from solver.rules.journey import add_carer_time
from solver.rules.staffing import add_staffing

Pairs = Mapping[tuple[int, int], Sequence[tuple[int, int]]]


@dataclass(frozen=True)
class PartBound:
    """One part's bound: its visits' slots, CP-SAT's proven bound and its answer's value."""

    label: str
    slots: int
    upper: int
    found: int | None
    status: str
    seconds: float


@dataclass(frozen=True)
class DayBound:
    """The sum of the part masters' proven bounds: no rota staffs more carer slots."""

    upper: int
    slots: int
    parts: tuple[PartBound, ...] = ()
    seconds: float = 0.0
    note: str = ""
    answers: Mapping[tuple[int, int], int] = field(default_factory=dict)
    """(carer, visit) -> 1 of the parts' last answers (not checked: a start for a rota)."""


def day_parts(instance: Instance) -> list[tuple[str, list[int]]]:
    """The visits by date (``Visit.date``, the planned start's day): disjoint, covering all."""
    by_day: dict[str, list[int]] = {}
    for v, visit in enumerate(instance.visits):
        by_day.setdefault(str(visit.date), []).append(v)
    return sorted(by_day.items())


def context(instance: Instance, elig: Eligibility, part: Iterable[int]) -> set[int]:
    """The part's visits and every visit outside it that could be the close predecessor (R13)
    of one of them: one that can end less than ``return_home_gap_min`` before the part's
    earliest start and no later than its latest start (a superset of the model's feeders)."""
    inside = sorted(set(part))
    if not inside:
        return set()
    vs = instance.visits
    lo = np.asarray(elig.start_lo, dtype=np.int64)
    hi = np.asarray(elig.start_hi, dtype=np.int64)
    dur = np.array([v.duration_min for v in vs], dtype=np.int64)
    gap = instance.settings.return_home_gap_min
    first, last = int(lo[inside].min()), int(hi[inside].max())
    near = np.flatnonzero((hi + dur >= first - gap) & (lo + dur <= last))
    return set(inside) | {int(v) for v in near}


def _as_dict(pairs: Pairs) -> dict[tuple[int, int], list[tuple[int, int]]]:
    return {k: list(r) for k, r in pairs.items()}


class _WeekFacts:
    """Each carer's master facts (``solver.coverage.carer_data``) over the visits ``only``
    (default: the whole week): a part's facts need the part and its ``context``, whose feeders are all
    there, so that each shortest journey and each visit's feeders are the week's."""

    def __init__(self, instance: Instance, elig: Eligibility, travel: Any, pairs: Pairs,
                 only: set[int] | None = None) -> None:
        planned = instance.planned_start
        vs = instance.visits
        by_carer: dict[int, list[int]] = {}
        for c, v in pairs:
            if only is None or v in only:
                by_carer.setdefault(c, []).append(v)
        self.data: dict[int, Any] = {}
        self.never: dict[int, list[tuple[int, int]]] = {}
        self.dead: dict[int, set[int]] = {}
        ranges = _as_dict(pairs)
        for c in sorted(by_carer):
            visits = sorted(by_carer[c], key=lambda v: (planned[v], vs[v].visit_id))
            data, never, dead = carer_data(instance, elig, travel, ranges, c, visits)
            self.data[c], self.never[c], self.dead[c] = data, list(never), set(dead)


def _part_model(
    instance: Instance, elig: Eligibility, pairs: Pairs, facts: _WeekFacts, part: Iterable[int],
) -> tuple[cp_model.CpModel, dict[tuple[int, int], Any], Any, int]:
    """The part master (module docstring): model, x, objective, and the part's slots."""
    vs = instance.visits
    inside = set(part)
    sub = {k: list(r) for k, r in pairs.items() if k[1] in inside}
    m = cp_model.CpModel()
    new = Vars(m)
    x, start, staffed = add_staffing(m, new, instance, sub)
    by_carer: dict[int, list[int]] = {}
    for c, v in x:
        by_carer.setdefault(c, []).append(v)
    for c in sorted(by_carer):
        data = facts.data[c]
        mine = set(by_carer[c])
        visits = [v for v in data.visits if v in mine]
        for v in visits:
            if v in facts.dead[c]:
                m.add(x[(c, v)] == 0)
        for i, j in facts.never[c]:
            if i in mine and j in mine:
                m.add_bool_or([x[(c, i)].negated(), x[(c, j)].negated()])
        for i, j, gap_ij in data.journeys:
            if i in mine and j in mine:
                m.add(start[j] >= start[i] + gap_ij).only_enforce_if([x[(c, i)], x[(c, j)]])
        for v in visits:
            feeders = data.feeders[v]
            if bool(elig.home_within_cap[c, v]) or not feeders:
                continue
            if all(k in inside for k in feeders):
                ways = [x[(c, k)] for k in feeders if (c, k) in x]
                if ways:
                    m.add_bool_or(ways).only_enforce_if(x[(c, v)])
                else:
                    m.add(x[(c, v)] == 0)
        add_carer_time(m, instance, c, visits, sub, x, start, data.t_min)
    objective = sum(vs[v].carers * st for v, st in staffed.items()
                    if v in inside and not isinstance(st, int))
    m.maximize(objective)
    slots = sum(vs[v].carers for v in inside)
    return m, x, objective, slots


def _eligibility_bound(instance: Instance, pairs: Pairs, part: Iterable[int]) -> int:
    count: dict[int, int] = {}
    for _c, v in pairs:
        count[v] = count.get(v, 0) + 1
    vs = instance.visits
    return sum(vs[v].carers for v in part if count.get(v, 0) >= vs[v].carers)


def _solve_part(
    instance: Instance, elig: Eligibility, pairs: Pairs, travel: Any, facts: _WeekFacts,
    label: str, part: Sequence[int], deadline: float, workers: int, seed: int,
    hint: Mapping[tuple[int, int], int] | None, rounds: int, answers: dict[tuple[int, int], int],
) -> PartBound:
    """One part's master, then up to ``rounds - 1`` rounds of core cuts from the carers'
    checked days (``solver.coverage.check_week``): each bound is valid, the smallest is kept."""
    began = time.perf_counter()
    m, x, _obj, slots = _part_model(instance, elig, pairs, facts, part)
    upper = _eligibility_bound(instance, pairs, part)
    found: int | None = None
    status = "not solved"
    current = dict(hint or {})
    ranges = _as_dict(pairs)
    for round_ in range(max(1, rounds)):
        if deadline - time.perf_counter() < 0.05:
            break
        m.clear_hints()
        for k, lit in x.items():
            m.add_hint(lit, current.get(k, 0))
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = max(1, workers)
        solver.parameters.max_time_in_seconds = max(0.05, deadline - time.perf_counter())
        solver.parameters.random_seed = seed
        code = solver.solve(m)
        status = solver.status_name(code)
        # CP-SAT's bound means something only once it has an answer (OPTIMAL or FEASIBLE;
        # INFEASIBLE cannot happen: staffing nothing is a solution); else the fallback
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        if np.isfinite(solver.best_objective_bound):
            upper = min(upper, int(np.floor(solver.best_objective_bound + 1e-6)))
        found = int(round(solver.objective_value))
        current = {k: int(solver.value(lit)) for k, lit in x.items()}
        if code != cp_model.OPTIMAL or round_ == rounds - 1:
            break
        weeks: dict[int, list[int]] = {}
        for (c, v), on in current.items():
            if on:
                weeks.setdefault(c, []).append(v)
        cuts = 0
        for c, chosen in sorted(weeks.items()):
            if time.perf_counter() > deadline:
                break
            core = check_week(instance, elig, travel, ranges, c, chosen,
                              max(0.05, min(2.0, deadline - time.perf_counter())))
            if isinstance(core, list):
                cuts += core_cut(m, x, facts.data[c].feeders, c, core, set(chosen))
        status = f"{status}, {cuts} cuts"
        if not cuts:
            break
    for k, on in current.items():
        if on:
            answers[k] = 1
    return PartBound(label, slots, upper, found, status, time.perf_counter() - began)


def day_bound(
    instance: Instance,
    elig: Eligibility,
    pairs: Pairs,
    travel: Any,
    deadline: float,
    workers: int = 1,
    seed: int = 0,
    hint: Mapping[tuple[int, int], int] | None = None,
    parts: Sequence[tuple[str, Sequence[int]]] | None = None,
    stop: Any = None,
    rounds: int = 1,
) -> DayBound:
    """The sum over ``parts`` (default: the days) of each part master's proven bound, by
    ``deadline`` (``time.perf_counter()`` seconds), the time left shared among the parts still
    to solve. ``pairs``: every pair the model may use (``candidate_pairs`` with no cap on
    candidates): a bound over fewer pairs would not bound rotas using the others."""
    t0 = time.perf_counter()
    facts = _WeekFacts(instance, elig, travel, pairs)
    todo = list(parts if parts is not None else day_parts(instance))
    out: list[PartBound] = []
    answers: dict[tuple[int, int], int] = {}
    for n, (label, part) in enumerate(todo):
        if stop is not None and stop.is_set():
            out.append(PartBound(label, sum(instance.visits[v].carers for v in part),
                                 _eligibility_bound(instance, pairs, part), None, "stopped", 0.0))
            continue
        share = time.perf_counter() + (deadline - time.perf_counter()) / (len(todo) - n)
        out.append(_solve_part(instance, elig, pairs, travel, facts, label, part, share, workers,
                               seed, hint, rounds, answers))
    return DayBound(
        upper=sum(p.upper for p in out), slots=sum(p.slots for p in out), parts=tuple(out),
        seconds=time.perf_counter() - t0,
        note=", ".join(f"{p.label[5:]} {p.upper}/{p.slots} {p.status.lower()}" for p in out),
        answers=answers,
    )


PART_MAX_PAIRS = 6_000
"""``week_bound`` solves a day's master only when the day has at most this many eligible pairs:
on M a weekend day (3-5 k pairs) takes 2.5-5 s, a weekday (10.6 k) 40 s or more on 2 cores."""

PART_ROUNDS = 5
"""Master solves (with core cuts between them) for one day inside ``week_bound``."""


def week_bound(
    instance: Instance,
    elig: Eligibility,
    travel: Any,
    deadline: float,
    workers: int = 1,
    seed: int = 0,
    max_part_pairs: int = PART_MAX_PAIRS,
    stop: Any = None,
) -> DayBound:
    """A bound by days for weeks too big for one master: each date's visits bounded by the LP
    capacity bound of that date alone (``solver.bounds``, every carer with a whole week's
    limits, by the same parts argument as ``partitioned_bound``) and, for dates of at most
    ``max_part_pairs`` eligible pairs while time is left, by the smaller of that and the date's
    part master (module docstring); the sum over dates. Parts not reached count their
    eligibility bound."""
    t0 = time.perf_counter()
    reach = reachable_pairs(instance, elig)
    pc, pv = np.nonzero(reach)
    slots_v = np.array([v.carers for v in instance.visits], dtype=np.int64)
    per_visit = reach.sum(axis=0)
    out: list[PartBound] = []
    parts = day_parts(instance)
    for label, part in parts:
        began = time.perf_counter()
        idx = np.asarray(part, dtype=np.int64)
        slots = int(slots_v[idx].sum())
        upper = int(np.minimum(slots_v[idx], per_visit[idx]).sum())
        status = "eligibility"
        mask = np.isin(pv, idx)
        if mask.any() and time.perf_counter() < deadline:
            lp = build_lp_pairs(instance, pc[mask], pv[mask], 30, labels_wanted=False)
            st, _val, _x, duals, *_rest = solve_direct(
                lp, max(0.5, deadline - time.perf_counter()), "ipm")
            if len(duals) == len(lp.row_ub):
                upper = min(upper, int(math.floor(dual_bound(lp, duals) + 1e-6)))
                status = f"LP {st}"
        out.append(PartBound(label, slots, upper, None, status, time.perf_counter() - began))
    small = [n for n, (_label, part) in enumerate(parts)
             if int(np.asarray(elig.ok)[:, np.asarray(part, dtype=np.int64)].sum()) <= max_part_pairs]
    for rank, n in enumerate(small):
        label, part = parts[n]
        began = time.perf_counter()
        upper, status, slots = out[n].upper, out[n].status, out[n].slots
        left = (deadline - time.perf_counter()) / (len(small) - rank)
        if (left > 0.5 and upper > 0
                and (stop is None or not stop.is_set())):
            near = context(instance, elig, part)
            pairs = {(int(c), v): ranges for v in sorted(near)
                     for c in elig.eligible_carers(v) if (ranges := elig.allowed_starts(int(c), v))}
            facts = _WeekFacts(instance, elig, travel, pairs, near)
            got: dict[tuple[int, int], int] = {}
            pb = _solve_part(instance, elig, pairs, travel, facts, label, part,
                             time.perf_counter() + left, workers, seed, None, PART_ROUNDS, got)
            if pb.upper < upper:
                upper, status = pb.upper, f"master {pb.status}"
            out[n] = PartBound(label, slots, upper, None, status,
                               out[n].seconds + time.perf_counter() - began)
    return DayBound(
        upper=sum(p.upper for p in out), slots=sum(p.slots for p in out), parts=tuple(out),
        seconds=time.perf_counter() - t0,
        note=", ".join(f"{p.label[5:]} {p.upper}/{p.slots} {p.status.lower()}" for p in out),
    )



class BoundBeside:
    """``week_bound`` in a thread beside the search (CP-SAT and HiGHS leave Python's lock
    while they solve): ``start`` it, then ``result()`` once the search is done.

    Measured on M (60 s ``solve``): the weekend masters take about 5 s each on one worker;
    seed 2's Saturday then bounds the week at 1,266 where the LP says 1,268; on seed 1 both
    give 1,330. The time it takes is the search's: ``SIDE_SECONDS`` at most."""

    def __init__(self, instance: Instance, elig: Eligibility, travel: Any, seconds: float,
                 seed: int = 0) -> None:
        self._stop = threading.Event()
        self._out: DayBound | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(instance, elig, travel, seconds, seed), daemon=True)

    def start(self) -> BoundBeside:
        self._thread.start()
        return self

    def _run(self, instance: Instance, elig: Eligibility, travel: Any, seconds: float,
             seed: int) -> None:
        try:
            self._out = week_bound(instance, elig, travel, time.perf_counter() + seconds,
                                   workers=1, seed=seed, stop=self._stop)
        except BaseException as exc:  # the bound is a report, never a reason to fail a solve
            self._error = exc

    def result(self, wait: float = 1.0) -> DayBound | None:
        """The bound, waiting at most ``wait`` seconds more; None when it is not done (it is
        then told to stop and its parts left unsolved are never counted) or failed."""
        self._thread.join(wait)
        if self._thread.is_alive():
            self._stop.set()
            return None
        return self._out


SIDE_SECONDS = 20.0
"""The time ``solver.solve`` gives the bound by days beside its search on weeks too big for the
coverage master."""
