"""The bound for large weeks, by parts of the visits: valid (never below a rota, never below the
whole LP once the parts' LP values are summed) and the same pairs as the whole-instance route."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.generator import generate
from roster.model import Instance
from solver.bounds import (
    capacity_bound,
    partitioned_bound,
    reachable_pair_list,
    reachable_pairs,
    visit_parts,
)
from solver.greedy import greedy


@cache
def _week(seed: int) -> Instance:
    return generate(carers=10, children=16, seed=seed)


def test_pairs_found_a_few_carers_at_a_time_are_the_whole_instances_pairs() -> None:
    inst = _week(11)
    whole = reachable_pairs(inst, compute_eligibility(inst))
    pc, pv, miles = reachable_pair_list(inst, chunk_pairs=3 * len(inst.visits))  # 3 carers a block
    blocks = np.zeros_like(whole)
    blocks[pc, pv] = True
    assert np.array_equal(blocks, whole)
    assert len(pc) == int(whole.sum()) and np.all(miles >= 0)


@pytest.mark.parametrize("max_pairs", [10**9, 40])
def test_parts_partition_the_visits(max_pairs: int) -> None:
    inst = _week(12)
    _, pv, _ = reachable_pair_list(inst)
    part = visit_parts(inst, pv, max_pairs)
    assert part.shape == (len(inst.visits),) and part.min() == 0
    for p in np.unique(part):  # one date per part
        assert len({inst.visits[j].date for j in np.flatnonzero(part == p)}) == 1
    if max_pairs == 40:  # busy dates are split by area
        assert len(np.unique(part)) > len({v.date for v in inst.visits})


@pytest.mark.parametrize(("seed", "max_pairs"), [(13, 10**9), (14, 10**9), (15, 60)])
def test_bound_by_parts_is_never_below_the_whole_lp_nor_a_rota(seed: int, max_pairs: int) -> None:
    inst = _week(seed)
    whole = capacity_bound(inst, direct_above=10**9)
    parts = partitioned_bound(inst, max_pairs_per_part=max_pairs)
    assert whole.status == "optimal" and parts.status == "optimal"
    # The parts' LPs relax the whole LP (each part sees each carer's whole week), so their sum
    # is at least its optimum. (The *floors*, summed part by part, may sit below the floor of
    # the whole LP: both are valid bounds on whole slots, neither need be larger.)
    assert parts.lp_value is not None and whole.lp_value is not None
    assert parts.lp_value >= whole.lp_value - 1e-6
    rota = greedy(inst)
    assert [v for v in check(inst, rota) if v.rule != "structure"] == []
    assert len(rota.assignments) <= parts.bound <= parts.eligibility_bound <= parts.slots
    assert parts.eligibility_bound == whole.eligibility_bound


def test_bound_by_parts_is_never_below_the_solver_coverage() -> None:
    from solver import SolveParams, solve

    inst = generate(carers=6, children=8, seed=7)
    solved = solve(inst, SolveParams(time_limit=5, workers=1))
    assert check(inst, solved.rota) == []
    assert len(solved.rota.assignments) <= partitioned_bound(inst, max_pairs_per_part=30).bound


def test_parts_in_worker_processes_give_the_same_bound() -> None:
    inst = _week(16)
    assert partitioned_bound(inst, processes=2).bound == partitioned_bound(inst).bound
