"""Continuity under decomposition: regions follow the children's known carers (history.csv), so a
child is not cut off from the carers who know them, and the decomposed rota stays checker-clean."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np

from roster.checker import check
from roster.generator import generate
from roster.model import History, Instance
from solver.decompose import DecomposeParams, assign_regions
from solver.solve import solve_decomposed  # the pipeline solves each region
from tests.factory import carer, child, make_instance, visit


@cache
def _instance() -> Instance:
    return generate(carers=40, children=80, seed=5)


def _history_hours_kept(inst: Instance, carer_region: np.ndarray, child_region: np.ndarray) -> float:
    ci = {c.carer_id: i for i, c in enumerate(inst.carers)}
    ki = {c.child_id: i for i, c in enumerate(inst.children)}
    kept = sum(h.hours for h in inst.history if carer_region[ci[h.carer_id]] == child_region[ki[h.child_id]])
    return kept / sum(h.hours for h in inst.history)


def test_regions_keep_more_history_hours_together_than_geography_alone() -> None:
    inst = _instance()
    geo = _history_hours_kept(inst, *assign_regions(inst, 4, seed=1, continuity=False))
    follow = _history_hours_kept(inst, *assign_regions(inst, 4, seed=1))
    assert follow > geo
    assert follow >= 0.8


def test_a_known_carer_just_over_the_border_brings_the_child_along() -> None:
    # Two clusters of homes 10 miles apart; child C2 sits nearer the west, but its only known
    # carer K3 lives in the east and no one in the west knows it.
    west, east = -1.90, -1.67
    carers = [carer("K1", lon=west), carer("K2", lon=west), carer("K3", lon=east), carer("K4", lon=east)]
    children = [child("C1", lon=west), child("C2", lon=west + 0.09), child("C3", lon=east),
                child("C4", lon=east)]
    visits = [visit(f"V{i}", f"C{i}") for i in range(1, 5)]
    inst = make_instance(carers, children, visits)
    inst = replace(inst, history=(History("C2", "K3", 8.0),))
    carer_geo, child_geo = assign_regions(inst, 2, seed=0, continuity=False)
    assert child_geo[1] != carer_geo[2]  # geography alone splits C2 from K3
    carer_region, child_region = assign_regions(inst, 2, seed=0)
    assert child_region[1] == carer_region[2]
    assert child_region[0] != child_region[3]  # the clusters are still two regions


def test_continuity_aware_decomposition_is_checker_clean_and_serves_more_known_carers() -> None:
    from roster.kpis import compute_kpis

    inst = _instance()
    base = DecomposeParams(time_limit=60, regions=4, greedy_only=True, backend="serial",
                           deterministic=True)
    geo = solve_decomposed(inst, DecomposeParams(**{**base.__dict__, "continuity": False}))
    follow = solve_decomposed(inst, base)
    assert check(inst, follow.rota) == [] and check(inst, geo.rota) == []
    assert (compute_kpis(inst, follow.rota)["known_carer_pct"]
            >= compute_kpis(inst, geo.rota)["known_carer_pct"])
