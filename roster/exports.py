"""What goes out of the office: run sheets, calendars, timesheets, invoices and rota downloads.

Every function here is pure: it takes a frozen ``Instance`` and the ``Rota`` made for it and
returns ``str`` or ``bytes`` (or a table), writing nothing to disk. The app offers them as
downloads; a script can write them wherever it likes.

* ``run_sheet_html`` — a printable run sheet for one carer: each day's visits in order, with
  the child, the place, the journey in, and who else is on a 2:1.
* ``carer_ics`` — the same visits as an iCalendar file the carer can add to a phone.
* ``timesheets_csv`` — one row per carer per visit: visit and travel minutes, for payroll.
* ``invoice_csv`` / ``invoice_html`` / ``invoices_zip`` — one invoice per child per commissioner
  (002 §15.1: "one invoice per child/young person, detailing the dates and hours delivered"),
  with the hours split by band (weekday, weekend, overnight, bank holiday; 002 §5.2, §5.6).
* ``rota_csv_zip`` / ``rota_xlsx`` — the rota in the contract's CSV folder (zipped) or Excel.

Times are shown as local wall-clock in 24-hour form (002 §15.3), dates in full with the year.

Every CSV here is written through ``roster.safecsv``: a text cell that starts with ``=``, ``+``,
``-`` or ``@`` gets a leading apostrophe so that a spreadsheet shows it rather than runs it;
numbers, negative ones included, are left as numbers. Workbooks keep such text as text cells
(``roster.excel``). A carer's calendar carries the child's first name and where the visit is,
never the child's full name or the coordinates of the family home: calendars end up synced to
phones and cloud accounts.
"""

from __future__ import annotations

import html
import io
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from roster.calendar import DAY_NAMES
from roster.model import Assignment, Child, Instance, Rota, Visit
from roster.safecsv import SafeWriter, escape_csv_text

if TYPE_CHECKING:
    import pandas as pd

    from roster.rates import RateCard

BANDS: tuple[str, ...] = ("weekday", "weekend", "overnight", "bank_holiday")
BAND_LABELS: Mapping[str, str] = {
    "weekday": "Weekday (core hours)",
    "weekend": "Weekend (core hours)",
    "overnight": "Overnight (outside core hours)",
    "bank_holiday": "Bank holiday",
}


# ---- shared pieces ---------------------------------------------------------------------------


def _local(instance: Instance, minute: int) -> datetime:
    return instance.clock.datetime_of(minute)


def _hhmm(instance: Instance, minute: int) -> str:
    return _local(instance, minute).strftime("%H:%M")


def _long_date(day: date) -> str:
    """``Monday 23 November 2026`` (002 §15.3: the full date, including the year)."""
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def _safe_name(text: str) -> str:
    """A file-name-safe version of an id."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text) or "item"


def band_minutes(instance: Instance, start: int, end: int) -> dict[str, int]:
    """Minutes of [start, end) in each charging band.

    A minute on a bank holiday is ``bank_holiday`` (002 §5.2); otherwise a minute outside the
    instance's core hours is ``overnight`` (003 §1.6, 002 §5.6); otherwise Saturday and Sunday
    are ``weekend`` and the rest ``weekday``. Exact across a clock change and past midnight.
    """
    clock = instance.clock
    core_lo, core_hi = instance.core_band
    holidays = set(instance.settings.bank_holidays)
    out = dict.fromkeys(BANDS, 0)
    if end <= start:
        return out
    day = clock.local_date(start)
    while True:
        day_lo = clock.minute_of(day, 0)
        day_hi = clock.minute_of(day + timedelta(days=1), 0)
        s, e = max(start, day_lo), min(end, day_hi)
        if s < e:
            total = e - s
            if day in holidays:
                out["bank_holiday"] += total
            else:
                night = clock.minutes_outside_band(s, e, core_lo, core_hi)
                out["overnight"] += night
                out["weekend" if day.weekday() >= 5 else "weekday"] += total - night
        if day_hi >= end:
            return out
        day += timedelta(days=1)


def _is_overnight(instance: Instance, start: int, end: int) -> bool:
    """R7's test: any minute outside core hours."""
    lo, hi = instance.core_band
    return instance.clock.outside_daily_band(start, end, lo, hi)


def _partners(rota: Rota) -> dict[str, list[str]]:
    return {vid: sorted(a.carer_id for a in rows) for vid, rows in rota.by_visit().items()}


