"""R11 daily rest: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.locate_r11.

Reading (``roster.rules`` module docstring): for every start of work t (a row's start minus its
travel), the window [t, t + 24 h) holds a rest of ``daily_rest_hours`` (12 h under 18): a gap
between merged working intervals that starts inside the window, counted up to the window's end;
time after the last working interval is rest.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

_INF = 1 << 50


@njit(cache=True)
def interval_order(ws: np.ndarray, we: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``[ws, we)[:n]`` sorted by (start, end): an insertion sort, as n is a week's
    visits."""
    order = np.empty(n, dtype=np.int64)
    for k in range(n):
        j = k
        while j > 0 and (ws[order[j - 1]] > ws[k] or (ws[order[j - 1]] == ws[k] and we[order[j - 1]] > we[k])):
            order[j] = order[j - 1]
            j -= 1
        order[j] = k
    return order


@njit(cache=True)
def merge_intervals(ws: np.ndarray, we: np.ndarray, n: int, ms: np.ndarray, me: np.ndarray) -> int:
    """Sort ``[ws, we)[:n]`` by (start, end) and merge those that touch or overlap into
    ``ms``/``me``; returns how many merged intervals there are (``roster.rules._merge``)."""
    m = 0
    order = interval_order(ws, we, n)
    for i in range(n):
        s = ws[order[i]]
        e = we[order[i]]
        if m > 0 and s <= me[m - 1]:
            if e > me[m - 1]:
                me[m - 1] = e
        else:
            ms[m] = s
            me[m] = e
            m += 1
    return m


@njit(cache=True)
def route_daily_rest(ws: np.ndarray, we: np.ndarray, n: int, daily_rest_min: int) -> bool:
    """R11 over one carer's working intervals ``[ws, we)[:n]``."""
    if n == 0:
        return True
    ms = np.empty(n, dtype=np.int64)
    me = np.empty(n, dtype=np.int64)
    m = merge_intervals(ws, we, n, ms, me)
    for k in range(n):
        t = ws[k]
        horizon = t + 24 * 60
        best = 0
        for g in range(m):
            gap_start = me[g]
            if gap_start < t or gap_start >= horizon:
                continue
            gap_end = ms[g + 1] if g + 1 < m else _INF
            length = min(gap_end, horizon) - gap_start
            if length > best:
                best = length
        if best < daily_rest_min:
            return False
    return True


# ---- CP-SAT encoding (the whole model, the coverage master, bounds)

from typing import Any  # noqa: E402 - this section's own imports

from ortools.sat.python import cp_model  # noqa: E402

from roster.model import Instance  # noqa: E402
from roster.rules import limits  # noqa: E402
from solver.candidates import Pairs, start_range  # noqa: E402
from solver.cpbase import CarerModel, Vars  # noqa: E402

# The whole model: every duty (work separated by gaps shorter than the daily rest) spans at most
# 24 h - rest, by a duty-start chain (exact). The master's ``add_carer_duties`` is the same chain
# with each visit's work starting its shortest journey before it (a relaxation).


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

def add_carer_duties(
    m: cp_model.CpModel,
    instance: Instance,
    c: int,
    visits: list[int],
    ranges: Pairs,
    x: dict[tuple[int, int], Any],
    start: dict[int, Any],
    t_min: dict[int, int],
) -> None:
    """R11 in the master, the model's duties (``solver.cpsat.add_daily_rest``) with each
    visit's work starting ``t_min`` before it: ``D[j]``, a lower bound on the start of j's
    duty, is at most j's work start and at least ``end_j - (24 h - rest)``; ``D[j] <= D[i]``
    when i and j are in one duty, which they are when i always ends less than a rest before
    j starts, and otherwise when a literal says so, else j's work starts a rest after i ends.

    A relaxation: a schedule of the model gives the same ``D`` and literals, its work starts
    at most the master's (its journeys in are at least ``t_min``)."""
    vs = instance.visits
    lim = limits(instance, instance.carers[c])
    rest = lim.daily_rest_min
    span = 24 * 60 - rest
    lo, hi = start_range(ranges, c, visits)
    dur = {v: vs[v].duration_min for v in visits}
    duty: dict[int, Any] = {}
    for jj, j in enumerate(visits):
        dj = m.new_int_var(-(10**6), 10**6, "")
        duty[j] = dj
        m.add(dj <= start[j] - t_min[j])
        m.add(start[j] + dur[j] - dj <= span).only_enforce_if(x[(c, j)])
        for i in visits[:jj]:
            if hi[i] + dur[i] <= lo[j] - t_min[j] - rest:
                continue  # always a full rest between them
            both = [x[(c, i)], x[(c, j)]]
            if hi[j] - (lo[i] + dur[i]) < rest:
                m.add(dj <= duty[i]).only_enforce_if(both)
                continue
            same = m.new_bool_var("")
            m.add_implication(same, x[(c, i)])
            m.add_implication(same, x[(c, j)])
            m.add(dj <= duty[i]).only_enforce_if(same)
            m.add(start[j] - t_min[j] >= start[i] + dur[i] + rest).only_enforce_if(
                both + [same.negated()]
            )
