"""The rate card (rates.csv) and the money of rota rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from roster.errors import InstanceError
from roster.model import Assignment
from roster.rates import MILEAGE_RATE, MissingRateError, cost_assignments, load_rates, parse_rates
from tests.factory import carer, child, make_instance, visit

GOOD = "commissioner,band,hourly_rate\nDorset Council,day,24\nDorset Council,overnight,30\nDorset Council,bank_holiday,36\n"


def test_rate_card_reads_each_commissioner_band():
    card = parse_rates(GOOD)
    assert card.rate("Dorset Council", "overnight") == 30
    assert card.commissioners == ("Dorset Council",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("commissioner,band\nX,day\n", r"rates.csv: the column\(s\) hourly_rate are missing"),
        ("commissioner,band,hourly_rate\nX,weekend,20\n", r"rates.csv row 1 \(X\): band is 'weekend'; it must be one of day, overnight, bank_holiday"),
        ("commissioner,band,hourly_rate\nX,day,-3\n", r"rates.csv row 1 \(X\): hourly_rate is '-3'; it must be a number of pounds"),
        ("commissioner,band,hourly_rate\nX,day,abc\n", r"hourly_rate is 'abc'"),
        ("commissioner,band,hourly_rate\n,day,20\n", r"rates.csv row 1: commissioner is ''"),
        ("commissioner,band,hourly_rate\nX,day,20\nX,day,21\n", r"rates.csv row 2 \(X\): band is 'day'; row 1 already gives the day rate"),
        ("", r"rates.csv: it is empty"),
    ],
)
def test_bad_rate_card_is_reported_naming_row_field_and_value(text, message):
    with pytest.raises(InstanceError, match=message):
        parse_rates(text)


def test_missing_rate_names_commissioner_and_band():
    card = parse_rates("commissioner,band,hourly_rate\nDorset Council,day,24\n")
    with pytest.raises(MissingRateError, match="no overnight rate for commissioner 'Dorset Council'"):
        card.rate("Dorset Council", "overnight")
    with pytest.raises(MissingRateError, match="no rates for commissioner 'Elsewhere'"):
        card.rate("Elsewhere", "day")


def test_rate_card_is_optional_and_read_from_the_instance_folder(tmp_path):
    assert load_rates(tmp_path) is None
    (tmp_path / "rates.csv").write_text(GOOD, encoding="utf-8")
    card = load_rates(tmp_path)
    assert card is not None and card.rate("Dorset Council", "day") == 24


def test_costing_pays_working_time_and_mileage_and_charges_by_band():
    inst = make_instance(
        [carer("K1", hourly_cost=12.0)],
        [child("C1")],
        [visit("V1", trip_miles=4.0), visit("V2", start="21:30", duration_min=120)],
    )
    start1 = inst.planned_start[0]
    start2 = inst.planned_start[1]
    rows = [
        Assignment("V1", "K1", start1, start1 + 120, "home", 1.0, 3),
        Assignment("V2", "K1", start2, start2 + 120, "home", 1.0, 3),
    ]
    money = cost_assignments(inst, rows, parse_rates(GOOD))
    assert money.carer_hours == 4.0
    assert money.pay == pytest.approx(12.0 * (240 + 6) / 60, abs=0.01)
    assert money.mileage == pytest.approx((1 + 4 + 1) * MILEAGE_RATE, abs=0.01)
    # V2 21:30-23:30: 60 min day + 60 min outside core hours (22:30).
    assert money.band_hours == {"day": 3.0, "overnight": 1.0, "bank_holiday": 0.0}
    assert money.charge == pytest.approx(3 * 24 + 1 * 30, abs=0.01)
    assert money.margin == pytest.approx(money.charge - money.cost, abs=0.01)


def test_bank_holiday_minutes_are_charged_at_the_bank_holiday_rate():
    inst = make_instance(bank_holidays=(date(2026, 11, 23),))
    s = inst.planned_start[0]
    money = cost_assignments(inst, [Assignment("V1", "K1", s, s + 120)], parse_rates(GOOD))
    assert money.charge == pytest.approx(2 * 36)


def test_costing_without_a_rate_card_has_no_charge_and_says_why():
    inst = make_instance()
    s = inst.planned_start[0]
    money = cost_assignments(inst, [Assignment("V1", "K1", s, s + 120)], None)
    assert money.charge is None and money.margin is None and "rates.csv" in money.note


def test_costing_with_a_commissioner_missing_from_the_card_says_which():
    inst = make_instance(children=[replace(child("C1"), commissioner="Elsewhere")])
    s = inst.planned_start[0]
    money = cost_assignments(inst, [Assignment("V1", "K1", s, s + 120)], parse_rates(GOOD))
    assert money.charge is None and "Elsewhere" in money.note