def _place(instance: Instance, visit: Visit) -> str:
    lat, lon = instance.visit_location(visit)
    where = "child's home" if visit.kind == "home" else "in the community"
    return f"{where} ({lat:.4f}, {lon:.4f})"


# ---- tables for the app and for payroll ------------------------------------------------------


@dataclass(frozen=True)
class RotaLine:
    """One carer on one visit, joined with what a person reading the rota wants to see."""

    visit_id: str
    carer_id: str
    carer: str
    child_id: str
    child: str
    commissioner: str
    day: date
    start: datetime
    end: datetime
    duration_min: int
    travel_from: str
    travel_miles: float
    travel_min: int
    carers_needed: int
    other_carers: tuple[str, ...]
    kind: str
    overnight: bool
    agency: bool


def rota_lines(instance: Instance, rota: Rota) -> list[RotaLine]:
    """Every assignment, sorted by carer then start, with names and local times."""
    partners = _partners(rota)
    lines = []
    for a in sorted(rota.assignments, key=lambda a: (a.carer_id, a.start, a.visit_id)):
        visit = instance.visit(a.visit_id)
        child = instance.child(visit.child_id)
        carer = instance.carer(a.carer_id)
        lines.append(
            RotaLine(
                visit_id=a.visit_id,
                carer_id=a.carer_id,
                carer=carer.name,
                child_id=child.child_id,
                child=child.name,
                commissioner=child.commissioner,
                day=instance.clock.local_date(a.start),
                start=_local(instance, a.start),
                end=_local(instance, a.end),
                duration_min=a.end - a.start,
                travel_from=a.travel_from,
                travel_miles=a.travel_miles,
                travel_min=a.travel_min,
                carers_needed=visit.carers,
                other_carers=tuple(c for c in partners.get(a.visit_id, []) if c != a.carer_id),
                kind=visit.kind,
                overnight=_is_overnight(instance, a.start, a.end),
                agency=carer.agency,
            )
        )
    return lines


def rota_table(instance: Instance, rota: Rota) -> pd.DataFrame:
    """``rota_lines`` as a DataFrame (one row per carer per visit), for charts and tables."""
    import pandas as pd

    rows = [
        line.__dict__ | {"other_carers": ", ".join(line.other_carers)}
        for line in rota_lines(instance, rota)
    ]
    columns = list(RotaLine.__dataclass_fields__)
    return pd.DataFrame(rows, columns=columns)


def hours_vs_contract(instance: Instance, rota: Rota) -> pd.DataFrame:
    """Per carer: visit, travel and working hours against contracted and maximum hours.

    Working time is visit minutes plus travel minutes (contract §3, R10). ``difference`` is
    working hours minus contracted hours (negative = under contract).
    """
    import pandas as pd

    by_carer = rota.by_carer()
    rows = []
    for carer in instance.carers:
        mine = by_carer.get(carer.carer_id, [])
        visit_min = sum(a.end - a.start for a in mine)
        travel_min = sum(a.travel_min for a in mine)
        cap = instance.settings.max_week_hours
        if carer.max_week_hours is not None:
            cap = min(cap, carer.max_week_hours)
        working = (visit_min + travel_min) / 60
        rows.append(
            {
                "carer_id": carer.carer_id,
                "carer": carer.name,
                "agency": carer.agency,
                "visits": len(mine),
                "visit_hours": round(visit_min / 60, 2),
                "travel_hours": round(travel_min / 60, 2),
                "working_hours": round(working, 2),
                "contracted_hours": carer.contracted_hours,
                "max_week_hours": cap,
                "difference": round(working - carer.contracted_hours, 2),
                "travel_miles": round(sum(a.travel_miles for a in mine), 2),
            }
        )
    return pd.DataFrame(rows)


def child_week(instance: Instance, rota: Rota, child_id: str) -> pd.DataFrame:
    """One child's week: each visit with its carers, or why it is not covered."""
    import pandas as pd

    by_visit = rota.by_visit()
    missing = {u.visit_id: u for u in rota.unassigned}
    rows = []
    for i, visit in enumerate(instance.visits):
        if visit.child_id != child_id:
            continue
        staffed = sorted(by_visit.get(visit.visit_id, []), key=lambda a: a.carer_id)
        start = staffed[0].start if staffed else instance.planned_start[i]
        end = start + visit.duration_min
        gap = missing.get(visit.visit_id)
        rows.append(
            {
                "visit_id": visit.visit_id,
                "day": f"{DAY_NAMES[_local(instance, start).weekday()]} "
                f"{_local(instance, start).strftime('%d %b')}",
                "time": f"{_hhmm(instance, start)}-{_hhmm(instance, end)}",
                "carers needed": visit.carers,
                "carers": ", ".join(instance.carer(a.carer_id).name for a in staffed),
                "kind": visit.kind
                + (" (overnight)" if _is_overnight(instance, start, end) else ""),
                "status": "covered" if gap is None else f"{gap.missing} carer(s) missing",
                "why not covered": "" if gap is None else gap.reasons,
                "start_minute": start,
            }
        )
    return pd.DataFrame(rows)


