"""R4 timing: start within [planned - flex, planned + flex], end = start + duration, both carers of a 2:1 start together, two different carers: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.r4_timing.

Reading (contract §3 R4): a start within [planned - flex, planned + flex] (narrowed, per carer,
to the ranges where R5, R7 and R12's journey from home also hold: ``solver.rules.pair``);
end = start + duration; both carers of a 2:1 start together (the engine holds one start per
visit, so its routes cannot split a pair) and are two different carers.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

@njit(cache=True)
def start_in_ranges(s: int, lo: np.ndarray, hi: np.ndarray, first: int, last: int) -> bool:
    """Whether ``s`` lies in one of the inclusive ranges ``[lo[i], hi[i]]`` for first <= i < last."""
    for i in range(first, last):  # noqa: SIM110 - numba compiles loops, not generators
        if lo[i] <= s <= hi[i]:
            return True
    return False


@njit(cache=True)
def nearest_in_ranges(s: int, lo: np.ndarray, hi: np.ndarray, first: int, last: int) -> int:
    """The start in those ranges nearest ``s`` (the earlier one on a tie); -1 if there is none."""
    best = -1
    best_d = 1 << 60
    for i in range(first, last):  # noqa: SIM110 - numba compiles loops, not generators
        t = min(max(s, lo[i]), hi[i])
        d = abs(t - s)
        if d < best_d:
            best_d = d
            best = t
    return best


# ---- CP-SAT encoding (the whole model, the coverage master, bounds)

from typing import Any  # noqa: E402 - this section's own imports

from ortools.sat.python import cp_model  # noqa: E402

from roster.model import Instance  # noqa: E402
from solver.candidates import merge_ranges  # noqa: E402
from solver.cpbase import Vars  # noqa: E402

# The whole model: a visit is staffed by exactly ``carers`` different carers or not at all, one
# start shared by its carers (a 2:1 pair starts together), each carer's literal holding the start
# to that carer's allowed ranges (the pair rules' starts: ``solver.rules.pair``). The coverage
# master and the bounds by days use the same builder.


def add_staffing(
    m: cp_model.CpModel,
    new: Vars,
    instance: Instance,
    pairs: dict[tuple[int, int], list[tuple[int, int]]],
) -> tuple[dict[tuple[int, int], cp_model.IntVar], dict[int, cp_model.IntVar], dict[int, Any]]:
    """R4: a visit is staffed by exactly ``carers`` different carers or not at all, all starting
    together at a start inside the flex window that each carer's ``allowed_starts`` permits.

    A 2:1 visit is never half staffed: one carer alone cannot do a session the care plan sets
    for two, so its two carer slots are covered or missed together.
    """
    by_visit: dict[int, list[int]] = {}
    for c, v in pairs:
        by_visit.setdefault(v, []).append(c)
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    start: dict[int, cp_model.IntVar] = {}
    staffed: dict[int, Any] = {}
    for v, visit in enumerate(instance.visits):
        carers = sorted(by_visit.get(v, []))
        if len(carers) < visit.carers:
            staffed[v] = 0
            continue
        union = sorted(r for c in carers for r in pairs[(c, v)])
        start[v] = new.domain(merge_ranges(union), f"s{v}")
        staffed[v] = new.boolean(f"staffed{v}")
        for c in carers:
            lit = new.boolean(f"x{c}_{v}")
            x[(c, v)] = lit
            ranges = pairs[(c, v)]
            if merge_ranges(union) != ranges:
                m.add_linear_expression_in_domain(
                    start[v], cp_model.Domain.from_intervals([[a, b] for a, b in ranges])
                ).only_enforce_if(lit)
        m.add(sum(x[(c, v)] for c in carers) == visit.carers * staffed[v])
    return x, start, staffed
