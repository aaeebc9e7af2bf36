"""Packages: a child's weekly pattern of sessions, expanded into the dated visits of a week.

A commissioner buys a *package* for a child: e.g. Mon/Wed/Fri after school 15:30-18:30, a Saturday
community outing, two waking nights. The package is the same week after week; the rota is made for
one dated week, so the package is expanded into that week's visits. Bank holidays matter: for
Peterborough City Council "services will not be delivered on Bank Holidays unless requested on a
case by case basis" (seed 002 §5.2), so such a row is skipped on a bank holiday unless the row says
``deliver_on_bank_holiday``. The week's bank holidays (``roster.calendar.bank_holidays_in_week``)
are written into the expanded instance's settings.

``packages.csv`` (UTF-8, one header row, the contract's conventions: lists separated by ``;``,
booleans ``true``/``false``, times ``HH:MM`` wall-clock, whole minutes):

==========================  =========================================================  =========
column                      meaning                                                    default
==========================  =========================================================  =========
``child_id``                the child (must be in the instance's children.csv)         required
``day``                     ``Mon`` .. ``Sun``                                          required
``start``                   planned wall-clock start ``HH:MM``                          required
``duration_min``            length in real minutes (> 0)                               required
``flex_min``                the visit may start this much earlier or later (< length)  ``0``
``carers``                  ``1``, or ``2`` for a 2:1 session                          ``1``
``kind``                    ``home`` or ``community``                                  ``home``
``needs_driver``            the carer must drive (R8)                                  ``false``
``trip_miles``              planned driving inside the session (an outing, R9)         ``0``
``competencies``            required of every carer, ``;``-separated                   blank
``deliver_on_bank_holiday`` deliver even when the commissioner does not on bank days   ``false``
==========================  =========================================================  =========

A visit's id is ``<child_id>-<YYYYMMDD>-<HHMM>`` (date and planned start), with ``-2``, ``-3``...
appended when a child has two sessions at the same date and time; so the same package always
expands into the same ids. Durations are real minutes: an overnight 22:00 + 540 min on the night
the clocks go back ends at 06:00 wall-clock.

CLI: ``roster expand INSTANCE PACKAGES --week YYYY-MM-DD --out OUT`` writes ``INSTANCE`` with the
week's visits (replacing any it had) to ``OUT``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from roster.calendar import DAY_NAMES, bank_holidays_in_week, format_hhmm, parse_hhmm
from roster.errors import Problem, raise_if_any
from roster.model import KINDS, Child, Instance, Visit

NO_BANK_HOLIDAY_COMMISSIONERS: frozenset[str] = frozenset({"Peterborough City Council"})
"""Commissioners that do not buy visits on bank holidays unless asked (seed 002 §5.2)."""

PACKAGES_FILE = "packages.csv"
COLUMNS: tuple[str, ...] = (
    "child_id",
    "day",
    "start",
    "duration_min",
    "flex_min",
    "carers",
    "kind",
    "needs_driver",
    "trip_miles",
    "competencies",
    "deliver_on_bank_holiday",
)
REQUIRED: tuple[str, ...] = ("child_id", "day", "start", "duration_min")


@dataclass(frozen=True)
class PackageRow:
    """One weekly session of a child's package (a packages.csv row)."""

    child_id: str
    day: str
    """``Mon`` .. ``Sun``."""
    start: str
    """Planned wall-clock start ``HH:MM``."""
    duration_min: int
    flex_min: int = 0
    carers: int = 1
    kind: str = "home"
    needs_driver: bool = False
    trip_miles: float = 0.0
    competencies: tuple[str, ...] = ()
    deliver_on_bank_holiday: bool = False


def delivers_on_bank_holidays(commissioner: str) -> bool:
    """Whether the commissioner buys visits on bank holidays by default (seed 002 §5.2)."""
    return commissioner not in NO_BANK_HOLIDAY_COMMISSIONERS


def visit_id_for(child_id: str, day: date, start: str) -> str:
    """The deterministic visit id of a child's session on ``day`` at ``start``."""
    minute = parse_hhmm(start)
    return f"{child_id}-{day.year:04d}{day.month:02d}{day.day:02d}-{minute // 60:02d}{minute % 60:02d}"


