"""solve(): end to end on tiny hand-made instances, each rota checked by roster.checker."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import pytest

from roster.checker import check
from roster.model import Availability, History, Instance, Rota
from roster.rules import journey_into
from solver import SolveParams, Weights, solve
from solver.params import Result
from tests.factory import DORCHESTER, carer, child, make_instance, mandatory, visit

FAST = SolveParams(time_limit=10.0, workers=1, seed=0)


def solved(instance: Instance, params: SolveParams = FAST, **kw) -> Result:
    result = solve(instance, replace(params, **kw) if kw else params)
    assert check(instance, result.rota, params.travel) == []
    assert result.violations == ()
    return result


def covered(result: Result) -> int:
    return len(result.rota.assignments)


def test_single_visit_is_staffed_at_its_planned_start_with_travel_from_home():
    inst = make_instance()
    r = solved(inst)
    assert covered(r) == 1
    (a,) = r.rota.assignments
    assert a.start == inst.planned_start[0]
    assert a.travel_from == "home" and a.travel_min > 0
    assert r.status == "OPTIMAL"
    assert r.rota.summary["carer_slots_covered"] == 1


def test_two_to_one_visit_starts_together_with_two_different_carers():
    inst = make_instance(
        carers=[carer("K1"), carer("K2")],
        visits=[visit("V1", carers=2, flex_min=30)],
        availability=(
            Availability("K1", "Mon", "15:40", "18:30"),
            Availability("K2", "Mon", "16:20", "19:00"),
        ),
    )
    r = solved(inst)
    rows = r.rota.assignments
    assert len(rows) == 2 and {a.carer_id for a in rows} == {"K1", "K2"}
    assert rows[0].start == rows[1].start
    assert inst.planned_start[0] + 20 <= rows[0].start <= inst.planned_start[0] + 30


def test_two_to_one_visit_is_never_half_staffed():
    inst = make_instance(carers=[carer("K1")], visits=[visit("V1", carers=2)])
    r = solved(inst)
    assert r.rota.assignments == ()
    (u,) = r.rota.unassigned
    assert u.visit_id == "V1" and u.missing == 2
    assert "2:1" in u.reasons and "K1" in u.reasons


def test_tiny_instance_reaches_the_brute_force_maximum_coverage():
    carers = [carer("K1"), carer("K2", lat=DORCHESTER[0] + 0.2)]
    children = [child("C1"), child("C2", lat=DORCHESTER[0] - 0.05)]
    visits = [
        visit("V1", "C1", start="16:00", duration_min=120),
        visit("V2", "C2", start="17:00", duration_min=60),
        visit("V3", "C1", start="18:05", duration_min=60),
        visit("V4", "C2", start="18:10", duration_min=60, flex_min=15),
    ]
    inst = make_instance(carers, children, visits)
    r = solved(inst)
    best = 0
    ids = [c.carer_id for c in carers]
    for choice in itertools.product([None, *ids], repeat=len(visits)):
        chosen: dict[str, list[tuple[str, int]]] = {}
        for v, cid in zip(visits, choice, strict=True):
            if cid is not None:
                chosen.setdefault(cid, []).append((v.visit_id, inst.planned_start[inst.visit_index[v.visit_id]]))
        rota = _rota_of(inst, chosen)
        if not [x for x in check(inst, rota) if x.rule != "structure"]:
            best = max(best, len(rota.assignments))
    assert covered(r) >= best
    assert covered(r) == 4 or r.carer_slots_bound == covered(r)


def _rota_of(inst: Instance, chosen: dict[str, list[tuple[str, int]]]) -> Rota:
    from solver.solve import decode

    return decode(inst, chosen)


def test_travel_time_between_visits_is_respected_by_shifting_within_flex():
    far_child = child("C2", lat=DORCHESTER[0] + 0.08)  # ~7 road miles: ~21 min away
    inst = make_instance(
        [carer("K1")],
        [child("C1"), far_child],
        [
            visit("V1", "C1", start="16:00", duration_min=60),
            visit("V2", "C2", start="17:00", duration_min=60, flex_min=30),
        ],
    )
    r = solved(inst)
    assert covered(r) == 2
    v1, v2 = sorted(r.rota.assignments, key=lambda a: a.start)
    assert v2.travel_from == "V1"
    assert v2.start >= v1.end + v2.travel_min


def test_travel_time_makes_back_to_back_visits_impossible_without_flex():
    far_child = child("C2", lat=DORCHESTER[0] + 0.08)
    inst = make_instance(
        [carer("K1")],
        [child("C1"), far_child],
        [visit("V1", "C1", start="16:00", duration_min=60), visit("V2", "C2", start="17:05", duration_min=60)],
    )
    r = solved(inst)
    assert covered(r) == 1


def test_weekly_hours_limit_binds():
    inst = make_instance(
        [carer("K1", max_week_hours=3.0)],
        visits=[visit("V1", duration_min=120), visit("V2", date=date(2026, 11, 24), duration_min=120)],
    )
    assert covered(solved(inst)) == 1
    roomy = make_instance(
        [carer("K1", max_week_hours=5.0)],
        visits=[visit("V1", duration_min=120), visit("V2", date=date(2026, 11, 24), duration_min=120)],
    )
    assert covered(solved(roomy)) == 2


def test_daily_rest_binds_a_long_day():
    # 07:00 to 22:00 with no 11 h gap is a 15 h duty: no 11 h rest in the 24 h from 07:00.
    visits = [
        visit("V1", start="07:00", duration_min=60),
        visit("V2", start="14:00", duration_min=60),
        visit("V3", start="21:00", duration_min=60),
    ]
    one = make_instance([carer("K1")], visits=visits)
    assert covered(solved(one)) == 2
    two = make_instance([carer("K1"), carer("K2")], visits=visits)
    assert covered(solved(two)) == 3


def test_weekly_rest_binds_a_visit_every_day():
    visits = [
        visit(f"V{d}", date=date(2026, 11, 23 + d), start="10:00", duration_min=120) for d in range(7)
    ]
    inst = make_instance([carer("K1")], visits=visits)
    assert covered(solved(inst)) == 6


def test_rest_break_binds_and_flex_makes_room_for_it():
    tight = [
        visit("V1", start="07:00", duration_min=180),
        visit("V2", start="10:00", duration_min=180),
    ]
    assert covered(solved(make_instance(visits=tight))) == 1
    loose = [tight[0], replace(tight[1], flex_min=30)]
    r = solved(make_instance(visits=loose))
    assert covered(r) == 2
    v1, v2 = sorted(r.rota.assignments, key=lambda a: a.start)
    assert v2.start - v2.travel_min - v1.end >= 20


def test_young_worker_day_limit_binds():
    young = carer("K1", date_of_birth=date(2009, 6, 1))  # 17
    visits = [
        visit("V1", start="08:00", duration_min=240),
        visit("V2", start="14:00", duration_min=240),
    ]
    assert covered(solved(make_instance([young], visits=visits))) == 1


def test_mileage_cap_binds_on_the_journey_from_the_previous_visit():
    # C2 is ~13 road miles from C1 and from home; the cap agreed for C2 is 10 miles.
    far = child("C2", lat=DORCHESTER[0] + 0.15, mileage_cap_miles=10.0)
    inst = make_instance(
        [carer("K1", lat=DORCHESTER[0] + 0.15)],
        [child("C1"), far],
        [visit("V1", "C1", start="09:00", duration_min=60), visit("V2", "C2", start="10:40", duration_min=60)],
    )
    r = solved(inst)
    # From home (next door to C2) V2 is fine, but straight after V1 the journey breaks its cap.
    assert covered(r) == 1


def test_clock_change_week_overnight_visit_lasts_its_real_duration():
    week = date(2026, 10, 19)
    night = carer("K1", overnight_ok=True)
    inst = make_instance(
        [night],
        visits=[visit("V1", date=date(2026, 10, 25), start="00:30", duration_min=180)],
        availability=(Availability("K1", "Sun", "00:00", "08:00"),),
        week_start=week,
    )
    r = solved(inst)
    (a,) = r.rota.assignments
    assert a.end - a.start == 180
    assert inst.clock.week_minutes == 7 * 24 * 60 + 60


def test_locks_are_kept_even_when_another_carer_is_better():
    inst = make_instance(
        [carer("K1"), carer("K2", lat=DORCHESTER[0] + 0.1)],
        visits=[visit("V1")],
        history=(History("C1", "K1", 20.0),),
    )
    assert solved(inst).rota.assignments[0].carer_id == "K1"
    r = solved(inst, locks=(("V1", "K2"),))
    assert [a.carer_id for a in r.rota.assignments] == ["K2"]


def test_lock_with_a_start_keeps_the_start():
    inst = make_instance(visits=[visit("V1", flex_min=30)])
    start = inst.planned_start[0] + 25
    r = solved(inst, locks=(("V1", "K1", start),))
    assert r.rota.assignments[0].start == start


def test_lock_that_breaks_a_rule_is_refused_with_a_clear_message():
    inst = make_instance([carer("K1", drives=False)], visits=[visit("V1", needs_driver=True)])
    with pytest.raises(ValueError, match="K1 cannot take visit V1"):
        solve(inst, replace(FAST, locks=(("V1", "K1"),)))


def test_one_more_covered_visit_beats_any_continuity_gain():
    # K1 knows the child but cannot do V2 (clash); covering V2 needs a stranger.
    inst = make_instance(
        [carer("K1"), carer("K2")],
        visits=[visit("V1", start="16:00"), visit("V2", start="16:30")],
        history=(History("C1", "K1", 30.0),),
    )
    r = solved(inst)
    assert covered(r) == 2
    assert r.terms["distinct_carers"] == 2


def test_continuity_prefers_the_known_carer():
    inst = make_instance(
        [carer("K1"), carer("K2")],
        visits=[visit("V1"), visit("V2", date=date(2026, 11, 24))],
        history=(History("C1", "K2", 10.0),),
    )
    r = solved(inst)
    assert {a.carer_id for a in r.rota.assignments} == {"K2"}
    assert r.terms["stranger_carers"] == 0


def test_weighted_mode_reports_every_term():
    inst = make_instance([carer("K1"), carer("K2")], visits=[visit("V1"), visit("V2", start="19:00")])
    r = solved(inst, lexicographic=False)
    assert covered(r) == 2
    assert set(r.terms) >= {"uncovered_slots", "distinct_carers", "travel_miles", "hours_deviation"}
    assert r.objective == pytest.approx(
        sum(getattr(Weights(), k) * v for k, v in _weighted(r.terms).items())
    )


def _weighted(terms: dict[str, float]) -> dict[str, float]:
    from solver.cpsat import TERM_WEIGHT

    return {TERM_WEIGHT[k]: v for k, v in terms.items()}


def test_reference_rota_is_kept_when_change_costs_more():
    inst = make_instance([carer("K1"), carer("K2")], visits=[visit("V1")])
    ref = solved(inst, locks=(("V1", "K2"),)).rota
    r = solved(inst, reference=ref)
    assert [a.carer_id for a in r.rota.assignments] == ["K2"]
    assert r.terms["changes"] == 0


def test_same_seed_and_one_worker_give_the_same_rota():
    visits = [visit(f"V{i}", start=f"{8 + i}:00", duration_min=50, flex_min=15) for i in range(6)]
    inst = make_instance([carer("K1"), carer("K2"), carer("K3")], visits=visits)
    a = solved(inst, seed=3)
    b = solved(inst, seed=3)
    assert a.rota.assignments == b.rota.assignments


def test_rota_rows_follow_r13_travel_from_the_previous_visit():
    inst = make_instance(
        visits=[visit("V1", start="09:00", duration_min=60), visit("V2", start="10:30", duration_min=60)]
    )
    r = solved(inst)
    rows = sorted(r.rota.assignments, key=lambda a: a.start)
    assert [a.travel_from for a in rows] == ["home", "V1"]
    carer_ = inst.carers[0]
    assert journey_into(inst, carer_, rows[0], 1, rows[1].start)[0] == "V1"


def test_summary_has_the_contract_keys():
    r = solved(make_instance())
    for key in (
        "visits", "visits_covered", "carer_slots", "carer_slots_covered", "travel_miles",
        "mean_carers_per_child", "objective", "bound", "solve_seconds",
    ):
        assert key in r.rota.summary


def test_greedy_only_returns_the_baseline_checked():
    inst = make_instance([carer("K1"), carer("K2")], visits=[visit("V1"), visit("V2")])
    r = solved(inst, use_greedy_only=True)
    assert r.status == "GREEDY" and covered(r) == 2


def test_training_is_per_visit_competency():
    inst = make_instance(
        [carer("K1"), carer("K2")],
        visits=[visit("V1", competencies=("peg_feeding",))],
        training=mandatory("K1") + mandatory("K2", "peg_feeding"),
    )
    assert [a.carer_id for a in solved(inst).rota.assignments] == ["K2"]


@pytest.mark.parametrize(
    ("rule", "bad", "the_visit", "child_kw"),
    [
        ("R1", {"dbs_check": "enhanced"}, {}, {}),
        ("R1", {"dbs_issued": date(2020, 1, 1)}, {}, {}),
        ("R3", {"gender": "M"}, {}, {"gender_required": "F"}),
        ("R3", {}, {}, {"excluded_carers": ("K1",)}),
        ("R7", {}, {"start": "22:00", "duration_min": 90}, {}),
        ("R8", {"drives": False}, {"needs_driver": True}, {}),
    ],
)
def test_row_rule_binds_the_known_carer_out(rule, bad, the_visit, child_kw):
    # K1 is the child's known carer and lives next door, but breaks the rule; K2 may go.
    inst = make_instance(
        [carer("K1", **bad), carer("K2", lat=DORCHESTER[0] + 0.05, overnight_ok=True)],
        [child("C1", **child_kw)],
        [visit("V1", **the_visit)],
        history=(History("C1", "K1", 40.0),),
        availability=(
            Availability("K1", "Mon", "00:00", "23:59"),
            Availability("K2", "Mon", "00:00", "23:59"),
        ),
    )
    r = solved(inst)
    assert [a.carer_id for a in r.rota.assignments] == ["K2"], rule
