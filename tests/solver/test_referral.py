"""Referral decisions: accept with a valid rota, decline with the binding reason, alternatives
verified by solving again, and minimal changes to existing families."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.errors import InstanceError
from roster.model import Assignment, Rota
from roster.rates import parse_rates
from roster.rules import journey_into
from solver.referral import (
    Referral,
    ReferralParams,
    close_neighbourhood,
    evaluate_referral,
    load_referral,
    merge,
    rank_referrals,
    unreachable_sessions,
)
from tests.factory import DORCHESTER, WEEK, carer, child, make_instance, mandatory, visit

RATES = parse_rates(
    "commissioner,band,hourly_rate\nDorset Council,day,30\nDorset Council,overnight,35\n"
    "Dorset Council,bank_holiday,45\n"
)
FAST = ReferralParams(time_limit=5.0, workers=1, alternatives_time=60.0)


def _row(instance, visit_id, carer_id):
    j = instance.visit_index[visit_id]
    start = instance.planned_start[j]
    frm, miles, minutes = journey_into(instance, instance.carer(carer_id), None, j, start)
    return Assignment(visit_id, carer_id, start, start + instance.visits[j].duration_min, frm, miles, minutes)


def _base(**carer_kw):
    """Two carers; an existing child C1 with one session Mon 16:00-18:00, staffed by K1."""
    k1 = carer("K1", **carer_kw.get("K1", {}))
    k2 = carer("K2", **carer_kw.get("K2", {}))
    inst = make_instance([k1, k2], [child("C1")], [visit("V1", "C1")])
    return inst, Rota((_row(inst, "V1", "K1"),))


def _referral(*visits, **child_kw):
    return Referral("R1", (child("N1", **child_kw),), tuple(visits))


def _assert_valid(decision):
    assert decision.rota is not None and decision.instance is not None
    assert check(decision.instance, decision.rota) == []


def test_referral_that_fits_is_accepted_with_a_rota_that_passes_the_checker():
    inst, current = _base()
    ref = _referral(visit("NV1", "N1", start="10:00"), visit("NV2", "N1", start="18:30", duration_min=60))
    d = evaluate_referral(inst, ref, current, RATES, FAST)
    assert d.accept and d.sessions_staffed == d.sessions_total == 2
    assert d.changed_assignments == []
    assert d.earliest_start == "2026-11-23"
    assert d.weekly_hours == 3.0
    assert d.weekly_charge == pytest.approx(90.0)
    assert d.margin == pytest.approx(d.weekly_charge - d.weekly_cost, abs=0.01)
    assert "Accept" in d.rationale
    _assert_valid(d)


def test_referral_needing_a_competency_no_carer_holds_is_declined_naming_it():
    inst, current = _base()
    ref = _referral(visit("NV1", "N1", competencies=("peg_feeding",)))
    d = evaluate_referral(inst, ref, current, RATES, replace(FAST, alternatives=False))
    assert not d.accept and d.sessions_staffed == 0
    assert "peg_feeding" in d.rationale
    assert d.unstaffed[0]["visit_id"] == "NV1"
    assert d.earliest_start is None


def test_referral_needing_a_competency_offers_a_verified_recruit_profile():
    inst, current = _base()
    ref = _referral(visit("NV1", "N1", competencies=("peg_feeding",), date=inst.settings.week_start))
    d = evaluate_referral(inst, ref, current, RATES, FAST)
    recruit = [a for a in d.alternatives if a["kind"] == "recruit"]
    assert recruit and recruit[0]["verified"] and recruit[0]["sessions_staffed"] == 1
    assert "peg_feeding" in recruit[0]["summary"]
    assert "peg_feeding" in recruit[0]["recruits"][0]["competencies"]


def _far_child_kw(road_miles_target: float = 23.4):
    # road miles = great-circle miles x 1.3; one degree of latitude is ~69.05 miles.
    return {"lat": DORCHESTER[0] + road_miles_target / 1.3 / 69.05, "lon": DORCHESTER[1]}


def test_referral_needing_24_miles_is_declined_and_a_verified_24_mile_exception_is_offered():
    inst, current = _base()
    ref = _referral(visit("NV1", "N1", start="10:00"), **_far_child_kw())
    d = evaluate_referral(inst, ref, current, RATES, FAST)
    assert not d.accept
    assert "within 20 miles" in d.rationale and "nearest is K" in d.rationale
    mileage = [a for a in d.alternatives if a["kind"] == "mileage_exception"]
    assert mileage, d.alternatives
    assert mileage[0]["miles"] == 24
    assert "mileage exception of 24 miles" in mileage[0]["summary"]
    assert mileage[0]["verified"] and mileage[0]["sessions_staffed"] == 1


def test_zero_changes_when_a_free_carer_can_take_the_referral():
    inst, current = _base()
    ref = _referral(visit("NV1", "N1"))  # Mon 16:00-18:00, same time as V1 (K1)
    d = evaluate_referral(inst, ref, current, RATES, FAST)
    assert d.accept and d.carers == ["K2"]
    assert d.changed_assignments == []
    _assert_valid(d)


def test_exactly_one_change_when_only_the_busy_carer_meets_the_family_wishes():
    inst, current = _base(K1={"gender": "M"})
    ref = _referral(visit("NV1", "N1"), gender_required="M")  # only K1 (male) may go
    d = evaluate_referral(inst, ref, current, RATES, FAST)
    assert d.accept and d.carers == ["K1"]
    assert len(d.changed_assignments) == 1
    change = d.changed_assignments[0]
    assert change["visit_id"] == "V1" and change["from"] == ["K1"] and change["to"] == ["K2"]
    _assert_valid(d)


def test_existing_sessions_are_never_dropped_to_take_a_referral():
    # Only K1 can staff either V1 (needs sign_language) or the referral: the referral is declined.
    k1, k2 = carer("K1"), carer("K2")
    training = mandatory("K1", "sign_language") + mandatory("K2")
    inst = make_instance(
        [k1, k2], [child("C1")], [visit("V1", "C1", competencies=("sign_language",))], training=training
    )
    current = Rota((_row(inst, "V1", "K1"),))
    ref = _referral(visit("NV1", "N1", competencies=("sign_language",)))
    d = evaluate_referral(inst, ref, current, RATES, replace(FAST, alternatives=False))
    assert not d.accept
    assert d.rota is not None and any(a.visit_id == "V1" for a in d.rota.assignments)


def test_referral_ids_must_not_clash_with_the_instance():
    inst, _ = _base()
    with pytest.raises(InstanceError, match="C1.*already has a child"):
        merge(inst, Referral("R", (child("C1"),), (visit("NV1", "C1"),)))
    with pytest.raises(InstanceError, match="V1.*already has a visit"):
        merge(inst, Referral("R", (child("N1"),), (visit("V1", "N1"),)))


def _write_referral(folder, child_id="N1", visit_id="NV1", competencies="", start="10:00"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "children.csv").write_text(
        "child_id,name,date_of_birth,lat,lon,commissioner,spec,gender_required,gender_preferred,"
        "language,culture,excluded_carers,mileage_cap_miles,max_carers_week\n"
        f"{child_id},New Child,2015-06-01,50.7254,-2.4267,Dorset Council,generic_home_care,,,,,,,\n",
        encoding="utf-8",
    )
    (folder / "visits.csv").write_text(
        "visit_id,child_id,date,start,duration_min,flex_min,carers,kind,needs_driver,trip_miles,"
        "competencies,lat,lon\n"
        f"{visit_id},{child_id},2026-11-24,{start},120,0,1,home,false,0,{competencies},,\n",
        encoding="utf-8",
    )


def test_referral_folder_is_read_and_a_clashing_id_is_reported_with_file_and_row(tmp_path):
    inst, _ = _base()
    _write_referral(tmp_path / "ok")
    ref = load_referral(inst, tmp_path / "ok")
    assert [v.visit_id for v in ref.visits] == ["NV1"] and ref.children[0].child_id == "N1"
    _write_referral(tmp_path / "clash", child_id="C1", visit_id="V1")
    with pytest.raises(InstanceError, match=r"clash/children.csv row 1 \(C1\): child_id is 'C1'; the instance already has"):
        load_referral(inst, tmp_path / "clash")


def test_referral_folder_with_an_unheld_competency_is_a_decline_not_an_input_error(tmp_path):
    inst, _ = _base()
    _write_referral(tmp_path / "peg", competencies="peg_feeding")
    ref = load_referral(inst, tmp_path / "peg")
    assert ref.visits[0].competencies == ("peg_feeding",)


def test_cli_writes_decision_and_a_checked_rota(tmp_path):
    from roster.cli import main
    from roster.io import load_instance, load_rota, write_instance, write_rota

    inst, current = _base()
    write_instance(inst, tmp_path / "inst")
    (tmp_path / "inst" / "rates.csv").write_text(
        "commissioner,band,hourly_rate\nDorset Council,day,30\nDorset Council,overnight,35\n"
        "Dorset Council,bank_holiday,45\n", encoding="utf-8"
    )  # fmt: skip
    write_rota(inst, current, tmp_path / "rota")
    _write_referral(tmp_path / "ref")
    code = main([
        "referral", str(tmp_path / "inst"), str(tmp_path / "ref"), "--out", str(tmp_path / "out"),
        "--rota", str(tmp_path / "rota"), "--time-limit", "5",
    ])  # fmt: skip
    assert code == 0
    decision = json.loads((tmp_path / "out" / "decision.json").read_text())
    for key in ("accept", "sessions_total", "sessions_staffed", "carers", "changed_assignments",
                "earliest_start", "weekly_hours", "weekly_cost", "weekly_charge", "margin", "rationale"):
        assert key in decision
    assert decision["accept"] is True and decision["weekly_charge"] == pytest.approx(60.0)
    merged = merge(load_instance(tmp_path / "inst"), load_referral(load_instance(tmp_path / "inst"), tmp_path / "ref"))
    assert check(merged, load_rota(merged, tmp_path / "out" / "rota")) == []
    summary = json.loads((tmp_path / "out" / "rota" / "summary.json").read_text())
    assert isinstance(summary["objective"], float)  # the contract allows null only for the bound


def test_several_referrals_are_ranked_and_combined_only_when_they_fit_together():
    inst, current = _base()
    # Both fit alone (K2 is free Tue 10:00), but only one carer is free then: not together.
    a = Referral("A", (child("NA"),), (visit("NA1", "NA", start="09:00", date=inst.settings.week_start.replace(day=24)),))
    b = Referral("B", (child("NB"),), (visit("NB1", "NB", start="09:00", date=inst.settings.week_start.replace(day=24), duration_min=180),))
    c = Referral("C", (child("NC"),), (visit("NC1", "NC", start="09:00", date=inst.settings.week_start.replace(day=24), duration_min=240),))
    decisions, summary = rank_referrals(inst, [a, b, c], current, RATES, replace(FAST, alternatives=False))
    assert all(d.accept for d in decisions)
    assert [r["referral"] for r in summary["ranking"]][0] == "C"  # the longest session earns most
    assert len(summary["accept_together"]) == 2  # two carers, three simultaneous sessions


def test_decline_offers_a_verified_move_of_the_session_when_a_carer_is_free_later():
    # K1 is on V1 Mon 16:00-18:00; K2 works only from 18:30. A referral at Mon 17:00-18:00
    # cannot be staffed, but moved to 18:30 (+90 min) it can.
    k1, k2 = carer("K1"), carer("K2")
    from roster.model import Availability

    availability = (Availability("K1", "Mon", "07:00", "18:15"), Availability("K2", "Mon", "18:30", "22:00"))
    inst = make_instance([k1, k2], [child("C1")], [visit("V1", "C1")], availability=availability)
    current = Rota((_row(inst, "V1", "K1"),))
    ref = _referral(visit("NV1", "N1", start="17:00", duration_min=60))
    d = evaluate_referral(inst, ref, current, RATES, FAST)
    assert not d.accept
    moves = [a for a in d.alternatives if a["kind"] == "move_sessions"]
    assert moves and moves[0]["verified"] and moves[0]["sessions_staffed"] == 1
    assert "17:00 -> 18:30" in moves[0]["summary"]


def test_cli_without_a_current_rota_uses_the_greedy_one_and_still_writes_a_valid_rota(tmp_path):
    from roster.cli import main
    from roster.io import load_instance, load_rota, write_instance

    inst, _ = _base()
    # a visit nobody can take stays unstaffed and must be listed in unassigned.csv
    inst = replace(inst, visits=inst.visits + (visit("V9", "C1", start="23:00", duration_min=60),))
    write_instance(inst, tmp_path / "inst")
    _write_referral(tmp_path / "ref")
    assert main(["referral", str(tmp_path / "inst"), str(tmp_path / "ref"), "--out", str(tmp_path / "out"),
                 "--time-limit", "5", "--no-alternatives"]) == 0  # fmt: skip
    decision = json.loads((tmp_path / "out" / "decision.json").read_text())
    assert decision["accept"] and any("greedy" in n for n in decision["notes"])
    base = load_instance(tmp_path / "inst")
    merged = merge(base, load_referral(base, tmp_path / "ref"))
    rota = load_rota(merged, tmp_path / "out" / "rota")
    assert check(merged, rota) == []
    assert [u.visit_id for u in rota.unassigned] == ["V9"]


def test_cli_ranks_several_referrals_one_given_as_a_weekly_pattern(tmp_path):
    from roster.cli import main
    from roster.io import write_instance, write_rota

    inst, current = _base()
    write_instance(inst, tmp_path / "inst")
    write_rota(inst, current, tmp_path / "rota")
    _write_referral(tmp_path / "alpha", child_id="NA", visit_id="NA1", start="10:00")
    pattern = tmp_path / "beta"
    _write_referral(pattern, child_id="NB", visit_id="NB1")
    (pattern / "visits.csv").unlink()
    (pattern / "packages.csv").write_text(
        "child_id,day,start,duration_min\nNB,Tue,13:00,90\nNB,Thu,13:00,90\n", encoding="utf-8"
    )
    code = main([
        "referral", str(tmp_path / "inst"), str(tmp_path / "alpha"), str(pattern),
        "--out", str(tmp_path / "out"), "--rota", str(tmp_path / "rota"), "--time-limit", "5",
        "--no-alternatives",
    ])  # fmt: skip
    assert code == 0
    ranking = json.loads((tmp_path / "out" / "ranking.json").read_text())
    assert {r["referral"] for r in ranking["ranking"]} == {"alpha", "beta"}
    assert sorted(ranking["accept_together"]) == ["alpha", "beta"]
    beta = json.loads((tmp_path / "out" / "beta" / "decision.json").read_text())
    assert beta["accept"] and beta["sessions_total"] == 2
    assert (tmp_path / "out" / "together" / "rota" / "rota.csv").exists()


def test_neighbourhood_closes_over_a_chain_of_two_to_one_partners_deeper_than_three():
    # K1..K6: each Kn (n < 6) shares two 2:1 sessions with K(n+1), at two different children's homes, so
    # each partner works at more than one place and must join with their whole week. K6 also
    # shares one session with K7 at one place only: K7 is pinned, not brought in.
    carers = [carer(f"K{n}") for n in range(1, 8)]
    children, visits, rows = [], [], []
    for n in range(1, 6):
        for side in (0, 1):
            cid = f"C{n}{side}"
            children.append(child(cid, lat=DORCHESTER[0] + 0.01 * n, lon=DORCHESTER[1] + 0.02 * side))
            visits.append(visit(f"V{n}{side}", cid, carers=2, date=WEEK + timedelta(days=side)))
    children.append(child("C7"))
    visits.append(visit("V7", "C7", carers=2, date=WEEK + timedelta(days=2)))
    inst = make_instance(carers, children, visits)
    for n in range(1, 6):
        for side in (0, 1):
            rows += [_row(inst, f"V{n}{side}", f"K{n}"), _row(inst, f"V{n}{side}", f"K{n + 1}")]
    rows += [_row(inst, "V7", "K6"), _row(inst, "V7", "K7")]
    current = Rota(tuple(rows))

    kset, vset, pinned = close_neighbourhood(inst, current, {"K1"})

    assert kset == {f"K{n}" for n in range(1, 7)}
    assert set(pinned) == {"K7"} and [a.visit_id for a in pinned["K7"]] == ["V7"]
    # closed: every carer on a neighbourhood visit is in it or pinned to one place
    for a in current.assignments:
        if a.visit_id in vset:
            assert a.carer_id in kset or a.carer_id in pinned


def test_a_session_beyond_every_carers_reach_is_named_without_a_solve():
    inst, current = _base()
    far = _referral(visit("NV1", "N1", start="10:00"), **_far_child_kw())  # 24 miles, nothing near
    merged = merge(inst, far)
    el = compute_eligibility(merged)
    j = merged.visit_index["NV1"]
    assert unreachable_sessions(merged, el, [j]) == {j}
    d = evaluate_referral(inst, far, current, RATES, ReferralParams(alternatives=False))
    assert not d.accept and d.sessions_staffed == 0
    assert "nearest is K" in d.rationale


def test_a_far_session_reachable_straight_after_a_nearby_visit_is_left_to_the_solver():
    # The carers live 24 miles out, but V1 (Mon 16:00-18:00) is next door to the new child: a
    # carer could come on from it, so the session is not ruled out before solving.
    inst, current = _base()
    kw = _far_child_kw()
    near_v1 = _referral(visit("NV1", "N1", start="18:30"), **kw)
    moved = replace(inst, children=tuple(replace(c, lat=kw["lat"], lon=kw["lon"]) for c in inst.children))
    merged = merge(moved, near_v1)
    el = compute_eligibility(merged)
    j = merged.visit_index["NV1"]
    assert not el.home_within_cap[:, j].any()
    assert unreachable_sessions(merged, el, [j]) == set()