def expand(
    rows: Iterable[PackageRow],
    children: Mapping[str, Child] | Sequence[Child],
    week_start: date,
    bank_holidays: Sequence[date] | None = None,
) -> tuple[Visit, ...]:
    """The dated visits of the week starting ``week_start`` (a Monday) for these package rows.

    A row is skipped on a bank holiday when the child's commissioner does not deliver on bank
    holidays and the row does not request it. ``bank_holidays`` defaults to England's
    (``bank_holidays_in_week``). Visits come out sorted by date, start and child, with ids from
    ``visit_id_for``. Raises ``UnknownIdError`` for a row whose child is not in ``children``.
    """
    table = children if isinstance(children, Mapping) else {c.child_id: c for c in children}
    holidays = set(bank_holidays_in_week(week_start) if bank_holidays is None else bank_holidays)
    problems: list[Problem] = []
    dated: list[tuple[date, int, str, int, PackageRow]] = []
    for n, row in enumerate(rows, start=1):
        child = table.get(row.child_id)
        if child is None:
            problems.append(
                Problem(PACKAGES_FILE, n, row.child_id, "child_id", row.child_id,
                        "no child has this id in children.csv.", kind="lookup")
            )
            continue
        day = week_start + timedelta(days=DAY_NAMES.index(row.day))
        if day in holidays and not (
            row.deliver_on_bank_holiday or delivers_on_bank_holidays(child.commissioner)
        ):
            continue
        dated.append((day, parse_hhmm(row.start), row.child_id, n, row))
    raise_if_any(problems)
    dated.sort(key=lambda t: (t[0], t[1], t[2], t[3]))
    seen: dict[str, int] = {}
    visits: list[Visit] = []
    for day, minute, child_id, _, row in dated:
        start = format_hhmm(minute)
        base = visit_id_for(child_id, day, start)
        seen[base] = seen.get(base, 0) + 1
        visit_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
        visits.append(
            Visit(
                visit_id=visit_id,
                child_id=child_id,
                date=day,
                start=start,
                duration_min=row.duration_min,
                flex_min=row.flex_min,
                carers=row.carers,
                kind=row.kind,
                needs_driver=row.needs_driver,
                trip_miles=row.trip_miles,
                competencies=row.competencies,
            )
        )
    return tuple(visits)


def expand_instance(
    instance: Instance, rows: Iterable[PackageRow], week_start: date | None = None
) -> Instance:
    """``instance`` moved to ``week_start`` (default: its own) with the packages' visits.

    The visits replace any the instance had; the settings get the week and its bank holidays.
    """
    week = instance.settings.week_start if week_start is None else week_start
    holidays = bank_holidays_in_week(week)
    visits = expand(rows, instance.children, week, holidays)
    settings = replace(instance.settings, week_start=week, bank_holidays=holidays)
    return replace(instance, settings=settings, visits=visits)


# ---- packages.csv ---------------------------------------------------------------------


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0", ""):
        return False
    raise ValueError("it must be true or false.")


