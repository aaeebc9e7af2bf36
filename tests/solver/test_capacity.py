"""Capacity view: demand against eligible supply, with planted bottlenecks found and explained."""

from __future__ import annotations

import json

from roster.model import Availability
from solver.capacity import capacity_view, day_part_intervals
from tests.factory import WEEK, carer, child, make_instance, mandatory, visit


def test_day_parts_cover_each_day_exactly_once():
    inst = make_instance()
    parts = day_part_intervals(inst, WEEK)
    assert sum(b - a for _, a, b in parts) == 24 * 60
    assert [p for p, _, _ in parts] == ["night", "morning", "school_day", "after_school", "evening", "night"]
    saturday = day_part_intervals(inst, WEEK.replace(day=28))
    assert [p for p, _, _ in saturday] == ["night", "weekend", "night"]


def test_enough_carers_means_no_bottleneck():
    inst = make_instance([carer("K1"), carer("K2")], [child("C1")], [visit("V1"), visit("V2", start="10:00")])
    report = capacity_view(inst)
    assert report.demand_hours == 4.0 and report.coverable_hours == 4.0
    assert report.bottlenecks == ()


def test_planted_competency_bottleneck_is_flagged_naming_the_competency():
    inst = make_instance(
        [carer("K1"), carer("K2")], [child("C1")],
        [visit("V1"), visit("V2", start="10:00", competencies=("peg_feeding",))],
        training=mandatory("K1") + mandatory("K2"),
    )  # fmt: skip
    report = capacity_view(inst)
    assert report.coverable_hours == 2.0
    [b] = report.bottlenecks
    assert b["competencies"] == "peg_feeding" and b["shortfall_hours"] == 2.0
    assert b["part"] == "school_day" and "no carer holds peg_feeding" in b["why"]
    peg = next(r for r in report.by_competency if r["competencies"] == "peg_feeding")
    assert peg["carers_holding"] == 0 and peg["shortfall_hours"] == 2.0


def test_planted_after_school_crunch_is_flagged_as_shared_supply():
    # One carer, three children all at 16:00-18:00 on Monday: 6 h asked, 2 h coverable.
    inst = make_instance(
        [carer("K1")], [child("C1"), child("C2"), child("C3")],
        [visit("V1", "C1"), visit("V2", "C2"), visit("V3", "C3")],
        availability=(Availability("K1", "Mon", "16:00", "18:00"),),
    )  # fmt: skip
    report = capacity_view(inst)
    assert report.demand_hours == 6.0 and report.coverable_hours == 2.0
    [b] = report.bottlenecks
    assert b["part"] == "after_school" and b["shortfall_hours"] == 4.0
    assert "eligible carers are available for only 2" in b["why"]
    after = next(r for r in report.by_part if r["part"] == "after_school")
    assert after["shortfall_hours"] == 4.0


def test_night_demand_without_overnight_carers_is_a_night_bottleneck():
    inst = make_instance(
        [carer("K1")], [child("C1")], [visit("V1", start="23:00", duration_min=420)],
        availability=tuple(Availability("K1", d, "00:00", "00:00") for d in ("Mon", "Tue")),
    )  # fmt: skip
    report = capacity_view(inst)
    assert [b["part"] for b in report.bottlenecks] == ["night"]
    assert report.coverable_hours == 0.0


def test_cli_prints_tables_and_json(tmp_path, capsys):
    from roster.cli import main
    from roster.io import write_instance

    inst = make_instance(
        [carer("K1")], [child("C1"), child("C2")], [visit("V1", "C1"), visit("V2", "C2")],
        availability=(Availability("K1", "Mon", "16:00", "18:00"),),
    )  # fmt: skip
    write_instance(inst, tmp_path / "inst")
    assert main(["capacity", str(tmp_path / "inst")]) == 0
    text = capsys.readouterr().out
    assert "By day-part" in text and "Bottlenecks" in text and "after_school" in text
    assert main(["capacity", str(tmp_path / "inst"), "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{"):])
    assert data["bottlenecks"][0]["part"] == "after_school"
    assert data["bottlenecks"][0]["shortfall_hours"] == 2.0


def test_cli_bound_flag_adds_the_slot_bound(tmp_path, capsys):
    from roster.cli import main
    from roster.io import write_instance

    inst = make_instance([carer("K1")], [child("C1"), child("C2")], [visit("V1", "C1"), visit("V2", "C2")])
    write_instance(inst, tmp_path / "inst")
    assert main(["capacity", str(tmp_path / "inst"), "--bound"]) == 0
    assert "No rota can staff more than 1 of 2 carer slots" in capsys.readouterr().out
