"""Keeping a rota through the pipeline: ``solve`` with a kept rota (hint + reference) and locks
runs the search engine on weeks of 110+ visits, and ``roster solve --keep``.

Assertions hold whatever the machine's speed: the engine starts from the kept rota and keeps the
best lexicographically, so coverage cannot fall below the kept rota's and a change is only made
for coverage; every rota goes through the checker. With a kept rota there is no coverage master,
so the 15 s limits leave the search many seconds after eligibility and the greedy even on two
busy cores (it needs one to start).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from roster.checker import check
from roster.generator import generate
from roster.io import load_instance, load_rota
from roster.model import Instance, Rota
from solver import SolveParams, solve
from solver.solve import use_engine


@pytest.fixture(scope="module")
def week() -> Instance:
    return generate(carers=30, children=56, seed=1)


@pytest.fixture(scope="module")
def current(week: Instance) -> Rota:
    return solve(week, SolveParams(time_limit=8, seed=1)).rota


def slots(rota: Rota) -> int:
    return len(rota.assignments)


def test_the_engine_runs_with_a_reference_and_locks_on_a_large_week(week: Instance, current: Rota) -> None:
    params = SolveParams(reference=current, hint=current, locks=(current.assignments[0],))
    assert len(week.visits) >= 110 and use_engine(week, params)
    assert not use_engine(week, replace(params, engine=False))


def test_keep_and_lock_one_row_keeps_the_rota(week: Instance, current: Rota) -> None:
    lock = current.assignments[3]
    result = solve(week, SolveParams(time_limit=15, seed=2, hint=current, reference=current,
                                     locks=(lock,)))
    assert not check(week, result.rota)
    assert slots(result.rota) >= slots(current)
    kept = {(a.visit_id, a.carer_id) for a in result.rota.assignments}
    changed = sum(1 for a in current.assignments if (a.visit_id, a.carer_id) not in kept)
    assert changed <= 0.01 * len(current.assignments) or slots(result.rota) > slots(current)
    assert any(a.visit_id == lock.visit_id and a.carer_id == lock.carer_id and a.start == lock.start
               for a in result.rota.assignments)
    assert any(s["stage"] == "search" for s in result.stages)


def test_a_relaxation_with_keep_never_loses_coverage(week: Instance, current: Rota) -> None:
    wider = replace(week, settings=replace(week.settings, mileage_cap_miles=25.0))
    result = solve(wider, SolveParams(time_limit=15, seed=3, hint=current, reference=current))
    assert not check(wider, result.rota)
    assert slots(result.rota) >= slots(current)


def test_kept_rows_that_break_a_rule_after_an_edit_are_dropped_not_fatal(week: Instance, current: Rota) -> None:
    """A tighter weekly-hours limit makes some kept weeks illegal: those rows are left out and
    the rest of the kept rota stays."""
    tighter = replace(week, settings=replace(week.settings, max_week_hours=12.0))
    result = solve(tighter, SolveParams(time_limit=15, seed=4, hint=current, reference=current))
    assert not check(tighter, result.rota)
    search = [s for s in result.stages if s["stage"] == "search"]
    assert search and search[0]["dropped_rows"] > 0


def test_roster_solve_keep_starts_from_the_given_rota(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    cmd = [sys.executable, "-m", "roster.cli", "solve", "data/sample", str(first), "--time-limit", "20",
           "--quiet"]
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=600).returncode == 0
    cmd = [sys.executable, "-m", "roster.cli", "solve", "data/sample", str(second), "--time-limit", "20",
           "--quiet", "--keep", str(first)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    instance = load_instance("data/sample")
    a, b = load_rota(instance, first), load_rota(instance, second)
    assert not check(instance, b)
    assert {(r.visit_id, r.carer_id) for r in a.assignments} == {(r.visit_id, r.carer_id) for r in b.assignments}
