"""The clock in real minutes: clock-change weeks, overnight visits across midnight, bank holidays."""

from __future__ import annotations

from datetime import date

import pytest

from roster.calendar import Clock, bank_holidays_in_week
from roster.checker import check
from roster.model import Availability, Rota
from roster.rules import r7_overnight, r11_daily_rest, r14_weekly_rest
from tests.factory import DORCHESTER, carer, child, make_instance, visit
from tests.roster.test_rules import plan

OCTOBER = date(2026, 10, 19)  # clocks go back Sun 25 Oct 02:00 BST -> 01:00 GMT
MARCH = date(2026, 3, 23)  # clocks go forward Sun 29 Mar 01:00 GMT -> 02:00 BST
SAT_OCT, SUN_OCT = date(2026, 10, 24), date(2026, 10, 25)
NEXT_DOOR = {"lat": DORCHESTER[0], "lon": DORCHESTER[1]}


def october(*visits, **carer_kw):
    """K1 (does nights) next door to C1, available Sat 21:00 to Sun 21:00 of the October week."""
    return make_instance(
        [carer("K1", **{"overnight_ok": True, **carer_kw})],
        [child("C1", **NEXT_DOOR)],
        list(visits),
        availability=(Availability("K1", "Sat", "21:00", "21:00"),),  # one row past midnight (R5)
        week_start=OCTOBER,
    )


def test_october_week_has_an_extra_hour():
    assert Clock(OCTOBER).week_minutes == 7 * 1440 + 60
    assert Clock(MARCH).week_minutes == 7 * 1440 - 60
    assert Clock(date(2026, 11, 23)).week_minutes == 7 * 1440


def test_overnight_visit_over_the_october_change_lasts_600_real_minutes():
    clock = Clock(OCTOBER)
    start = clock.minute_of(SAT_OCT, 22 * 60)
    end = clock.minute_of(SUN_OCT, 7 * 60)
    assert end - start == 600
    assert clock.iso(start) == "2026-10-24T22:00:00+01:00"
    assert clock.iso(end) == "2026-10-25T07:00:00+00:00"


def test_overnight_visit_over_the_march_change_lasts_480_real_minutes():
    clock = Clock(MARCH)
    start = clock.minute_of(date(2026, 3, 28), 22 * 60)
    end = clock.minute_of(date(2026, 3, 29), 7 * 60)
    assert end - start == 480
    assert clock.iso(start).endswith("+00:00") and clock.iso(end).endswith("+01:00")


def test_planned_overnight_visit_ends_at_07_wall_clock_after_600_minutes():
    inst = october(visit("V1", date=SAT_OCT, start="22:00", duration_min=600))
    [row] = plan(inst, [("V1", "K1")])
    assert inst.clock.iso(row.end) == "2026-10-25T07:00:00+00:00"
    assert check(inst, Rota((row,))) == []


def test_r7_counts_real_minutes_outside_core_hours_in_the_october_week():
    inst = october(visit("V1", date=SAT_OCT, start="22:00", duration_min=600), overnight_ok=False)
    [row] = plan(inst, [("V1", "K1")])
    # 22:30 BST to 06:30 GMT is 8 wall-clock hours plus the repeated hour: 540 real minutes.
    assert inst.clock.minutes_outside_band(row.start, row.end, *inst.core_band) == 540
    reason = r7_overnight(inst, inst.carers[0], inst.visits[0], row)
    assert reason and reason.startswith("540 min")


@pytest.mark.parametrize(
    "second_end,broken",
    [("10:00", False), ("10:01", True)],
    ids=["rest_of_eleven_real_hours", "a_real_minute_short"],
)
def test_r11_window_is_24_real_hours_across_the_october_change(second_end: str, broken: bool):
    """Sat 22:00 BST + 24 real hours is Sun 21:00 GMT: after a visit ending 10:00 there are 11 h."""
    minutes = 60 if second_end == "10:00" else 61
    inst = october(
        visit("V1", date=SAT_OCT, start="22:00", duration_min=600),
        visit("V2", date=SUN_OCT, start="09:00", duration_min=minutes),
    )
    rows = plan(inst, [("V1", "K1"), ("V2", "K1")])
    reason = r11_daily_rest(inst, inst.carers[0], rows)
    assert bool(reason) == broken, reason


def test_r14_week_of_the_october_change_ends_at_its_last_midnight():
    # Work until Sun 01:00 BST; the rest to Mon 00:00 GMT is 24 real hours (23 wall + repeated hour).
    inst = make_instance(
        [carer("K1", overnight_ok=True)],
        [child("C1", **NEXT_DOOR)],
        [visit(f"V{d}", date=date(2026, 10, 19 + d), start="09:00", duration_min=120) for d in range(6)]
        + [visit("V9", date=SAT_OCT, start="23:00", duration_min=120)],
        availability=tuple(
            Availability("K1", d, hhmm, hhmm)
            for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
            for hhmm in ("00:00", "12:00")  # an overnight visit lies inside one row (R5)
        ),
        week_start=OCTOBER,
    )
    rows = plan(inst, [(v.visit_id, "K1") for v in inst.visits])
    assert inst.clock.iso(rows[-1].end) == "2026-10-25T01:00:00+01:00"
    assert r14_weekly_rest(inst, inst.carers[0], rows) is None
    longer = make_instance(
        inst.carers, inst.children,
        [*inst.visits[:-1], visit("V9", date=SAT_OCT, start="23:00", duration_min=121)],
        availability=inst.availability, week_start=OCTOBER,
    )
    rows = plan(longer, [(v.visit_id, "K1") for v in longer.visits])
    assert r14_weekly_rest(longer, longer.carers[0], rows)


def test_rota_written_in_the_october_week_carries_both_offsets_and_checks_clean(tmp_path):
    from roster.io import load_rota, write_rota

    inst = october(visit("V1", date=SAT_OCT, start="22:00", duration_min=600))
    rota = Rota(plan(inst, [("V1", "K1")]))
    write_rota(inst, rota, tmp_path / "rota")
    text = (tmp_path / "rota" / "rota.csv").read_text()
    assert "2026-10-24T22:00:00+01:00" in text and "2026-10-25T07:00:00+00:00" in text
    again = load_rota(inst, tmp_path / "rota")
    assert again.assignments == rota.assignments
    assert check(inst, again) == []


def test_minutes_outside_band_across_midnight():
    clock = Clock(date(2026, 11, 23))
    start = clock.minute_of(date(2026, 11, 23), 21 * 60)
    assert clock.minutes_outside_band(start, start + 240, 6 * 60 + 30, 22 * 60 + 30) == 150
    assert clock.minutes_outside_band(start, start + 90, 6 * 60 + 30, 22 * 60 + 30) == 0


def test_boxing_day_2026_is_observed_on_monday_28_december():
    assert bank_holidays_in_week(date(2026, 12, 28)) == (date(2026, 12, 28), date(2027, 1, 1))
    assert date(2026, 12, 25) in bank_holidays_in_week(date(2026, 12, 21))


def test_an_ordinary_week_has_no_bank_holiday():
    assert bank_holidays_in_week(date(2026, 11, 23)) == ()


def test_easter_monday_and_good_friday_2026():
    assert bank_holidays_in_week(date(2026, 3, 30)) == (date(2026, 4, 3),)
    assert bank_holidays_in_week(date(2026, 4, 6)) == (date(2026, 4, 6),)
