"""LNS keeps what the greedy staffed and returns a checker-clean rota."""

from __future__ import annotations

import pytest

from roster.checker import check
from roster.generator import generate
from solver import SolveParams, solve
from solver.lns import LnsParams, improve


@pytest.mark.slow
def test_lns_never_staffs_fewer_slots_than_its_seed_and_is_checker_clean() -> None:
    inst = generate(carers=8, children=14, seed=2)
    seed_rota = solve(inst, SolveParams(use_greedy_only=True)).rota
    result = improve(inst, seed_rota, LnsParams(time_limit=8, move_time=3, carers_per_move=4))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) >= len(seed_rota.assignments)
    assert result.moves >= 1


def test_solve_with_lns_is_checker_clean_and_no_worse_than_the_greedy() -> None:
    inst = generate(carers=8, children=14, seed=2)
    greedy = solve(inst, SolveParams(use_greedy_only=True))
    result = solve(inst, SolveParams(time_limit=4, workers=1, lns=True))
    assert check(inst, result.rota) == []
    assert "lns" in [s["stage"] for s in result.stages]
    assert len(result.rota.assignments) >= len(greedy.rota.assignments)
    if len(result.rota.assignments) == len(greedy.rota.assignments):
        assert result.objective <= greedy.objective + 1e-6


def test_automatic_lns_leaves_locked_and_small_weeks_to_the_whole_model() -> None:
    from solver.solve import LNS_MIN_VISITS, _use_lns

    inst = generate(carers=30, children=56, seed=1)
    assert len(inst.visits) >= LNS_MIN_VISITS
    assert _use_lns(inst, SolveParams())
    assert not _use_lns(inst, SolveParams(locks=((inst.visits[0].visit_id, inst.carers[0].carer_id),)))
    assert not _use_lns(inst, SolveParams(lns=False))
    small = generate(carers=8, children=14, seed=2)
    assert not _use_lns(small, SolveParams())
