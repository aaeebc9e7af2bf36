"""R10 weekly hours: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.locate_r10.

Reading (contract §3): the carer's working time in the week (each row's duration plus its travel
minutes) is at most min(instance, carer) ``max_week_hours``, 40 h for a carer under 18 on any
day of the week (``roster.rules.limits``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

@njit(cache=True)
def route_weekly_hours(ws: np.ndarray, we: np.ndarray, n: int, max_week_min: int) -> bool:
    """R10 over one carer's working intervals ``[ws, we)``: the sum is within the limit."""
    total = 0
    for k in range(n):
        total += we[k] - ws[k]
    return total <= max_week_min


# ---- CP-SAT encoding (the whole model, the coverage master, bounds)