def timesheets_csv(instance: Instance, rota: Rota) -> str:
    """Timesheets: one row per carer per visit, then nothing else (a plain CSV for payroll).

    Columns: carer_id, carer, date, visit_id, child_id, start, end, visit_minutes,
    travel_from, travel_minutes, travel_miles, working_minutes, plus minutes per band.
    """
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(
        [
            "carer_id", "carer", "date", "visit_id", "child_id", "start", "end",
            "visit_minutes", "travel_from", "travel_minutes", "travel_miles", "working_minutes",
            *(f"{b}_minutes" for b in BANDS),
        ]
    )  # fmt: skip
    for a in sorted(rota.assignments, key=lambda a: (a.carer_id, a.start, a.visit_id)):
        visit = instance.visit(a.visit_id)
        bands = band_minutes(instance, a.start, a.end)
        writer.writerow(
            [
                a.carer_id, instance.carer(a.carer_id).name,
                instance.clock.local_date(a.start).isoformat(), a.visit_id, visit.child_id,
                _hhmm(instance, a.start), _hhmm(instance, a.end), a.end - a.start,
                a.travel_from, a.travel_min, f"{a.travel_miles:.2f}",
                a.end - a.start + a.travel_min, *(bands[b] for b in BANDS),
            ]
        )  # fmt: skip
    return out.getvalue()


# ---- run sheet ----------------------------------------------------------------------------

