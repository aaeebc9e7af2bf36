"""Packages expand into a week's dated visits; Peterborough skips bank holidays unless asked."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import pytest

from roster.errors import InstanceError, UnknownIdError
from roster.packages import (
    COLUMNS,
    PackageRow,
    expand,
    expand_instance,
    format_packages,
    parse_packages,
    visit_id_for,
)
from tests.factory import child, make_instance, visit

BOXING_WEEK = date(2026, 12, 28)  # Mon 28 Dec = Boxing Day observed; Fri 1 Jan
CHRISTMAS_WEEK = date(2026, 12, 21)  # Fri 25, Sat 26 Dec
CLOCK_CHANGE_WEEK = date(2026, 10, 19)  # clocks go back Sun 25 Oct 02:00 BST

PCC = child("P1", commissioner="Peterborough City Council")
CCC = child("Q1", commissioner="Cambridgeshire County Council")


def row(child_id: str = "P1", day: str = "Mon", start: str = "10:00", **kw) -> PackageRow:
    return PackageRow(child_id=child_id, day=day, start=start, duration_min=kw.pop("duration_min", 180), **kw)


def test_columns_match_the_package_row_fields():
    assert tuple(f.name for f in fields(PackageRow)) == COLUMNS


def test_each_row_becomes_one_dated_visit_with_a_deterministic_id():
    visits = expand([row("Q1", "Wed", "15:30", flex_min=15, carers=2)], [CCC], date(2026, 11, 23))
    assert len(visits) == 1
    v = visits[0]
    assert v.visit_id == "Q1-20261125-1530" == visit_id_for("Q1", date(2026, 11, 25), "15:30")
    assert (v.date, v.start, v.duration_min, v.flex_min, v.carers) == (
        date(2026, 11, 25), "15:30", 180, 15, 2)


def test_two_sessions_at_the_same_time_get_distinct_ids():
    visits = expand([row("Q1"), row("Q1")], [CCC], date(2026, 11, 23))
    assert [v.visit_id for v in visits] == ["Q1-20261123-1000", "Q1-20261123-1000-2"]


def test_peterborough_does_not_deliver_on_boxing_day_observed():
    visits = expand([row("P1", "Mon"), row("P1", "Tue")], [PCC], BOXING_WEEK)
    assert [v.date for v in visits] == [date(2026, 12, 29)]


def test_peterborough_delivers_on_a_bank_holiday_when_the_row_requests_it():
    visits = expand([row("P1", "Mon", deliver_on_bank_holiday=True)], [PCC], BOXING_WEEK)
    assert [v.date for v in visits] == [date(2026, 12, 28)]


def test_cambridgeshire_delivers_on_bank_holidays():
    visits = expand([row("Q1", "Mon"), row("Q1", "Fri")], [CCC], BOXING_WEEK)
    assert [v.date for v in visits] == [date(2026, 12, 28), date(2027, 1, 1)]


def test_peterborough_skips_christmas_day_but_not_the_saturday_boxing_day():
    # gov.uk: the Boxing Day bank holiday of 2026 is Monday 28 December, not Saturday 26th.
    rows = [row("P1", d) for d in ("Thu", "Fri", "Sat", "Sun")]
    visits = expand(rows, [PCC], CHRISTMAS_WEEK)
    assert [v.date for v in visits] == [date(2026, 12, 24), date(2026, 12, 26), date(2026, 12, 27)]


def test_expand_instance_writes_the_weeks_bank_holidays_into_settings():
    instance = make_instance(children=[PCC, CCC])
    expanded = expand_instance(instance, [row("P1", "Mon"), row("Q1", "Mon")], BOXING_WEEK)
    assert expanded.settings.week_start == BOXING_WEEK
    assert expanded.settings.bank_holidays == (date(2026, 12, 28), date(2027, 1, 1))
    assert [v.child_id for v in expanded.visits] == ["Q1"]
    assert expanded.carers == instance.carers


def test_clock_change_week_keeps_wall_clock_starts_and_real_minute_durations():
    instance = make_instance(children=[CCC])
    rows = [row("Q1", "Sat", "22:00", duration_min=540), row("Q1", "Sun", "10:00")]
    expanded = expand_instance(instance, rows, CLOCK_CHANGE_WEEK)
    sat, sun = expanded.visits
    assert (sat.start, sun.start) == ("22:00", "10:00")
    day = 24 * 60
    assert expanded.planned_start == (5 * day + 22 * 60, 6 * day + 10 * 60 + 60)
    end = expanded.clock.datetime_of(expanded.planned_start[0] + sat.duration_min)
    assert (end.day, end.hour) == (25, 6)  # 540 real minutes from 22:00 BST is 06:00 GMT
    assert expanded.clock.iso(expanded.planned_start[1]) == "2026-10-25T10:00:00+00:00"


def test_an_unknown_child_is_a_lookup_error_naming_the_row():
    with pytest.raises(UnknownIdError, match=r"packages.csv row 2 \(Z9\): child_id is 'Z9'"):
        expand([row("P1"), row("Z9")], [PCC], date(2026, 11, 23))


def test_packages_csv_round_trips():
    rows = (
        row("P1", "Sat", "10:00", flex_min=30, carers=2, kind="community", needs_driver=True,
            trip_miles=7.5, competencies=("autism_awareness", "positive_behaviour_support"),
            deliver_on_bank_holiday=True),
        row("Q1", "Tue", "07:15", duration_min=60),
    )
    assert parse_packages(format_packages(rows)) == rows


def test_packages_csv_needs_only_the_required_columns():
    parsed = parse_packages("child_id,day,start,duration_min\nP1,Fri,15:30,120\n")
    assert parsed == (row("P1", "Fri", "15:30", duration_min=120),)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("P1,Monday,10:00,60,0,1", r"row 1 \(P1\): day is 'Monday'; it must be one of Mon"),
        ("P1,Mon,25:00,60,0,1", r"start is '25:00'; it must be a wall-clock time"),
        ("P1,Mon,10:00,-30,0,1", r"duration_min is '-30'; it must be a positive"),
        ("P1,Mon,10:00,60,60,1", r"flex_min is '60'; the flexibility must be shorter"),
        ("P1,Mon,10:00,60,0,3", r"carers is '3'; it must be 1, or 2"),
    ],
)
def test_bad_package_rows_are_reported_with_file_row_field_and_value(line, message):
    text = "child_id,day,start,duration_min,flex_min,carers\n" + line + "\n"
    with pytest.raises(InstanceError, match=message):
        parse_packages(text)


def test_every_bad_row_is_reported_at_once():
    text = "child_id,day,start,duration_min\nP1,Mon,10:00,0\nP1,Xyz,10:00,60\n"
    with pytest.raises(InstanceError) as err:
        parse_packages(text)
    assert [p.row for p in err.value.problems] == [1, 2]


def test_a_missing_required_column_is_reported():
    with pytest.raises(InstanceError, match="lacks the column"):
        parse_packages("child_id,day,start\nP1,Mon,10:00\n")


def test_expand_cli_writes_the_week(tmp_path, capsys):
    from roster.cli import main
    from roster.io import load_instance, write_instance

    write_instance(make_instance(children=[PCC, CCC], visits=[visit("V1", "Q1")]), tmp_path / "base")
    (tmp_path / "packages.csv").write_text(format_packages([row("P1", "Mon"), row("Q1", "Mon")]))
    code = main(["expand", str(tmp_path / "base"), str(tmp_path / "packages.csv"),
                 "--week", BOXING_WEEK.isoformat(), "--out", str(tmp_path / "out")])
    assert code == 0
    out = load_instance(tmp_path / "out")
    assert [v.visit_id for v in out.visits] == ["Q1-20261228-1000"]
    assert out.settings.bank_holidays == (date(2026, 12, 28), date(2027, 1, 1))
    assert "1 session(s) not delivered" in capsys.readouterr().out


def test_a_start_written_without_a_leading_zero_is_normalised():
    (v,) = expand(parse_packages("child_id,day,start,duration_min\nQ1,Mon,7:15,60\n"), [CCC],
                  date(2026, 11, 23))
    assert (v.visit_id, v.start) == ("Q1-20261123-0715", "07:15")


def test_expand_cli_refuses_a_week_that_does_not_start_on_monday(tmp_path, capsys):
    from roster.cli import main

    code = main(["expand", "x", "y", "--week", "2026-12-29", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "it must be a Monday" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
