"""Cancelling a solve: the app's Cancel button sets a flag; the solver returns its best rota so far."""

from __future__ import annotations

import threading
import time

from roster.checker import check
from roster.generator import generate
from solver.params import SolveParams
from solver.solve import solve
from tests.factory import WEEK


def _week():
    return generate(carers=12, children=20, seed=3, week_start=WEEK)


def test_a_stop_flag_ends_a_long_solve_early_with_a_checked_rota():
    instance = _week()
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.perf_counter()
    result = solve(instance, SolveParams(time_limit=300, workers=1, seed=0), stop=stop)
    # Without the flag this solve may run for up to 300 s; the flag ends it at once.
    assert time.perf_counter() - started < 150
    assert check(instance, result.rota) == []
    staffed = {a.visit_id for a in result.rota.assignments}
    listed = {u.visit_id for u in result.rota.unassigned}
    assert staffed | listed == {v.visit_id for v in instance.visits}


def test_a_progress_callback_returning_true_stops_the_search():
    instance = _week()
    calls: list[float] = []

    def progress(seconds: float, objective: float, bound: float) -> bool:
        calls.append(objective)
        return True

    started = time.perf_counter()
    result = solve(instance, SolveParams(time_limit=300, workers=1, seed=0), progress=progress)
    assert time.perf_counter() - started < 150
    assert check(instance, result.rota) == []
    # the first rota found ends the whole solve, later stages included
    assert len(calls) == 1
