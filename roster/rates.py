"""The rate card and the money of a rota: what we pay carers and what commissioners pay us.

``rates.csv`` sits in the instance folder (beside ``instance.json``) and holds the pricing
schedule agreed with each commissioner (seed 002 §5.2, §5.6, §5.7)::

    commissioner,band,hourly_rate
    Dorset Council,day,24.50
    Dorset Council,overnight,27.00
    Dorset Council,bank_holiday,36.75

``band`` is ``day`` (core hours), ``overnight`` (any minute outside the instance's
``core_hours``; 002 §5.6) or ``bank_holiday`` (002 §5.2). A session is charged per carer-hour,
minute by minute: the minutes on a bank holiday at the bank-holiday rate, the other minutes
outside core hours at the overnight rate, the rest at the day rate (the split is
``roster.exports.band_minutes``, so invoices and bids agree). A 2:1 session is charged for both
carers.

Pay is the carer's ``hourly_cost`` for their working time (the session plus the journey into it,
as R10 counts it) plus mileage at 45p a mile (HMRC's approved rate) for the journey in and the
trip miles driven inside the session. The hourly rate is inclusive of mileage (002 §5.7), so
mileage is a cost to the provider, not an extra charge.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from roster.errors import InstanceError, Problem, raise_if_any
from roster.model import Assignment, Instance

RATES_FILE = "rates.csv"
RATE_COLUMNS: tuple[str, ...] = ("commissioner", "band", "hourly_rate")
RATE_BANDS: tuple[str, ...] = ("day", "overnight", "bank_holiday")
MILEAGE_RATE: float = 0.45
"""Pounds per mile paid to carers for business mileage (HMRC approved mileage rate)."""


class MissingRateError(LookupError):
    """The rate card has no rate for a commissioner and band that a session needs."""


@dataclass(frozen=True)
class RateCard:
    """Hourly charge rates by (commissioner, band)."""

    rates: Mapping[tuple[str, str], float]
    source: str = RATES_FILE

    @property
    def commissioners(self) -> tuple[str, ...]:
        return tuple(sorted({c for c, _ in self.rates}))

    def rate(self, commissioner: str, band: str) -> float:
        """The hourly rate; raises ``MissingRateError`` naming what is missing."""
        try:
            return self.rates[(commissioner, band)]
        except KeyError:
            if not any(c == commissioner for c, _ in self.rates):
                known = ", ".join(self.commissioners) or "none"
                raise MissingRateError(
                    f"{self.source} has no rates for commissioner {commissioner!r} "
                    f"(it has: {known})."
                ) from None
            raise MissingRateError(
                f"{self.source} has no {band} rate for commissioner {commissioner!r}; "
                f"add a row '{commissioner},{band},<hourly_rate>'."
            ) from None


def parse_rates(text: str, source: str = RATES_FILE) -> RateCard:
    """Parse the text of ``rates.csv``; raises ``InstanceError`` listing every problem."""
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        raise InstanceError([Problem(source, None, None, None, None, "it is empty; it needs the header commissioner,band,hourly_rate.")])
    columns = [h.strip().lower().replace(" ", "_") for h in header]
    missing = [c for c in RATE_COLUMNS if c not in columns]
    if missing:
        raise InstanceError(
            [Problem(source, None, None, None, None, f"the column(s) {', '.join(missing)} are missing; the header must hold commissioner,band,hourly_rate.")]
        )
    at = {c: columns.index(c) for c in RATE_COLUMNS}
    rates: dict[tuple[str, str], float] = {}
    first_row: dict[tuple[str, str], int] = {}
    row_no = 0
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        row_no += 1
        cell = {c: (cells[i].strip() if i < len(cells) else "") for c, i in at.items()}
        commissioner, band, raw_rate = cell["commissioner"], cell["band"].lower(), cell["hourly_rate"]
        ok = True
        if not commissioner:
            problems.append(Problem(source, row_no, None, "commissioner", "", "it must name the commissioner (e.g. Dorset Council)."))
            ok = False
        if band not in RATE_BANDS:
            problems.append(Problem(source, row_no, commissioner or None, "band", cell["band"], f"it must be one of {', '.join(RATE_BANDS)}."))
            ok = False
        try:
            rate = float(raw_rate.lstrip("£"))
            if not math.isfinite(rate) or rate < 0:
                raise ValueError
        except ValueError:
            problems.append(Problem(source, row_no, commissioner or None, "hourly_rate", raw_rate, "it must be a number of pounds per hour, 0 or more."))
            ok = False
        if not ok:
            continue
        key = (commissioner, band)
        if key in rates:
            problems.append(
                Problem(source, row_no, commissioner, "band", band, f"row {first_row[key]} already gives the {band} rate for this commissioner.")
            )
            continue
        rates[key] = rate
        first_row[key] = row_no
    raise_if_any(problems)
    return RateCard(rates, source)


def load_rates(path: str | Path) -> RateCard | None:
    """Read ``rates.csv`` from an instance folder (or the file itself); ``None`` when absent.

    A workbook instance (``.xlsx``) has no rate card beside it unless ``rates.csv`` sits in the
    same folder.
    """
    target = Path(path)
    if target.is_dir():
        target = target / RATES_FILE
    elif target.suffix.lower() in (".xlsx", ".xlsm"):
        target = target.parent / RATES_FILE
    if not target.exists():
        return None
    try:
        text = target.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InstanceError([Problem(target.name, None, None, None, None, "it is not UTF-8 text; save it as CSV UTF-8.")]) from None
    return parse_rates(text, target.name)


# ---- money of assignments -------------------------------------------------------------


@dataclass(frozen=True)
class Costing:
    """The money of a set of rota rows (one week)."""

    carer_hours: float
    """Session hours summed over carers (a 2-hour 2:1 session is 4)."""
    travel_hours: float
    miles: float
    """Journey miles in plus trip miles."""
    pay: float
    """hourly_cost x (session + travel time)."""
    mileage: float
    """miles x MILEAGE_RATE."""
    charge: float | None
    """What the commissioners pay by the rate card; ``None`` without a usable rate card."""
    band_hours: Mapping[str, float] = field(default_factory=dict)
    note: str = ""
    """Why ``charge`` is ``None``, when it is."""

    @property
    def cost(self) -> float:
        return round(self.pay + self.mileage, 2)

    @property
    def margin(self) -> float | None:
        return None if self.charge is None else round(self.charge - self.cost, 2)


def assignment_bands(instance: Instance, a: Assignment) -> dict[str, int]:
    """Minutes of one rota row in each rate band (day, overnight, bank_holiday)."""
    from roster.exports import band_minutes

    split = band_minutes(instance, a.start, a.end)
    return {
        "day": split.get("weekday", 0) + split.get("weekend", 0),
        "overnight": split.get("overnight", 0),
        "bank_holiday": split.get("bank_holiday", 0),
    }


def cost_assignments(
    instance: Instance, assignments: Iterable[Assignment], card: RateCard | None
) -> Costing:
    """Pay, mileage and charge of rota rows (rows of visits the instance does not hold are skipped)."""
    carer_min = travel_min = 0
    miles = pay = 0.0
    bands = dict.fromkeys(RATE_BANDS, 0)
    charge: float | None = 0.0 if card is not None else None
    note = "" if card is not None else f"no {RATES_FILE} in the instance folder"
    for a in assignments:
        if a.visit_id not in instance.visit_index or a.carer_id not in instance.carer_index:
            continue
        visit = instance.visit(a.visit_id)
        carer = instance.carer(a.carer_id)
        minutes = a.end - a.start
        carer_min += minutes
        travel_min += a.travel_min
        miles += a.travel_miles + visit.trip_miles
        pay += carer.hourly_cost * (minutes + a.travel_min) / 60.0
        split = assignment_bands(instance, a)
        for band, m in split.items():
            bands[band] += m
        if charge is not None and card is not None:
            commissioner = instance.child(visit.child_id).commissioner
            try:
                charge += sum(card.rate(commissioner, b) * m / 60.0 for b, m in split.items() if m)
            except MissingRateError as exc:
                charge, note = None, str(exc)
    return Costing(
        carer_hours=round(carer_min / 60.0, 2),
        travel_hours=round(travel_min / 60.0, 2),
        miles=round(miles, 2),
        pay=round(pay, 2),
        mileage=round(miles * MILEAGE_RATE, 2),
        charge=None if charge is None else round(charge, 2),
        band_hours={b: round(m / 60.0, 2) for b, m in bands.items()},
        note=note,
    )


def format_rates(card: RateCard) -> str:
    """``rates.csv`` text for a rate card (sorted), e.g. to write beside a generated instance."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RATE_COLUMNS)
    for (commissioner, band), rate in sorted(card.rates.items()):
        writer.writerow([commissioner, band, f"{rate:.2f}"])
    return out.getvalue()


__all__ = [
    "MILEAGE_RATE",
    "RATES_FILE",
    "RATE_BANDS",
    "Costing",
    "MissingRateError",
    "RateCard",
    "assignment_bands",
    "cost_assignments",
    "format_rates",
    "load_rates",
    "parse_rates",
]
