"""Explanations of unassigned visits name the true cause, carers by id only."""

from __future__ import annotations

from dataclasses import replace

from roster.checker import check
from solver import SolveParams, solve
from tests.factory import DORCHESTER, carer, child, make_instance, visit

FAST = SolveParams(time_limit=10.0, workers=1)


def reasons(instance) -> dict[str, str]:
    r = solve(instance, FAST)
    assert check(instance, r.rota) == []
    return {u.visit_id: u.reasons for u in r.rota.unassigned}


def test_no_carer_holds_the_competency():
    inst = make_instance(visits=[visit("V1", competencies=("peg_feeding",))])
    assert "no carer holds peg_feeding" in reasons(inst)["V1"]


def test_all_eligible_carers_booked_names_the_clashing_visit():
    inst = make_instance([carer("K1")], visits=[visit("V1", start="16:00"), visit("V2", start="16:30")])
    why = reasons(inst)
    (vid,) = why
    other = "V1" if vid == "V2" else "V2"
    assert "1 eligible carer" in why[vid]
    assert "K1" in why[vid] and other in why[vid]


def test_mileage_cap_from_home_names_the_distance_and_cap():
    far = carer("K1", lat=DORCHESTER[0] + 0.3)  # ~27 road miles
    inst = make_instance([far], visits=[visit("V1")])
    why = reasons(inst)["V1"]
    assert "K1" in why and "miles away" in why and "cap 20" in why


def test_not_available_counts_the_cause():
    inst = make_instance([carer("K1"), carer("K2")], visits=[visit("V1", start="23:00", duration_min=60)])
    why = reasons(inst)["V1"]
    assert "no carer can take" in why


def test_reason_names_no_child():
    inst = make_instance(
        [carer("K1")], [child("C1", name="Alice Example")], [visit("V1"), visit("V2", start="16:30")]
    )
    for text in reasons(inst).values():
        assert "Alice" not in text


def test_week_rule_is_named_when_the_carer_is_free_at_the_time():
    inst = make_instance(
        [carer("K1", max_week_hours=2.5)],
        visits=[visit("V1", duration_min=120), replace(visit("V2", duration_min=120), date=visit().date.replace(day=24))],
    )
    why = "".join(reasons(inst).values())
    assert "R10" in why and "K1" in why


def test_miles_just_over_the_cap_are_not_rounded_down_to_look_within_it():
    from solver.explain import _miles

    assert _miles(20.003, 20) == "20.003"
    assert _miles(23.04, 20) == "23.0"
    assert _miles(19.96, 20) == "20.0"
