"""Exports: run sheets, calendars, timesheets, invoices and rota downloads are right to the byte."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest

from roster.exports import (
    band_minutes,
    carer_bundle_zip,
    carer_ics,
    child_week,
    hours_vs_contract,
    invoice_csv,
    invoice_html,
    invoice_lines,
    invoices_zip,
    rota_table,
    run_sheet_html,
    timesheets_csv,
)
from roster.model import Assignment, Rota, Unassigned
from tests.factory import carer, child, make_instance, visit


def _instance(**settings):
    return make_instance(
        carers=[carer("K1", name="Ann Carer"), carer("K2", name="Bob Carer", gender="M")],
        children=[
            child("C1", name="Amy <Smith> & Co", commissioner="Dorset Council"),
            child("C2", name="Ben Jones", commissioner="NHS Dorset"),
        ],
        visits=[
            visit("V1", "C1", start="16:00", duration_min=120),
            visit("V2", "C1", date=date(2026, 11, 28), start="10:00", duration_min=60, carers=2),
            visit("V3", "C2", date=date(2026, 11, 24), start="09:00", duration_min=90),
        ],
        **settings,
    )


def _rota(instance):
    m = instance.clock.minute_of
    return Rota(
        assignments=(
            Assignment(
                "V1", "K1", m(date(2026, 11, 23), 960), m(date(2026, 11, 23), 1080), "home", 1.2, 4
            ),
            Assignment(
                "V2", "K1", m(date(2026, 11, 28), 600), m(date(2026, 11, 28), 660), "home", 1.2, 4
            ),
            Assignment(
                "V2", "K2", m(date(2026, 11, 28), 600), m(date(2026, 11, 28), 660), "home", 1.2, 4
            ),
        ),
        unassigned=(Unassigned("V3", 1, "no carer free Tue 09:00-10:30"),),
    )


def test_band_minutes_split_an_overnight_visit_at_core_hours():
    inst = _instance()
    m = inst.clock.minute_of
    # Monday 22:00 to Tuesday 07:00: 30 min core, 8 h outside 06:30-22:30, 30 min core.
    bands = band_minutes(inst, m(date(2026, 11, 23), 22 * 60), m(date(2026, 11, 24), 7 * 60))
    assert bands == {"weekday": 60, "weekend": 0, "overnight": 480, "bank_holiday": 0}


def test_band_minutes_put_saturday_in_weekend_and_a_bank_holiday_before_anything_else():
    inst = _instance(bank_holidays=(date(2026, 11, 24),))
    m = inst.clock.minute_of
    assert (
        band_minutes(inst, m(date(2026, 11, 28), 600), m(date(2026, 11, 28), 660))["weekend"] == 60
    )
    bands = band_minutes(inst, m(date(2026, 11, 24), 5 * 60), m(date(2026, 11, 24), 8 * 60))
    assert bands == {"weekday": 0, "weekend": 0, "overnight": 0, "bank_holiday": 180}


def test_run_sheet_lists_the_carers_visits_in_24_hour_time_and_escapes_names():
    inst = _instance()
    sheet = run_sheet_html(inst, _rota(inst), "K1")
    assert "Run sheet: Ann Carer" in sheet
    assert "16:00-18:00" in sheet and "10:00-11:00" in sheet
    assert "Amy &lt;Smith&gt; &amp; Co" in sheet and "<Smith>" not in sheet
    assert "Bob Carer" in sheet and "2:1 visit" in sheet
    assert "Monday 23 November 2026" in sheet and "Saturday 28 November 2026" in sheet
    assert "V3" not in sheet


def test_run_sheet_of_a_carer_without_visits_says_so():
    inst = _instance()
    empty = Rota(assignments=())
    assert "No visits this week" in run_sheet_html(inst, empty, "K2")


def test_calendar_holds_one_event_per_visit_at_the_right_instant():
    from icalendar import Calendar

    inst = _instance()
    cal = Calendar.from_ical(carer_ics(inst, _rota(inst), "K1"))
    events = [c for c in cal.walk("VEVENT")]
    assert [str(e["uid"]) for e in events] == ["V1-K1@roster", "V2-K1@roster"]
    start = events[0].decoded("dtstart")
    assert start.isoformat() == "2026-11-23T16:00:00+00:00"
    assert events[0].decoded("dtend").hour == 18
    assert "2:1" in str(events[1]["summary"])


def test_timesheet_has_a_row_per_carer_per_visit_with_working_minutes():
    inst = _instance()
    rows = list(csv.DictReader(io.StringIO(timesheets_csv(inst, _rota(inst)))))
    assert [(r["carer_id"], r["visit_id"]) for r in rows] == [
        ("K1", "V1"),
        ("K1", "V2"),
        ("K2", "V2"),
    ]
    assert rows[0]["visit_minutes"] == "120" and rows[0]["working_minutes"] == "124"
    assert rows[0]["weekday_minutes"] == "120" and rows[1]["weekend_minutes"] == "60"
    assert rows[0]["start"] == "16:00" and rows[0]["date"] == "2026-11-23"


def test_invoice_counts_both_carers_of_a_2_to_1_visit():
    inst = _instance()
    lines = invoice_lines(inst, _rota(inst), "C1")
    assert [(x.visit_id, x.session_hours, x.carer_hours) for x in lines] == [
        ("V1", 2.0, 2.0),
        ("V2", 1.0, 2.0),
    ]
    assert lines[1].band_hours["weekend"] == 2.0


def test_invoice_csv_names_the_child_commissioner_period_and_totals():
    inst = _instance()
    text = invoice_csv(inst, _rota(inst), "C1")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["invoice_for", "Amy <Smith> & Co", "C1"]
    assert rows[1] == ["commissioner", "Dorset Council"]
    assert rows[2] == ["period", "2026-11-23", "2026-11-29"]
    total = rows[-1]
    assert total[0] == "total" and total[5] == "3.00" and total[6] == "4.00"
    assert total[7:] == ["2.00", "2.00", "0.00", "0.00"]
    assert "Amy &lt;Smith&gt;" in invoice_html(inst, _rota(inst), "C1")


def test_invoices_zip_has_one_invoice_per_child_with_delivered_hours_under_its_commissioner():
    inst = _instance()
    with zipfile.ZipFile(io.BytesIO(invoices_zip(inst, _rota(inst)))) as archive:
        assert sorted(archive.namelist()) == ["Dorset_Council/C1.csv", "Dorset_Council/C1.html"]


def test_tables_for_the_app_show_hours_against_contract_and_each_childs_week():
    inst = _instance()
    rota = _rota(inst)
    table = rota_table(inst, rota)
    assert len(table) == 3 and set(table["child"]) == {"Amy <Smith> & Co"}
    hours = hours_vs_contract(inst, rota).set_index("carer_id")
    assert hours.loc["K1", "visit_hours"] == 3.0
    assert hours.loc["K1", "working_hours"] == pytest.approx(3 + 8 / 60, abs=0.01)
    assert hours.loc["K1", "difference"] == pytest.approx(3 + 8 / 60 - 30, abs=0.01)
    week = child_week(inst, rota, "C2")
    assert list(week["status"]) == ["1 carer(s) missing"]
    assert "no carer free" in week["why not covered"].iloc[0]


def test_carer_bundle_holds_a_sheet_and_a_calendar_per_carer_with_visits():
    inst = _instance()
    with zipfile.ZipFile(io.BytesIO(carer_bundle_zip(inst, _rota(inst)))) as archive:
        assert sorted(archive.namelist()) == [
            "calendars/K1.ics", "calendars/K2.ics", "run_sheets/K1.html", "run_sheets/K2.html",
        ]  # fmt: skip


def test_rota_csv_zip_holds_the_contract_files():
    pytest.importorskip("roster.io")
    from roster.exports import rota_csv_zip

    inst = _instance()
    with zipfile.ZipFile(io.BytesIO(rota_csv_zip(inst, _rota(inst)))) as archive:
        names = set(archive.namelist())
        assert {"rota.csv", "unassigned.csv"} <= names
        rows = list(csv.DictReader(io.StringIO(archive.read("rota.csv").decode())))
    assert len(rows) == 3 and rows[0]["start"].endswith("+00:00")


def test_invoice_with_a_rate_card_prices_each_line_by_band():
    from roster.rates import RateCard

    inst = _instance()
    card = RateCard({("Dorset Council", "day"): 24.0, ("Dorset Council", "overnight"): 30.0})
    lines = invoice_lines(inst, _rota(inst), "C1", card)
    # V1: 2 carer-hours on Monday; V2: 2:1 for an hour on Saturday = 2 carer-hours; both "day".
    assert [x.amount for x in lines] == [48.0, 48.0]
    rows = list(csv.reader(io.StringIO(invoice_csv(inst, _rota(inst), "C1", card))))
    assert rows[4][-1] == "amount" and rows[-1][-1] == "96.00"
    assert "<th>Amount (£)</th>" in invoice_html(inst, _rota(inst), "C1", card)


def test_invoice_says_no_rate_when_the_card_lacks_a_band_used():
    from roster.rates import RateCard

    inst = _instance()
    card = RateCard({("NHS Dorset", "day"): 30.0})
    rows = list(csv.reader(io.StringIO(invoice_csv(inst, _rota(inst), "C1", card))))
    assert rows[-1][-1] == "no rate"
