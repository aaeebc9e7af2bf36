"""Progress of a solve on every path (CP-SAT stages, coverage master, insertion, search,
decomposition): the best rota's objective and the best bound so far, passed to the caller's
``progress(seconds, objective, bound)`` whenever either improves and every ``TICK`` seconds in
between, so that a bar moves with the clock while a search finds nothing new (on the S and M
paths nothing reported at all before: the CLI bar sat at 0 % for the whole solve)."""

from __future__ import annotations

import threading
import time
from typing import Any

from roster.model import Instance, Rota
from solver.params import Progress, SolveParams

TICK = 0.5
"""Seconds between two reports when nothing improves."""


class Reporter:
    """Wraps the caller's ``progress``; callable itself with the same signature, so the CP-SAT
    stages report through it. A report returning True sets ``stop`` (the caller cancels) and
    is the last. A bound is a lower bound on the cost; before one is known, 0 (every term is
    >= 0). The CP-SAT stages report their own stage's objective and bound, as before."""

    def __init__(self, progress: Progress | None, t0: float, stop: Any) -> None:
        self.progress, self.t0, self.stop = progress, t0, stop
        self.objective: float | None = None
        self.bound = 0.0
        self._lock = threading.Lock()
        self._cancelled = False  # the caller asked to stop: no more reports
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        if progress is not None:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()

    def __call__(self, seconds: float, objective: float, bound: float) -> bool:
        """A report from a CP-SAT stage (its own objective and bound)."""
        with self._lock:
            self.objective, self.bound = objective, bound
        return self._send()

    def rota(self, instance: Instance, rota: Rota, params: SolveParams) -> None:
        """The best rota so far: its whole weighted cost."""
        if self.progress is None:
            return
        from solver.solve import objective_of, rota_terms

        cost = objective_of(rota_terms(instance, rota, params), params.weights)
        with self._lock:
            self.objective = cost
        self._send()

    def lower(self, bound: float) -> None:
        """A proven lower bound on the cost (e.g. from the coverage master's slot bound)."""
        if self.progress is None:
            return
        with self._lock:
            if bound <= self.bound:
                return
            self.bound = bound
        self._send()

    def final(self, objective: float, bound: float | None) -> None:
        """The returned rota's cost and the solve's bound: the last report."""
        with self._lock:
            self.objective = objective
            if bound is not None:
                self.bound = bound
        self._send()

    def close(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _send(self) -> bool:
        if self.progress is None:
            return False
        with self._lock:
            if self.objective is None or self._cancelled:
                return self._cancelled
            answer = self.progress(time.perf_counter() - self.t0, self.objective, self.bound)
            self._cancelled = answer is True
        if self._cancelled and self.stop is not None and hasattr(self.stop, "set"):
            self.stop.set()
        return self._cancelled

    def _tick(self) -> None:
        while not self._done.wait(TICK):
            self._send()
