"""The column-generation bound on continuity (solver.contbound): a lower bound on the continuity
cost of every rota staffing a given number of slots, exact on weeks worked out by hand."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.generator import generate
from roster.model import Availability, Instance
from solver import SolveParams, solve
from solver.contbound import continuity_bound
from solver.cpsat import _Travel, candidate_pairs
from solver.params import Weights
from tests.factory import WEEK, carer, child, make_instance, visit

W = Weights()
PAIR = W.distinct_carers + W.stranger  # a carer the child has never had


def _bound(inst: Instance, slots: int, seconds: float = 20.0) -> tuple[float, bool]:
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    out = continuity_bound(inst, elig, pairs, _Travel(inst), slots, W,
                           time.perf_counter() + seconds)
    return out.bound, out.converged


def _continuity(result: object) -> float:
    t = result.terms  # type: ignore[attr-defined]
    return (t["distinct_carers"] * W.distinct_carers + t["stranger_carers"] * W.stranger
            + t["carers_over_target"] * W.over_target)


def _two_days(max_carers: int | None = None) -> Instance:
    """C1 has a visit on Monday and one on Tuesday; K1 works Mondays only, K2 Tuesdays only."""
    return make_instance(
        [carer("K1"), carer("K2")],
        [child("C1", max_carers_week=max_carers)],
        [visit("V1", "C1", start="09:00"),
         visit("V2", "C1", start="09:00", date=WEEK + timedelta(days=1))],
        availability=(Availability("K1", "Mon", "07:00", "22:00"),
                      Availability("K2", "Tue", "07:00", "22:00")),
    )


def test_a_child_whose_visits_no_one_carer_can_do_both_costs_two_carers() -> None:
    inst = _two_days()
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == 2
    bound, converged = _bound(inst, 2)
    assert converged
    assert bound == 2 * PAIR == _continuity(result)


def test_a_family_maximum_of_one_carer_adds_the_charge_for_the_second() -> None:
    inst = _two_days(max_carers=1)
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    bound, _ = _bound(inst, 2)
    assert bound == 2 * PAIR + W.over_target == _continuity(result)


def test_weekly_hours_that_fit_two_visits_of_three_give_the_fractional_bound() -> None:
    # three 4-hour visits, carers allowed 9 hours a week: a carer takes at most two, so a rota
    # needs two carers (320); the LP can share three visits over 1.5 weeks of two (240)
    days = [WEEK + timedelta(days=d) for d in range(3)]
    inst = make_instance(
        [carer("K1", max_week_hours=9.0), carer("K2", max_week_hours=9.0)],
        [child("C1")],
        [visit(f"V{i}", "C1", start="09:00", duration_min=240, date=d)
         for i, d in enumerate(days, 1)],
    )
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == 3
    bound, converged = _bound(inst, 3)
    assert converged
    assert bound == 1.5 * PAIR
    assert bound < _continuity(result) == 2 * PAIR


def test_a_carer_the_child_knows_costs_only_the_distinct_carer() -> None:
    from roster.model import History

    inst = replace(_two_days(), history=(History("C1", "K1", 10.0), History("C1", "K2", 4.0)))
    bound, _ = _bound(inst, 2)
    assert bound == 2 * W.distinct_carers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bound_never_passes_a_proven_optimum(seed: int) -> None:
    inst = generate(carers=4, children=7, seed=seed)
    result = solve(inst, SolveParams(time_limit=10, workers=2, seed=seed))
    assert check(inst, result.rota) == []
    stages = {s["stage"]: s for s in result.stages}
    assert stages["continuity"]["status"] == "OPTIMAL"
    assert result.coverage_gap == 0.0
    staffed = {a.visit_id for a in result.rota.assignments}
    children = {v.child_id for v in inst.visits if v.visit_id in staffed}
    bound, converged = _bound(inst, len(result.rota.assignments))
    assert converged
    # every child with a staffed visit has a carer, and no rota of that many slots costs less
    # than the proven optimum
    assert W.distinct_carers * len(children) <= bound <= _continuity(result)
