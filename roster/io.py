"""Reading, validating and writing the contract's instance and rota folders.

An instance is a folder of UTF-8 CSV files plus ``instance.json`` (``CONTRACT.md`` §1); a rota
is a folder of ``rota.csv``, ``unassigned.csv`` and ``summary.json`` (§2). ``load_instance`` also
accepts an Excel workbook (``.xlsx``, see ``roster.excel``), which goes through the same checks.

Every cell is read as text and parsed here, so that each problem can be reported as one
sentence naming the file, row, record id, field and value, e.g.::

    visits.csv row 17 (V0017): duration_min is '-30'; it must be a positive whole number of minutes.

All problems are collected before anything is raised: ``InstanceError`` lists every one
(``UnknownIdError`` when every one is an id pointing nowhere). Data that is odd but solvable
(a carer with no availability) is a ``DataWarning``.

Rows are numbered as data rows: row 1 is the first row after the header (physical line 2).
Unknown extra columns are ignored; a missing required column is reported once for the file, and
a file that cannot be read at all does not cascade into "unknown id" problems elsewhere.

Nothing is lost silently: every non-blank physical line of a file is a record or is named in a
problem. A record spanning lines (a stray ``"`` opens a cell that swallows the lines after it)
is named with the line it starts on; a row with a cell too few or too many is named rather than
padded with defaults or shifted; a file that ends inside its last row is named as cut short.
Ids pointing into a file that lost rows so are not checked, and unknown ids are grouped (one id
on many rows, or many ids in one column: one sentence per file), so that one mistake in
carers.csv is a few sentences, not one per row elsewhere.

Errors (the instance is refused):
    malformed or missing ``instance.json``, a ``week_start`` that is not a Monday, a bad time
    zone, core hours or setting (each number within a plausible range, named in the message:
    ``travel.speed_mph`` from 1 to 80); missing files; a missing column that a hard rule reads
    (``REQUIRED``: ``visits.carers``, ``children.excluded_carers``, ``training.expires``, ... --
    only names, preferences and costs may be left out); text that is not UTF-8 (UTF-16 is named);
    merged, short or long rows; a control character (NUL) in a cell or a header, or an
    invisible formatting character in an id or a code; blank or duplicate ids; a history pair
    given twice; ids that point nowhere (``kind="lookup"``); bad numbers (every one with its
    plausible range: ``hourly_cost`` 0 to 500, ``trip_miles`` 0 to 500, ...), whole numbers,
    booleans, dates, times, datetimes and choices (gender, dbs_check, spec, kind); zero or
    negative durations; flex larger than the visit; a visit date outside the week; ``carers``
    other than 1 or 2, or a 2:1 visit with fewer than two carers in the instance; coordinates
    outside the UK or half given; a postcode that cannot be resolved; an absence ending before it
    starts; a carer under 16; a visit competency that no training row and no
    ``mandatory_training`` mentions (a typo: no carer could ever take the visit); a visits.csv
    with no visits; a header-only carers.csv or children.csv that other files point into, or a
    header-only training.csv while visits need training.
Warnings (``DataWarning``; the week can still be rostered):
    a carer with no availability (one warning when availability.csv has no rows); no carers at
    all; mandatory training nobody holds; a bank holiday outside the week; an empty absence; a
    visit longer than a day; a visit starting in the spring clock-change gap; an availability
    date outside the week; a carer over 90 or a young person over 25; a DBS issue date after the
    week; a column named twice.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io as _stdio
import json
import math
import os
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roster.atomic import atomic_folder
from roster.calendar import DAY_NAMES, format_hhmm, parse_hhmm
from roster.errors import DataWarning, InstanceError, Problem, raise_if_any
from roster.model import (
    DBS_LEVELS,
    KINDS,
    SPECS,
    Absence,
    Assignment,
    Availability,
    Carer,
    Child,
    History,
    Instance,
    Rota,
    Settings,
    Training,
    Travel,
    Unassigned,
    Visit,
)
from roster.travel import MILES_DECIMALS

if TYPE_CHECKING:
    from roster.travel import TravelModel

# ---- the contract's columns ---------------------------------------------------------------

CARER_COLUMNS: tuple[str, ...] = (
    "carer_id", "name", "gender", "date_of_birth", "lat", "lon", "drives", "dbs_check",
    "dbs_issued", "dbs_update_service", "languages", "culture", "overnight_ok",
    "max_week_hours", "contracted_hours", "hourly_cost", "agency",
)  # fmt: skip
TRAINING_COLUMNS: tuple[str, ...] = ("carer_id", "competency", "expires")
AVAILABILITY_COLUMNS: tuple[str, ...] = ("carer_id", "day", "start", "end")
ABSENCE_COLUMNS: tuple[str, ...] = ("carer_id", "start", "end")
CHILD_COLUMNS: tuple[str, ...] = (
    "child_id", "name", "date_of_birth", "lat", "lon", "commissioner", "spec",
    "gender_required", "gender_preferred", "language", "culture", "excluded_carers",
    "mileage_cap_miles", "max_carers_week",
)  # fmt: skip
VISIT_COLUMNS: tuple[str, ...] = (
    "visit_id", "child_id", "date", "start", "duration_min", "flex_min", "carers", "kind",
    "needs_driver", "trip_miles", "competencies", "lat", "lon",
)  # fmt: skip
HISTORY_COLUMNS: tuple[str, ...] = ("child_id", "carer_id", "hours")
TRAVEL_COLUMNS: tuple[str, ...] = ("from", "to", "miles", "minutes")
ROTA_COLUMNS: tuple[str, ...] = (
    "visit_id", "carer_id", "start", "end", "travel_from", "travel_miles", "travel_min",
)  # fmt: skip
UNASSIGNED_COLUMNS: tuple[str, ...] = ("visit_id", "missing", "reasons")

# Columns a file cannot do without: the ids, and every column a hard rule (R1-R15) reads, so
# that a deleted column is refused rather than defaulted (a missing ``carers`` column would make
# every 2:1 visit 1:1). A cell in them may still be blank where the contract gives a default
# (``expires`` blank = never expires, ``lat``/``lon`` of a visit blank = the child's home). The
# other columns (names, preferences, costs) default as the model does. ``lat``/``lon`` may be
# replaced by a ``postcode`` column (resolved by ``roster.geocode``).
REQUIRED: dict[str, tuple[str, ...]] = {
    "carers": (
        "carer_id", "gender", "date_of_birth", "drives", "dbs_check", "dbs_issued",
        "dbs_update_service", "overnight_ok", "max_week_hours",
    ),  # fmt: skip
    "training": TRAINING_COLUMNS,
    "availability": AVAILABILITY_COLUMNS,
    "absences": ABSENCE_COLUMNS,
    "children": (
        "child_id", "date_of_birth", "spec", "gender_required", "excluded_carers",
        "mileage_cap_miles",
    ),  # fmt: skip
    "visits": (
        "visit_id", "child_id", "date", "start", "duration_min", "flex_min", "carers",
        "needs_driver", "trip_miles", "competencies",
    ),  # fmt: skip
    "history": HISTORY_COLUMNS,
    "travel": TRAVEL_COLUMNS,
    "rota": ("visit_id", "carer_id", "start", "end"),
    "unassigned": ("visit_id", "missing"),
}
CONTRACT_COLUMNS: dict[str, frozenset[str]] = {
    name: frozenset((*columns, "postcode"))
    for name, columns in (
        ("carers", CARER_COLUMNS), ("training", TRAINING_COLUMNS),
        ("availability", AVAILABILITY_COLUMNS), ("absences", ABSENCE_COLUMNS),
        ("children", CHILD_COLUMNS), ("visits", VISIT_COLUMNS), ("history", HISTORY_COLUMNS),
        ("travel", TRAVEL_COLUMNS), ("rota", ROTA_COLUMNS), ("unassigned", UNASSIGNED_COLUMNS),
    )
}  # fmt: skip
# Files whose rows are places: lat/lon (or a postcode) columns are required too.
PLACE_TABLES: frozenset[str] = frozenset({"carers", "children", "visits"})
# The column that names a row's record in messages about the row as a whole.
ID_FIELDS: dict[str, str] = {
    "carers": "carer_id", "training": "carer_id", "availability": "carer_id",
    "absences": "carer_id", "children": "child_id", "visits": "visit_id", "history": "child_id",
    "travel": "from", "rota": "visit_id", "unassigned": "visit_id",
}  # fmt: skip
# Free-text columns may hold invisible formatting characters (a zero-width joiner in a name);
# no cell may hold a control character.
FREE_TEXT_COLUMNS: frozenset[str] = frozenset({"name", "commissioner", "culture", "reasons"})
OPTIONAL_FILES: frozenset[str] = frozenset({"absences", "history", "travel"})
INSTANCE_TABLES: tuple[str, ...] = (
    "carers", "training", "availability", "absences", "children", "visits", "history",
)  # fmt: skip
ROTA_FILES: tuple[str, ...] = ("rota.csv", "unassigned.csv", "summary.json")
INSTANCE_FILES: tuple[str, ...] = (
    "instance.json", *(f"{t}.csv" for t in INSTANCE_TABLES), "travel.csv",
)  # fmt: skip

# Roughly the United Kingdom (with a margin for the Scilly Isles, Shetland and Lowestoft).
UK_LAT: tuple[float, float] = (49.8, 60.9)
UK_LON: tuple[float, float] = (-8.7, 1.8)

# Plausibility ranges: a value outside is a typo (1e300 miles), never data to solve with.
MAX_MILES = 500.0
"""Trip miles, a mileage cap (a child's or the instance's): a day's driving at most."""
MAX_MATRIX_MILES = 1000.0
"""A supplied travel.csv distance, or a rota row's travel_miles."""
MAX_HOURLY_COST = 500.0
"""Pounds per hour: agency rates are tens of pounds."""
MAX_WEEK_HOURS = 168.0
MAX_HISTORY_HOURS = 4 * 168.0
"""history.csv covers the previous four weeks."""
MAX_DAY_MINUTES = 24 * 60
MAX_CARERS_WEEK = 50
SPEED_MPH: tuple[float, float] = (1.0, 80.0)
ROAD_FACTOR: tuple[float, float] = (1.0, 3.0)

GEOCODE_MODES: tuple[str, ...] = ("offline", "online", "off")
TRUE_WORDS = frozenset({"true"})
FALSE_WORDS = frozenset({"false"})
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT_RE = re.compile(r"^[+-]?\d+(\.0*)?$")
_DAY_ALIASES: dict[str, str] = {
    **{d.lower(): d for d in DAY_NAMES},
    **{
        full: d
        for full, d in zip(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
            DAY_NAMES,
            strict=True,
        )
    },
}
_WEEKDAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# ---- tables: a file (or a sheet) as text cells ---------------------------------------------


@dataclass
class Table:
    """One CSV file or workbook sheet: lower-cased header names and text cells.

    ``label`` names it in messages (``visits.csv`` or ``visits sheet``); ``numbers`` holds the
    row number to report for each row.
    """

    label: str
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    numbers: list[int]
    held: list[dict[str, str]] = field(default_factory=list)
    """Rows already reported as malformed (a cell missing, one too many): not parsed, but their
    ids still count as existing, so they cause no "no carer has this id" elsewhere."""
    damaged: bool = False
    """Rows were lost reading it (a stray quote merged lines): ids pointing into it are not
    checked, since the missing rows may hold them."""
    column_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.column_set = frozenset(self.columns)


class _Missing:
    """Marker for a cell whose column the file lacks (already reported once for the file)."""


