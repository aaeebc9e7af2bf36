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

from solver.rules.daily_rest import interval_order, merge_intervals

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

@njit(cache=True)
def route_breaks(
    ws: np.ndarray, we: np.ndarray, n: int, daily_rest_min: int, break_after_min: int, break_min: int
) -> bool:
    """R15 over one carer's working intervals ``[ws, we)[:n]``."""
    if n < 2:
        return True
    order = interval_order(ws, we, n)
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

from typing import Any  # noqa: E402 - this section's own imports

from ortools.sat.python import cp_model  # noqa: E402

from roster.model import Instance  # noqa: E402
from roster.rules import limits  # noqa: E402
from solver.candidates import Pairs, start_range  # noqa: E402
from solver.cpbase import Arc, CarerModel, Vars  # noqa: E402

# The whole model (conservative reading): a *run* is a chain of visits whose gaps free of work are
# shorter than ``break_min`` (the run literals come with the arcs, ``solver.rules.journey``); a run
# of two or more visits holds at most ``break_after`` of working time. Every duty that breaks R15
# holds such a run, so R15 holds; some duties R15 allows are refused. The master's
# ``add_carer_breaks`` relaxes the model's runs (not the contract's R15).


def add_runs(
    m: cp_model.CpModel, new: Vars, cm: CarerModel, runs_into: dict[int, list[Arc]]
) -> None:
    """R15 (conservative, see module docstring): a run of two or more visits holds at most
    ``break_after`` minutes of working time. ``W[j]`` is the working time of j's run up to j."""
    if not runs_into:
        return
    involved = set(runs_into)
    for arcs in runs_into.values():
        involved.update(a.i for a in arcs)
    limit = cm.limits.break_after_min
    work: dict[int, cp_model.IntVar] = {}
    for v in involved:
        w = new.integer(0, 10 * 24 * 60, f"W{cm.c}_{v}")
        size: Any = cm.intervals[v].size_expr()
        m.add(w >= size)
        work[v] = w
    cm.run_work = work
    for j, arcs in runs_into.items():
        for a in arcs:
            size_j: Any = cm.intervals[j].size_expr()
            m.add(work[j] >= work[a.i] + size_j).only_enforce_if(a.run)
            m.add(work[j] <= limit).only_enforce_if(a.run)

def add_carer_breaks(
    m: cp_model.CpModel,
    instance: Instance,
    c: int,
    visits: list[int],
    ranges: Pairs,
    x: dict[tuple[int, int], Any],
    start: dict[int, Any],
    t_min: dict[int, int],
    minutes: Any = None,
) -> None:
    """R15 in the master, a relaxation of the model's runs (``solver.cpsat._add_runs``): when
    two of carer c's visits i (earlier) and j hold more than ``break_after`` of work (their
    lengths and shortest journeys in ``t_min``), j starts at least the journey i -> j plus
    ``break_min`` after i ends (``minutes[a][b]``: the journey between the a-th and b-th of
    ``visits``; None: no journey counted).

    Valid: if j starts sooner, every visit of the carer between them, and j, starts less than
    ``break_min`` + its journey in (under ``return_home_gap``) after the one before ends; each
    then comes from the one before (R13: not from home) and the arc's gap free of work is
    shorter than ``break_min`` — the gaps free of work along the chain add up to at most the
    direct one, less the lengths of the visits between (the default travel model keeps the
    triangle inequality to a minute a leg, ceil of great-circle miles; a supplied matrix need
    not, so the caller passes None then). So i, the visits between and j are one run holding
    more than ``break_after``, which the model refuses. Measured on S seed 4: the master's
    first answer had 3 weeks refused by R15 alone; with this, none."""
    vs = instance.visits
    lim = limits(instance, instance.carers[c])
    gap = instance.settings.return_home_gap_min
    lo, hi = start_range(ranges, c, visits)
    dur = {v: vs[v].duration_min for v in visits}
    for jj, j in enumerate(visits):
        for ii, i in enumerate(visits[:jj]):
            if dur[i] + t_min[i] + dur[j] + t_min[j] <= lim.break_after_min:
                continue
            need = lim.break_min + (0 if minutes is None else int(minutes[ii][jj]))
            if need > gap or lo[j] - (hi[i] + dur[i]) >= need:
                continue  # past the return-home gap, or always a break between them
            if hi[j] - (lo[i] + dur[i]) < need:
                m.add_bool_or([x[(c, i)].negated(), x[(c, j)].negated()])
            else:
                m.add(start[j] >= start[i] + dur[i] + need).only_enforce_if(
                    [x[(c, i)], x[(c, j)]]
                )
