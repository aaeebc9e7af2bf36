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
