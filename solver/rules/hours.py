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

from typing import Any  # noqa: E402 - this section's own imports

from ortools.sat.python import cp_model  # noqa: E402

from roster.model import Instance  # noqa: E402
from solver.cpbase import CarerModel  # noqa: E402

# The whole model: visit + travel minutes within the weekly limit (exact, the travel minutes being
# the R13 journeys'). The master's sum is in ``solver.rules.journey.add_carer_time``.


def add_weekly_hours(
    m: cp_model.CpModel, instance: Instance, cm: CarerModel, x: dict[tuple[int, int], cp_model.IntVar]
) -> Any:
    """R10 weekly hours: visit + travel minutes within the carer's weekly limit. Returns the
    carer's working minutes."""
    vs = instance.visits
    total = sum(x[(cm.c, v)] * vs[v].duration_min + cm.travel[v] for v in cm.visits)
    m.add(total <= cm.limits.max_week_min)
    return total
