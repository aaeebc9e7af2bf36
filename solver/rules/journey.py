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