MISSING = _Missing()


@dataclass
class Sink:
    """Collects problems and warnings while reading."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.kind != "warning"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "warning"]


def read_csv_table(path: Path, label: str, sink: Sink) -> Table | None:
    """Read a CSV file as a ``Table`` of stripped text cells; problems go to ``sink``.

    ``None`` means the file could not be read at all, which is reported here once.
    """
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        sink.add(Problem(label, None, None, None, None, "it is a folder, not a CSV file."))
        return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        sink.add(
            Problem(
                label, None, None, None, None,
                "it is UTF-16 text (Excel's 'Unicode Text'), not UTF-8; save it as CSV UTF-8.",
            )
        )  # fmt: skip
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        sink.add(
            Problem(
                label, None, None, None, None,
                f"it is not UTF-8 text (a bad byte on line {line}); save it as CSV UTF-8.",
            )
        )  # fmt: skip
        return None
    return parse_csv_text(text, label, sink)


def parse_csv_text(text: str, label: str, sink: Sink) -> Table | None:
    """Parse CSV text (first row the header) into a ``Table``.

    Every physical line is accounted for: a record that spans several lines (a stray ``"``
    opens a quoted cell that swallows the lines after it) is reported with the line it started
    on, and a row with a cell too few or too many is reported rather than shifted or padded.
    Control characters are reported, and removed so that the rest of the row still parses.
    """
    key = _table_key(label)
    id_field = ID_FIELDS.get(key)
    reader = csv.reader(_stdio.StringIO(text, newline=""))
    before = 0  # physical lines consumed before the current record
    try:
        header = next(reader, None)
        if header is None:
            sink.add(Problem(label, None, None, None, None, "it is empty; it needs a header row."))
            return None
        if reader.line_num > 1:
            sink.add(
                Problem(
                    label, None, None, None, None,
                    f"its header row runs over lines 1 to {reader.line_num}: a quote (\") in it "
                    "opens a cell that is not closed on the same line; remove the stray quote.",
                )
            )  # fmt: skip
            return None
        columns = header_columns(header, label, sink)
        warn_repeated_columns(columns, label, sink)
        # the first column of each name wins; unnamed columns are ignored
        first = {name: i for i, name in reversed(list(enumerate(columns))) if name}
        picks = sorted(first.items(), key=lambda item: item[1])
        # cells a row must have: up to the last contract column (unknown extra columns at the
        # end of the header may be left out of a row; they are ignored anyway)
        known = CONTRACT_COLUMNS.get(key)
        needed = max(
            (i for name, i in first.items() if known is None or name in known), default=-1
        ) + 1
        table = Table(label, tuple(c for c in columns if c), [], [])
        before = reader.line_num
        short: tuple[int, int, int] | None = None  # (problem index, row, width) of the last row
        for cells in reader:
            first_line, last_line = before + 1, reader.line_num
            before = last_line
            stripped = [c.strip() for c in cells]
            if not any(stripped):
                continue
            number = first_line - 1  # data rows: row 1 is line 2
            row = {name: stripped[i] for name, i in picks if i < len(stripped)}
            record_id = (row.get(id_field) or None) if id_field else None
            if last_line > first_line:
                _report_merged(table, row, record_id, number, first_line, last_line, columns,
                               stripped, sink)  # fmt: skip
                continue
            width = len(stripped)
            short = None
            if width < needed or width > len(columns):
                _report_width(table, row, record_id, number, width, needed, columns, stripped, sink)
                if width < needed:
                    short = (len(sink.problems) - 1, number, width)
                continue
            if clean_cells(label, row, number, record_id, sink):
                table.held.append(row)  # reported: its other cells would only add knock-ons
                continue
            table.rows.append(row)
            table.numbers.append(number)
        if short is not None and not text.endswith(("\n", "\r")):
            # the last row is short and has no line end: the file stops inside it
            at, number, width = short
            sink.problems[at] = replace(
                sink.problems[at],
                message=f"the file ends inside this row, after {width} of its {needed} cells: it "
                "was cut short (an interrupted copy?), so rows after it may be lost too; copy "
                "the whole file again.",
            )
            table.damaged = True
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            message = (
                f"a quote (\") on line {before + 1} opens a cell that is never closed, so the "
                "rest of the file would be read as one cell; remove the stray quote."
            )
        else:
            message = f"it cannot be read as CSV ({exc})."
        sink.add(Problem(label, None, None, None, None, message))
        return None
    return table


def _report_merged(
    table: Table,
    row: dict[str, str],
    record_id: str | None,
    number: int,
    first_line: int,
    last_line: int,
    columns: Sequence[str],
    cells: Sequence[str],
    sink: Sink,
) -> None:
    """A record spanning lines: a quote opened a cell that ran on (contract cells hold no line
    breaks). The lines it swallowed are lost, so the table is marked damaged."""
    where = next((i for i, c in enumerate(cells) if "\n" in c or "\r" in c), None)
    column = columns[where] if where is not None and where < len(columns) else ""
    cell = f"its {column} cell" if column else "a cell"
    lines = last_line - first_line + 1
    if len(cells) == len(columns):  # the quote was closed and the row is whole: a line break
        message = (
            f"{cell} starts with a quote (\") on line {first_line} and runs on to line "
            f"{last_line}: it holds a line break, and a cell must fit on one line; remove it."
        )
    else:
        message = (
            f"{cell} starts with a quote (\") on line {first_line} and runs on to line "
            f"{last_line}, so {lines} lines would be read as one row; remove the stray quote."
        )
    sink.add(Problem(table.label, number, record_id, None, None, message))
    table.held.append(row)
    table.damaged = True


def _report_width(
    table: Table,
    row: dict[str, str],
    record_id: str | None,
    number: int,
    width: int,
    needed: int,
    columns: Sequence[str],
    cells: Sequence[str],
    sink: Sink,
) -> None:
    """A row with a cell too few (its values would shift left and the last columns default) or
    one too many (an unquoted comma inside a cell)."""
    if width < needed:
        lost = [c for c in columns[width:needed] if c]
        message = (
            f"it has {width} cell{'' if width == 1 else 's'} but the header has {needed}, so "
            f"{', '.join(lost[:3])}{' ...' if len(lost) > 3 else ''} would be read as blank; "
            "a cell or a comma is missing."
        )
    else:
        # even a blank extra cell: a comma inside the row shifts the values after it right,
        # and the last (blank) one falls off the end
        message = (
            f"it has {width} cells but the header has {len(columns)}; a comma inside a cell "
            "must be quoted, or the values after it shift."
        )
    sink.add(Problem(table.label, number, record_id, None, None, message))
    table.held.append(row)


def header_columns(header: Sequence[str], label: str, sink: Sink) -> tuple[str, ...]:
    """Header cells as column names; a control character in one is reported and removed."""
    names: list[str] = []
    for index, cell in enumerate(header, start=1):
        bad = _bad_character(cell, free_text=False)
        if bad is not None:
            sink.add(
                Problem(
                    label, None, None, None, None,
                    f"its header cell {index} ({_shown(cell)}) holds {_describe(bad)}; retype the "
                    "header.",
                )
            )  # fmt: skip
            cell = _without_bad_characters(cell, free_text=False)
        names.append(_column_name(cell))
    return tuple(names)


def clean_cells(
    label: str, row: dict[str, str], number: int, record_id: str | None, sink: Sink
) -> bool:
    """Report (and remove) control characters in a row's cells, in place; ``True`` if any.

    A NUL inside ``safeguar\x00ding_children`` would otherwise make a carer silently lose the
    competency. Free-text columns may hold invisible formatting characters (a zero-width joiner
    in a name); names are not repeated in the message. The cleaned row still names its ids, so
    that the caller can hold it back without "no carer has this id" knock-ons elsewhere.
    """
    if "".join(row.values()).isprintable():
        return False
    found = False
    for column, value in row.items():
        if value.isprintable():
            continue
        free = column in FREE_TEXT_COLUMNS
        bad = _bad_character(value, free_text=free)
        if bad is None:
            continue
        holds = f"holds {_describe(bad)}, which no cell may; retype the cell."
        if free:  # the value may be a name: not repeated
            sink.add(Problem(label, number, record_id, None, None, f"its {column} cell {holds}"))
        else:
            sink.add(Problem(label, number, record_id, column, value, f"it {holds}"))
        row[column] = _without_bad_characters(value, free_text=free).strip()
        found = True
    return found


def _is_bad_character(ch: str, free_text: bool) -> bool:
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs") or (category == "Cf" and not free_text)


def _bad_character(text: str, free_text: bool) -> str | None:
    if text.isprintable():
        return None
    return next((ch for ch in text if _is_bad_character(ch, free_text)), None)


def _without_bad_characters(text: str, free_text: bool) -> str:
    return "".join(ch for ch in text if not _is_bad_character(ch, free_text))


def _describe(ch: str) -> str:
    if unicodedata.category(ch) == "Cf":
        name = unicodedata.name(ch, "")
        return f"an invisible character (U+{ord(ch):04X}{' ' + name if name else ''})"
    return f"a control character ({repr(ch)[1:-1]})"


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def warn_repeated_columns(columns: Sequence[str], label: str, sink: Sink) -> None:
    """A header naming a column twice: the first is used, and the user is told."""
    for name in sorted({c for c in columns if c and columns.count(c) > 1}):
        message = f"the column {name} appears {columns.count(name)} times; the first is used."
        sink.add(Problem(label, None, None, None, None, message, kind="warning"))


def _column_name(header_cell: str) -> str:
    return header_cell.strip().lower().replace(" ", "_")


# ---- one row: typed cells with precise problems -------------------------------------------


class Row:
    """A table row being parsed: each accessor returns the typed value or ``None`` (reported)."""

    def __init__(self, table: Table, index: int, id_field: str | None, sink: Sink):
        self.table = table
        self.cells = table.rows[index]
        self.row_number = table.numbers[index]
        self.sink = sink
        self.record_id = (self.cells.get(id_field) or None) if id_field else None
        self.ok = True

    # -- reporting
    def problem(
        self, fld: str | None, value: str | None, message: str, kind: str = "value"
    ) -> None:
        self.sink.add(
            Problem(self.table.label, self.row_number, self.record_id, fld, value, message, kind)
        )
        if kind != "warning":
            self.ok = False

    def warn(self, fld: str | None, value: str | None, message: str) -> None:
        self.problem(fld, value, message, kind="warning")

    # -- raw access
    def raw(self, fld: str) -> str | _Missing:
        if fld not in self.table.column_set:
            if fld in REQUIRED.get(_table_key(self.table.label), ()):
                self.ok = False
                return MISSING
            return ""
        return self.cells.get(fld, "")

    def has(self, fld: str) -> bool:
        return fld in self.table.column_set

    # -- typed access
    def text(self, fld: str, required: bool = False) -> str | None:
        value = self.raw(fld)
        if isinstance(value, _Missing):
            return None
        if required and not value:
            self.problem(fld, value, "it must not be blank.")
            return None
        return value

    def choice(self, fld: str, options: Sequence[str], default: str | None = None) -> str | None:
        value = self.raw(fld)
        if isinstance(value, _Missing):
            return None
        if not value and default is not None:
            return default
        for option in options:
            if value.lower() == option.lower():
                return option
        shown = ", ".join(o if o else "blank" for o in options)
        self.problem(fld, value, f"it must be one of {shown}.")
        return None

    def boolean(self, fld: str, default: bool | None = False) -> bool | None:
        """true/false; blank gives ``default`` (``None``: a blank is refused)."""
        value = self.raw(fld)
        if isinstance(value, _Missing):
            return None
        low = value.lower()
        if not low and default is not None:
            return default
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        self.problem(fld, value, "it must be true or false.")
        return None

    def number(
        self,
        fld: str,
        *,
        default: float | None = None,
        blank_ok: bool = False,
        minimum: float | None = None,
        positive: bool = False,
        maximum: float | None = None,
        what: str = "a number",
    ) -> float | None:
        """A float; blank gives ``default`` when ``blank_ok`` (``None`` is then a valid result).

        Every refusal names the plausible range (``it must be a number of miles from 0 to 500``).
        """
        value = self.raw(fld)
        if isinstance(value, _Missing):
            return None
        if not value:
            if blank_ok or default is not None:
                return default
            number = math.nan
        else:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
        if (
            not math.isfinite(number)
            or (positive and number <= 0)
            or (minimum is not None and number < minimum)
            or (maximum is not None and number > maximum)
        ):
            span = range_text(minimum, maximum, positive)
            self.problem(fld, value, f"it must be {what}{' ' + span if span else ''}.")
            return None
        return number

    def integer(
        self,
        fld: str,
        *,
        default: int | None = None,
        blank_ok: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        what: str = "a whole number",
    ) -> int | None:
        value = self.raw(fld)
        if isinstance(value, _Missing):
            return None
        if not value:
            if blank_ok or default is not None:
                return default
            self.problem(fld, value, f"it must be {what}.")
            return None
        if not _INT_RE.match(value):
            self.problem(fld, value, f"it must be {what}.")
            return None
        number = int(float(value)) if "." in value else int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            self.problem(fld, value, f"it must be {what}.")
            return None
        return number

    def date(self, fld: str, *, blank_ok: bool = False) -> date | None:
        value = self.raw(fld)
        if isinstance(value, _Missing):
            return None
        if not value:
            if blank_ok:
                return None
            self.problem(fld, value, "it must be a date written YYYY-MM-DD.")
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.problem(fld, value, "it must be a real date written YYYY-MM-DD.")
        return parsed

    def time(self, fld: str, *, allow_24: bool = False) -> str | None:
        """A wall-clock time, normalised to ``HH:MM``."""
        value = self.raw(fld)
        if isinstance(value, _Missing):
            return None
        normal = normalise_time(value, allow_24=allow_24)
        if normal is None:
            self.problem(fld, value, "it must be a time of day written HH:MM (00:00 to 23:59).")
        return normal

    def items(self, fld: str) -> tuple[str, ...] | None:
        value = self.raw(fld)
        if isinstance(value, _Missing):
            return None
        return split_list(value)


def range_text(minimum: float | None, maximum: float | None, positive: bool = False) -> str:
    """``from 0 to 500``, ``greater than 0 and at most 168``, ``of at least 0`` or ``""``."""
    if positive and (minimum is None or minimum <= 0):
        low = "greater than 0"
        return f"{low} and at most {_fmt_num(maximum)}" if maximum is not None else low
    if minimum is not None and maximum is not None:
        return f"from {_fmt_num(minimum)} to {_fmt_num(maximum)}"
    if minimum is not None:
        return f"of at least {_fmt_num(minimum)}"
    if maximum is not None:
        return f"of at most {_fmt_num(maximum)}"
    return ""


def _table_key(label: str) -> str:
    """``visits.csv``, ``visits sheet`` and a referral's ``R1/visits.csv`` -> ``visits``."""
    return label.rsplit("/", 1)[-1].split(".")[0].split(" ")[0]


