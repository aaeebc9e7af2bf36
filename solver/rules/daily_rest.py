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
def merge_intervals(ws: np.ndarray, we: np.ndarray, n: int, ms: np.ndarray, me: np.ndarray) -> int:
    """Sort ``[ws, we)[:n]`` by (start, end) and merge those that touch or overlap into
    ``ms``/``me``; returns how many merged intervals there are (``roster.rules._merge``)."""
    m = 0
    order = np.empty(n, dtype=np.int64)
    for k in range(n):
        j = k
        while j > 0 and (ws[order[j - 1]] > ws[k] or (ws[order[j - 1]] == ws[k] and we[order[j - 1]] > we[k])):
            order[j] = order[j - 1]
            j -= 1
        order[j] = k
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
