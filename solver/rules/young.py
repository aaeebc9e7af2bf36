"""R12 young workers: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.locate_r12.

Reading (``roster.rules.locate_r12``): on each visit date the carer is under 18, the row's
working time (travel included) has no minute outside 06:00-22:00 local; on each local day the
carer is under 18, the working time of all rows (split at local midnights) is at most 8 h.
Local days and bands are epoch minutes computed by ``roster.calendar.Clock`` (exact across clock
changes): ``day_lo[d]`` is local midnight of day index d, ``ylo[d]``/``yhi[d]`` its 06:00/22:00.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

YOUNG_DAY_MAX_MIN = 8 * 60


@njit(cache=True)
def _night_minutes(s0: int, e0: int, day_lo: np.ndarray, ylo: np.ndarray, yhi: np.ndarray) -> int:
    total = 0
    for d in range(len(ylo)):
        s = max(s0, day_lo[d])
        e = min(e0, day_lo[d + 1])
        if s < e:
            inside = max(0, min(e, yhi[d]) - max(s, ylo[d]))
            total += (e - s) - inside
    return total


@njit(cache=True)
def route_young(
    ws: np.ndarray, we: np.ndarray, vis: np.ndarray, n: int, vday: np.ndarray,
    young_day_c: np.ndarray, day_lo: np.ndarray, ylo: np.ndarray, yhi: np.ndarray,
) -> bool:
    """R12 over one carer's rows; ``young_day_c[d]`` says the carer is under 18 on day d and
    ``vday[v]`` is the day index of visit v's date."""
    nd = len(ylo)
    per_day = np.zeros(nd, dtype=np.int64)
    for k in range(n):
        if young_day_c[vday[vis[k]]] and _night_minutes(ws[k], we[k], day_lo, ylo, yhi) > 0:
            return False
        for d in range(nd):
            s = max(ws[k], day_lo[d])
            e = min(we[k], day_lo[d + 1])
            if s < e:
                per_day[d] += e - s
    for d in range(nd):  # noqa: SIM110 - numba compiles loops, not generators
        if young_day_c[d] and per_day[d] > YOUNG_DAY_MAX_MIN:
            return False
    return True


# ---- CP-SAT encoding (the whole model, the coverage master, bounds)

from typing import Any  # noqa: E402 - this section's own imports

from ortools.sat.python import cp_model  # noqa: E402

from roster.model import Instance  # noqa: E402
from solver.cpbase import CarerModel  # noqa: E402

# The whole model: at most 8 h of working time per local day under 18; the 06:00-22:00 window is a
# pair rule (allowed starts: ``solver.rules.pair``). The master's sums are in
# ``solver.rules.journey.add_carer_time``.


def add_young_worker_days(
    m: cp_model.CpModel, instance: Instance, cm: CarerModel, x: dict[tuple[int, int], cp_model.IntVar]
) -> None:
    """R12 young workers: at most 8 h of working time per local day under 18.

    Eligibility keeps a young worker's visits and their journey from home inside 06:00-22:00 (a
    journey from an earlier visit starts after it), so each visit's working time lies in its day.
    """
    carer = instance.carers[cm.c]
    by_day: dict[Any, list[int]] = {}
    for v in cm.visits:
        visit = instance.visits[v]
        if carer.age_on(visit.date) < 18:
            by_day.setdefault(visit.date, []).append(v)
    for _day, vs in by_day.items():
        m.add(
            sum(x[(cm.c, v)] * instance.visits[v].duration_min + cm.travel[v] for v in vs)
            <= YOUNG_DAY_MAX_MIN
        )
