"""R6 no double booking, R9 mileage cap, R13 travel origin: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.r6_no_double_booking, r9_mileage_cap, locate_r13.

Reading (contract §3): a carer's rows in start order; each row's *previous* row is the one just
before it. R6: it does not overlap the previous row, and starts no earlier than the previous end
plus the travel minutes between the two places (whatever R13 says the carer travels from). R13:
the carer comes from the previous visit when it ended less than ``return_home_gap_min`` before,
else from home; miles and minutes follow the travel model. R9: those miles plus the visit's trip
miles are at most the child's cap (unrounded, with a 1e-9 tolerance, as ``roster.rules``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

OK = 0
R6 = 6
R9 = 9


@njit(cache=True)
def route_journeys(
    vis: np.ndarray, st: np.ndarray, n: int, dur: np.ndarray, trip: np.ndarray, cap: np.ndarray,
    tmin: np.ndarray, tmil: np.ndarray, hmin_c: np.ndarray, hmil_c: np.ndarray, gap: int,
    out_min: np.ndarray, out_miles: np.ndarray, out_from: np.ndarray,
) -> int:
    """R6, R13 and R9 over one carer's route ``vis[:n]`` (visit indices) starting at ``st[:n]``,
    sorted by start. Fills each row's journey (``out_from`` -1 = home, else the visit index it
    comes from; minutes; miles) and returns ``OK``, or the code of the first rule broken."""
    for k in range(n):
        v = vis[k]
        if k == 0:
            out_from[k] = -1
            out_min[k] = hmin_c[v]
            out_miles[k] = hmil_c[v]
        else:
            p = vis[k - 1]
            prev_end = st[k - 1] + dur[p]
            if prev_end > st[k] or st[k] < prev_end + tmin[p, v]:
                return R6
            if st[k] - prev_end < gap:
                out_from[k] = p
                out_min[k] = tmin[p, v]
                out_miles[k] = tmil[p, v]
            else:
                out_from[k] = -1
                out_min[k] = hmin_c[v]
                out_miles[k] = hmil_c[v]
        if out_miles[k] + trip[v] > cap[v] + 1e-9:
            return R9
    return OK


# ---- CP-SAT encoding (the whole model, the coverage master, bounds)

from typing import Any  # noqa: E402 - this section's own imports

from ortools.sat.python import cp_model  # noqa: E402

from roster.eligibility import Eligibility  # noqa: E402
from roster.model import Instance  # noqa: E402
from roster.rules import YOUNG_DAY_MAX_MIN, limits  # noqa: E402
from solver.candidates import Pairs, Travel, start_range  # noqa: E402
from solver.cpbase import Arc, CarerModel, Vars  # noqa: E402
from solver.rules.breaks import add_runs  # noqa: E402

# The whole model: ``add_sequencing`` orders a carer's candidate visits by planned start and links
# each to its close predecessor or home (R13), with the journey's minutes before it (R6) and its
# miles under the cap (R9). It also makes each arc's R15 *run* literal as it makes the arc
# (``solver.rules.breaks.add_runs`` then bounds the runs): held whole here, because making those
# literals in a pass of their own would change the model's variable order. The coverage master's
# relaxation, ``add_carer_time``, is held whole too: R6's one-visit-at-a-time intervals share one
# NoOverlap with R14's rest block, and R10's and R12's sums count the same working times.


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
    add_runs(m, new, cm, runs_into)
    return cm

def add_carer_time(
    m: cp_model.CpModel,
    instance: Instance,
    c: int,
    visits: list[int],
    ranges: Pairs,
    x: dict[tuple[int, int], Any],
    start: dict[int, Any],
    t_min: dict[int, int],
) -> None:
    """Carer c's time in the master: at most one of the visits that overlap whatever their
    starts (``ranges``: each visit's allowed starts), one visit at a time with at least the
    shortest journey ``t_min`` before it, the weekly rest block (R14), weekly hours (R10) and
    young workers' days (R12), each visit's working time counted with ``t_min``."""
    vs = instance.visits
    week = instance.clock.week_minutes
    lim = limits(instance, instance.carers[c])
    lo, hi = start_range(ranges, c, visits)
    mand = [(hi[v], lo[v] + vs[v].duration_min) for v in visits]
    for p in sorted({a for a, b in mand if a < b}):
        clique = [x[(c, v)] for v, (a, b) in zip(visits, mand, strict=True) if a <= p < b]
        if len(clique) > 1:
            m.add_at_most_one(clique)
    intervals = []
    work = []
    by_day: dict[Any, list[Any]] = {}
    carer = instance.carers[c]
    for v in visits:
        t = t_min[v]
        d = vs[v].duration_min
        intervals.append(
            m.new_optional_interval_var(start[v] - t, d + t, start[v] + d, x[(c, v)], "")
        )
        work.append(x[(c, v)] * (d + t))
        if carer.age_on(vs[v].date) < 18:
            by_day.setdefault(vs[v].date, []).append(x[(c, v)] * (d + t))
    if lim.weekly_rest_min > week:
        m.add(sum(x[(c, v)] for v in visits) == 0)
    else:
        s = m.new_int_var(0, week - lim.weekly_rest_min, "")
        intervals.append(m.new_fixed_size_interval_var(s, lim.weekly_rest_min, ""))
    m.add_no_overlap(intervals)
    m.add(sum(work) <= lim.max_week_min)
    for terms in by_day.values():
        m.add(sum(terms) <= YOUNG_DAY_MAX_MIN)
