"""Decomposition by geography: regions partition the caseload, sub-instances are closed, and
the merged rota passes the project's checker on the whole instance."""

from __future__ import annotations

from functools import cache

import pytest

from roster.checker import check
from roster.generator import generate
from roster.model import Instance
from solver.decompose import DecomposeParams, assign_regions, sub_instance
from solver.solve import solve_decomposed  # the pipeline solves each region


@cache
def _instance() -> Instance:
    return generate(carers=16, children=30, seed=3)


def test_every_carer_and_child_gets_exactly_one_region() -> None:
    inst = _instance()
    carer_region, child_region = assign_regions(inst, 3, seed=0)
    assert carer_region.shape == (len(inst.carers),)
    assert child_region.shape == (len(inst.children),)
    assert set(child_region.tolist()) <= {0, 1, 2}
    assert set(carer_region.tolist()) <= {0, 1, 2}


def test_sub_instance_keeps_only_rows_of_its_carers_and_children() -> None:
    inst = _instance()
    carers = [c.carer_id for c in inst.carers[:5]]
    children = [c.child_id for c in inst.children[:8]]
    sub = sub_instance(inst, carers, children)
    assert {c.carer_id for c in sub.carers} == set(carers)
    assert {v.child_id for v in sub.visits} <= set(children)
    assert len(sub.visits) == sum(1 for v in inst.visits if v.child_id in set(children))
    assert all(t.carer_id in carers for t in sub.training)
    assert all(h.carer_id in carers and h.child_id in children for h in sub.history)


def test_decomposed_greedy_rota_is_checker_clean_and_accounts_for_every_visit() -> None:
    inst = _instance()
    result = solve_decomposed(inst, DecomposeParams(time_limit=30, regions=3, greedy_only=True,
                                                    backend="serial", deterministic=True))
    assert check(inst, result.rota) == []
    staffed = {a.visit_id for a in result.rota.assignments}
    unassigned = {u.visit_id for u in result.rota.unassigned}
    assert staffed | unassigned == {v.visit_id for v in inst.visits}
    assert not staffed & unassigned
    assert len(result.regions) == 3


def test_coordination_never_loses_a_visit_the_regions_staffed() -> None:
    inst = _instance()
    base = DecomposeParams(time_limit=30, regions=4, greedy_only=True, backend="serial",
                           deterministic=True)
    without = solve_decomposed(inst, DecomposeParams(**{**base.__dict__, "coordinate": False}))
    with_coord = solve_decomposed(inst, base)
    assert check(inst, with_coord.rota) == []
    before = {a.visit_id for a in without.rota.assignments}
    after = {a.visit_id for a in with_coord.rota.assignments}
    assert before <= after


@pytest.mark.slow
def test_decomposed_cpsat_rota_is_checker_clean() -> None:
    inst = _instance()
    result = solve_decomposed(inst, DecomposeParams(time_limit=20, regions=2, backend="serial",
                                                    deterministic=True))
    assert check(inst, result.rota) == []
