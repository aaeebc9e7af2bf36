"""KPIs on a tiny hand-made rota whose every figure is worked out by hand below."""

from __future__ import annotations

import json
from datetime import date

import pytest

from roster.kpis import carer_hours, compute_kpis, format_kpis
from roster.model import Assignment, History, Rota, Unassigned
from tests.factory import carer, child, make_instance, visit

MON, TUE, WED, THU = (date(2026, 11, 23 + d) for d in range(4))
DAY = 24 * 60


@pytest.fixture
def case():
    """Two carers, two children, four visits; one 2:1 half-staffed; Wednesday a bank holiday.

    K1: employed, F, 30 h contracted, £13/h.  K2: agency, M, £25/h, speaks Polish, Polish culture.
    C1: prefers a woman, speaks Polish, target 1 carer, knows K1.  C2: Polish culture, target 3.
    """
    instance = make_instance(
        carers=[
            carer("K1", gender="F", contracted_hours=30.0, hourly_cost=13.0),
            carer("K2", gender="M", agency=True, contracted_hours=0.0, hourly_cost=25.0,
                  languages=("English", "Polish"), culture="Polish", overnight_ok=True),
        ],
        children=[
            child("C1", gender_preferred="F", language="Polish", max_carers_week=1),
            child("C2", culture="Polish"),
        ],
        visits=[
            visit("V1", "C1", date=MON, start="16:00", duration_min=120),
            visit("V2", "C1", date=TUE, start="16:00", duration_min=120),
            visit("V3", "C2", date=WED, start="22:00", duration_min=540),
            visit("V4", "C2", date=THU, start="10:00", duration_min=60, carers=2),
        ],
        history=(History("C1", "K1", 10.0),),
        bank_holidays=(WED,),
    )
    rota = Rota(
        assignments=(
            Assignment("V1", "K1", 960, 1080, "home", 1.0, 3),
            Assignment("V2", "K2", DAY + 960, DAY + 1080, "home", 2.0, 6),
            Assignment("V3", "K2", 2 * DAY + 1320, 2 * DAY + 1860, "home", 0.5, 2),
            Assignment("V4", "K1", 3 * DAY + 600, 3 * DAY + 660, "home", 1.5, 5),
        ),
        unassigned=(Unassigned("V4", 1, "no second carer free"),),
    )
    return instance, rota


def test_coverage_counts_a_half_staffed_2to1_as_uncovered_but_counts_its_staffed_slot(case):
    k = compute_kpis(*case)
    assert (k["visits"], k["visits_covered"], k["visits_covered_pct"]) == (4, 3, 75.0)
    assert (k["carer_slots"], k["carer_slots_covered"], k["carer_slots_covered_pct"]) == (5, 4, 80.0)


def test_continuity_compares_distinct_carers_with_each_childs_target(case):
    k = compute_kpis(*case)
    assert k["mean_carers_per_child"] == 2.0
    assert k["max_carers_per_child"] == 2
    # C1 (target 1) has 2 carers: outside; C2 (default target 3) has 2: within.
    assert (k["children_within_target"], k["children_within_target_pct"]) == (1, 50.0)
    assert (k["known_carer_assignments"], k["known_carer_pct"]) == (1, 25.0)


def test_preferences_count_only_rows_whose_child_states_one(case):
    k = compute_kpis(*case)
    assert (k["gender_preferred_assignments"], k["gender_preferred_met"]) == (2, 1)
    assert (k["language_assignments"], k["language_met"]) == (2, 1)
    assert (k["culture_assignments"], k["culture_met"], k["culture_met_pct"]) == (2, 1, 50.0)


def test_travel_sums_the_journeys_into_visits(case):
    k = compute_kpis(*case)
    assert k["travel_miles"] == 5.0
    assert k["travel_minutes"] == 16
    assert k["mean_travel_miles"] == 1.25


def test_hours_agency_cost_overnight_and_bank_holiday(case):
    k = compute_kpis(*case)
    # K1: 180 min of visits + 8 min travel; K2 (agency): 660 + 8.
    assert k["visit_hours"] == 14.0
    assert k["working_hours"] == pytest.approx(14.27, abs=0.01)
    assert k["agency_hours"] == pytest.approx(668 / 60, abs=0.01)
    assert k["agency_pct"] == pytest.approx(100 * 668 / 856, abs=0.01)
    assert k["hours_mean_abs_deviation"] == pytest.approx(30 - 188 / 60, abs=0.01)
    assert k["staff_cost"] == pytest.approx(188 / 60 * 13 + 668 / 60 * 25, abs=0.01)
    # V3 22:00-07:00: 22:30-06:30 is outside core hours = 8 h; 22:00-24:00 is on the holiday.
    assert k["overnight_hours"] == 8.0
    assert k["bank_holiday_hours"] == 2.0


def test_carer_hours_lists_every_carer_with_deviation_from_contract(case):
    table = {h.carer_id: h for h in carer_hours(*case)}
    assert table["K1"].visits == 2
    assert table["K1"].deviation == pytest.approx(188 / 60 - 30)
    assert table["K2"].agency and table["K2"].working_hours == pytest.approx(668 / 60)


def test_an_empty_rota_has_zero_coverage_and_vacuous_preferences(case):
    instance, _ = case
    k = compute_kpis(instance, Rota(assignments=()))
    assert k["visits_covered"] == 0 and k["carer_slots_covered_pct"] == 0.0
    assert k["gender_preferred_met_pct"] == 100.0
    assert k["hours_mean_abs_deviation"] == 30.0


def test_kpis_are_json_ready_and_format_as_a_table(case):
    k = compute_kpis(*case)
    json.dumps(k)
    text = format_kpis(k)
    assert "Visits covered" in text and "3 of 4 (75.0 %)" in text


def test_kpis_cli_prints_table_and_json(tmp_path, case, capsys):
    from roster.cli import main
    from roster.io import write_instance, write_rota

    instance, rota = case
    write_instance(instance, tmp_path / "inst")
    write_rota(instance, rota, tmp_path / "rota")
    assert main(["kpis", str(tmp_path / "inst"), str(tmp_path / "rota")]) == 0
    assert "Carer slots covered" in capsys.readouterr().out
    assert main(["kpis", str(tmp_path / "inst"), str(tmp_path / "rota"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["carer_slots_covered"] == 4
