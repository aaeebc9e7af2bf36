"""R15 rest break: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.locate_r15.

Reading (``roster.rules.locate_r15``): a duty is a maximal run of working intervals (in order of
start) separated by gaps shorter than the daily rest; a duty of two or more rows whose working
time is over ``break_after_hours`` (4.5 h under 18) holds a gap of ``break_min`` (30 min under
18) between its merged working intervals.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solver.rules.daily_rest import merge_intervals

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

@njit(cache=True)
def route_breaks(
    ws: np.ndarray, we: np.ndarray, n: int, daily_rest_min: int, break_after_min: int, break_min: int
) -> bool:
    """R15 over one carer's working intervals ``[ws, we)[:n]``."""
    if n < 2:
        return True
    order = np.empty(n, dtype=np.int64)
    for k in range(n):
        j = k
        while j > 0 and (ws[order[j - 1]] > ws[k] or (ws[order[j - 1]] == ws[k] and we[order[j - 1]] > we[k])):
            order[j] = order[j - 1]
            j -= 1
        order[j] = k
    ds = np.empty(n, dtype=np.int64)
    de = np.empty(n, dtype=np.int64)
    ms = np.empty(n, dtype=np.int64)
    me = np.empty(n, dtype=np.int64)
    i = 0
    while i < n:
        # one duty: rows order[i:j]
        reach = we[order[i]]
        j = i + 1
        while j < n and ws[order[j]] - reach < daily_rest_min:
            if we[order[j]] > reach:
                reach = we[order[j]]
            j += 1
        size = j - i
        if size >= 2:
            total = 0
            for q in range(size):
                ds[q] = ws[order[i + q]]
                de[q] = we[order[i + q]]
                total += de[q] - ds[q]
            if total > break_after_min:
                m = merge_intervals(ds, de, size, ms, me)
                longest = 0
                for g in range(m - 1):
                    if ms[g + 1] - me[g] > longest:
                        longest = ms[g + 1] - me[g]
                if longest < break_min:
                    return False
        i = j
    return True


# ---- CP-SAT encoding (the whole model, the coverage master, bounds)
