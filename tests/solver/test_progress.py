"""Progress on every path of ``solve``: the best objective and the bound as they improve, and
the clock in between (the CLI's bar and the app's indicator are fed by it)."""

from __future__ import annotations

import pytest

from roster.checker import check
from roster.generator import generate
from solver.params import SolveParams
from solver.solve import solve
from tests.factory import WEEK


@pytest.mark.parametrize("lns", [True, False])
def test_progress_reports_the_clock_the_best_objective_and_a_bound_below_it(lns: bool) -> None:
    instance = generate(carers=6, children=10, seed=2, week_start=WEEK)
    calls: list[tuple[float, float, float]] = []

    def progress(seconds: float, objective: float, bound: float) -> None:
        calls.append((seconds, objective, bound))

    result = solve(instance, SolveParams(time_limit=4, workers=1, seed=0, lns=lns),
                   progress=progress)
    assert check(instance, result.rota) == []
    assert len(calls) >= 3
    seconds = [s for s, _, _ in calls]
    assert seconds == sorted(seconds)
    assert seconds[0] < result.seconds / 2  # reports come during the solve, not only at its end
    # the last report is the rota returned
    assert calls[-1][1] == pytest.approx(result.objective)
    if result.bound is not None:
        assert calls[-1][2] == pytest.approx(result.bound)
    # (the model's rounding of miles may put a proven stage bound a hundredth above)
    assert all(bound <= objective * (1 + 1e-4) + 1e-6 for _, objective, bound in calls)


def test_on_the_search_path_the_bound_reported_is_the_proven_coverage_bound() -> None:
    instance = generate(carers=6, children=10, seed=2, week_start=WEEK)
    bounds: list[float] = []
    result = solve(instance, SolveParams(time_limit=4, workers=1, seed=0, lns=True),
                   progress=lambda s, o, b: bounds.append(b))
    assert check(instance, result.rota) == []
    assert result.carer_slots_bound is not None
    slots = sum(v.carers for v in instance.visits)
    expected = SolveParams().weights.coverage * (slots - result.carer_slots_bound)
    assert max(bounds) == pytest.approx(expected)
    assert bounds[0] == 0.0  # before the master's bound, only "every term is >= 0"
