"""The CP-SAT model itself: variables only on eligible pairs, and the greedy warm start is a
complete, feasible solution of it (so CP-SAT starts from the greedy rota at once)."""

from __future__ import annotations

from ortools.sat.python import cp_model

from roster.eligibility import compute_eligibility
from solver.cpsat import build_model, hint_values
from solver.greedy import greedy_with
from solver.params import SolveParams
from tests.factory import carer, make_instance, visit


def test_variables_exist_only_for_eligible_pairs():
    inst = make_instance(
        [carer("K1"), carer("K2", drives=False)], visits=[visit("V1", needs_driver=True)]
    )
    elig = compute_eligibility(inst)
    rm = build_model(inst, elig, SolveParams())
    assert set(rm.x) == {(0, 0)}


def test_greedy_warm_start_is_a_complete_feasible_solution():
    from roster.generator import generate

    inst = generate(6, 12, seed=3)
    elig = compute_eligibility(inst)
    rota = greedy_with(inst, elig)
    rm = build_model(inst, elig, SolveParams())
    values = hint_values(rm, rota)
    assert len(values) == len(rm.variables)
    for var in rm.variables:
        rm.model.add(var == values[var.index])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30
    assert solver.solve(rm.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
