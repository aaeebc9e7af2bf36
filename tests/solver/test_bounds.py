"""The LP capacity bound: exact on hand-made weeks, never below what a rota achieves."""

from __future__ import annotations

import pytest

from roster.checker import check
from roster.generator import generate
from solver.bounds import capacity_bound
from solver.greedy import greedy
from tests.factory import WEEK, carer, child, make_instance, mandatory, visit


def _day(n: int):
    return WEEK.replace(day=WEEK.day + n)


def test_one_carer_and_two_simultaneous_visits_bound_one_slot():
    inst = make_instance([carer("K1")], [child("C1"), child("C2")], [visit("V1", "C1"), visit("V2", "C2")])
    result = capacity_bound(inst)
    assert result.bound == 1 and result.slots == 2
    assert result.binding["time"] >= 1


def test_one_carer_and_two_separate_visits_bound_two_slots():
    inst = make_instance([carer("K1")], [child("C1")], [visit("V1", start="09:00"), visit("V2", start="16:00")])
    assert capacity_bound(inst).bound == 2


def test_flex_that_lets_visits_slide_apart_does_not_cut_the_bound():
    # Both planned 16:00-17:00 but each may move 60 min: a carer can do one at 15:00, one at 17:00.
    inst = make_instance(
        [carer("K1")], [child("C1")],
        [visit("V1", duration_min=60, flex_min=60), visit("V2", duration_min=60, flex_min=60)],
    )  # fmt: skip
    assert capacity_bound(inst).bound == 2


def test_a_2_to_1_visit_needs_two_different_carers():
    one = make_instance([carer("K1")], [child("C1")], [visit("V1", carers=2)])
    two = make_instance([carer("K1"), carer("K2")], [child("C1")], [visit("V1", carers=2)])
    assert capacity_bound(one).bound == 1
    assert capacity_bound(two).bound == 2


def test_weekly_hours_bind():
    inst = make_instance(
        [carer("K1", max_week_hours=5.0)], [child("C1")],
        [visit(f"V{d}", date=_day(d), duration_min=120) for d in range(4)],
    )  # fmt: skip
    result = capacity_bound(inst)
    assert result.bound == 2  # 4 x 2 h asked, 5 h allowed
    assert result.binding_carers and result.binding_carers[0][0] == "K1"


def test_visit_nobody_can_take_is_reported_and_not_counted():
    inst = make_instance(
        [carer("K1")], [child("C1")],
        [visit("V1", start="09:00"), visit("V2", competencies=("peg_feeding",))],
        training=mandatory("K1"),
    )  # fmt: skip
    result = capacity_bound(inst)
    assert result.bound == 1 and result.unreachable_visits == ("V2",)


def test_carer_over_the_cap_from_home_counts_only_when_a_nearby_visit_can_feed_them():
    far = carer("K1", lat=50.7154 + 25 / 1.3 / 69.05)  # ~25 road miles from the children
    alone = make_instance([far], [child("C1")], [visit("V1")])
    assert capacity_bound(alone).bound == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bound_is_never_below_the_greedy_coverage_on_random_weeks(seed):
    inst = generate(carers=8, children=12, seed=seed)
    result = capacity_bound(inst)
    rota = greedy(inst)  # rows only: unstaffed visits are left out, not listed
    assert [v for v in check(inst, rota) if v.rule != "structure"] == []
    assert len(rota.assignments) <= result.bound <= result.eligibility_bound <= result.slots


def test_bound_is_never_below_the_solver_coverage_on_a_random_week():
    from solver import SolveParams, solve

    inst = generate(carers=6, children=8, seed=7)
    result = capacity_bound(inst)
    solved = solve(inst, SolveParams(time_limit=5, workers=1))
    assert check(inst, solved.rota) == []
    assert len(solved.rota.assignments) <= result.bound


def test_direct_highs_and_pulp_agree():
    inst = generate(carers=8, children=12, seed=4)
    via_pulp = capacity_bound(inst, direct_above=10**9)
    direct = capacity_bound(inst, direct_above=0, columns=False)
    by_columns = capacity_bound(inst, direct_above=0)
    assert via_pulp.backend == "pulp/HiGHS" and direct.backend == "highspy"
    assert by_columns.backend == "highspy (column generation)"
    assert via_pulp.bound == direct.bound == by_columns.bound


def test_any_row_prices_give_a_bound_no_smaller_than_the_lp_optimum():
    import numpy as np

    from roster.eligibility import compute_eligibility
    from solver.bounds import _build_lp, dual_bound, reachable_pairs

    inst = generate(carers=8, children=12, seed=5)
    el = compute_eligibility(inst)
    lp, _, _ = _build_lp(inst, reachable_pairs(inst, el), 30)
    optimum = capacity_bound(inst, el).lp_value
    rng = np.random.default_rng(0)
    for _ in range(5):
        prices = rng.random(len(lp.row_ub)) * rng.choice([0.0, 0.1, 1.0])
        assert dual_bound(lp, prices) >= optimum - 1e-6
    assert dual_bound(lp, np.zeros(len(lp.row_ub))) == lp.n_cols


def test_pdlp_bound_is_valid_and_close():
    inst = generate(carers=8, children=12, seed=6)
    exact = capacity_bound(inst, direct_above=0, method="ipm", columns=False)
    first_order = capacity_bound(inst, direct_above=0, method="pdlp", columns=False)
    assert first_order.bound >= exact.bound - 0  # never below the true LP optimum's floor
    assert first_order.bound <= exact.bound + 2


@pytest.mark.parametrize("seed", [8, 9])
def test_column_generation_gives_the_same_bound_as_the_whole_lp(seed):
    inst = generate(carers=10, children=16, seed=seed)
    whole = capacity_bound(inst, direct_above=10**9)
    by_columns = capacity_bound(inst, direct_above=0)
    assert by_columns.bound == whole.bound