def parse_packages(text: str, source: str = PACKAGES_FILE) -> tuple[PackageRow, ...]:
    """Parse packages.csv text; raises ``InstanceError`` listing every problem at once."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise_if_any(
            [Problem(source, None, None, None, None,
                     f"the header lacks the column(s) {', '.join(missing)}.")]
        )
    problems: list[Problem] = []
    rows: list[PackageRow] = []
    for n, raw in enumerate(reader, start=1):
        cell = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        rid = cell.get("child_id", "")
        before = len(problems)

        def bad(field: str, message: str, n: int = n, rid: str = rid, cell: dict = cell) -> None:
            problems.append(Problem(source, n, rid or None, field, cell.get(field, ""), message))

        if not rid:
            bad("child_id", "every row needs the child it belongs to.")
        if cell.get("day") not in DAY_NAMES:
            bad("day", "it must be one of Mon, Tue, Wed, Thu, Fri, Sat, Sun.")
        try:
            parse_hhmm(cell.get("start", ""))
        except ValueError:
            bad("start", "it must be a wall-clock time HH:MM.")
        duration = flex = carers = 0
        trip = 0.0
        try:
            duration = int(cell.get("duration_min", ""))
            if duration <= 0:
                raise ValueError
        except ValueError:
            bad("duration_min", "it must be a positive whole number of minutes.")
        try:
            flex = int(cell.get("flex_min") or 0)
            if flex < 0:
                raise ValueError
            if duration > 0 and flex >= duration:
                bad("flex_min", f"the flexibility must be shorter than the visit ({duration} min).")
        except ValueError:
            bad("flex_min", "it must be a whole number of minutes, 0 or more.")
        try:
            carers = int(cell.get("carers") or 1)
            if carers not in (1, 2):
                raise ValueError
        except ValueError:
            bad("carers", "it must be 1, or 2 for a 2:1 session.")
        kind = cell.get("kind") or "home"
        if kind not in KINDS:
            bad("kind", "it must be home or community.")
        try:
            trip = float(cell.get("trip_miles") or 0)
            if not trip >= 0:
                raise ValueError
        except ValueError:
            bad("trip_miles", "it must be a number of miles, 0 or more.")
        flags: dict[str, bool] = {}
        for name in ("needs_driver", "deliver_on_bank_holiday"):
            try:
                flags[name] = _parse_bool(cell.get(name, ""))
            except ValueError as exc:
                bad(name, str(exc))
        if len(problems) > before:
            continue
        rows.append(
            PackageRow(
                child_id=rid,
                day=cell["day"],
                start=cell["start"],
                duration_min=duration,
                flex_min=flex,
                carers=carers,
                kind=kind,
                needs_driver=flags["needs_driver"],
                trip_miles=trip,
                competencies=tuple(c.strip() for c in cell.get("competencies", "").split(";") if c.strip()),
                deliver_on_bank_holiday=flags["deliver_on_bank_holiday"],
            )
        )
    raise_if_any(problems)
    return tuple(rows)


def read_packages(path: str | Path) -> tuple[PackageRow, ...]:
    """Read a packages.csv file (see the module docstring for its columns)."""
    path = Path(path)
    return parse_packages(path.read_text(encoding="utf-8-sig"), source=path.name)


def format_packages(rows: Iterable[PackageRow]) -> str:
    """packages.csv text for these rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.child_id,
                r.day,
                r.start,
                r.duration_min,
                r.flex_min,
                r.carers,
                r.kind,
                "true" if r.needs_driver else "false",
                f"{r.trip_miles:g}",
                ";".join(r.competencies),
                "true" if r.deliver_on_bank_holiday else "false",
            ]
        )
    return out.getvalue()


def write_packages(rows: Iterable[PackageRow], path: str | Path) -> None:
    """Write packages.csv atomically."""
    from roster.atomic import atomic_write_text

    atomic_write_text(Path(path), format_packages(rows))



# ---- CLI ------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance", help="instance folder or .xlsx workbook (carers, children...)")
    parser.add_argument("packages", help="packages.csv: each child's weekly sessions")
    parser.add_argument("--week", required=True, type=date.fromisoformat,
                        help="the Monday of the week to expand into (YYYY-MM-DD)")
    parser.add_argument("--out", required=True, help="folder to write the expanded instance to")


def run_command(args: argparse.Namespace) -> int:
    from roster.io import load_instance, write_instance

    week: date = args.week
    if week.weekday() != 0:
        print(f"roster expand: --week is {week.isoformat()}, a {DAY_NAMES[week.weekday()]}; "
              "it must be a Monday.", file=sys.stderr)
        return 2
    instance = load_instance(args.instance)
    rows = read_packages(args.packages)
    expanded = expand_instance(instance, rows, week)
    write_instance(expanded, args.out)
    skipped = len(rows) - len(expanded.visits)
    holidays = ", ".join(d.isoformat() for d in expanded.settings.bank_holidays) or "none"
    print(f"{len(expanded.visits)} visits for the week of {week.isoformat()} written to {args.out} "
          f"(bank holidays: {holidays}; {skipped} session(s) not delivered on a bank holiday).")
    return 0