_SHEET_CSS = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; margin: 1.5em; color: #111; }
h1 { font-size: 16pt; margin-bottom: 0; } h2 { font-size: 12pt; margin: 1.2em 0 0.3em; }
p.meta { margin-top: 0.2em; color: #444; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
.flag { font-weight: bold; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; } tr { page-break-inside: avoid; } }
"""


def run_sheet_html(instance: Instance, rota: Rota, carer_id: str) -> str:
    """A printable run sheet (HTML) for one carer: each day's visits in time order."""
    carer = instance.carer(carer_id)
    e = html.escape
    mine = rota.by_carer().get(carer_id, [])
    partners = _partners(rota)
    ws = instance.settings.week_start
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Run sheet: {e(carer.name)}</title><style>{_SHEET_CSS}</style></head><body>",
        f"<h1>Run sheet: {e(carer.name)} ({e(carer.carer_id)})</h1>",
        f"<p class='meta'>Week starting {e(_long_date(ws))}. "
        f"{len(mine)} visit(s), {sum(a.end - a.start for a in mine) / 60:.1f} h of visits, "
        f"{sum(a.travel_min for a in mine) / 60:.1f} h of travel, "
        f"{sum(a.travel_miles for a in mine):.1f} miles. "
        f"Contracted {carer.contracted_hours:g} h.</p>",
    ]
    if not mine:
        parts.append("<p>No visits this week.</p>")
    days: dict[date, list[Assignment]] = {}
    for a in mine:
        days.setdefault(instance.clock.local_date(a.start), []).append(a)
    for day in sorted(days):
        parts.append(f"<h2>{e(_long_date(day))}</h2>")
        parts.append(
            "<table><tr><th>Time</th><th>Child</th><th>Visit</th><th>Where</th>"
            "<th>Journey in</th><th>With</th><th>Notes</th></tr>"
        )
        for a in days[day]:
            visit = instance.visit(a.visit_id)
            child = instance.child(visit.child_id)
            others = [instance.carer(c).name for c in partners.get(a.visit_id, []) if c != carer_id]
            notes = []
            if visit.carers == 2:
                notes.append("2:1 visit")
            if _is_overnight(instance, a.start, a.end):
                notes.append("overnight")
            if visit.needs_driver or visit.trip_miles > 0:
                notes.append(f"driving ({visit.trip_miles:g} miles planned)")
            if visit.competencies:
                notes.append("needs " + ", ".join(visit.competencies))
            origin = "home" if a.travel_from == "home" else f"from visit {a.travel_from}"
            parts.append(
                "<tr>"
                f"<td>{_hhmm(instance, a.start)}-{_hhmm(instance, a.end)}</td>"
                f"<td>{e(child.name)}</td>"
                f"<td>{e(visit.visit_id)}</td>"
                f"<td>{e(_place(instance, visit))}</td>"
                f"<td>{e(origin)}: {a.travel_miles:.1f} mi, {a.travel_min} min</td>"
                f"<td>{e(', '.join(others)) or '-'}</td>"
                f"<td class='flag'>{e('; '.join(notes))}</td>"
                "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ---- calendar -----------------------------------------------------------------------------


def first_name(child: Child) -> str:
    """The child's first name: the first word of ``name`` (``Amy <Smith> & Co`` -> ``Amy``)."""
    words = child.name.split()
    return words[0] if words else child.child_id


def _calendar_place(instance: Instance, visit: Visit) -> str:
    """Where a visit is, for a calendar: the child's home by name, never its coordinates.

    The contract has no street address; a community visit with its own place (a venue, not the
    home) gives that place's coordinates, which a phone can route to.
    """
    child = instance.child(visit.child_id)
    if visit.kind == "home" or visit.lat is None or visit.lon is None:
        where = f"{first_name(child)}'s home"
        return where if visit.kind == "home" else f"in the community, from {where}"
    return f"in the community ({visit.lat:.4f}, {visit.lon:.4f})"


def carer_ics(
    instance: Instance, rota: Rota, carer_id: str, stamp: datetime | None = None
) -> bytes:
    """An iCalendar file of one carer's visits this week.

    Each visit is one event with a stable UID (``visit-carer@roster``) so that importing an
    updated calendar replaces rather than duplicates. ``stamp`` is the DTSTAMP; it defaults to
    the week's first midnight so the output depends only on the rota. A calendar leaves the
    office (phones, cloud accounts), so it names the child by first name and id only and gives
    no coordinates of the family home (no GEO); the run sheet has the rest.
    """
    from icalendar import Calendar, Event

    carer = instance.carer(carer_id)
    partners = _partners(rota)
    cal = Calendar()
    cal.add("prodid", "-//roster//run sheet//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Visits: {carer.name}")
    stamp = stamp or instance.clock.epoch
    for a in rota.by_carer().get(carer_id, []):
        visit = instance.visit(a.visit_id)
        child = instance.child(visit.child_id)
        others = [instance.carer(c).name for c in partners.get(a.visit_id, []) if c != carer_id]
        event = Event()
        event.add("uid", f"{a.visit_id}-{carer_id}@roster")
        event.add("dtstamp", stamp)
        event.add("dtstart", _local(instance, a.start))
        event.add("dtend", _local(instance, a.end))
        label = "2:1 visit" if visit.carers == 2 else "Visit"
        event.add("summary", f"{label}: {first_name(child)} ({visit.visit_id})")
        event.add("location", _calendar_place(instance, visit))
        lines = [
            f"Child: {first_name(child)} ({child.child_id})",
            f"Journey in: from {a.travel_from}, {a.travel_miles:.1f} miles, {a.travel_min} min",
        ]
        if others:
            lines.append("With: " + ", ".join(others))
        if visit.competencies:
            lines.append("Needs: " + ", ".join(visit.competencies))
        event.add("description", "\n".join(lines))
        cal.add_component(event)
    return cal.to_ical()


# ---- invoices -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLine:
    """One delivered visit on a child's invoice: session time, carers and carer-hours by band."""

    visit_id: str
    day: date
    start: str
    end: str
    carers: int
    session_hours: float
    carer_hours: float
    band_hours: Mapping[str, float]
    amount: float | None = None
    """The charge by the rate card (``roster.rates``): carer-hours per band x the hourly rate
    agreed with the commissioner; ``None`` without a card or a rate for a band used."""


def _charge(card: RateCard | None, commissioner: str, band_min: Mapping[str, int]) -> float | None:
    """Carer-minutes by band priced by the rate card; weekday and weekend are both ``day``."""
    if card is None:
        return None
    by_rate_band = {
        "day": band_min.get("weekday", 0) + band_min.get("weekend", 0),
        "overnight": band_min.get("overnight", 0),
        "bank_holiday": band_min.get("bank_holiday", 0),
    }
    try:
        total = sum(card.rate(commissioner, b) * m / 60.0 for b, m in by_rate_band.items() if m)
    except LookupError:  # roster.rates.MissingRateError: no agreed rate for this band
        return None
    return round(total, 2)


def invoice_lines(
    instance: Instance, rota: Rota, child_id: str, card: RateCard | None = None
) -> list[InvoiceLine]:
    """The delivered visits of one child, in time order.

    Carer-hours count each carer present (a 2:1 session of 2 h is 4 carer-hours); a visit with
    nobody on it is not delivered and not invoiced. With a rate card each line has its amount.
    """
    commissioner = instance.child(child_id).commissioner
    lines = []
    by_visit = rota.by_visit()
    for visit in instance.visits:
        if visit.child_id != child_id or visit.visit_id not in by_visit:
            continue
        staffed = by_visit[visit.visit_id]
        bands = dict.fromkeys(BANDS, 0)
        for a in staffed:
            for band, minutes in band_minutes(instance, a.start, a.end).items():
                bands[band] += minutes
        first = min(staffed, key=lambda a: a.start)
        lines.append(
            InvoiceLine(
                visit_id=visit.visit_id,
                day=instance.clock.local_date(first.start),
                start=_hhmm(instance, first.start),
                end=_hhmm(instance, first.end),
                carers=len(staffed),
                session_hours=round((first.end - first.start) / 60, 2),
                carer_hours=round(sum(a.end - a.start for a in staffed) / 60, 2),
                band_hours={b: round(m / 60, 2) for b, m in bands.items()},
                amount=_charge(card, commissioner, bands),
            )
        )
    lines.sort(key=lambda line: (line.day, line.start, line.visit_id))
    return lines


def invoice_csv(instance: Instance, rota: Rota, child_id: str, card: RateCard | None = None) -> str:
    """One child's invoice as CSV: a line per delivered visit and a total line, hours by band.

    The header rows name the child, the commissioner and the period (002 §15.1). With a rate
    card (``roster.rates.load_rates``) a last column holds each line's amount in pounds.
    """
    child = instance.child(child_id)
    ws = instance.settings.week_start
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["invoice_for", child.name, child.child_id])
    writer.writerow(["commissioner", child.commissioner])
    writer.writerow(["period", ws.isoformat(), (ws + timedelta(days=6)).isoformat()])
    writer.writerow([])
    money = card is not None
    writer.writerow(
        ["date", "visit_id", "start", "end", "carers", "session_hours", "carer_hours",
         *(f"{b}_hours" for b in BANDS), *(["amount"] if money else [])]
    )  # fmt: skip
    lines = invoice_lines(instance, rota, child_id, card)
    for line in lines:
        writer.writerow(
            [line.day.isoformat(), line.visit_id, line.start, line.end, line.carers,
             f"{line.session_hours:.2f}", f"{line.carer_hours:.2f}",
             *(f"{line.band_hours[b]:.2f}" for b in BANDS),
             *([_money(line.amount)] if money else [])]
        )  # fmt: skip
    writer.writerow(
        ["total", "", "", "", "", f"{sum(x.session_hours for x in lines):.2f}",
         f"{sum(x.carer_hours for x in lines):.2f}",
         *(f"{sum(x.band_hours[b] for x in lines):.2f}" for b in BANDS),
         *([_money(_total(lines))] if money else [])]
    )  # fmt: skip
    return out.getvalue()


