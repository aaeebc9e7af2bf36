"""The bound by days: never below what a rota staffs, exact on hand-made weeks."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.generator import generate
from roster.model import Availability, Instance
from solver import SolveParams, solve
from solver.cpsat import _Travel, candidate_pairs
from solver.daybound import DayBound, day_bound, week_bound
from tests.factory import WEEK, carer, child, make_instance, visit

MILE = 1 / 1.3 / 69.05  # degrees of latitude per road mile (the default travel model)


def _bounds(inst: Instance, seconds: float = 10.0) -> tuple[DayBound, DayBound]:
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    travel = _Travel(inst)
    by_master = day_bound(inst, elig, pairs, travel, time.perf_counter() + seconds, rounds=3)
    by_days = week_bound(inst, elig, travel, time.perf_counter() + seconds)
    return by_master, by_days


def _night_chain() -> Instance:
    """K1 lives 10 miles from C2, whose cap is 5 miles: K1 can take C2's visit after midnight
    only coming from C1's late visit nearby, the evening before (R13), on another date."""
    c2 = child("C2", mileage_cap_miles=5.0)
    c1 = child("C1", lat=c2.lat + 1 * MILE, lon=c2.lon, mileage_cap_miles=30.0)
    k1 = carer("K1", lat=c2.lat + 10 * MILE, lon=c2.lon, overnight_ok=True)
    return make_instance(
        [k1], [c1, c2],
        [visit("V1", "C1", start="22:00", duration_min=90),
         visit("V2", "C2", date=WEEK + timedelta(days=1), start="00:30", duration_min=60)],
        availability=(Availability("K1", "Mon", "21:00", "03:00"),),
    )


def test_a_visit_fed_from_the_day_before_still_counts_in_its_own_days_bound() -> None:
    inst = _night_chain()
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == 2  # the chain exists, across midnight
    by_master, by_days = _bounds(inst)
    assert by_master.upper == 2
    assert by_days.upper == 2


def test_one_carer_and_two_simultaneous_visits_bound_one_slot() -> None:
    inst = make_instance([carer("K1")], [child("C1"), child("C2")],
                         [visit("V1", "C1"), visit("V2", "C2")])
    by_master, by_days = _bounds(inst)
    assert by_master.upper == 1 == by_days.upper


def test_a_2_to_1_visit_with_one_carer_bounds_no_slot_and_with_two_both() -> None:
    one = make_instance([carer("K1")], [child("C1")], [visit("V1", carers=2)])
    two = make_instance([carer("K1"), carer("K2")], [child("C1")], [visit("V1", carers=2)])
    assert _bounds(one)[0].upper == 0
    assert _bounds(two)[0].upper == 2


def test_a_journey_that_never_fits_between_two_visits_bounds_one_slot() -> None:
    far = child("C2", lat=child().lat + 15 * MILE)
    inst = make_instance([carer("K1")], [child("C1"), far],
                         [visit("V1", "C1", start="09:00", duration_min=60, flex_min=0),
                          visit("V2", "C2", start="10:05", duration_min=60, flex_min=0)])
    by_master, _ = _bounds(inst)
    assert by_master.upper == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bound_by_days_is_never_below_what_the_solver_staffs(seed: int) -> None:
    inst = generate(carers=8, children=14, seed=seed)
    result = solve(inst, SolveParams(time_limit=5, workers=1, seed=seed))
    assert check(inst, result.rota) == []
    staffed = len(result.rota.assignments)
    by_master, by_days = _bounds(inst, seconds=8.0)
    slots = sum(v.carers for v in inst.visits)
    assert staffed <= by_master.upper <= slots
    assert staffed <= by_days.upper <= slots
    assert by_master.slots == slots == by_days.slots


def test_the_bound_beside_a_search_equals_the_bound_by_days_and_stops_when_told() -> None:
    from solver.daybound import BoundBeside

    inst = _night_chain()
    elig = compute_eligibility(inst)
    beside = BoundBeside(inst, elig, _Travel(inst), 10.0).start()
    days = beside.result(wait=20.0)
    assert days is not None and days.upper == 2
    # one not done within the wait gives no bound (never a part left unsolved counted)
    week = generate(carers=30, children=56, seed=1)
    slow = BoundBeside(week, compute_eligibility(week), _Travel(week), 3.0).start()
    assert slow.result(wait=0.0) is None
