"""R14 weekly rest: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.locate_r14.

Reading (``roster.rules.locate_r14``): working time clipped to the week [0, week_minutes) leaves
an unbroken rest of ``weekly_rest_hours`` (48 h under 18), which may run from the week's first
midnight or up to its last.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solver.rules.daily_rest import merge_intervals

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

@njit(cache=True)
def route_weekly_rest(ws: np.ndarray, we: np.ndarray, n: int, weekly_rest_min: int, week_minutes: int) -> bool:
    """R14 over one carer's working intervals ``[ws, we)[:n]``."""
    if n == 0:
        return True
    cs = np.empty(n, dtype=np.int64)
    ce = np.empty(n, dtype=np.int64)
    k2 = 0
    for k in range(n):
        s = max(ws[k], 0)
        e = min(we[k], week_minutes)
        if s < e:
            cs[k2] = s
            ce[k2] = e
            k2 += 1
    ms = np.empty(max(k2, 1), dtype=np.int64)
    me = np.empty(max(k2, 1), dtype=np.int64)
    m = merge_intervals(cs, ce, k2, ms, me)
    best = 0
    prev = 0
    for i in range(m):
        if ms[i] - prev > best:
            best = ms[i] - prev
        prev = me[i]
    if week_minutes - prev > best:
        best = week_minutes - prev
    return best >= weekly_rest_min


# ---- CP-SAT encoding (the whole model, the coverage master, bounds)

from typing import Any  # noqa: E402 - this section's own imports

from ortools.sat.python import cp_model  # noqa: E402

from roster.model import Instance  # noqa: E402
from solver.cpbase import CarerModel, Vars  # noqa: E402

# The whole model: one block of ``weekly_rest`` minutes inside the week shares the carer's
# NoOverlap with every working interval (exact). The master's block is in
# ``solver.rules.journey.add_carer_time`` (one NoOverlap with its visits).


def add_weekly_rest(
    m: cp_model.CpModel, new: Vars, instance: Instance, cm: CarerModel, x: dict[tuple[int, int], Any]
) -> None:
    """R14 weekly rest: one block of ``weekly_rest`` minutes inside the week, free of work."""
    if not cm.visits:
        return
    week = instance.clock.week_minutes
    rest = cm.limits.weekly_rest_min
    if rest > week:  # no rest of that length fits the week: the carer cannot work at all
        m.add(sum(x[(cm.c, v)] for v in cm.visits) == 0)
        return
    s = new.integer(0, week - rest, f"wrest{cm.c}")
    block = m.new_fixed_size_interval_var(s, rest, f"wrest{cm.c}")
    cm.weekly_rest = s
    m.add_no_overlap(list(cm.intervals.values()) + [block])