def _total(lines: list[InvoiceLine]) -> float | None:
    amounts = [x.amount for x in lines]
    return None if any(a is None for a in amounts) else round(sum(a or 0.0 for a in amounts), 2)


def _money(amount: float | None) -> str:
    """Pounds to 2 dp, or ``no rate`` when the card lacks a rate for a band used."""
    return "no rate" if amount is None else f"{amount:.2f}"


def invoice_html(
    instance: Instance, rota: Rota, child_id: str, card: RateCard | None = None
) -> str:
    """One child's invoice as printable HTML, hours by band (002 §15.1), amounts with a card."""
    e = html.escape
    child = instance.child(child_id)
    ws = instance.settings.week_start
    lines = invoice_lines(instance, rota, child_id, card)
    money = card is not None
    head = "".join(f"<th>{e(BAND_LABELS[b])}</th>" for b in BANDS)
    head += "<th>Amount (£)</th>" if money else ""
    rows = []
    for line in lines:
        cells = "".join(f"<td>{line.band_hours[b]:.2f}</td>" for b in BANDS)
        cells += f"<td>{_money(line.amount)}</td>" if money else ""
        rows.append(
            f"<tr><td>{e(_long_date(line.day))}</td><td>{e(line.visit_id)}</td>"
            f"<td>{line.start}-{line.end}</td><td>{line.carers}</td>"
            f"<td>{line.session_hours:.2f}</td><td>{line.carer_hours:.2f}</td>{cells}</tr>"
        )
    totals = "".join(f"<td>{sum(x.band_hours[b] for x in lines):.2f}</td>" for b in BANDS)
    totals += f"<td>{_money(_total(lines))}</td>" if money else ""
    return "\n".join(
        [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>Invoice: {e(child.name)}</title><style>{_SHEET_CSS}</style></head><body>",
            f"<h1>Invoice: {e(child.name)} ({e(child.child_id)})</h1>",
            f"<p class='meta'>To {e(child.commissioner)}. Hours delivered "
            f"{e(_long_date(ws))} to {e(_long_date(ws + timedelta(days=6)))}.</p>",
            "<table><tr><th>Date</th><th>Visit</th><th>Time</th><th>Carers</th>"
            f"<th>Session hours</th><th>Carer hours</th>{head}</tr>",
            *rows,
            f"<tr><th colspan='4'>Total</th><th>{sum(x.session_hours for x in lines):.2f}</th>"
            f"<th>{sum(x.carer_hours for x in lines):.2f}</th>{totals}</tr>",
            "</table></body></html>",
        ]
    )


