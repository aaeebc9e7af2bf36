"""The travel model: vectorised numpy agrees with geopy; minutes round up; a supplied matrix wins."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import great_circle

from roster.model import Travel
from roster.rules import journey_between, journey_from_home, travel_model
from roster.travel import TravelModel, great_circle_miles, great_circle_miles_matrix
from tests.factory import DORCHESTER, carer, child, make_instance, visit


def uk_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(49.9, 58.7, n), rng.uniform(-6.3, 1.8, n)


def test_vectorised_great_circle_agrees_with_geopy():
    lat_a, lon_a = uk_points(40, 1)
    lat_b, lon_b = uk_points(30, 2)
    matrix = great_circle_miles_matrix(lat_a, lon_a, lat_b, lon_b)
    assert matrix.shape == (40, 30)
    for i in range(40):
        for j in range(30):
            expected = great_circle((lat_a[i], lon_a[i]), (lat_b[j], lon_b[j])).miles
            assert matrix[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_vectorised_journeys_agree_with_the_scalar_model_to_the_minute():
    model = TravelModel(Travel(road_factor=1.3, speed_mph=20))
    lat_a, lon_a = uk_points(25, 3)
    # points near each other too: short journeys are where rounding bites
    lat_b = np.concatenate([lat_a[:10] + 0.01, uk_points(15, 4)[0]])
    lon_b = np.concatenate([lon_a[:10] - 0.02, uk_points(15, 4)[1]])
    miles, minutes = model.journey_matrix(lat_a, lon_a, lat_b, lon_b)
    for i in range(len(lat_a)):
        for j in range(len(lat_b)):
            m, t = model.journey((lat_a[i], lon_a[i]), (lat_b[j], lon_b[j]))
            assert miles[i, j] == pytest.approx(m, abs=1e-9)
            assert minutes[i, j] == t


def test_road_miles_are_great_circle_times_the_road_factor_and_minutes_use_unrounded_miles():
    model = TravelModel(Travel(road_factor=1.3, speed_mph=20))
    a, b = DORCHESTER, (DORCHESTER[0] + 0.1, DORCHESTER[1])
    miles, minutes = model.journey(a, b)
    assert miles == pytest.approx(great_circle_miles(a, b) * 1.3, abs=1e-12)
    assert minutes == int(np.ceil(great_circle_miles(a, b) * 1.3 / 20 * 60))


def test_minutes_round_up_to_whole_minutes():
    model = TravelModel(Travel(road_factor=1.0, speed_mph=20))
    assert model.minutes_for(1.0) == 3  # exactly 3 minutes, not 4
    assert model.minutes_for(1.01) == 4
    assert model.minutes_for(0.0) == 0


def test_same_place_is_no_journey():
    model = TravelModel()
    assert model.journey(DORCHESTER, DORCHESTER) == (0.0, 0)


def test_supplied_matrix_wins_and_missing_pairs_fall_back_to_the_default():
    model = TravelModel(Travel(), {("K1", "V1"): (4.2, 17)})
    assert model.journey(DORCHESTER, DORCHESTER, "K1", "V1") == (4.2, 17)
    assert model.journey(DORCHESTER, DORCHESTER, "K1", "V2") == (0.0, 0)


def test_instance_travel_settings_drive_the_default_model():
    slow = make_instance(travel=Travel(road_factor=1.5, speed_mph=10))
    fast = make_instance()
    slow_miles, slow_min = journey_from_home(slow, slow.carers[0], slow.visits[0])
    fast_miles, fast_min = journey_from_home(fast, fast.carers[0], fast.visits[0])
    assert slow_miles > fast_miles and slow_min > fast_min
    assert travel_model(slow).travel.speed_mph == 10


def test_journey_between_visits_uses_their_own_place_or_the_childs_home():
    inst = make_instance(
        [carer("K1")],
        [child("C1"), child("C2", lat=DORCHESTER[0] + 0.05, lon=DORCHESTER[1])],
        [visit("V1"), visit("V2", "C1", lat=DORCHESTER[0] + 0.05, lon=DORCHESTER[1]), visit("V3", "C2")],
    )
    v1, v2, v3 = inst.visits
    assert journey_between(inst, v2, v3) == (0.0, 0)  # the outing is at C2's street
    assert journey_between(inst, v1, v3)[0] > 3
    assert journey_between(inst, v1, v1) == (0.0, 0)


def test_matrix_keys_may_name_the_child_for_a_visit_at_home():
    inst = make_instance(visits=[visit("V1"), visit("V2", lat=50.8, lon=-2.5)])
    model = TravelModel(inst.settings.travel, {("C1", "V2"): (9.0, 30), ("V1", "V2"): (8.0, 25)})
    # the visit id is more specific than the child id
    assert journey_between(inst, inst.visits[0], inst.visits[1], model) == (8.0, 25)
    model = TravelModel(inst.settings.travel, {("C1", "V2"): (9.0, 30)})
    assert journey_between(inst, inst.visits[0], inst.visits[1], model) == (9.0, 30)
