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