def invoices_zip(
    instance: Instance,
    rota: Rota,
    children: Iterable[str] | None = None,
    card: RateCard | None = None,
) -> bytes:
    """A zip of one invoice per child per commissioner (CSV and HTML), for children with hours.

    Files are ``<commissioner>/<child_id>.csv`` and ``.html``.
    """
    wanted = set(children) if children is not None else None
    delivered = {instance.visit(a.visit_id).child_id for a in rota.assignments}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for child in instance.children:
            if child.child_id not in delivered or (
                wanted is not None and child.child_id not in wanted
            ):
                continue
            folder = _safe_name(child.commissioner)
            stem = f"{folder}/{_safe_name(child.child_id)}"
            archive.writestr(f"{stem}.csv", invoice_csv(instance, rota, child.child_id, card))
            archive.writestr(f"{stem}.html", invoice_html(instance, rota, child.child_id, card))
    return buffer.getvalue()


# ---- rota downloads ---------------------------------------------------------------------


def rota_csv_zip(instance: Instance, rota: Rota) -> bytes:
    """The rota as the contract's folder (rota.csv, unassigned.csv, summary.json), zipped.

    This copy is for people: its CSV cells go through ``roster.safecsv`` (an id or a reason
    starting with ``=``, ``+``, ``-`` or ``@`` gets a leading apostrophe). Ids made by the
    generator or by hand never start so, so the folder still reads back as the same rota.
    """
    from roster.io import write_rota

    with tempfile.TemporaryDirectory(prefix="roster-rota-") as tmp:
        folder = Path(tmp) / "rota"
        write_rota(instance, rota, folder)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.suffix == ".csv":
                    text = escape_csv_text(path.read_text(encoding="utf-8"))
                    archive.writestr(path.relative_to(folder).as_posix(), text)
                elif path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
        return buffer.getvalue()


def rota_xlsx(instance: Instance, rota: Rota) -> bytes:
    """The rota as an Excel workbook, written by ``roster.excel.write_rota_xlsx``."""
    from roster.excel import write_rota_xlsx  # type: ignore[attr-defined,unused-ignore]

    with tempfile.TemporaryDirectory(prefix="roster-xlsx-") as tmp:
        path = Path(tmp) / "rota.xlsx"
        write_rota_xlsx(instance, rota, path)
        return path.read_bytes()


def carer_bundle_zip(instance: Instance, rota: Rota) -> bytes:
    """Every carer's run sheet (HTML) and calendar (ICS) in one zip, for carers with visits."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for carer_id in sorted(rota.by_carer()):
            stem = _safe_name(carer_id)
            archive.writestr(f"run_sheets/{stem}.html", run_sheet_html(instance, rota, carer_id))
            archive.writestr(f"calendars/{stem}.ics", carer_ics(instance, rota, carer_id))
    return buffer.getvalue()


__all__ = [
    "BANDS",
    "BAND_LABELS",
    "InvoiceLine",
    "RotaLine",
    "band_minutes",
    "carer_bundle_zip",
    "carer_ics",
    "child_week",
    "first_name",
    "hours_vs_contract",
    "invoice_csv",
    "invoice_html",
    "invoice_lines",
    "invoices_zip",
    "rota_csv_zip",
    "rota_lines",
    "rota_table",
    "rota_xlsx",
    "run_sheet_html",
    "timesheets_csv",
]
