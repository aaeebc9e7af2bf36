"""The CP-SAT building blocks every model shares: the variable factory that remembers what it
made (for hints), a carer's sequencing handles (``CarerModel``, ``Arc``) that the rule
encodings read and write, and the watcher that stops a search when its stop flag is set.

Used by the whole model (``solver.cpsat``), the rule encodings (``solver.rules``), the coverage
master, the bounds and the search's moves.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from roster.rules import Limits


@dataclass
class Arc:
    """Carer c goes straight from visit i to visit j (less than the return-home gap later)."""

    i: int
    j: int
    lit: cp_model.IntVar
    minutes: int
    miles: float
    run: Any = None
    """Literal: j continues i's run (gap free of work shorter than ``break_min``), or None."""


@dataclass
class CarerModel:
    c: int
    limits: Limits
    visits: list[int]
    """Candidate visit indices in planned-start order."""
    arcs_into: dict[int, list[Arc]] = field(default_factory=dict)
    home: dict[int, Any] = field(default_factory=dict)
    """visit -> literal 'comes from home' (or the constant 0)."""
    travel: dict[int, cp_model.IntVar] = field(default_factory=dict)
    """visit -> travel minutes into it (0 when not assigned)."""
    work_start: dict[int, cp_model.IntVar] = field(default_factory=dict)
    intervals: dict[int, cp_model.IntervalVar] = field(default_factory=dict)
    max_travel: dict[int, int] = field(default_factory=dict)
    run_work: dict[int, Any] = field(default_factory=dict)
    last_end: dict[int, Any] = field(default_factory=dict)
    weekly_rest: Any = None
    presence: dict[int, Any] = field(default_factory=dict)
    duty_start: dict[int, Any] = field(default_factory=dict)
    duty_links: list[tuple[int, int, Any]] = field(default_factory=list)


class Vars:
    """Creates variables and remembers them, so a stage can hint the previous stage's values."""

    def __init__(self, model: cp_model.CpModel):
        self.model = model
        self.all: list[cp_model.IntVar] = []

    def boolean(self, name: str) -> cp_model.IntVar:
        v = self.model.new_bool_var(name)
        self.all.append(v)
        return v

    def integer(self, lo: int, hi: int, name: str) -> cp_model.IntVar:
        v = self.model.new_int_var(int(lo), int(hi), name)
        self.all.append(v)
        return v

    def domain(self, ranges: Sequence[tuple[int, int]], name: str) -> cp_model.IntVar:
        v = self.model.new_int_var_from_domain(
            cp_model.Domain.from_intervals([[int(a), int(b)] for a, b in ranges]), name
        )
        self.all.append(v)
        return v


class StopWatcher:
    """Polls a stop flag while CP-SAT searches and stops the search when it is set.

    A solution callback alone would only notice a cancel at the next improving rota, which on
    a hard week may be minutes away.
    """

    def __init__(self, solver: cp_model.CpSolver, stop: Any):
        self.solver, self.stop = solver, stop
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.done.wait(0.1):
            if self.stop.is_set():
                self.solver.stop_search()
                return

    def __enter__(self) -> StopWatcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
