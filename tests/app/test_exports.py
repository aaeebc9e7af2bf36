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
    rota_csv_zip,
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


# ---- a calendar carries the child's first name and no home coordinates -------------------------


def test_calendar_names_the_child_by_first_name_and_gives_no_home_coordinates():
    from icalendar import Calendar

    inst = _instance()
    raw = carer_ics(inst, _rota(inst), "K1")
    text = raw.decode("utf-8")
    home = inst.child("C1")
    assert "Smith" not in text and "& Co" not in text
    assert f"{home.lat:.4f}" not in text and f"{home.lat:.3f}" not in text
    assert f"{abs(home.lon):.4f}" not in text and f"{abs(home.lon):.3f}" not in text
    assert "GEO" not in text
    events = list(Calendar.from_ical(raw).walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["Visit: Amy (V1)", "2:1 visit: Amy (V2)"]
    assert str(events[0]["location"]) == "Amy's home"
    assert "Child: Amy (C1)" in str(events[0]["description"])


def test_calendar_gives_a_community_venues_own_place_but_not_the_home():
    from dataclasses import replace

    inst = _instance()
    venue = replace(inst.visits[0], kind="community", lat=50.7, lon=-2.5)
    inst = replace(inst, visits=(venue, *inst.visits[1:]))
    text = carer_ics(inst, _rota(inst), "K1").decode("utf-8")
    assert "50.7000" in text and "-2.5000" in text
    assert f"{inst.child('C1').lat:.4f}" not in text


# ---- no export cell runs as a spreadsheet formula -----------------------------------------------

INJECTED = ("=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3", "@SUM(1)")


def _hostile_instance():
    return make_instance(
        carers=[carer("K1", name=INJECTED[0]), carer("K2", name=INJECTED[3], gender="M")],
        children=[
            child("C1", name=INJECTED[1], commissioner=INJECTED[2]),
            child("C2", name="Ben Jones", commissioner="NHS Dorset"),
        ],
        visits=[
            visit("V1", "C1", start="16:00", duration_min=120),
            visit("V2", "C1", date=date(2026, 11, 28), start="10:00", duration_min=60, carers=2),
            visit("V3", "C2", date=date(2026, 11, 24), start="09:00", duration_min=90),
        ],
    )


def _cells(text):
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _runs_as_formula(cell: str) -> bool:
    import re

    return cell[:1] in "=+-@\t\r" and cell != "" and not re.fullmatch(r"[+-]?\d+(\.\d*)?", cell)


def test_timesheet_and_invoice_csv_escape_formula_text_and_keep_the_text():
    inst = _hostile_instance()
    rota = _rota(inst)
    for text in (timesheets_csv(inst, rota), invoice_csv(inst, rota, "C1")):
        cells = _cells(text)
        assert not [c for c in cells if _runs_as_formula(c)]
        escaped = {c for c in cells if c.startswith("'")}
        assert escaped, text
        assert all(c[1:] in INJECTED for c in escaped)
    assert "'=cmd|' /C calc'!A0" in _cells(timesheets_csv(inst, rota))
    assert "'-2+3" in _cells(invoice_csv(inst, rota, "C1"))  # the commissioner


def test_invoices_zip_and_rota_download_escape_every_csv_inside():
    from dataclasses import replace

    inst = _hostile_instance()
    rota = _rota(inst)
    rota = replace(rota, unassigned=(Unassigned("V3", 1, "=HYPERLINK(\"http://x\")"),))
    for blob in (invoices_zip(inst, rota), rota_csv_zip(inst, rota)):
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for name in archive.namelist():
                if name.endswith(".csv"):
                    cells = _cells(archive.read(name).decode("utf-8"))
                    assert not [c for c in cells if _runs_as_formula(c)], name
    with zipfile.ZipFile(io.BytesIO(rota_csv_zip(inst, rota))) as archive:
        unassigned = archive.read("unassigned.csv").decode("utf-8")
    assert "'=HYPERLINK" in unassigned


def test_the_rota_download_still_reads_back_as_the_same_rota(tmp_path):
    from roster.io import load_rota

    inst = _instance()
    rota = _rota(inst)
    with zipfile.ZipFile(io.BytesIO(rota_csv_zip(inst, rota))) as archive:
        archive.extractall(tmp_path / "rota")
    back = load_rota(inst, tmp_path / "rota")
    assert sorted(back.assignments, key=lambda a: (a.visit_id, a.carer_id)) == sorted(
        rota.assignments, key=lambda a: (a.visit_id, a.carer_id)
    )


def test_change_lists_and_the_audit_csv_escape_formula_text():
    from datetime import UTC, datetime

    from roster.audit import AuditEntry, to_csv
    from roster.changes import Change, changes_csv

    text = changes_csv(
        [Change(child_id="=C1", carer_id="+K1", change="gains", whole_week=True, visit_ids=("@V1",))]
    )
    assert not [c for c in _cells(text) if _runs_as_formula(c)]
    entry = AuditEntry(
        1, datetime(2026, 11, 23, tzinfo=UTC), "=evil", "assign", 1, 2, "V1", "K1", None, None
    )
    cells = _cells(to_csv([entry]))
    assert "'=evil" in cells and not [c for c in cells if _runs_as_formula(c)]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-3.5, -3.5),
        (-2, -2),
        ("-3.50", "-3.50"),
        ("+2", "+2"),
        ("-1e3", "-1e3"),
        ("-", "'-"),
        ("-2+3", "'-2+3"),
        ("=1+1", "'=1+1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("Amy", "Amy"),
        ("", ""),
    ],
)
def test_safe_cell_escapes_text_and_leaves_numbers_alone(value, written):
    from roster.safecsv import safe_cell

    assert safe_cell(value) == written


def test_the_rota_workbook_keeps_formula_text_as_text(tmp_path):
    pytest.importorskip("openpyxl")
    from dataclasses import replace

    from openpyxl import load_workbook

    from roster.exports import rota_xlsx

    inst = _hostile_instance()
    rota = replace(_rota(inst), unassigned=(Unassigned("V3", 1, "=HYPERLINK(\"http://x\")"),))
    (tmp_path / "rota.xlsx").write_bytes(rota_xlsx(inst, rota))
    book = load_workbook(tmp_path / "rota.xlsx")
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == "=HYPERLINK(\"http://x\")" and c.data_type == "s" for c in cells)
