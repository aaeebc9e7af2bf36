"""The time limit is a wall-clock promise: building the model counts, and a model that cannot
be built in time is not built — the greedy rota comes back, checked."""

from __future__ import annotations

from roster.checker import check
from roster.generator import generate
from solver import SolveParams, solve


def test_a_tiny_limit_skips_the_model_build_and_returns_the_checked_greedy_rota() -> None:
    inst = generate(carers=8, children=14, seed=2)
    greedy = solve(inst, SolveParams(use_greedy_only=True, workers=1))
    result = solve(inst, SolveParams(time_limit=0.001, workers=1, lns=False))
    assert check(inst, result.rota) == []
    assert result.status == "GREEDY"
    build = [s for s in result.stages if s["stage"] == "build"]
    assert build and str(build[0]["status"]).startswith("skipped")
    assert not any(s["stage"] in ("coverage", "continuity", "quality") for s in result.stages)
    assert len(result.rota.assignments) == len(greedy.rota.assignments)


def test_a_tiny_limit_on_a_large_week_starts_no_search() -> None:
    inst = generate(carers=30, children=56, seed=1)
    result = solve(inst, SolveParams(time_limit=0.001, workers=1))
    assert check(inst, result.rota) == []
    assert result.status == "GREEDY"
    assert not any(s["stage"] == "lns" for s in result.stages)


def test_a_limit_that_fits_the_build_records_it_as_a_stage() -> None:
    inst = generate(carers=4, children=6, seed=1)
    result = solve(inst, SolveParams(time_limit=20, workers=1, lns=False))
    assert check(inst, result.rota) == []
    (build,) = [s for s in result.stages if s["stage"] == "build"]
    assert build["status"] == "built" and build["variables"] > 0
    names = [s["stage"] for s in result.stages]
    assert names.index("coverage") == names.index("build") + 1


def test_a_week_with_many_carers_goes_to_the_decomposed_greedy_and_is_checked(monkeypatch) -> None:
    import importlib

    solve_module = importlib.import_module("solver.solve")
    monkeypatch.setattr(solve_module, "DECOMPOSE_MIN_CARERS", 5)
    inst = generate(carers=8, children=14, seed=2)
    result = solve(inst, SolveParams(time_limit=20, workers=1))
    assert check(inst, result.rota) == []
    assert result.stages[0]["stage"] == "decomposed"
    staffed = {a.visit_id for a in result.rota.assignments}
    assert staffed | {u.visit_id for u in result.rota.unassigned} == {v.visit_id for v in inst.visits}
    # a forced method, locks or a reference keep the monolithic solve
    assert not solve_module._use_decompose(inst, SolveParams(lns=True))
