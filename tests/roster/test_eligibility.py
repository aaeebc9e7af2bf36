"""Vectorised eligibility agrees with the per-rule functions, and says why a carer is excluded."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from roster.calendar import format_hhmm
from roster.eligibility import compute_eligibility, free_pieces
from roster.model import Absence, Assignment, Availability, Instance, Training, Window
from roster.rules import (
    RULES_BY_CODE,
    YOUNG_NIGHT,
    journey_from_home,
    limits,
    r1_vetting,
    r2_training,
    r3_family_wishes,
    r5_availability,
    r7_overnight,
    r8_driving,
    r9_mileage_cap,
)
from roster.travel import TravelModel
from tests.factory import DORCHESTER, WEEK, carer, child, everyday, make_instance, visit

COMPETENCIES = ("peg_feeding", "epilepsy_rescue", "moving_handling")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def random_instance(seed: int) -> Instance:
    """A small instance full of edges: clock-change weeks, overnight windows, birthdays, expiries."""
    rng = random.Random(seed)
    week = rng.choice([WEEK, date(2026, 10, 19), date(2026, 3, 23)])
    carers, training, availability, absences = [], [], [], []
    for i in range(5):
        cid = f"K{i}"
        dob = rng.choice(
            [date(1985, 3, 3), date(2009, 1, 1), week - timedelta(days=365 * 18 + rng.randint(-3, 8))]
        )
        carers.append(
            carer(
                cid,
                gender=rng.choice("FFM"),
                date_of_birth=dob,
                lat=DORCHESTER[0] + rng.uniform(-0.1, 0.1),
                lon=DORCHESTER[1] + rng.uniform(-0.15, 0.15),
                drives=rng.random() < 0.7,
                overnight_ok=rng.random() < 0.4,
                dbs_check=rng.choice(["enhanced_barred_children"] * 6 + ["enhanced"]),
                dbs_issued=week - timedelta(days=rng.randint(365 * 3 - 12, 365 * 3 + 3)),
                dbs_update_service=rng.random() < 0.3,
                max_week_hours=rng.choice([None, None, 8.0]),
            )
        )
        training.append(Training(cid, "safeguarding_children", rng.choice([None, None, week + timedelta(days=rng.randint(-1, 7))])))
        for comp in rng.sample(COMPETENCIES, rng.randint(1, 3)):
            training.append(Training(cid, comp, rng.choice([None, week + timedelta(days=rng.randint(-1, 7))])))
        for _ in range(rng.randint(0, 12)):
            day = rng.choice([*DAYS, (week + timedelta(days=rng.randint(0, 6))).isoformat()])
            start = rng.randrange(0, 24 * 4) * 15
            end = (start + rng.choice([60, 180, 480, 720, 900, 1200, 1440])) % (24 * 60)
            availability.append(Availability(cid, day, format_hhmm(start), format_hhmm(end)))
        if rng.random() < 0.5:
            s = datetime.combine(week + timedelta(days=rng.randint(0, 6)), datetime.min.time()) + timedelta(
                minutes=rng.randrange(0, 24 * 4) * 15
            )
            absences.append(Absence(cid, s, s + timedelta(minutes=rng.choice([60, 300, 1440]))))
    children = [
        child(
            f"C{i}",
            lat=DORCHESTER[0] + rng.uniform(-0.1, 0.1),
            lon=DORCHESTER[1] + rng.uniform(-0.15, 0.15),
            gender_required=rng.choice(["", "", "F", "M"]),
            excluded_carers=tuple(rng.sample([c.carer_id for c in carers], rng.randint(0, 1))),
            mileage_cap_miles=rng.choice([None, None, 8.0]),
        )
        for i in range(3)
    ]
    visits = [
        visit(
            f"V{j}",
            f"C{rng.randrange(3)}",
            date=week + timedelta(days=rng.randint(0, 6)),
            start=format_hhmm(rng.randrange(0, 24 * 4) * 15),
            duration_min=rng.choice([30, 60, 120, 300, 500, 540]),
            flex_min=rng.choice([0, 15, 30, 45, 90]),
            needs_driver=rng.random() < 0.2,
            trip_miles=rng.choice([0.0, 0.0, 3.0, 9.0]),
            competencies=tuple(rng.sample(COMPETENCIES, rng.choice([0, 0, 1, 2]))),
        )
        for j in range(10)
    ]
    inst = make_instance(
        carers, children, visits, training=tuple(training), availability=tuple(availability), week_start=week
    )
    return replace(inst, absences=tuple(absences))


def brute_force_starts(inst: Instance, c: int, v: int) -> set[int]:
    """Starts in the flex window where R5, R7 and the young-worker night (journey from home) hold."""
    carer_, visit_ = inst.carers[c], inst.visits[v]
    planned = inst.planned_start[v]
    home_minutes = journey_from_home(inst, carer_, visit_)[1]
    young = carer_.age_on(visit_.date) < 18
    out = set()
    for s in range(planned - visit_.flex_min, planned + visit_.flex_min + 1):
        a = Assignment(visit_.visit_id, carer_.carer_id, s, s + visit_.duration_min, "home", 0.0, home_minutes)
        if r5_availability(inst, carer_, visit_, a) or r7_overnight(inst, carer_, visit_, a):
            continue
        if young and (
            visit_.duration_min > 480
            or inst.clock.minutes_outside_band(s - home_minutes, a.end, *YOUNG_NIGHT) > 0
        ):
            continue
        out.add(s)
    return out


@pytest.mark.parametrize("seed", range(16))
def test_eligibility_agrees_with_the_rule_functions_on_random_instances(seed: int):
    inst = random_instance(seed)
    el = compute_eligibility(inst)
    bit = {code: rule.bit for code, rule in RULES_BY_CODE.items()}
    for c, carer_ in enumerate(inst.carers):
        for v, visit_ in enumerate(inst.visits):
            codes = int(el.reason_codes[c, v])
            where = f"seed {seed} {carer_.carer_id} {visit_.visit_id}"
            for code, fn in (("R1", r1_vetting), ("R2", r2_training), ("R3", r3_family_wishes), ("R8", r8_driving), ("R9", r9_mileage_cap)):
                assert bool(codes & bit[code]) == bool(fn(inst, carer_, visit_)), f"{code} {where}"
            assert bool(codes & bit["R10"]) == (visit_.duration_min > limits(inst, carer_).max_week_min), where
            starts = brute_force_starts(inst, c, v)
            allowed = {s for lo, hi in el.allowed_starts(c, v) for s in range(lo, hi + 1)}
            assert allowed == starts, where
            static = bool(codes & (bit["R5"] | bit["R7"] | bit["R12"]))
            assert static == (not starts), where
            miles, minutes = journey_from_home(inst, carer_, visit_)
            assert el.home_miles[c, v] == pytest.approx(miles) and el.home_minutes[c, v] == minutes
            others = codes & ~bit["R9"]
            assert bool(el.ok[c, v]) == (others == 0 and visit_.trip_miles <= inst.child_cap(inst.child(visit_.child_id))), where
            assert bool(el.ok_strict[c, v]) == (codes == 0), where


def test_eligible_carers_lists_the_ok_column():
    inst = make_instance([carer("K1"), carer("K2", dbs_check="basic"), carer("K3")])
    el = compute_eligibility(inst)
    assert el.eligible_carers(0).tolist() == [0, 2]


def test_reasons_are_plain_english_per_rule():
    inst = make_instance(
        [carer("K1", drives=False, gender="M")],
        [child("C1", gender_required="F")],
        [visit("V1", date=date(2026, 11, 24), competencies=("peg_feeding",), needs_driver=True)],
    )
    el = compute_eligibility(inst)
    reasons = el.reasons(0, 0)
    assert [r.split(":")[0] for r in reasons] == ["R2", "R3", "R8"]
    assert reasons[0] == "R2: does not hold peg_feeding (needed valid on 2026-11-24)"
    assert "gender F" in reasons[1]
    assert el.codes(0, 0) == ("R2", "R3", "R8")
    assert el.cause_counts(0) == {"R2": 1, "R3": 1, "R8": 1}


def test_an_eligible_pair_has_no_reasons():
    el = compute_eligibility(make_instance())
    assert el.ok[0, 0] and el.reasons(0, 0) == ()


def test_home_over_the_cap_keeps_the_pair_eligible_but_not_strictly():
    far = child("C1", lat=DORCHESTER[0] + 0.25, lon=DORCHESTER[1])  # about 22 road miles
    el = compute_eligibility(make_instance(children=[far]))
    assert el.home_miles[0, 0] > 20
    assert el.ok[0, 0] and not el.home_within_cap[0, 0] and not el.ok_strict[0, 0]
    assert el.codes(0, 0) == ("R9",)
    assert "possible only straight after a nearby visit" in el.reasons(0, 0)[0]


def test_home_journey_a_few_thousandths_over_the_cap_is_over_it_unrounded():
    # 20.003 miles prints as 20.00 but an external checker compares the unrounded miles (R9).
    probe = make_instance()
    home = float(compute_eligibility(probe).home_miles[0, 0])
    el = compute_eligibility(make_instance(visits=[visit("V1", trip_miles=20.0 - home + 0.003)]))
    assert not el.home_within_cap[0, 0] and el.codes(0, 0) == ("R9",)
    exact = compute_eligibility(make_instance(visits=[visit("V1", trip_miles=20.0 - home)]))
    assert exact.home_within_cap[0, 0]


@pytest.mark.parametrize(
    "issued,ok", [(date(2023, 11, 24), True), (date(2023, 11, 23), False), (date(2024, 2, 29), True)]
)
def test_a_dbs_lapses_on_its_third_anniversary_as_r1_says(issued: date, ok: bool):
    inst = make_instance([carer("K1", dbs_issued=issued)])
    assert bool(compute_eligibility(inst).ok[0, 0]) is ok


def test_a_leap_day_dbs_lapses_on_28_february():
    inst = make_instance([carer("K1", dbs_issued=date(2024, 2, 29))], visits=[visit("V1")])
    inst = replace(inst, visits=(replace(inst.visits[0], date=date(2027, 2, 28)),))
    assert "R1" in compute_eligibility(inst).codes(0, 0)


def test_trip_miles_alone_over_the_cap_exclude_whatever_the_rota():
    el = compute_eligibility(make_instance(visits=[visit("V1", trip_miles=25)]))
    assert not el.ok[0, 0]
    assert "alone exceed the cap" in el.reasons(0, 0)[0]


def test_allowed_starts_keep_inside_availability_and_clear_of_an_absence():
    inst = make_instance(visits=[visit("V1", start="12:00", duration_min=60, flex_min=60)])
    inst = replace(inst, absences=(Absence("K1", datetime(2026, 11, 23, 12), datetime(2026, 11, 23, 12, 30)),))
    el = compute_eligibility(inst)
    noon = inst.planned_start[0]
    # Ending by 11:59 (so starting by 10:59 is outside the window 11:00-13:00) or starting 12:31.
    assert el.allowed_starts(0, 0) == [(noon + 31, noon + 60)]


def test_allowed_starts_of_a_young_worker_leave_room_for_the_journey_before_22():
    inst = make_instance(
        [carer("K1", date_of_birth=date(2009, 6, 1), overnight_ok=True)],
        visits=[visit("V1", start="06:00", duration_min=60, flex_min=30)],
        availability=everyday("K1", "00:00", "00:00"),
    )
    el = compute_eligibility(inst)
    six = inst.planned_start[0]
    home = int(el.home_minutes[0, 0])
    assert el.allowed_starts(0, 0) == [(six + home, six + 30)]


def test_allowed_starts_keep_a_visit_inside_one_availability_row_not_two_touching():
    # Rows 07:00-12:00 and 12:00-18:00 are not merged (R5: inside one window): an hour's visit
    # planned 11:30 +-60 may start 10:30-11:00 or 12:00-12:30, never across noon.
    inst = make_instance(
        visits=[visit("V1", start="11:30", duration_min=60, flex_min=60)],
        availability=(Availability("K1", "Mon", "07:00", "12:00"), Availability("K1", "Mon", "12:00", "18:00")),
    )
    el = compute_eligibility(inst)
    p = inst.planned_start[0]
    assert el.allowed_starts(0, 0) == [(p - 60, p - 30), (p + 30, p + 60)]


def test_allowed_starts_over_overlapping_rows_are_their_union():
    inst = make_instance(
        visits=[visit("V1", start="11:30", duration_min=60, flex_min=60)],
        availability=(Availability("K1", "Mon", "07:00", "12:15"), Availability("K1", "Mon", "11:45", "18:00")),
    )
    p = inst.planned_start[0]
    assert compute_eligibility(inst).allowed_starts(0, 0) == [(p - 60, p - 15), (p + 15, p + 60)]


def test_a_sunday_row_does_not_cover_the_monday_the_week_starts_on():
    inst = make_instance(
        [carer("K1", overnight_ok=True)],
        visits=[visit("V1", start="01:00", duration_min=60, flex_min=0)],
        availability=(Availability("K1", "Sun", "22:00", "07:00"),),
    )
    el = compute_eligibility(inst)
    assert not el.ok[0, 0] and el.codes(0, 0) == ("R5",)


def test_availability_and_core_hours_that_never_meet_exclude_under_r5():
    # Available only 22:00-23:00; the visit could start 21:30-22:00 but core hours end 22:30.
    inst = make_instance(
        visits=[visit("V1", start="21:45", duration_min=60, flex_min=15)],
        availability=(Availability("K1", "Mon", "21:50", "23:30"),),
    )
    el = compute_eligibility(inst)
    assert el.codes(0, 0) == ("R5",) and not el.ok[0, 0]
    assert "core hours" in el.reasons(0, 0)[0]


def test_supplied_travel_matrix_overrides_home_journeys():
    inst = make_instance(visits=[visit("V1"), visit("V2", lat=50.8, lon=-2.5)])
    model = TravelModel(inst.settings.travel, {("K1", "C1"): (30.0, 90), ("K1", "V2"): (2.5, 9)})
    el = compute_eligibility(inst, model)
    assert el.home_miles[0].tolist() == [30.0, 2.5] and el.home_minutes[0].tolist() == [90, 9]
    assert not el.home_within_cap[0, 0]


def test_free_pieces_remove_an_absence_with_a_minute_either_side():
    pieces = free_pieces((Window(0, 600),), (Window(100, 200),))
    assert pieces.tolist() == [[0, 99], [201, 600]]


def test_arrays_are_read_only():
    el = compute_eligibility(make_instance())
    with pytest.raises(ValueError):
        el.ok[0, 0] = False


def test_a_carer_without_availability_is_never_eligible():
    el = compute_eligibility(make_instance(availability=()))
    assert el.codes(0, 0) == ("R5",) and el.allowed_starts(0, 0) == []


def test_clock_change_week_overnight_visit_allowed_start_is_exact():
    inst = make_instance(
        [carer("K1", overnight_ok=True)],
        visits=[visit("V1", date=date(2026, 10, 24), start="22:00", duration_min=600)],
        availability=(Availability("K1", "Sat", "21:00", "07:00"),),
        week_start=date(2026, 10, 19),
    )
    el = compute_eligibility(inst)
    # 22:00 BST + 600 real minutes is 07:00 GMT, the very end of the window.
    assert el.allowed_starts(0, 0) == [(inst.planned_start[0], inst.planned_start[0])]
    inst = replace(inst, visits=(replace(inst.visits[0], duration_min=601),))
    assert compute_eligibility(inst).allowed_starts(0, 0) == []


def test_ok_matches_bitmask_on_a_mixed_instance():
    inst = random_instance(99)
    el = compute_eligibility(inst)
    assert el.ok.shape == el.reason_codes.shape == (len(inst.carers), len(inst.visits))
    assert np.array_equal(el.ok_strict, el.reason_codes == 0)


def test_a_visit_too_long_to_leave_a_daily_rest_is_excluded_under_r11():
    inst = make_instance(
        [carer("K1", overnight_ok=True)],
        visits=[visit("V1", start="08:00", duration_min=13 * 60 + 1)],
        availability=everyday("K1", "00:00", "00:00"),
    )
    el = compute_eligibility(inst)
    assert el.codes(0, 0) == ("R11",)
    assert "rest in the 24 h" in el.reasons(0, 0)[0]


def test_a_young_worker_cannot_take_a_visit_over_eight_hours():
    inst = make_instance(
        [carer("K1", date_of_birth=date(2009, 6, 1))],
        visits=[visit("V1", start="08:00", duration_min=8 * 60 + 1)],
    )
    el = compute_eligibility(inst)
    assert el.codes(0, 0) == ("R12",)
    assert "over 8 h" in el.reasons(0, 0)[0]


def test_a_visit_longer_than_the_carers_weekly_cap_is_excluded_under_r10():
    inst = make_instance([carer("K1", max_week_hours=2)], visits=[visit("V1", duration_min=121)])
    assert compute_eligibility(inst).codes(0, 0) == ("R10",)


@pytest.mark.parametrize("seed", range(6))
def test_allowed_starts_by_visit_equals_allowed_starts_one_by_one(seed: int):
    inst = random_instance(100 + seed)
    el = compute_eligibility(inst)
    every = range(len(inst.visits))
    for c in range(len(inst.carers)):
        bulk = el.allowed_starts_by_visit(c, every)
        assert bulk == {v: el.allowed_starts(c, v) for v in every}
        assert set(el.allowed_starts_by_visit(c)) == set(np.flatnonzero(el.ok[c]).tolist())
