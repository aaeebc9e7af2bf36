"""Progress of a solve on every path (CP-SAT stages, coverage master, insertion, search,
decomposition): the best rota's objective and the best bound so far, passed to the caller's
``progress(seconds, objective, bound)`` whenever either improves and every ``TICK`` seconds in
between, so that a bar moves with the clock while a search finds nothing new (on the S and M
paths nothing reported at all before: the CLI bar sat at 0 % for the whole solve)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from roster.model import Instance, Rota
from solver.objective import objective_of, rota_terms
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


T = TypeVar("T")

STOP_SIGNALS: tuple[str, ...] = ("SIGINT", "SIGTERM")
"""The signals that ask a command-line solve to stop early and keep its best checked rota
(Ctrl-C, and what a service manager or ``kill`` sends)."""


def run_stoppable(
    work: Callable[[threading.Event], T], on_stop: Callable[[str], None] | None = None
) -> tuple[T, str | None]:
    """Run ``work(stop)`` in a thread while SIGINT and SIGTERM set ``stop`` instead of killing
    the process; returns what ``work`` returned and the name of the signal that stopped it
    (None when none came).

    ``work`` hands ``stop`` to ``solver.solve`` (or anything honouring a ``StopFlag``): the
    solver is asked to stop and returns its best checked rota, it is not killed, so the
    command can still write that rota. ``on_stop(name)`` is called once, from the main thread,
    when the first signal arrives (the command says what it is doing). A second signal raises
    ``KeyboardInterrupt`` at once: a user pressing Ctrl-C twice wants out, and outputs are
    written atomically, so nothing half-written is left. The solve runs in a thread because
    Python runs signal handlers in the main thread only between bytecodes, never inside
    CP-SAT's C++ search; the main thread waits on the thread, which signals interrupt.

    Outside the main thread (signal handlers cannot be installed there) ``work`` simply runs.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return work(stop), None
    caught: list[str] = []
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work(stop)
        except BaseException as exc:  # re-raised in the main thread below
            outcome["error"] = exc

    def handler(signum: int, _frame: Any) -> None:
        if caught:
            raise KeyboardInterrupt
        caught.append(signal.Signals(signum).name)
        stop.set()
        if on_stop is not None:
            on_stop(caught[0])

    previous = {name: signal.signal(getattr(signal, name), handler) for name in STOP_SIGNALS}
    try:
        thread = threading.Thread(target=target, name="roster-solve", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.5)  # a join wakes for signal handlers (POSIX); the timeout is a loop
    finally:
        for name, old in previous.items():
            signal.signal(getattr(signal, name), old)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"], (caught[0] if caught else None)
