"""Compile the search engine's kernel once, ahead of the first solve: ``python -m solver.search.warm``.

numba compiles the kernel on its first call and caches the machine code beside the sources
(``__pycache__``); the first compile takes about a minute of CPU, which a solve's time limit
must not pay. ``make install`` runs this, so the first ``roster solve`` starts from the cache.
"""

from __future__ import annotations

import sys
import time

from roster.generator import generate
from solver.greedy import greedy
from solver.params import Weights
from solver.search.engine import SearchParams, improve


def warm() -> float:
    """Run every move kind on a tiny generated week; returns the seconds it took."""
    t0 = time.perf_counter()
    instance = generate(carers=4, children=6, seed=1)
    improve(instance, greedy(instance), weights=Weights(), search=SearchParams(max_moves=400, seed=0))
    return time.perf_counter() - t0


if __name__ == "__main__":
    print(f"search engine ready ({warm():.1f} s)", file=sys.stderr)
