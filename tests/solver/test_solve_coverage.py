"""The coverage master (solver.coverage) bounds the slots any rota of the model staffs, and
proves coverage optimal when a rota meets the bound."""

from __future__ import annotations

import time

import pytest

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.generator import generate
from solver import SolveParams, solve
from solver.coverage import solve_coverage
from solver.cpsat import _Travel, candidate_pairs
from tests.factory import DORCHESTER, carer, child, make_instance, visit


def test_a_week_the_greedy_staffs_fully_is_proven_optimal_on_coverage() -> None:
    inst = make_instance(
        [carer("K1"), carer("K2", lat=DORCHESTER[0] + 0.02)],
        [child("C1"), child("C2", lat=DORCHESTER[0] - 0.02)],
        [visit("V1", "C1", start="09:00"), visit("V2", "C2", start="14:00")],
    )
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert result.carer_slots_bound == 2 == len(result.rota.assignments)
    assert result.coverage_gap == 0.0


def test_two_visits_at_the_same_time_with_one_carer_bound_coverage_at_one_slot() -> None:
    inst = make_instance(
        [carer("K1")],
        [child("C1"), child("C2", lat=DORCHESTER[0] - 0.02)],
        [visit("V1", "C1", start="16:00"), visit("V2", "C2", start="16:00")],
    )
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert result.carer_slots_bound == 1 == len(result.rota.assignments)
    assert result.coverage_gap == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bound_is_never_below_what_a_checked_rota_staffs(seed: int) -> None:
    inst = generate(carers=6, children=10, seed=seed)
    result = solve(inst, SolveParams(time_limit=8, workers=1, seed=seed))
    assert check(inst, result.rota) == []
    slots = sum(v.carers for v in inst.visits)
    covered = len(result.rota.assignments)
    assert result.carer_slots_bound is not None
    assert covered <= result.carer_slots_bound <= slots
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    out = solve_coverage(inst, elig, pairs, _Travel(inst), time.perf_counter() + 8, workers=1)
    assert out.upper is not None and out.upper >= covered


def test_deterministic_mode_with_one_worker_repeats_the_rota_and_the_bound() -> None:
    inst = generate(carers=6, children=10, seed=2)
    params = SolveParams(time_limit=6, workers=1, seed=3, deterministic=True, lns=False)
    first, second = solve(inst, params), solve(inst, params)
    assert check(inst, first.rota) == []
    assert first.rota.assignments == second.rota.assignments
    assert first.carer_slots_bound == second.carer_slots_bound


def test_a_week_too_big_for_the_master_reports_the_lp_capacity_bound(monkeypatch) -> None:
    import importlib

    solve_module = importlib.import_module("solver.solve")
    monkeypatch.setattr(solve_module, "COVERAGE_MAX_PAIRS", 0)
    inst = generate(carers=6, children=10, seed=1)
    result = solve(inst, SolveParams(time_limit=8, workers=1))
    assert check(inst, result.rota) == []
    (stage,) = [s for s in result.stages if s["stage"] == "coverage_bound"]
    assert str(stage["note"]).startswith("LP capacity bound")
    assert result.carer_slots_bound is not None
    assert len(result.rota.assignments) <= result.carer_slots_bound


def test_two_carers_who_each_fit_a_two_to_one_visit_alone_may_not_fit_it_together() -> None:
    from solver.coverage import check_team, check_week

    # K1 ends V1 at 11:30, so starts V2 after 11:30; K2 must leave V2 before V3 at 12:30,
    # so starts it by 11:30 less the journey: each week checks alone, not the two together
    inst = make_instance(
        [carer("K1"), carer("K2")],
        [child("C1"), child("C2", lat=DORCHESTER[0] + 0.012), child("C3", lat=DORCHESTER[0] + 0.014)],
        [
            visit("V1", "C1", start="09:30", duration_min=120),
            visit("V2", "C2", start="11:30", duration_min=60, flex_min=60, carers=2),
            visit("V3", "C3", start="12:30", duration_min=60),
        ],
    )
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    v1, v2, v3 = (inst.visit_index[v] for v in ("V1", "V2", "V3"))
    k1, k2 = inst.carer_index["K1"], inst.carer_index["K2"]
    travel = _Travel(inst)
    assert check_week(inst, elig, travel, pairs, k1, [v1, v2]) is None
    assert check_week(inst, elig, travel, pairs, k2, [v2, v3]) is None
    core = check_team(inst, elig, travel, pairs, {k1: [v1, v2], k2: [v2, v3]})
    assert isinstance(core, list)
    assert {(k1, v2), (k2, v2)} <= set(core)
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == 3 == result.carer_slots_bound


@pytest.mark.parametrize("seed", [4, 5])
def test_a_proven_master_answer_becomes_a_checked_rota_of_that_many_slots(seed: int) -> None:
    inst = generate(carers=10, children=18, seed=seed)
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    out = solve_coverage(inst, elig, pairs, _Travel(inst), time.perf_counter() + 20, workers=1)
    assert out.proven and out.assignment is not None and out.upper is not None
    assert sum(out.assignment.values()) == out.upper
    result = solve(inst, SolveParams(time_limit=20, workers=1, seed=seed))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == out.upper == result.carer_slots_bound
    assert result.coverage_gap == 0.0