# ---- cell parsers shared with the Excel reader and the rota reader ----------------------


@lru_cache(maxsize=4096)
def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` -> a date, or ``None`` (cached: dates repeat a lot in a week's data)."""
    if not _DATE_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def normalise_time(text: str, allow_24: bool = False) -> str | None:
    """``H:MM``, ``HH:MM`` or ``HH:MM:00`` -> ``HH:MM``; ``None`` when not a time of day."""
    value = text.strip()
    if value.count(":") == 2 and value.endswith(":00"):
        value = value[:-3]
    if allow_24 and value == "24:00":
        return "00:00"
    try:
        return format_hhmm(parse_hhmm(value))
    except ValueError:
        return None


def split_list(text: str) -> tuple[str, ...]:
    """A ``;``-separated cell -> its non-blank items, stripped."""
    return tuple(item.strip() for item in text.split(";") if item.strip())


def _fmt_num(value: float | int | None) -> str:
    """Numbers as the shortest text that reads back equal; whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def _fmt_date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _fmt_wallclock(value: datetime) -> str:
    timespec = "minutes" if value.second == 0 and value.microsecond == 0 else "auto"
    return value.isoformat(timespec=timespec)


def parse_wallclock(text: str, zone_name: str | None) -> tuple[datetime | None, bool]:
    """An absence bound: ISO datetime (wall-clock; an offset is converted) or a bare date.

    Returns (naive local datetime, whether it was a bare date).
    """
    value = text.strip()
    if _DATE_RE.match(value):
        day = parse_date(value)
        return (None if day is None else datetime.combine(day, datetime.min.time())), True
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}", value):
        return None, False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, False
    if moment.tzinfo is not None:
        if zone_name is None:
            return None, False
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)
    return moment, False


def in_uk(lat: float, lon: float) -> bool:
    return UK_LAT[0] <= lat <= UK_LAT[1] and UK_LON[0] <= lon <= UK_LON[1]


# ---- instance.json -------------------------------------------------------------------------

_SETTINGS_KEYS: tuple[str, ...] = (
    "name", "week_start", "timezone", "core_hours", "bank_holidays", "mileage_cap_miles",
    "travel", "return_home_gap_min", "dbs_max_age_years", "mandatory_training",
    "max_week_hours", "daily_rest_hours", "weekly_rest_hours", "break_after_hours", "break_min",
)  # fmt: skip


def read_settings_json(path: Path, label: str, sink: Sink) -> dict[str, Any] | None:
    """``instance.json`` -> its raw object, or ``None`` with the problem reported."""
    if not path.exists():
        sink.add(
            Problem(
                label, None, None, None, None,
                "the file is missing; an instance folder needs one with at least week_start.",
            )
        )  # fmt: skip
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        sink.add(Problem(label, None, None, None, None, "it is not UTF-8 text."))
        return None
    except IsADirectoryError:
        sink.add(Problem(label, None, None, None, None, "it is a folder, not a JSON file."))
        return None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        sink.add(
            Problem(
                label, None, None, None, None,
                f"it is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}).",
            )
        )  # fmt: skip
        return None
    except RecursionError:
        sink.add(Problem(label, None, None, None, None, "it is not valid JSON (nested too deep)."))
        return None
    if not isinstance(raw, dict):
        sink.add(
            Problem(
                label, None, None, None, None, "it must hold a JSON object ({...}) of settings."
            )
        )
        return None
    return raw


def parse_settings(raw: Mapping[str, Any], label: str, sink: Sink) -> Settings | None:
    """Validate the raw ``instance.json`` object into ``Settings`` (contract §1 defaults)."""
    ok = True

    def bad(key: str, value: Any, message: str, kind: str = "value") -> None:
        nonlocal ok
        sink.add(Problem(label, None, None, key, _json_text(value), message, kind))
        if kind != "warning":
            ok = False

    def number(
        key: str,
        default: float,
        what: str,
        *,
        positive: bool = False,
        minimum: float = 0.0,
        maximum: float,
        value: Any = MISSING,
        shown: str | None = None,
    ) -> float:
        """A plausible number; the refusal names its range (``speed_mph`` 1e-9 is a typo)."""
        if value is MISSING:
            if key not in raw:
                return default
            value = raw[key]
        span = range_text(None if positive else minimum, maximum, positive)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or (positive and value <= 0)
            or value < minimum
            or value > maximum
        ):
            bad(shown or key, value, f"it must be {what} {span}.")
            return default
        return float(value)

    def whole(key: str, default: int, what: str, *, minimum: int, maximum: int) -> int:
        if key not in raw:
            return default
        value = raw[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not float(value).is_integer()
            or not minimum <= value <= maximum
        ):
            bad(key, value, f"it must be {what} {range_text(minimum, maximum)}.")
            return default
        return int(value)

    def text_list(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        if key not in raw:
            return default
        value = raw[key]
        if isinstance(value, str):
            return split_list(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            bad(key, value, "it must be a list of text values.")
            return default
        return tuple(v.strip() for v in value if v.strip())

    week_start: date | None = None
    if "week_start" not in raw:
        sink.add(
            Problem(
                label,
                None,
                None,
                None,
                None,
                "week_start is missing; it must be the Monday the rota starts on (YYYY-MM-DD).",
            )
        )
        ok = False
    else:
        value = raw["week_start"]
        week_start = parse_date(value) if isinstance(value, str) else None
        if week_start is None:
            bad("week_start", value, "it must be a date written YYYY-MM-DD.")
        elif not 1900 <= week_start.year <= 2200:
            bad("week_start", value, "it must be a date between the years 1900 and 2200.")
            week_start = None
        elif week_start.weekday() != 0:
            bad(
                "week_start",
                value,
                f"it must be a Monday (it is a {_WEEKDAY_WORDS[week_start.weekday()]}).",
            )
            week_start = None

    name = raw.get("name", "")
    if not isinstance(name, str):
        bad("name", name, "it must be text.")
        name = ""

    timezone = raw.get("timezone", "Europe/London")
    if not isinstance(timezone, str) or not _valid_zone(timezone):
        bad("timezone", timezone, "it must be an IANA time zone name such as Europe/London.")
        timezone = "Europe/London"

    core_hours: tuple[str, str] = ("06:30", "22:30")
    if "core_hours" in raw:
        value = raw["core_hours"]
        if isinstance(value, str):
            value = list(split_list(value))
        times = (
            [normalise_time(v) if isinstance(v, str) else None for v in value]
            if isinstance(value, list) and len(value) == 2
            else [None]
        )
        if any(t is None for t in times):
            bad("core_hours", raw["core_hours"], 'it must be two times like ["06:30", "22:30"].')
        elif parse_hhmm(str(times[0])) >= parse_hhmm(str(times[1])):
            bad("core_hours", raw["core_hours"], "its start must be before its end.")
        else:
            core_hours = (str(times[0]), str(times[1]))

    bank_holidays: tuple[date, ...] = ()
    if "bank_holidays" in raw:
        value = raw["bank_holidays"]
        if isinstance(value, str):
            value = list(split_list(value))
        days = (
            [parse_date(v) if isinstance(v, str) else None for v in value]
            if isinstance(value, list)
            else [None]
        )
        if any(d is None for d in days):
            bad(
                "bank_holidays",
                raw["bank_holidays"],
                "it must be a list of dates written YYYY-MM-DD.",
            )
        else:
            bank_holidays = tuple(d for d in days if d is not None)
            if week_start is not None:
                outside = [d for d in bank_holidays if not 0 <= (d - week_start).days < 7]
                if outside:
                    bad(
                        "bank_holidays", raw["bank_holidays"],
                        f"{', '.join(d.isoformat() for d in outside)} is not in the week of {week_start.isoformat()}.",
                        kind="warning",
                    )  # fmt: skip

    travel = Travel()
    if "travel" in raw:
        value = raw["travel"]
        if not isinstance(value, dict):
            bad("travel", value, 'it must be an object like {"road_factor": 1.3, "speed_mph": 20}.')
        else:
            before = ok
            factor = number(
                "travel", 1.3, "a number (road miles per great-circle mile)",
                minimum=ROAD_FACTOR[0], maximum=ROAD_FACTOR[1],
                value=value.get("road_factor", 1.3), shown="travel.road_factor",
            )  # fmt: skip
            speed = number(
                "travel", 20.0, "a speed in miles per hour",
                minimum=SPEED_MPH[0], maximum=SPEED_MPH[1],
                value=value.get("speed_mph", 20.0), shown="travel.speed_mph",
            )  # fmt: skip
            if ok == before:
                travel = Travel(road_factor=factor, speed_mph=speed)

    settings_kw: dict[str, Any] = {
        "mileage_cap_miles": number(
            "mileage_cap_miles", 20.0, "a number of miles", positive=True, maximum=MAX_MILES
        ),
        "return_home_gap_min": whole(
            "return_home_gap_min", 120, "a whole number of minutes", minimum=0,
            maximum=MAX_DAY_MINUTES,
        ),  # fmt: skip
        "dbs_max_age_years": whole(
            "dbs_max_age_years", 3, "a whole number of years", minimum=1, maximum=10
        ),
        "mandatory_training": text_list("mandatory_training", ("safeguarding_children",)),
        "max_week_hours": number(
            "max_week_hours", 48.0, "a number of hours", positive=True, maximum=MAX_WEEK_HOURS
        ),
        "daily_rest_hours": number("daily_rest_hours", 11.0, "a number of hours", maximum=24),
        "weekly_rest_hours": number(
            "weekly_rest_hours", 24.0, "a number of hours", maximum=MAX_WEEK_HOURS
        ),
        "break_after_hours": number(
            "break_after_hours", 6.0, "a number of hours", positive=True, maximum=24
        ),
        "break_min": whole("break_min", 20, "a whole number of minutes", minimum=0, maximum=240),
    }
    extra = {k: v for k, v in raw.items() if k not in _SETTINGS_KEYS}
    if not ok or week_start is None:
        return None
    return Settings(
        week_start=week_start,
        name=name,
        timezone=timezone,
        core_hours=core_hours,
        bank_holidays=bank_holidays,
        travel=travel,
        extra=extra,
        **settings_kw,
    )


def _valid_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys, OSError
        return False
    return True


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def settings_to_json(settings: Settings) -> dict[str, Any]:
    """``Settings`` -> the ``instance.json`` object (every contract key explicit, then extras)."""
    data: dict[str, Any] = {
        "name": settings.name,
        "week_start": settings.week_start.isoformat(),
        "timezone": settings.timezone,
        "core_hours": list(settings.core_hours),
        "bank_holidays": [d.isoformat() for d in settings.bank_holidays],
        "mileage_cap_miles": settings.mileage_cap_miles,
        "travel": {
            "road_factor": settings.travel.road_factor,
            "speed_mph": settings.travel.speed_mph,
        },
        "return_home_gap_min": settings.return_home_gap_min,
        "dbs_max_age_years": settings.dbs_max_age_years,
        "mandatory_training": list(settings.mandatory_training),
        "max_week_hours": settings.max_week_hours,
        "daily_rest_hours": settings.daily_rest_hours,
        "weekly_rest_hours": settings.weekly_rest_hours,
        "break_after_hours": settings.break_after_hours,
        "break_min": settings.break_min,
    }
    for key, value in settings.extra.items():
        data.setdefault(key, value)
    return data


# ---- the tables into records ---------------------------------------------------------------


@dataclass
class ParseContext:
    """What the row parsers need beyond the row: the settings and the geocoder.

    Public so that other readers of contract-shaped tables (a referral's children.csv and
    visits.csv, ``solver.referral.load_referral``) parse them exactly as an instance's are.
    """

    settings: Settings | None
    geocode: Callable[[str], tuple[float, float]] | None
    geocode_mode: str


def _place(row: Row, ctx: ParseContext, required: bool) -> tuple[float | None, float | None]:
    """lat/lon of a row, or resolved from its postcode when both are blank."""
    lat_raw, lon_raw = row.raw("lat"), row.raw("lon")
    lat_text = "" if isinstance(lat_raw, _Missing) else lat_raw
    lon_text = "" if isinstance(lon_raw, _Missing) else lon_raw
    postcode = row.cells.get("postcode", "") if row.has("postcode") else ""
    if not row.has("postcode") and not (row.has("lat") and row.has("lon")):
        row.ok = False  # reported once for the file, not per row
        return None, None
    if not lat_text and not lon_text:
        if postcode:
            return _resolve_postcode(row, postcode, ctx)
        if required:
            row.problem("lat", "", "it must be a latitude (with lon), or give a postcode.")
        return None, None
    if not lat_text or not lon_text:
        blank = "lat" if not lat_text else "lon"
        row.problem(blank, "", "lat and lon must both be given, or both be blank.")
        return None, None
    lat = row.number("lat", what=f"a latitude inside the UK ({UK_LAT[0]} to {UK_LAT[1]})")
    lon = row.number("lon", what=f"a longitude inside the UK ({UK_LON[0]} to {UK_LON[1]})")
    if lat is None or lon is None:
        return None, None
    if not in_uk(lat, lon):
        hint = ""
        if in_uk(lon, lat):
            hint = " (lat and lon look swapped)"
        if not UK_LAT[0] <= lat <= UK_LAT[1]:
            row.problem(
                "lat",
                lat_text,
                f"it must be a latitude inside the UK ({UK_LAT[0]} to {UK_LAT[1]}){hint}.",
            )
        if not UK_LON[0] <= lon <= UK_LON[1]:
            row.problem(
                "lon",
                lon_text,
                f"it must be a longitude inside the UK ({UK_LON[0]} to {UK_LON[1]}){hint}.",
            )
        return None, None
    return lat, lon


def _resolve_postcode(row: Row, postcode: str, ctx: ParseContext) -> tuple[float | None, float | None]:
    from roster.geocode import GeocodeError

    if ctx.geocode is None:
        row.problem(
            "postcode", postcode,
            "lat and lon are blank and postcodes cannot be resolved here "
            f"(geocoding is {ctx.geocode_mode}); give lat and lon, or use --geocode online.",
        )  # fmt: skip
        return None, None
    try:
        lat, lon = ctx.geocode(postcode)
    except GeocodeError as exc:
        row.problem("postcode", postcode, str(exc))
        return None, None
    if not in_uk(lat, lon):
        row.problem("postcode", postcode, f"it resolved to {lat:.4f}, {lon:.4f}, outside the UK.")
        return None, None
    return lat, lon


def check_required_columns(table: Table, sink: Sink) -> None:
    """Report, once for the file, each required contract column the table lacks."""
    key = _table_key(table.label)
    missing = [c for c in REQUIRED.get(key, ()) if c not in table.columns]
    place = [] if "postcode" in table.columns else _missing_place_columns(table)
    missing += place
    if not missing:
        return
    if len(table.columns) == 1 and any(sep in table.columns[0] for sep in (";", "\t", "|")):
        sink.add(
            Problem(
                table.label, None, None, None, None,
                f"its header row {table.columns[0]!r} is not separated by commas; "
                "save it as CSV UTF-8 (comma delimited).",
            )
        )  # fmt: skip
        return
    # a misspelt header ("carer" for "carers") is the usual cause: say which column it may be
    known = CONTRACT_COLUMNS.get(key, frozenset())
    unknown = [c for c in table.columns if c not in known]
    guesses = [
        f"is {close[0]!r} meant to be {want}?"
        for want in missing
        if (close := difflib.get_close_matches(want, unknown, n=1, cutoff=0.75))
    ]
    sink.add(
        Problem(
            table.label, None, None, None, None,
            f"the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} missing"
            f"{' (a postcode column may stand in for lat and lon)' if place else ''}"
            f"{' (' + ' '.join(guesses) + ')' if guesses else ''}; "
            f"the header row has {', '.join(table.columns) or 'nothing'}.",
        )
    )  # fmt: skip


def _missing_place_columns(table: Table) -> list[str]:
    """lat/lon a place table lacks (reported for the file; rows then skip their place)."""
    if _table_key(table.label) not in PLACE_TABLES:
        return []
    return [c for c in ("lat", "lon") if c not in table.columns]


def _ids(table: Table | None, id_field: str, sink: Sink, what: str) -> list[str | None]:
    """The id of every row (``None`` when blank or duplicated), reporting blanks and duplicates."""
    if table is None:
        return []
    seen: dict[str, int] = {}
    out: list[str | None] = []
    for index, cells in enumerate(table.rows):
        value = cells.get(id_field, "")
        number = table.numbers[index]
        if id_field not in table.columns:
            out.append(None)
            continue
        if not value:
            sink.add(
                Problem(table.label, number, None, id_field, value, f"every {what} needs an id.")
            )
            out.append(None)
        elif value in seen:
            sink.add(
                Problem(
                    table.label, number, value, id_field, value,
                    f"it must be unique, but row {seen[value]} has it too.",
                )
            )  # fmt: skip
            out.append(None)
        else:
            seen[value] = number
            out.append(value)
    return out


@dataclass(frozen=True)
class Known:
    """The ids of one kind that exist, and where (``carers.csv``); ``ids=None`` when that file
    could not be read, so lookups against it are skipped rather than cascading."""

    ids: frozenset[str] | None
    where: str
    what: str

    @classmethod
    def of(cls, table: Table | None, id_field: str, where: str, what: str) -> Known:
        """The ids a table holds; unknown (``ids=None``) when it could not be read, lacks the id
        column, lost rows to a stray quote, or is empty while other files point into it (one
        problem for the file instead of one per pointing row)."""
        if table is None or id_field not in table.columns or table.damaged:
            return cls(None, where, what)
        ids = frozenset(r.get(id_field, "") for r in (*table.rows, *table.held)) - {""}
        if not ids:
            return cls(None, table.label, what)
        return cls(ids, table.label, what)

    @classmethod
    def from_ids(cls, ids: Iterable[str], where: str, what: str) -> Known:
        return cls(frozenset(ids), where, what)


def _lookup(row: Row, fld: str, value: str | None, known: Known) -> bool:
    if value is None or value == "" or known.ids is None:
        return False
    if value in known.ids:
        return True
    hint = _did_you_mean(value, known.ids)
    row.problem(fld, value, f"no {known.what} has this id in {known.where}{hint}.", kind="lookup")
    return False


def _did_you_mean(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_carers(table: Table, ctx: ParseContext, sink: Sink) -> dict[str, Carer]:
    ids = _ids(table, "carer_id", sink, "carer")
    out: dict[str, Carer] = {}
    week = ctx.settings.week_start if ctx.settings else None
    for index, carer_id in enumerate(ids):
        row = Row(table, index, "carer_id", sink)
        gender = row.choice("gender", ("F", "M", "X"))
        dob = row.date("date_of_birth")
        lat, lon = _place(row, ctx, required=True)
        drives = row.boolean("drives")
        dbs_check = row.choice("dbs_check", DBS_LEVELS)
        dbs_issued = row.date("dbs_issued", blank_ok=True)
        update = row.boolean("dbs_update_service")
        languages = row.items("languages")
        culture = row.text("culture")
        overnight = row.boolean("overnight_ok")
        max_hours = row.number(
            "max_week_hours", blank_ok=True, positive=True, maximum=MAX_WEEK_HOURS,
            what="a number of hours",
        )  # fmt: skip
        contracted = row.number(
            "contracted_hours", default=0.0, minimum=0, maximum=MAX_WEEK_HOURS,
            what="a number of hours",
        )  # fmt: skip
        cost = row.number(
            "hourly_cost", default=0.0, minimum=0, maximum=MAX_HOURLY_COST,
            what="an amount of money per hour (pounds)",
        )  # fmt: skip
        agency = row.boolean("agency")
        name = row.text("name")
        if dob is not None and week is not None:
            age = _age(dob, week)
            if dob > week:
                row.problem("date_of_birth", dob.isoformat(), "it is after the week starts.")
            elif age < 16:
                row.problem(
                    "date_of_birth",
                    dob.isoformat(),
                    f"it makes the carer {age}; a carer must be at least 16.",
                )
            elif age > 90:
                row.warn(
                    "date_of_birth", dob.isoformat(), f"it makes the carer {age}; is it right?"
                )
        if dbs_issued is not None and week is not None and dbs_issued > week + timedelta(days=6):
            row.warn("dbs_issued", dbs_issued.isoformat(), "it is after the week; is it right?")
        if not row.ok or carer_id is None:
            continue
        assert gender is not None and dob is not None and lat is not None and lon is not None
        assert dbs_check is not None and drives is not None and update is not None
        assert (
            overnight is not None
            and agency is not None
            and contracted is not None
            and cost is not None
        )
        out[carer_id] = Carer(
            carer_id=carer_id,
            name=name or "",
            gender=gender,  # type: ignore[arg-type]
            date_of_birth=dob,
            lat=lat,
            lon=lon,
            drives=drives,
            dbs_check=dbs_check,
            dbs_issued=dbs_issued,
            dbs_update_service=update,
            languages=languages or (),
            culture=culture or "",
            overnight_ok=overnight,
            max_week_hours=max_hours,
            contracted_hours=contracted,
            hourly_cost=cost,
            agency=agency,
        )
    return out


def _age(dob: date, day: date) -> int:
    years = day.year - dob.year
    if (day.month, day.day) < (dob.month, dob.day):
        years -= 1
    return years


def parse_children(
    table: Table, known_carers: Known, ctx: ParseContext, sink: Sink
) -> dict[str, Child]:
    ids = _ids(table, "child_id", sink, "child")
    out: dict[str, Child] = {}
    week = ctx.settings.week_start if ctx.settings else None
    for index, child_id in enumerate(ids):
        row = Row(table, index, "child_id", sink)
        name = row.text("name")
        dob = row.date("date_of_birth")
        lat, lon = _place(row, ctx, required=True)
        commissioner = row.text("commissioner")
        spec = row.choice("spec", SPECS)
        g_req = row.choice("gender_required", ("F", "M", ""), default="")
        g_pref = row.choice("gender_preferred", ("F", "M", ""), default="")
        language = row.text("language")
        culture = row.text("culture")
        excluded = row.items("excluded_carers") or ()
        for carer_id in excluded:
            _lookup(row, "excluded_carers", carer_id, known_carers)
        cap = row.number(
            "mileage_cap_miles", blank_ok=True, positive=True, maximum=MAX_MILES,
            what="a number of miles",
        )  # fmt: skip
        max_carers = row.integer(
            "max_carers_week", blank_ok=True, minimum=1, maximum=MAX_CARERS_WEEK,
            what=f"a whole number of carers from 1 to {MAX_CARERS_WEEK}",
        )  # fmt: skip
        if dob is not None and week is not None:
            if dob > week + timedelta(days=6):
                row.problem("date_of_birth", dob.isoformat(), "it is after the week.")
            elif _age(dob, week) > 25:
                row.warn(
                    "date_of_birth",
                    dob.isoformat(),
                    f"it makes the young person {_age(dob, week)}; the service is for ages 0-25.",
                )
        if not row.ok or child_id is None:
            continue
        assert dob is not None and lat is not None and lon is not None and spec is not None
        out[child_id] = Child(
            child_id=child_id,
            name=name or "",
            date_of_birth=dob,
            lat=lat,
            lon=lon,
            commissioner=commissioner or "",
            spec=spec,
            gender_required=g_req or "",
            gender_preferred=g_pref or "",
            language=language or "",
            culture=culture or "",
            excluded_carers=excluded,
            mileage_cap_miles=cap,
            max_carers_week=max_carers,
        )
    return out


def parse_training(table: Table | None, known: Known, sink: Sink) -> list[Training]:
    if table is None:
        return []
    out: list[Training] = []
    for index in range(len(table.rows)):
        row = Row(table, index, "carer_id", sink)
        carer_id = row.text("carer_id", required=True)
        competency = row.text("competency", required=True)
        expires = row.date("expires", blank_ok=True)
        _lookup(row, "carer_id", carer_id, known)
        if row.ok and carer_id and competency:
            out.append(Training(carer_id, competency, expires))
    return out


def parse_availability(
    table: Table | None, known: Known, ctx: ParseContext, sink: Sink
) -> list[Availability]:
    if table is None:
        return []
    week = ctx.settings.week_start if ctx.settings else None
    out: list[Availability] = []
    for index in range(len(table.rows)):
        row = Row(table, index, "carer_id", sink)
        carer_id = row.text("carer_id", required=True)
        day_raw = row.text("day")
        start = row.time("start")
        end = row.time("end", allow_24=True)
        day: str | None = None
        if day_raw is not None:
            day = _DAY_ALIASES.get(day_raw.lower())
            if day is None:
                as_date = parse_date(day_raw)
                if as_date is None:
                    row.problem(
                        "day",
                        day_raw,
                        "it must be Mon, Tue, Wed, Thu, Fri, Sat, Sun or a date written YYYY-MM-DD.",
                    )
                else:
                    day = as_date.isoformat()
                    if week is not None and not -1 <= (as_date - week).days <= 7:
                        row.warn(
                            "day",
                            day_raw,
                            f"it is outside the week of {week.isoformat()}, so the row has no effect.",
                        )
        _lookup(row, "carer_id", carer_id, known)
        if row.ok and carer_id and day and start and end:
            out.append(Availability(carer_id, day, start, end))
    return out


def parse_absences(table: Table | None, known: Known, ctx: ParseContext, sink: Sink) -> list[Absence]:
    if table is None:
        return []
    zone = ctx.settings.timezone if ctx.settings else None
    out: list[Absence] = []
    for index in range(len(table.rows)):
        row = Row(table, index, "carer_id", sink)
        carer_id = row.text("carer_id", required=True)
        bounds: list[datetime | None] = []
        for fld in ("start", "end"):
            value = row.raw(fld)
            if isinstance(value, _Missing):
                bounds.append(None)
                continue
            moment, bare = parse_wallclock(value, zone)
            if moment is None:
                row.problem(
                    fld, value, "it must be a date and time written YYYY-MM-DDTHH:MM (or a date)."
                )
            elif not 1900 <= moment.year <= 2200:
                row.problem(fld, value, "it must be a date between the years 1900 and 2200.")
                moment = None
            elif bare and fld == "end":
                moment = moment + timedelta(days=1)  # a bare end date means the whole of that day
            bounds.append(moment)
        start, end = bounds
        if start is not None and end is not None and end < start:
            row.problem(
                "end",
                row.cells.get("end", ""),
                f"it is before the absence's start ({row.cells.get('start', '')}).",
            )
        elif start is not None and end is not None and end == start:
            row.warn(
                "end", row.cells.get("end", ""), "it equals the start, so the absence is empty."
            )
        _lookup(row, "carer_id", carer_id, known)
        if row.ok and carer_id and start is not None and end is not None:
            out.append(Absence(carer_id, start, end))
    return out


def parse_visits(
    table: Table,
    known_children: Known,
    n_carers: int | None,
    carers_where: str,
    competencies_known: set[str] | None,
    ctx: ParseContext,
    sink: Sink,
) -> dict[str, Visit]:
    """visits.csv rows -> visits. ``competencies_known=None`` skips the check that a competency
    is mentioned somewhere (training.csv could not be read: it would only repeat that)."""
    ids = _ids(table, "visit_id", sink, "visit")
    week = ctx.settings.week_start if ctx.settings else None
    out: dict[str, Visit] = {}
    for index, visit_id in enumerate(ids):
        row = Row(table, index, "visit_id", sink)
        child_id = row.text("child_id", required=True)
        _lookup(row, "child_id", child_id, known_children)
        day = row.date("date")
        start = row.time("start")
        duration = row.integer("duration_min", minimum=1, what="a positive whole number of minutes")
        flex = row.integer(
            "flex_min", default=0, minimum=0, maximum=MAX_DAY_MINUTES,
            what=f"a whole number of minutes from 0 to {MAX_DAY_MINUTES}",
        )  # fmt: skip
        # no blank default for these two: a blank would relax a rule (a 2:1 visit staffed 1:1,
        # R4; a visit that needs a driver given to a carer without a car, R8)
        carers = row.integer("carers", minimum=1, maximum=2, what="1 or 2 (a 2:1 visit)")
        kind = row.choice("kind", KINDS, default="home")
        needs_driver = row.boolean("needs_driver", default=None)
        trip = row.number(
            "trip_miles", default=0.0, minimum=0, maximum=MAX_MILES, what="a number of miles"
        )
        competencies = row.items("competencies") or ()
        lat, lon = _place(row, ctx, required=False)
        if day is not None and week is not None and not 0 <= (day - week).days < 7:
            row.problem(
                "date", day.isoformat(),
                f"it must be a date in the week of {week.isoformat()} "
                f"({week.isoformat()} to {(week + timedelta(days=6)).isoformat()}).",
            )  # fmt: skip
        if day is not None and start is not None and ctx.settings is not None and week is not None:
            read_as = _wall_clock_read_as(ctx.settings, day, start)
            if read_as is not None:
                row.warn(
                    "start", start,
                    f"that wall-clock time does not exist on {day.isoformat()} (the clocks go "
                    f"forward), so it is read as {read_as}.",
                )  # fmt: skip
        if duration is not None:
            if duration > 7 * 24 * 60:
                row.problem(
                    "duration_min", str(duration),
                    f"it is longer than the week; it must be from 1 to {7 * 24 * 60} minutes.",
                )  # fmt: skip
            elif duration > 24 * 60:
                row.warn("duration_min", str(duration), "it is longer than a day; is it right?")
        if flex is not None and duration is not None and flex > duration:
            row.problem(
                "flex_min",
                row.cells.get("flex_min", ""),
                f"it must not be larger than the visit's duration_min ({duration}).",
            )
        if carers is not None and n_carers is not None and carers > 1 and carers > n_carers:
            row.problem(
                "carers", row.cells.get("carers", ""),
                f"the visit needs {carers} carers (a 2:1 visit) but {carers_where} lists only "
                f"{n_carers} carer{'' if n_carers == 1 else 's'}.",
            )  # fmt: skip
        for competency in competencies:
            if competencies_known is not None and competency not in competencies_known:
                hint = _did_you_mean(competency, competencies_known)
                row.problem(
                    "competencies", row.cells.get("competencies", ""),
                    f"no row of training.csv and no mandatory_training mentions {competency!r}{hint}, "
                    "so no carer could ever take the visit.",
                )  # fmt: skip
        if not row.ok or visit_id is None:
            continue
        assert (
            child_id is not None and day is not None and start is not None and duration is not None
        )
        assert flex is not None and carers is not None and kind is not None
        assert needs_driver is not None and trip is not None
        out[visit_id] = Visit(
            visit_id=visit_id,
            child_id=child_id,
            date=day,
            start=start,
            duration_min=duration,
            flex_min=flex,
            carers=carers,
            kind=kind,
            needs_driver=needs_driver,
            trip_miles=trip,
            competencies=competencies,
            lat=lat,
            lon=lon,
        )
    return out


def _wall_clock_read_as(settings: Settings, day: date, hhmm: str) -> str | None:
    """The time a wall-clock start that does not exist (spring clock change) is read as, else None."""
    from roster.calendar import Clock

    clock = Clock(settings.week_start, settings.timezone)
    minute = parse_hhmm(hhmm)
    moment = clock.datetime_of(clock.minute_of(day, minute))
    if (moment.date(), moment.hour * 60 + moment.minute) == (day, minute):
        return None
    return format_hhmm(moment.hour * 60 + moment.minute)


def parse_history(
    table: Table | None, known_children: Known, known_carers: Known, sink: Sink
) -> list[History]:
    if table is None:
        return []
    out: list[History] = []
    seen: dict[tuple[str, str], int] = {}
    for index in range(len(table.rows)):
        row = Row(table, index, None, sink)
        child_id = row.text("child_id", required=True)
        carer_id = row.text("carer_id", required=True)
        row.record_id = f"{child_id}/{carer_id}" if child_id and carer_id else None
        if child_id and carer_id:
            if (child_id, carer_id) in seen:
                # the hours would be counted twice: the file holds one total per pair
                row.problem(
                    None, None,
                    f"it repeats the child and carer of row {seen[child_id, carer_id]}; give one "
                    "row per pair, with the hours of the four weeks added up.",
                )  # fmt: skip
            else:
                seen[child_id, carer_id] = row.row_number
        hours = row.number("hours", minimum=0, maximum=MAX_HISTORY_HOURS, what="a number of hours")
        _lookup(row, "child_id", child_id, known_children)
        _lookup(row, "carer_id", carer_id, known_carers)
        if row.ok and child_id and carer_id and hours is not None:
            out.append(History(child_id, carer_id, hours))
    return out


def parse_travel(
    table: Table, place_ids: Iterable[str], sink: Sink
) -> dict[tuple[str, str], tuple[float, int]]:
    """travel.csv rows -> {(from, to): (miles, minutes)}; ids are carers, children or visits."""
    known = Known.from_ids(place_ids, "the instance", "carer, child or visit")
    out: dict[tuple[str, str], tuple[float, int]] = {}
    for index in range(len(table.rows)):
        row = Row(table, index, None, sink)
        src = row.text("from", required=True)
        dst = row.text("to", required=True)
        row.record_id = f"{src}->{dst}" if src and dst else None
        miles = row.number("miles", minimum=0, maximum=MAX_MATRIX_MILES, what="a number of miles")
        minutes = row.integer(
            "minutes", minimum=0, maximum=MAX_DAY_MINUTES,
            what=f"a whole number of minutes from 0 to {MAX_DAY_MINUTES}",
        )  # fmt: skip
        if known:
            _lookup(row, "from", src, known)
            _lookup(row, "to", dst, known)
        if row.ok and src and dst and miles is not None and minutes is not None:
            out[(src, dst)] = (miles, minutes)
    return out


# ---- the whole instance ---------------------------------------------------------------------


def build_instance(
    settings_raw: Mapping[str, Any] | None,
    settings_label: str,
    tables: Mapping[str, Table | None],
    sink: Sink,
    geocode: str = "offline",
    postcode_table: str | os.PathLike[str] | None = None,
) -> Instance | None:
    """Validate parsed tables into an ``Instance``; every problem goes to ``sink``.

    ``tables`` maps ``carers``, ``training``, ... to a ``Table`` or ``None`` (file absent; the
    caller has reported it when the file is required).
    """
    settings = (
        parse_settings(settings_raw, settings_label, sink) if settings_raw is not None else None
    )
    geocoder = None
    if geocode != "off":
        from roster.geocode import make_geocoder

        geocoder = make_geocoder(geocode, postcode_table)
    ctx = ParseContext(settings, geocoder, geocode if geocoder is not None else "off")
    for table in tables.values():
        if table is not None:
            check_required_columns(table, sink)

    carers_t, children_t, visits_t = (
        tables.get("carers"),
        tables.get("children"),
        tables.get("visits"),
    )
    carers = parse_carers(carers_t, ctx, sink) if carers_t else {}
    known_carers = Known.of(carers_t, "carer_id", "carers.csv", "carer")
    _empty_but_named(carers_t, "carer_id", "carers", tables, sink)
    training = parse_training(tables.get("training"), known_carers, sink)
    availability = parse_availability(tables.get("availability"), known_carers, ctx, sink)
    absences = parse_absences(tables.get("absences"), known_carers, ctx, sink)
    children = parse_children(children_t, known_carers, ctx, sink) if children_t else {}
    known_children = Known.of(children_t, "child_id", "children.csv", "child")
    _empty_but_named(children_t, "child_id", "children", tables, sink)
    train_t = tables.get("training")
    known_competencies: set[str] | None = None
    if _empty_training(train_t, carers_t, visits_t, settings, sink):
        train_t = None  # reported once: no "no training row mentions ..." per visit
    if train_t is not None and not train_t.damaged and "competency" in train_t.columns:
        # rows with other problems still say the competency exists
        known_competencies = {t.competency for t in training}
        known_competencies |= {r.get("competency", "") for r in (*train_t.rows, *train_t.held)}
        if settings is not None:
            known_competencies |= set(settings.mandatory_training)
        elif settings_raw is not None and isinstance(settings_raw.get("mandatory_training"), list):
            known_competencies |= {str(c) for c in settings_raw["mandatory_training"]}
        else:
            known_competencies.add("safeguarding_children")
    n_carers = None if known_carers.ids is None else len(known_carers.ids)
    visits = (
        parse_visits(
            visits_t, known_children, n_carers, known_carers.where, known_competencies, ctx, sink
        )
        if visits_t
        else {}
    )
    history = parse_history(tables.get("history"), known_children, known_carers, sink)
    if (
        visits_t is not None
        and "visit_id" in visits_t.columns
        and not (visits_t.rows or visits_t.held or visits_t.damaged)
    ):
        sink.add(
            Problem(
                visits_t.label, None, None, None, None,
                "it lists no visits (only its header row), so there is nothing to roster (was the "
                "file cut short?).",
            )
        )  # fmt: skip

    _odd_but_solvable(
        carers_t,
        tables.get("availability"),
        carers,
        training,
        availability,
        settings,
        settings_label,
        sink,
        training_readable=train_t is not None and not train_t.damaged,
    )
    if sink.errors or settings is None:
        return None
    return Instance(
        settings=settings,
        carers=tuple(carers.values()),
        children=tuple(children.values()),
        visits=tuple(visits.values()),
        training=tuple(training),
        availability=tuple(availability),
        absences=tuple(absences),
        history=tuple(history),
    )


def _odd_but_solvable(
    carers_t: Table | None,
    avail_t: Table | None,
    carers: Mapping[str, Carer],
    training: Sequence[Training],
    availability: Sequence[Availability],
    settings: Settings | None,
    settings_label: str,
    sink: Sink,
    training_readable: bool = True,
) -> None:
    """Warnings (``DataWarning``) for data that is odd but solvable: the week can still be
    rostered, some visits will just go unassigned."""
    if carers_t is None or carers_t.damaged:
        return
    if "carer_id" in carers_t.columns and not carers_t.rows and not carers_t.held:
        message = "it lists no carers, so no visit can be staffed."
        sink.add(Problem(carers_t.label, None, None, None, None, message, kind="warning"))
    with_availability = {a.carer_id for a in availability}
    if avail_t is not None:  # rows reported already still hold their carer
        with_availability |= {r.get("carer_id", "") for r in avail_t.held}
    avail_label = avail_t.label if avail_t is not None else "availability.csv"
    # availability.csv unreadable (reported once) or empty: no carer-by-carer knock-ons
    readable = avail_t is not None and not avail_t.damaged
    if readable and avail_t is not None and carers and not (avail_t.rows or avail_t.held):
        readable = False
        message = (
            "it lists no availability (only its header row), so no carer is ever available (was "
            "the file cut short?)."
        )
        sink.add(Problem(avail_t.label, None, None, None, None, message, kind="warning"))
    for index, carer_id in enumerate(_all_ids(carers_t, "carer_id", keep_position=True)):
        if readable and carer_id and carer_id in carers and carer_id not in with_availability:
            message = f"the carer has no rows in {avail_label}, so is never available."
            sink.add(
                Problem(
                    carers_t.label,
                    carers_t.numbers[index],
                    carer_id,
                    None,
                    None,
                    message,
                    kind="warning",
                )
            )
    if settings is not None and carers and training_readable:
        held = {(t.carer_id, t.competency) for t in training}
        for competency in settings.mandatory_training:
            if not any((c, competency) in held for c in carers):
                message = "no carer holds it, so no carer can take any visit."
                sink.add(
                    Problem(
                        settings_label,
                        None,
                        None,
                        "mandatory_training",
                        competency,
                        message,
                        kind="warning",
                    )
                )


def _empty_training(
    train_t: Table | None,
    carers_t: Table | None,
    visits_t: Table | None,
    settings: Settings | None,
    sink: Sink,
) -> bool:
    """A header-only training.csv while there are carers and visits: nobody could take any
    visit, which is one problem for the file (it was cut short), not one per visit."""
    if (
        train_t is None
        or train_t.rows
        or train_t.held
        or train_t.damaged
        or "competency" not in train_t.columns
        or carers_t is None
        or not (carers_t.rows or carers_t.held)
        or visits_t is None
        or not (visits_t.rows or visits_t.held)
    ):
        return False
    mandatory = settings.mandatory_training if settings is not None else ()
    needed = sorted(
        set(mandatory) | {c for r in visits_t.rows for c in split_list(r.get("competencies", ""))}
    )
    if not needed:
        return False
    shown = ", ".join(needed[:3]) + (f" and {len(needed) - 3} more" if len(needed) > 3 else "")
    sink.add(
        Problem(
            train_t.label, None, None, None, None,
            f"it lists no training (only its header row), so no carer holds {shown}, which the "
            "visits need (was the file cut short?).",
        )
    )  # fmt: skip
    return True


# Which files point into carers.csv / children.csv, and through which column.
_POINTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "carers": (
        ("training", "carer_id"), ("availability", "carer_id"), ("absences", "carer_id"),
        ("history", "carer_id"), ("children", "excluded_carers"),
    ),  # fmt: skip
    "children": (("visits", "child_id"), ("history", "child_id")),
}


def _empty_but_named(
    table: Table | None,
    id_field: str,
    name: str,
    tables: Mapping[str, Table | None],
    sink: Sink,
) -> None:
    """An empty carers.csv (or children.csv) that other files point into: one problem for the
    file, not one "no carer has this id" per row elsewhere (``Known.of`` skips those)."""
    if table is None or id_field not in table.columns or table.rows or table.held or table.damaged:
        return
    named: set[str] = set()
    files: list[str] = []
    for other, column in _POINTERS[name]:
        other_t = tables.get(other)
        if other_t is None:
            continue
        ids = {i for r in other_t.rows for i in split_list(r.get(column, ""))}
        if ids:
            named |= ids
            files.append(other_t.label)
    if named:
        listed = ", ".join(files[:-1]) + " and " + files[-1] if len(files) > 1 else files[0]
        what = name if len(named) > 1 else name.removesuffix("s").replace("childre", "child")
        sink.add(
            Problem(
                table.label, None, None, None, None,
                f"it lists no {name} (only its header row), but {listed} "
                f"name{'s' if len(files) == 1 else ''} {len(named)} {what} (was the file cut short?).",
            )
        )  # fmt: skip


_LOOKUP_RE = re.compile(r"^no (?P<what>[\w ,]+?) has this id in (?P<where>.+?)(?: \(did you mean .*\))?\.$")
MANY_IDS = 3
"""More unknown ids than this in one column of one file are one problem (a file cut short)."""


def group_lookups(problems: Sequence[Problem]) -> list[Problem]:
    """Unknown ids, grouped so that one mistake is one sentence per file, not one per row.

    One id on several rows: ``training.csv row 3 (K0012): carer_id is 'K0012'; no carer has this
    id in carers.csv (also rows 4, 9 and 12).`` More than ``MANY_IDS`` ids in one column of one
    file (carers.csv lost its last rows): one sentence for the column, naming a few of them.
    """
    groups: dict[tuple[str, str | None, str], list[Problem]] = {}
    for p in problems:
        match = _LOOKUP_RE.match(p.message) if p.kind == "lookup" and p.row is not None else None
        if match is not None:
            groups.setdefault((p.file, p.field, match["where"]), []).append(p)
    out: list[Problem] = []
    done: set[tuple[str, str | None, str | None]] = set()
    for p in problems:
        match = _LOOKUP_RE.match(p.message) if p.kind == "lookup" and p.row is not None else None
        if match is None:
            out.append(p)
            continue
        group = groups[p.file, p.field, match["where"]]
        ids = list(dict.fromkeys(q.value for q in group))
        if len(ids) > MANY_IDS:
            if (p.file, p.field, None) in done:
                continue
            done.add((p.file, p.field, None))
            rows = sorted({q.row for q in group if q.row is not None} - {p.row})
            others = [str(i) for i in ids[1:]]
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            message = (
                f"no {match['what']} has this id in {match['where']}, nor do {len(others)} other "
                f"ids on {len(rows)} more rows ({shown}), so {match['where']} may be incomplete."
            )
            out.append(replace(p, message=message))
            continue
        if (p.file, p.field, p.value) in done:
            continue
        done.add((p.file, p.field, p.value))
        others_rows = sorted({q.row for q in group if q.value == p.value and q.row is not None} - {p.row})
        if not others_rows:
            out.append(p)
            continue
        shown_rows = [str(r) for r in others_rows[:8]]
        more = f" and {len(others_rows) - 8} more" if len(others_rows) > 8 else ""
        listed = (
            f"{', '.join(shown_rows[:-1])} and {shown_rows[-1]}" if len(shown_rows) > 1 and not more
            else ", ".join(shown_rows) + more
        )  # fmt: skip
        also = f"also row{'s' if len(others_rows) > 1 else ''} {listed}"
        out.append(replace(p, message=p.message[:-1] + f" ({also})."))
    return out


def _all_ids(table: Table | None, id_field: str, keep_position: bool = False) -> list[str]:
    if table is None:
        return []
    values = [r.get(id_field, "") for r in table.rows]
    return values if keep_position else [v for v in values if v]


def read_folder_tables(
    folder: Path, sink: Sink
) -> tuple[dict[str, Any] | None, dict[str, Table | None]]:
    """Read ``instance.json`` and every contract CSV of an instance folder as text tables."""
    settings_raw = read_settings_json(folder / "instance.json", "instance.json", sink)
    tables: dict[str, Table | None] = {}
    for name in INSTANCE_TABLES:
        path = folder / f"{name}.csv"
        if not path.exists():
            tables[name] = None
            if name not in OPTIONAL_FILES:
                sink.add(
                    Problem(
                        f"{name}.csv",
                        None,
                        None,
                        None,
                        None,
                        "the file is missing from the instance folder.",
                    )
                )
            continue
        tables[name] = read_csv_table(path, f"{name}.csv", sink)
    return settings_raw, tables


def check_instance(
    path: str | os.PathLike[str],
    geocode: str = "offline",
    postcode_table: str | os.PathLike[str] | None = None,
) -> tuple[Instance, list[Problem]]:
    """Load and validate; return the instance and its warnings, or raise ``InstanceError``.

    ``geocode``: ``offline`` (outward-code centroid table, when installed), ``online`` (geopy
    Nominatim; the user must opt in) or ``off``.
    """
    if geocode not in GEOCODE_MODES:
        raise ValueError(f"geocode must be one of {', '.join(GEOCODE_MODES)}, not {geocode!r}")
    source = Path(path)
    sink = Sink()
    if source.suffix.lower() in (".xlsx", ".xlsm"):
        from roster.excel import read_workbook_tables

        settings_raw, settings_label, tables = read_workbook_tables(source, sink)
    else:
        if not source.exists():
            raise FileNotFoundError(2, "No such instance folder", str(source))
        if not source.is_dir():
            raise InstanceError(
                [
                    Problem(
                        str(source),
                        None,
                        None,
                        None,
                        None,
                        "it must be an instance folder or an .xlsx workbook.",
                    )
                ]
            )
        if not any((source / name).exists() for name in INSTANCE_FILES):
            raise InstanceError(
                [
                    Problem(
                        str(source), None, None, None, None,
                        "it holds none of the contract's files (instance.json, carers.csv, "
                        "children.csv, visits.csv, ...); is it the right folder?",
                    )
                ]
            )  # fmt: skip
        settings_raw, tables = read_folder_tables(source, sink)
        settings_label = "instance.json"
        travel_path = source / "travel.csv"
        if travel_path.exists():
            travel_t = read_csv_table(travel_path, "travel.csv", sink)
            if travel_t is not None:
                tables = {**tables, "travel": travel_t}
    instance = build_instance(
        settings_raw,
        settings_label,
        {k: v for k, v in tables.items() if k != "travel"},
        sink,
        geocode,
        postcode_table,
    )
    travel_t = tables.get("travel")
    if travel_t is not None:
        check_required_columns(travel_t, sink)
        parse_travel(travel_t, _place_ids(instance) if instance else (), sink)
    raise_if_any(group_lookups(sink.problems))
    assert instance is not None
    return instance, sink.warnings


def load_instance(
    path: str | os.PathLike[str],
    geocode: str = "offline",
    postcode_table: str | os.PathLike[str] | None = None,
) -> Instance:
    """Read a contract folder or an ``.xlsx`` workbook into a frozen, validated ``Instance``.

    Raises ``InstanceError`` listing every problem; warns (``DataWarning``) on odd data.
    """
    instance, found = check_instance(path, geocode=geocode, postcode_table=postcode_table)
    for problem in found:
        warnings.warn(DataWarning(problem.sentence()), stacklevel=2)
    return instance


def _place_ids(instance: Instance) -> set[str]:
    return (
        {c.carer_id for c in instance.carers}
        | {c.child_id for c in instance.children}
        | {v.visit_id for v in instance.visits}
    )


def load_travel(path: str | os.PathLike[str], instance: Instance | None = None) -> TravelModel:
    """``travel.csv`` (a file, or the instance folder holding one) -> ``roster.travel.TravelModel``.

    Without a travel.csv the model is the contract's default (instance's ``travel`` settings).
    Pairs the matrix lacks fall back to the default model.
    """
    from roster.travel import TravelModel

    travel = instance.settings.travel if instance is not None else Travel()
    source = Path(path)
    if source.suffix.lower() in (".xlsx", ".xlsm"):
        from roster.excel import read_travel_xlsx

        return TravelModel(travel=travel, matrix=read_travel_xlsx(source, instance))
    if source.is_dir():
        source = source / "travel.csv"
        if not source.exists():
            return TravelModel(travel=travel)
    sink = Sink()
    table = read_csv_table(source, "travel.csv", sink)
    matrix: dict[tuple[str, str], tuple[float, int]] = {}
    if table is not None:
        check_required_columns(table, sink)
        matrix = parse_travel(table, _place_ids(instance) if instance else (), sink)
    raise_if_any(sink.problems)
    return TravelModel(travel=travel, matrix=matrix)


# ---- writing an instance -------------------------------------------------------------------


def instance_rows(instance: Instance) -> dict[str, tuple[tuple[str, ...], list[list[Any]]]]:
    """Each contract table as (columns, rows of typed values) — shared by CSV and Excel writers.

    Values are ``str``, ``int``, ``float``, ``bool``, ``date``, ``datetime`` or ``None``.
    """
    tables: dict[str, tuple[tuple[str, ...], list[list[Any]]]] = {}
    tables["carers"] = (
        CARER_COLUMNS,
        [
            [
                c.carer_id,
                c.name,
                c.gender,
                c.date_of_birth,
                c.lat,
                c.lon,
                c.drives,
                c.dbs_check,
                c.dbs_issued,
                c.dbs_update_service,
                ";".join(c.languages),
                c.culture,
                c.overnight_ok,
                c.max_week_hours,
                c.contracted_hours,
                c.hourly_cost,
                c.agency,
            ]  # fmt: skip
            for c in instance.carers
        ],
    )
    tables["training"] = (
        TRAINING_COLUMNS,
        [[t.carer_id, t.competency, t.expires] for t in instance.training],
    )
    tables["availability"] = (
        AVAILABILITY_COLUMNS,
        [[a.carer_id, a.day, a.start, a.end] for a in instance.availability],
    )
    tables["absences"] = (
        ABSENCE_COLUMNS,
        [[a.carer_id, a.start, a.end] for a in instance.absences],
    )
    tables["children"] = (
        CHILD_COLUMNS,
        [
            [
                c.child_id,
                c.name,
                c.date_of_birth,
                c.lat,
                c.lon,
                c.commissioner,
                c.spec,
                c.gender_required,
                c.gender_preferred,
                c.language,
                c.culture,
                ";".join(c.excluded_carers),
                c.mileage_cap_miles,
                c.max_carers_week,
            ]  # fmt: skip
            for c in instance.children
        ],
    )
    tables["visits"] = (
        VISIT_COLUMNS,
        [
            [
                v.visit_id,
                v.child_id,
                v.date,
                v.start,
                v.duration_min,
                v.flex_min,
                v.carers,
                v.kind,
                v.needs_driver,
                v.trip_miles,
                ";".join(v.competencies),
                v.lat,
                v.lon,
            ]  # fmt: skip
            for v in instance.visits
        ],
    )
    tables["history"] = (
        HISTORY_COLUMNS,
        [[h.child_id, h.carer_id, h.hours] for h in instance.history],
    )
    return tables


def cell_text(value: Any) -> str:
    """A typed value as the contract writes it in a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _fmt_bool(value)
    if isinstance(value, int | float):
        return _fmt_num(value)
    if isinstance(value, datetime):
        return _fmt_wallclock(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = _stdio.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell_text(v) for v in row])
    return buffer.getvalue()


def travel_rows(matrix: Mapping[tuple[str, str], tuple[float, int]]) -> list[list[Any]]:
    return [[a, b, miles, minutes] for (a, b), (miles, minutes) in matrix.items()]


def write_instance(
    instance: Instance,
    path: str | os.PathLike[str],
    travel: Mapping[tuple[str, str], tuple[float, int]] | None = None,
) -> None:
    """Write the contract folder (or an ``.xlsx`` workbook) atomically.

    ``travel`` (from ``load_travel(...).matrix``) writes travel.csv as well. The folder is
    replaced as a whole: the contract's files are exactly what this instance holds, while other
    files already in the folder are kept.
    """
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        from roster.excel import write_instance_xlsx

        write_instance_xlsx(instance, target, travel=travel)
        return
    with atomic_folder(target, keep_others_except=INSTANCE_FILES) as tmp:
        (tmp / "instance.json").write_text(
            json.dumps(settings_to_json(instance.settings), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        for name, (columns, rows) in instance_rows(instance).items():
            (tmp / f"{name}.csv").write_text(csv_text(columns, rows), encoding="utf-8")
        if travel:
            (tmp / "travel.csv").write_text(
                csv_text(TRAVEL_COLUMNS, travel_rows(travel)), encoding="utf-8"
            )


# ---- the rota ------------------------------------------------------------------------------


def rota_rows(instance: Instance, rota: Rota) -> list[list[Any]]:
    clock = instance.clock
    return [
        [
            a.visit_id,
            a.carer_id,
            clock.iso(a.start),
            clock.iso(a.end),
            a.travel_from,
            round(a.travel_miles, MILES_DECIMALS),
            a.travel_min,
        ]  # fmt: skip
        for a in rota.assignments
    ]


def summary_of(instance: Instance, rota: Rota) -> dict[str, Any]:
    """summary.json: the contract's keys (computed when the rota does not carry them), then the rest."""
    staffed: dict[str, int] = {}
    for a in rota.assignments:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    slots = sum(v.carers for v in instance.visits)
    covered_slots = sum(min(staffed.get(v.visit_id, 0), v.carers) for v in instance.visits)
    covered = sum(1 for v in instance.visits if staffed.get(v.visit_id, 0) >= v.carers)
    per_child: dict[str, set[str]] = {}
    visit_child = {v.visit_id: v.child_id for v in instance.visits}
    for a in rota.assignments:
        child_id = visit_child.get(a.visit_id)
        if child_id is not None:
            per_child.setdefault(child_id, set()).add(a.carer_id)
    mean_carers = (
        round(sum(len(s) for s in per_child.values()) / len(per_child), 3) if per_child else 0.0
    )
    computed: dict[str, Any] = {
        "visits": len(instance.visits),
        "visits_covered": covered,
        "carer_slots": slots,
        "carer_slots_covered": covered_slots,
        "travel_miles": round(sum(a.travel_miles for a in rota.assignments), 2),
        "mean_carers_per_child": mean_carers,
        "objective": None,
        "bound": None,
        "solve_seconds": None,
    }
    out = dict(computed)
    for key, value in rota.summary.items():
        # The counts and miles are facts of the rows written: a summary carried over from
        # another rota (a repair, a referral) must not contradict them.
        if key not in SUMMARY_FACTS:
            out[key] = value
    return out


SUMMARY_FACTS = frozenset(
    {"visits", "visits_covered", "carer_slots", "carer_slots_covered", "travel_miles", "mean_carers_per_child"}
)
"""summary.json keys always computed from the rota written (contract §2)."""


def unassigned_rows(instance: Instance, rota: Rota) -> list[list[Any]]:
    """unassigned.csv rows: the rota's own, with ``missing`` recounted from the rows written, and
    any visit not fully staffed that the rota forgot to list (contract §2: no visit may be silently
    dropped). A fully staffed visit is not listed."""
    staffed: dict[str, int] = {}
    for a in rota.assignments:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    need = {v.visit_id: v.carers for v in instance.visits}
    rows: list[list[Any]] = []
    listed: set[str] = set()
    for u in rota.unassigned:
        if u.visit_id in listed:
            continue
        missing = need.get(u.visit_id, u.missing) - staffed.get(u.visit_id, 0) if u.visit_id in need else u.missing
        if missing <= 0:
            continue
        listed.add(u.visit_id)
        rows.append([u.visit_id, missing, u.reasons or "not staffed (no reason recorded)"])
    for v in instance.visits:
        missing = v.carers - staffed.get(v.visit_id, 0)
        if missing > 0 and v.visit_id not in listed:
            rows.append([v.visit_id, missing, "not staffed (no reason recorded)"])
    return rows


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_safe(value.item())
    return value


def write_rota(instance: Instance, rota: Rota, path: str | os.PathLike[str]) -> None:
    """Write rota.csv, unassigned.csv and summary.json into the folder ``path`` atomically.

    A failed write leaves the earlier rota intact; other files already in the folder are kept.
    """
    target = Path(path)
    if (target / "instance.json").exists() and (target / "visits.csv").exists():
        # Refuse to mix a rota into an instance folder: `roster solve X X` would be a typo.
        raise InstanceError(
            [
                Problem(
                    str(target), None, None, None, None,
                    "it is an instance folder; write the rota to a folder of its own.",
                )
            ]
        )  # fmt: skip
    summary = _json_safe(summary_of(instance, rota))
    with atomic_folder(target, keep_others_except=ROTA_FILES) as tmp:
        (tmp / "rota.csv").write_text(
            csv_text(ROTA_COLUMNS, rota_rows(instance, rota)), encoding="utf-8"
        )
        (tmp / "unassigned.csv").write_text(
            csv_text(UNASSIGNED_COLUMNS, unassigned_rows(instance, rota)),
            encoding="utf-8",
        )
        (tmp / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8",
        )


def parse_offset_datetime(text: str) -> datetime | None:
    """An ISO 8601 datetime *with* a UTC offset (rota.csv), or ``None``."""
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or not 1900 <= moment.year <= 2200:
        return None
    return moment


def parse_rota_tables(
    instance: Instance,
    rota_t: Table | None,
    unassigned_t: Table | None,
    summary: Mapping[str, Any],
    sink: Sink,
) -> Rota | None:
    """Validate rota tables against the instance into a ``Rota`` (rules are the checker's job)."""
    clock = instance.clock
    known_visits = Known.from_ids(instance.visit_index, "the instance's visits", "visit")
    known_carers = Known.from_ids(instance.carer_index, "the instance's carers", "carer")
    assignments: list[Assignment] = []
    for table in (rota_t, unassigned_t):
        if table is not None:
            check_required_columns(table, sink)
    if rota_t is not None:
        for index in range(len(rota_t.rows)):
            row = Row(rota_t, index, "visit_id", sink)
            visit_id = row.text("visit_id", required=True)
            carer_id = row.text("carer_id", required=True)
            _lookup(row, "visit_id", visit_id, known_visits)
            _lookup(row, "carer_id", carer_id, known_carers)
            minutes: list[int | None] = []
            for fld in ("start", "end"):
                value = row.raw(fld)
                if isinstance(value, _Missing):
                    minutes.append(None)
                    continue
                moment = parse_offset_datetime(value)
                if moment is None:
                    row.problem(
                        fld,
                        value,
                        "it must be an ISO 8601 date and time with its UTC offset, like 2026-11-23T15:30:00+00:00.",
                    )
                    minutes.append(None)
                elif moment.second or moment.microsecond:
                    row.problem(fld, value, "it must fall on a whole minute.")
                    minutes.append(None)
                else:
                    minutes.append(clock.minute_of_datetime(moment))
            travel_from = row.text("travel_from") or "home"
            if travel_from != "home":
                _lookup(row, "travel_from", travel_from, known_visits)
            miles = row.number(
                "travel_miles", default=0.0, minimum=0, maximum=MAX_MATRIX_MILES,
                what="a number of miles",
            )  # fmt: skip
            travel_min = row.integer(
                "travel_min", default=0, minimum=0, maximum=MAX_DAY_MINUTES,
                what=f"a whole number of minutes from 0 to {MAX_DAY_MINUTES}",
            )  # fmt: skip
            start, end = minutes
            if start is not None and end is not None and end < start:
                row.problem(
                    "end",
                    row.cells.get("end", ""),
                    f"it is before the start ({row.cells.get('start', '')}).",
                )
            if row.ok and visit_id and carer_id and start is not None and end is not None:
                assert miles is not None and travel_min is not None
                assignments.append(
                    Assignment(visit_id, carer_id, start, end, travel_from, miles, travel_min)
                )
    unassigned: list[Unassigned] = []
    if unassigned_t is not None:
        for index in range(len(unassigned_t.rows)):
            row = Row(unassigned_t, index, "visit_id", sink)
            visit_id = row.text("visit_id", required=True)
            _lookup(row, "visit_id", visit_id, known_visits)
            missing = row.integer(
                "missing", minimum=0, maximum=2, what="a whole number of carers (0 to 2)"
            )
            reasons = row.text("reasons") or ""
            if row.ok and visit_id and missing is not None:
                unassigned.append(Unassigned(visit_id, missing, reasons))
    if sink.errors:
        return None
    return Rota(assignments=tuple(assignments), unassigned=tuple(unassigned), summary=dict(summary))


def load_rota(instance: Instance, path: str | os.PathLike[str]) -> Rota:
    """Read a rota folder (rota.csv, unassigned.csv, summary.json) for ``instance``.

    ``path`` may also name the rota.csv itself (its siblings are read too) or a rota workbook
    (``.xlsx``, see ``roster.excel.write_rota_xlsx``). ISO datetimes with offsets become epoch minutes of the instance's clock. Raises
    ``InstanceError`` listing every problem.
    """
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(2, "No such rota folder", str(folder))
    if folder.suffix.lower() == ".xlsx":
        from roster.excel import load_rota_xlsx

        return load_rota_xlsx(instance, folder)
    rota_path = folder / "rota.csv"
    if folder.is_file() and folder.suffix.lower() == ".csv":  # rota.csv itself was named
        rota_path, folder = folder, folder.parent
    sink = Sink()
    rota_t: Table | None = None
    if rota_path.exists():
        rota_t = read_csv_table(rota_path, "rota.csv", sink)
    else:
        sink.add(
            Problem("rota.csv", None, None, None, None, "the file is missing from the rota folder.")
        )
    unassigned_t = (
        read_csv_table(folder / "unassigned.csv", "unassigned.csv", sink)
        if (folder / "unassigned.csv").exists()
        else None
    )
    summary: dict[str, Any] = {}
    if (folder / "summary.json").exists():
        raw = read_settings_json(folder / "summary.json", "summary.json", sink)
        summary = raw or {}
    rota = parse_rota_tables(instance, rota_t, unassigned_t, summary, sink)
    raise_if_any(sink.problems)
    for problem in sink.warnings:
        warnings.warn(DataWarning(problem.sentence()), stacklevel=2)
    assert rota is not None
    return rota


# ---- CLI: roster validate ----------------------------------------------------------------


def add_geocode_arguments(parser: argparse.ArgumentParser) -> None:
    """``--geocode`` and ``--postcode-table``, shared by every command that loads an instance."""
    parser.add_argument(
        "--geocode",
        choices=GEOCODE_MODES,
        default="offline",
        help="how to turn postcodes into lat/lon when lat/lon are blank: offline (outward-code "
        "centroids from a table), online (OpenStreetMap Nominatim via geopy; sends postcodes "
        "over the internet), or off (default: offline)",
    )
    parser.add_argument(
        "--postcode-table",
        metavar="CSV",
        default=None,
        help="an outward,lat,lon CSV of outward-code centroids for --geocode offline "
        "(default: $ROSTER_POSTCODE_TABLE, else the one installed with roster, if any)",
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="an instance folder (contract CSVs) or an .xlsx workbook")
    add_geocode_arguments(parser)


def run_command(args: argparse.Namespace) -> int:
    import sys

    instance, found = check_instance(
        args.path, geocode=args.geocode, postcode_table=args.postcode_table
    )
    for problem in found:
        print(f"warning: {problem.sentence()}", file=sys.stderr)
    print(
        f"OK: {len(instance.carers)} carers, {len(instance.children)} children, "
        f"{len(instance.visits)} visits (week of {instance.settings.week_start.isoformat()})"
        + (f", {len(found)} warning(s)" if found else "")
    )
    return 0


__all__ = [
    "InstanceError",
    "Table",
    "check_instance",
    "load_instance",
    "load_rota",
    "load_travel",
    "write_instance",
    "write_rota",
]
