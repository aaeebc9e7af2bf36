"""Fuzzing the reader: mutants of the sample week, each loaded as ``roster validate`` would.

    python -m benchmarks.fuzz_inputs [--mutants 1200] [--seed 1] [--out /tmp/roster-fuzz-inputs]

Each mutant is ``data/sample/`` with one defect planted by an operator (a stray quote, a NUL, a
deleted column, a cut-short row, an implausible number, a UTF-16 file, ...; see ``OPERATORS``).
It is loaded with ``roster.io.check_instance`` and judged against the reader's promises:

* no traceback (only ``InstanceError``) and no hang (a mutant taking ``--timeout`` seconds);
* no silent drop: when the instance loads, every non-blank physical row of every file is a
  record of it (41 visits in, 41 visits out); when it is refused, every non-blank physical line
  of the mutated file was read as a row or is named in a problem (its row, or the range of
  lines a stray quote merged), unless the file as a whole was named as unreadable;
* a defect that must be refused is refused (a removed column a hard rule reads, a control
  character, a row with a cell too few or too many, a stray quote, a number outside its range),
  and the problem names the file, and the row (or the column) the defect is in;
* a refused mutant's problems name the mutated file (as the file, or in the message: "no carer
  has this id in carers.csv"); at most ``KNOCK_ON_LIMIT`` problems point elsewhere without
  naming it, and an unreadable file is exactly one problem.

Mutants are deterministic: mutant ``i`` of seed ``s`` is drawn from ``random.Random(f"{s}:{i}")``,
so one that fails can be rebuilt alone (``--only i``). The table (operator x outcome) goes to
stdout and ``OUT/table.md``; one line per mutant goes to ``OUT/outcomes.csv``, and every mutant
that breaks a promise is copied to ``OUT/failed/<index>-<operator>/``. Nothing is written into
the checkout unless ``--out`` points there. Exit status 1 when any promise is broken.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from datetime import time as clock_time
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
DEFAULT_OUT = Path(tempfile.gettempdir()) / "roster-fuzz-inputs"
CSV_FILES: tuple[str, ...] = (
    "carers.csv", "training.csv", "availability.csv", "absences.csv", "children.csv",
    "visits.csv", "history.csv",
)  # fmt: skip
FILES: tuple[str, ...] = (*CSV_FILES, "instance.json")
KNOCK_ON_LIMIT = 3
"""Problems a refused mutant may have that neither sit in the mutated file nor name it."""
TIMEOUT = 30.0
"""Seconds after which one mutant's load counts as a hang (a load takes milliseconds)."""

# Columns holding numbers, by file: an implausible value there must be refused with its range.
NUMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "carers.csv": ("lat", "lon", "max_week_hours", "contracted_hours", "hourly_cost"),
    "children.csv": ("lat", "lon", "mileage_cap_miles", "max_carers_week"),
    "visits.csv": ("duration_min", "flex_min", "carers", "trip_miles"),
    "history.csv": ("hours",),
}
IMPLAUSIBLE = ("1e300", "-1e300", "1e400", "nan", "inf", "-inf", "99999", "-500", "1e-300x")
RANGE_WORDS = (" to ", "at most", "greater than", "positive", " or ")
"""How a refusal states a range: ``from 0 to 500``, ``a positive whole number``, ``1 or 2``."""
JUNK = (
    "", "-1", "0", "1e300", "nan", "true", "yes", "25:00", "2026-02-30", "K01", "C01", "2",
    "Mon", ";", ";;K01", "06:30;22:30", "peg_feeding", "x" * 300, "{", "null", "💥", "K 01",
    "2026-11-23T08:00", "  ", "1,5", "enhanced", "F", "community", "-0", "0.5",
)  # fmt: skip
CONTROL = ("\x00", "\x01", "\x07", "\x1b", "\x7f")
INVISIBLE = ("\u200b", "\u00ad", "\u202e", "\ufeff")
SETTINGS_JUNK: tuple[tuple[str, Any], ...] = (
    ("travel", {"road_factor": 1.3, "speed_mph": 1e-9}),
    ("travel", {"road_factor": 1.3, "speed_mph": 1e300}),
    ("travel", {"road_factor": 1e300, "speed_mph": 20}),
    ("travel", {"road_factor": 0.1, "speed_mph": 20}),
    ("mileage_cap_miles", 1e300), ("mileage_cap_miles", 0), ("max_week_hours", 1e9),
    ("return_home_gap_min", -1), ("return_home_gap_min", 10**9), ("dbs_max_age_years", 0),
    ("dbs_max_age_years", 10**6), ("break_min", 10**9), ("daily_rest_hours", 25),
    ("weekly_rest_hours", 1e300), ("break_after_hours", 0), ("week_start", "2026-11-24"),
    ("timezone", "Mars/Olympus"), ("core_hours", ["22:30", "06:30"]),
)  # fmt: skip


@dataclass
class Mutant:
    """The sample with one defect; ``files`` holds the files that differ from the sample."""

    index: int
    operator: str
    file: str
    files: dict[str, bytes]
    row: int | None = None
    """The data row (1 = the first after the header) the defect is on, when it is on one."""
    rows: tuple[int, ...] = ()
    """Rows a problem may name for the defect (a split row is named on either half)."""
    column: str | None = None
    must_refuse: bool = False
    one_problem: bool = False
    """The file cannot be read at all: exactly one problem, no knock-ons."""
    note: str = ""
    workbook: bool = False
    """The mutant is ``WORKBOOK`` (the sample as an Excel workbook), not the CSV folder."""


@dataclass
class Outcome:
    mutant: Mutant
    result: str  # loaded, refused, traceback or hang
    problems: int = 0
    knock_ons: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ---- the sample as rows ---------------------------------------------------------------------


WORKBOOK = "sample.xlsx"


@dataclass(frozen=True)
class Sample:
    """The sample's files as bytes, and its CSVs as header + rows of cells (it holds no quotes)."""

    raw: dict[str, bytes]
    tables: dict[str, tuple[list[str], list[list[str]]]]
    workbook: bytes = b""
    """The sample as one workbook (``roster convert``), for the Excel mutants."""

    @classmethod
    def read(cls, folder: Path = SAMPLE) -> Sample:
        raw = {name: (folder / name).read_bytes() for name in FILES if (folder / name).exists()}
        tables: dict[str, tuple[list[str], list[list[str]]]] = {}
        for name in CSV_FILES:
            if name in raw:
                text = raw[name].decode("utf-8")
                assert '"' not in text, f"{name}: the fuzzer edits cells by splitting on commas"
                lines = [line.split(",") for line in text.splitlines()]
                tables[name] = (lines[0], lines[1:])
        return cls(raw, tables, _workbook_bytes(folder))


def _workbook_bytes(folder: Path) -> bytes:
    from roster.excel import write_instance_xlsx
    from roster.io import load_instance

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / WORKBOOK
        write_instance_xlsx(load_instance(folder), path)
        return path.read_bytes()


def _text(header: list[str], rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode("utf-8")


def _lines(header: list[str], rows: list[list[str]]) -> list[str]:
    return [",".join(r) for r in [header, *rows]]


def _join(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


# ---- operators: each plants one defect --------------------------------------------------------

Operator = Callable[[random.Random, Sample, int], Mutant]


def _pick(rng: random.Random, sample: Sample, files: tuple[str, ...] = CSV_FILES) -> str:
    return rng.choice([f for f in files if f in sample.tables and sample.tables[f][1]])


def _copy(sample: Sample, name: str) -> tuple[list[str], list[list[str]]]:
    header, rows = sample.tables[name]
    return list(header), [list(r) for r in rows]


def cell_junk(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A random cell replaced by junk: loaded or refused, never dropped."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    r, c = rng.randrange(len(rows)), rng.randrange(len(header))
    rows[r][c] = rng.choice(JUNK).replace(",", ";")
    return Mutant(index, "cell_junk", name, {name: _text(header, rows)}, row=r + 1,
                  column=header[c])  # fmt: skip


def implausible_number(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A number far outside its plausible range (hourly_cost=1e300): refused, naming the cell."""
    name = rng.choice(sorted(NUMBER_COLUMNS))
    header, rows = _copy(sample, name)
    column = rng.choice(NUMBER_COLUMNS[name])
    r = rng.randrange(len(rows))
    rows[r][header.index(column)] = rng.choice(IMPLAUSIBLE)
    return Mutant(index, "implausible_number", name, {name: _text(header, rows)}, row=r + 1,
                  rows=(r + 1,), column=column, must_refuse=True)  # fmt: skip


def stray_quote(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A ``"`` opening a cell: it swallows the lines after it. Refused naming the row, unless it
    opens the very last cell of the file (then it only quotes that cell)."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    r, c = rng.randrange(len(rows)), rng.randrange(len(header))
    rows[r][c] = '"' + rows[r][c]
    last = r == len(rows) - 1 and c == len(header) - 1
    return Mutant(index, "stray_quote", name, {name: _text(header, rows)}, row=r + 1,
                  rows=(r + 1,), column=header[c], must_refuse=not last)  # fmt: skip


def quote_in_header(rng: random.Random, sample: Sample, index: int) -> Mutant:
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    c = rng.randrange(len(header))
    column = header[c]
    header[c] = '"' + header[c]
    return Mutant(index, "quote_in_header", name, {name: _text(header, rows)}, column=column,
                  must_refuse=True)  # fmt: skip


def control_character(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A NUL (or another control character) inside a cell or a header: refused."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    in_header = rng.random() < 0.2
    cells = header if in_header else rows[rng.randrange(len(rows))]
    choices = [i for i, cell in enumerate(cells) if len(cell) >= 2]
    c = rng.choice(choices)
    at = rng.randrange(1, len(cells[c]))
    cells[c] = cells[c][:at] + rng.choice(CONTROL) + cells[c][at:]
    row = None if in_header else rows.index(cells) + 1
    return Mutant(index, "control_character", name, {name: _text(header, rows)}, row=row,
                  rows=() if row is None else (row,), column=header[c], must_refuse=True)  # fmt: skip


def invisible_character(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A zero-width space (or soft hyphen, ...) inside an id or a code: refused. In a name it may
    stay (a zero-width joiner belongs to some scripts)."""
    from roster.io import FREE_TEXT_COLUMNS

    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    r = rng.randrange(len(rows))
    choices = [i for i, cell in enumerate(rows[r]) if len(cell) >= 2]
    c = rng.choice(choices)
    at = rng.randrange(1, len(rows[r][c]))
    rows[r][c] = rows[r][c][:at] + rng.choice(INVISIBLE) + rows[r][c][at:]
    free = header[c] in FREE_TEXT_COLUMNS
    return Mutant(index, "invisible_character", name, {name: _text(header, rows)}, row=r + 1,
                  rows=(r + 1,), column=header[c], must_refuse=not free)  # fmt: skip


def hard_rule_columns(name: str) -> frozenset[str]:
    """The columns of a file that must be present (``roster.io.REQUIRED`` and places)."""
    from roster.io import PLACE_TABLES, REQUIRED

    table = name.split(".")[0]
    place = {"lat", "lon"} if table in PLACE_TABLES else set()
    return frozenset(REQUIRED.get(table, ())) | place


def drop_column(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A column deleted: refused (naming it) when a hard rule reads it, else loaded as before."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    c = rng.randrange(len(header))
    column = header[c]
    header.pop(c)
    for r in rows:
        r.pop(c)
    return Mutant(index, "drop_column", name, {name: _text(header, rows)}, column=column,
                  must_refuse=column in hard_rule_columns(name))  # fmt: skip


def drop_row(rng: random.Random, sample: Sample, index: int) -> Mutant:
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    r = rng.randrange(len(rows))
    rows.pop(r)
    return Mutant(index, "drop_row", name, {name: _text(header, rows)}, row=r + 1)


def duplicate_row(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A row twice: refused where an id (or a history pair) must be unique, else loaded twice."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    r = rng.randrange(len(rows))
    at = rng.randrange(len(rows) + 1)
    rows.insert(at, list(rows[r]))
    unique = name in ("carers.csv", "children.csv", "visits.csv", "history.csv")
    return Mutant(index, "duplicate_row", name, {name: _text(header, rows)}, row=at + 1,
                  must_refuse=unique)  # fmt: skip


def cut_row_short(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A row with its last cells missing: refused, never padded with defaults."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    r = rng.randrange(len(rows))
    rows[r] = rows[r][: rng.randrange(1, len(header))]
    return Mutant(index, "cut_row_short", name, {name: _text(header, rows)}, row=r + 1,
                  rows=(r + 1,), must_refuse=True)  # fmt: skip


def extra_cell(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """An unquoted comma: one cell too many, the values after it shifted. Refused."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    r = rng.randrange(len(rows))
    rows[r].insert(rng.randrange(len(rows[r]) + 1), rng.choice(JUNK).replace(",", ";"))
    return Mutant(index, "extra_cell", name, {name: _text(header, rows)}, row=r + 1,
                  rows=(r + 1,), must_refuse=True)  # fmt: skip


def split_row(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A line break inside a row: two rows, each a cell short. Refused."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    lines = _lines(header, rows)
    r = rng.randrange(1, len(lines))
    at = rng.randrange(1, len(lines[r]))
    lines[r : r + 1] = [lines[r][:at], lines[r][at:]]
    return Mutant(index, "split_row", name, {name: _join(lines)}, row=r, rows=(r, r + 1),
                  must_refuse=True)  # fmt: skip


def harmless_layout(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """Blank lines, CRLF line ends, a byte order mark, header case and spaces: loaded as is."""
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    kind = rng.choice(["blank_lines", "crlf", "bom", "header_case", "no_final_newline"])
    if kind == "header_case":
        header = [f" {h.upper()} " if rng.random() < 0.5 else h.title() for h in header]
    lines = _lines(header, rows)
    if kind == "blank_lines":
        for _ in range(rng.randrange(1, 4)):
            lines.insert(rng.randrange(1, len(lines) + 1), rng.choice(["", ",,,", "  "]))
    data = _join(lines)
    if kind == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif kind == "bom":
        data = b"\xef\xbb\xbf" + data
    elif kind == "no_final_newline":
        data = data.rstrip(b"\n")
    return Mutant(index, "harmless_layout", name, {name: data}, note=kind)


def utf16(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A file saved as UTF-16 ("Unicode Text"): one problem, no knock-ons."""
    name = _pick(rng, sample)
    return Mutant(index, "utf16", name, {name: sample.raw[name].decode().encode("utf-16")},
                  must_refuse=True, one_problem=True)  # fmt: skip


def bad_byte(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A byte that is not UTF-8 (a Latin-1 é): one problem, no knock-ons."""
    name = _pick(rng, sample)
    data = bytearray(sample.raw[name])
    data.insert(rng.randrange(len(data)), rng.choice([0xE9, 0xFF, 0x80]))
    return Mutant(index, "bad_byte", name, {name: bytes(data)}, must_refuse=True,
                  one_problem=True)  # fmt: skip


def header_only(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """Every row gone: refused where the week needs the rows (visits, carers, children,
    training), at most a warning elsewhere."""
    name = _pick(rng, sample)
    header, _ = _copy(sample, name)
    must = name in ("visits.csv", "carers.csv", "children.csv", "training.csv")
    return Mutant(index, "header_only", name, {name: _text(header, [])}, must_refuse=must)


def cut_file(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """The file cut at a random byte (a half-copied file): its last row is refused as short."""
    name = _pick(rng, sample)
    data = sample.raw[name]
    return Mutant(index, "cut_file", name, {name: data[: rng.randrange(1, len(data))]})


def swap_header(rng: random.Random, sample: Sample, index: int) -> Mutant:
    name = _pick(rng, sample)
    header, rows = _copy(sample, name)
    a, b = rng.sample(range(len(header)), 2)
    header[a], header[b] = header[b], header[a]
    return Mutant(index, "swap_header", name, {name: _text(header, rows)})


def unknown_id(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A pointer to a carer or child that does not exist: refused, naming the row."""
    name, column = rng.choice(
        [("training.csv", "carer_id"), ("availability.csv", "carer_id"),
         ("absences.csv", "carer_id"), ("history.csv", "carer_id"), ("history.csv", "child_id"),
         ("visits.csv", "child_id"), ("children.csv", "excluded_carers")]
    )  # fmt: skip
    header, rows = _copy(sample, name)
    r = rng.randrange(len(rows))
    rows[r][header.index(column)] = rng.choice(["K99", "C99", "k01", "K1", "X"])
    return Mutant(index, "unknown_id", name, {name: _text(header, rows)}, row=r + 1,
                  rows=(r + 1,), column=column, must_refuse=True)  # fmt: skip


def rename_id(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A carer's or child's own id mistyped: the rows naming the old id are refused, each file's
    problem naming carers.csv (one sentence per file, not per row)."""
    name = rng.choice(["carers.csv", "children.csv"])
    header, rows = _copy(sample, name)
    r = rng.randrange(len(rows))
    rows[r][0] = rows[r][0] + rng.choice(["x", "0", "O"])
    return Mutant(index, "rename_id", name, {name: _text(header, rows)}, row=r + 1)


def settings_value(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """instance.json with an implausible or wrong setting (speed_mph 1e-9): refused, naming it."""
    data = json.loads(sample.raw["instance.json"])
    key, value = rng.choice(SETTINGS_JUNK)
    data[key] = value
    text = json.dumps(data, indent=2).encode()
    return Mutant(index, "settings_value", "instance.json", {"instance.json": text}, column=key,
                  must_refuse=True)  # fmt: skip


def settings_text(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """instance.json cut short, or a line of it replaced: refused or loaded, never a traceback."""
    lines = sample.raw["instance.json"].decode().splitlines()
    kind = rng.choice(["cut", "line", "drop_week_start"])
    if kind == "cut":
        text = "\n".join(lines)[: rng.randrange(1, len("\n".join(lines)))]
    elif kind == "line":
        i = rng.randrange(len(lines))
        lines[i] = rng.choice(['  "travel": 3,', '  "core_hours": ["x"],', "", "}", "[", '"\x00"'])
        text = "\n".join(lines)
    else:
        text = "\n".join(line for line in lines if "week_start" not in line)
    return Mutant(index, "settings_text", "instance.json", {"instance.json": text.encode()},
                  must_refuse=kind != "line", note=kind)  # fmt: skip


EXCEL_VALUES: tuple[tuple[Any, bool], ...] = (
    ("=1+1", True), ("=B2*60", True), ("=SUM(A1:A3)", True), ("#REF!", True), ("#DIV/0!", True),
    ("#N/A", True), (None, False), ("", False), ("K01", False), (True, False), (-1, False),
    (1e300, False), (date(2026, 11, 24), False), (clock_time(1, 30), False), ("  ", False),
)  # fmt: skip
"""A cell value, and whether it must be refused wherever it is (a formula saved without its
value, an Excel error value)."""


def excel_cell(rng: random.Random, sample: Sample, index: int) -> Mutant:
    """A cell of the sample's workbook set to a formula with no saved value, an Excel error or a
    typed value: the first two refused naming the sheet, row and column, never read as blanks."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(sample.workbook))
    sheet_name = rng.choice([n for n in book.sheetnames if n != "instance" and book[n].max_row > 1])
    sheet = book[sheet_name]
    r, c = rng.randrange(2, sheet.max_row + 1), rng.randrange(1, sheet.max_column + 1)
    value, must = rng.choice(EXCEL_VALUES)
    sheet.cell(r, c).value = value
    buffer = io.BytesIO()
    book.save(buffer)
    column = str(sheet.cell(1, c).value)
    return Mutant(index, "excel_cell", f"{sheet_name} sheet", {WORKBOOK: buffer.getvalue()},
                  row=r, rows=(r,), column=column, must_refuse=must, note=repr(value),
                  workbook=True)  # fmt: skip


def workbook_rows(data: bytes) -> dict[str, int]:
    """Rows with any non-blank cell, per sheet (after the header), as ``visits.csv`` etc."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {
            f"{name}.csv": sum(
                1
                for row in book[name].iter_rows(min_row=2, values_only=True)
                if any(v is not None and str(v).strip() for v in row)
            )
            for name in book.sheetnames
            if name != "instance"
        }
    finally:
        book.close()


OPERATORS: dict[str, Operator] = {
    op.__name__: op
    for op in (
        cell_junk, implausible_number, stray_quote, quote_in_header, control_character,
        invisible_character, drop_column, drop_row, duplicate_row, cut_row_short, extra_cell,
        split_row, harmless_layout, utf16, bad_byte, header_only, cut_file, swap_header,
        unknown_id, rename_id, settings_value, settings_text, excel_cell,
    )
}  # fmt: skip


def mutants(sample: Sample, seed: int, count: int, start: int = 0) -> Iterator[Mutant]:
    """Mutants ``start .. start + count - 1`` of ``seed``; the operators take turns, so that a
    few hundred mutants exercise each of them."""
    names = sorted(OPERATORS)
    for index in range(start, start + count):
        rng = random.Random(f"{seed}:{index}")
        yield OPERATORS[names[index % len(names)]](rng, sample, index)


def every_column_removed(sample: Sample) -> Iterator[Mutant]:
    """One mutant per column of every sample file, that column deleted."""
    for name in CSV_FILES:
        if name not in sample.tables:
            continue
        header, rows = sample.tables[name]
        for c, column in enumerate(header):
            new_header = header[:c] + header[c + 1 :]
            new_rows = [r[:c] + r[c + 1 :] for r in rows]
            yield Mutant(-1, "drop_column", name, {name: _text(new_header, new_rows)},
                         column=column, must_refuse=column in hard_rule_columns(name))  # fmt: skip


# ---- judging one mutant ---------------------------------------------------------------------


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """SIGALRM after ``seconds`` (main thread only; elsewhere no limit)."""
    def _alarm(signum: int, frame: FrameType | None) -> None:
        raise _Hang

    try:
        previous = signal.signal(signal.SIGALRM, _alarm)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def write_mutant(sample: Sample, mutant: Mutant, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in {**sample.raw, **mutant.files}.items():
        (folder / name).write_bytes(data)


def physical_rows(data: bytes) -> int | None:
    """Non-blank data rows of a CSV file as a reader that loses nothing must see them, or
    ``None`` when the bytes are not UTF-8 (the file then cannot load at all)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    records = list(csv.reader(io.StringIO(text, newline="")))
    return sum(1 for cells in records[1:] if any(c.strip() for c in cells))


_MERGED = re.compile(r"on line (\d+) and runs on to line (\d+)")


def unaccounted_lines(folder: Path, name: str) -> list[int]:
    """Physical lines of a CSV file that the reader neither read as a row nor named in a
    problem (a stray quote's range counts as named). Empty when the file could not be read at
    all and said so once, as a file."""
    from roster.io import Sink, read_csv_table

    sink = Sink()
    table = read_csv_table(folder / name, name, sink)
    mine = [p for p in sink.problems if p.file == name]
    if table is None:
        return [] if any(p.row is None for p in mine) else [0]
    named = {p.row + 1 for p in mine if p.row is not None}
    for p in mine:
        for first, last in _MERGED.findall(p.message):
            named |= set(range(int(first), int(last) + 1))
    read = {n + 1 for n in table.numbers}
    text = (folder / name).read_bytes().decode("utf-8-sig")
    lost = []
    for line_no, line in enumerate(io.StringIO(text, newline=""), start=1):
        if line_no > 1 and line.replace(",", "").strip() and line_no not in read | named:
            lost.append(line_no)
    return lost


def _records(instance: Any) -> dict[str, int]:
    return {
        "carers.csv": len(instance.carers), "training.csv": len(instance.training),
        "availability.csv": len(instance.availability), "absences.csv": len(instance.absences),
        "children.csv": len(instance.children), "visits.csv": len(instance.visits),
        "history.csv": len(instance.history),
    }  # fmt: skip


def judge(sample: Sample, mutant: Mutant, folder: Path, timeout: float = TIMEOUT) -> Outcome:
    """Load the mutant written in ``folder`` and check every promise; ``failures`` says which
    ones broke."""
    from roster.errors import InstanceError
    from roster.io import check_instance

    started = time.perf_counter()
    outcome = Outcome(mutant, "loaded")
    try:
        with _time_limit(timeout), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            instance, _ = check_instance(folder / WORKBOOK if mutant.workbook else folder)
    except _Hang:
        outcome.result = "hang"
        outcome.failures.append(f"no answer within {timeout:g} s")
        return outcome
    except InstanceError as exc:
        outcome.result = "refused"
        _judge_refusal(mutant, list(exc.problems), outcome)
        for name in mutant.files:
            if name.endswith(".csv") and (lost := unaccounted_lines(folder, name)):
                outcome.failures.append(f"{name} lines {lost[:5]} neither read nor named")
    except Exception:  # noqa: BLE001 - a traceback is exactly what is being counted
        outcome.result = "traceback"
        outcome.failures.append(traceback.format_exc(limit=-3).strip().replace("\n", " | "))
    else:
        if mutant.must_refuse:
            outcome.failures.append("loaded, but the defect must be refused")
        files = {**sample.raw, **mutant.files}
        sheets = workbook_rows(mutant.files[WORKBOOK]) if mutant.workbook else {}
        for name, count in _records(instance).items():
            if mutant.workbook:
                rows: int | None = sheets.get(name, 0)
            elif name not in files:
                continue
            else:
                rows = physical_rows(files[name])
            if rows is not None and rows != count:
                outcome.failures.append(f"silent drop: {name} has {rows} rows, {count} loaded")
    outcome.seconds = time.perf_counter() - started
    return outcome


def _judge_refusal(mutant: Mutant, problems: list[Any], outcome: Outcome) -> None:
    outcome.problems = len(problems)
    label = mutant.file
    mine = [p for p in problems if p.file == label]
    naming = [p for p in problems if p.file == label or label in p.message]
    outcome.knock_ons = len(problems) - len(naming)
    if not naming:
        outcome.failures.append(f"no problem names {label}")
    if outcome.knock_ons > KNOCK_ON_LIMIT:
        outcome.failures.append(f"{outcome.knock_ons} knock-on problems that do not name {label}")
    if mutant.one_problem and len(problems) != 1:
        outcome.failures.append(f"an unreadable file gave {len(problems)} problems, not 1")
    if not mutant.must_refuse:
        return
    if mutant.rows and not any(p.row in mutant.rows for p in mine):
        outcome.failures.append(f"no problem names {label} row {mutant.rows[0]}")
    if mutant.operator == "drop_column" and not any(
        p.row is None and mutant.column in p.message for p in mine
    ):
        outcome.failures.append(f"no problem names the missing column {mutant.column}")
    if mutant.operator == "settings_value" and not any(
        mutant.column in (p.field or "") or mutant.column in p.message for p in mine
    ):
        outcome.failures.append(f"no problem names the setting {mutant.column}")
    if mutant.operator == "implausible_number" and not any(
        p.field == mutant.column and any(w in p.message for w in RANGE_WORDS)
        for p in mine
    ):
        outcome.failures.append(f"no problem gives {mutant.column}'s range")


def run(
    sample: Sample,
    candidates: Iterator[Mutant],
    work: Path,
    timeout: float = TIMEOUT,
    failed_dir: Path | None = None,
) -> list[Outcome]:
    """Judge each mutant in turn, in one scratch folder under ``work``."""
    outcomes: list[Outcome] = []
    folder = work / "mutant"
    for mutant in candidates:
        write_mutant(sample, mutant, folder)
        outcome = judge(sample, mutant, folder, timeout)
        outcomes.append(outcome)
        if outcome.failures and failed_dir is not None:
            target = failed_dir / f"{mutant.index}-{mutant.operator}"
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(folder, target)
            (target / "FAILURES").write_text("\n".join(outcome.failures) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    return outcomes


# ---- reporting ------------------------------------------------------------------------------


def table(outcomes: list[Outcome]) -> str:
    """Operator x outcome, as a Markdown table."""
    by_op: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_op[o.mutant.operator].append(o)
    head = ("| operator | mutants | loaded | refused | must refuse | tracebacks | hangs | "
            "silent drops | broken promises | problems (median / max) | knock-ons (max) |")  # fmt: skip
    lines = [head, "|" + "---|" * 11]
    for op in [*sorted(by_op), "all"]:
        group = outcomes if op == "all" else by_op[op]
        counts = Counter(o.result for o in group)
        refused = [o.problems for o in group if o.result == "refused"]
        drops = sum(1 for o in group if any(f.startswith("silent drop") for f in o.failures))
        broken = sum(1 for o in group if o.failures)
        lines.append(
            f"| {'**all**' if op == 'all' else op} | {len(group)} | {counts['loaded']} | "
            f"{counts['refused']} | {sum(o.mutant.must_refuse for o in group)} | "
            f"{counts['traceback']} | {counts['hang']} | {drops} | {broken} | "
            f"{statistics.median(refused) if refused else 0:g} / {max(refused, default=0)} | "
            f"{max((o.knock_ons for o in group), default=0)} |"
        )
    return "\n".join(lines)


def write_outcomes(outcomes: list[Outcome], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["index", "operator", "file", "row", "column", "note", "must_refuse",
                         "result", "problems", "knock_ons", "seconds", "failures"])  # fmt: skip
        for o in outcomes:
            m = o.mutant
            writer.writerow([m.index, m.operator, m.file, m.row or "", m.column or "", m.note,
                             m.must_refuse, o.result, o.problems, o.knock_ons,
                             f"{o.seconds:.4f}", " || ".join(o.failures)])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=1200, help="how many (default 1200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", type=int, default=None, help="rebuild and judge one mutant")
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"results folder (default {DEFAULT_OUT}); replaced")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=TIMEOUT,
                        help="seconds before a mutant counts as hung")  # fmt: skip
    args = parser.parse_args(argv)
    if args.mutants < 1 or args.timeout <= 0:
        parser.error("--mutants and --timeout must be positive")
    sample = Sample.read(args.sample)
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    (out / "failed").mkdir(parents=True)
    if args.only is not None:
        candidates: Iterator[Mutant] = mutants(sample, args.seed, 1, start=args.only)
    else:
        candidates = mutants(sample, args.seed, args.mutants)
    started = time.perf_counter()
    outcomes = run(sample, candidates, out, args.timeout, out / "failed")
    columns = run(sample, every_column_removed(sample), out, args.timeout, out / "failed")
    seconds = time.perf_counter() - started
    write_outcomes(outcomes + columns, out / "outcomes.csv")
    hard = [o for o in columns if o.mutant.must_refuse]
    hard_refused = sum(1 for o in hard if o.result == "refused" and not o.failures)
    report = "\n".join([
        f"{len(outcomes)} mutants of {args.sample} (seed {args.seed}) in {seconds:.1f} s, "
        f"load {os.getloadavg()[0]:.2f}",
        "",
        table(outcomes),
        "",
        f"every column of every file removed in turn: {len(columns)} mutants; "
        f"{hard_refused} of {len(hard)} hard-rule columns refused naming the column; "
        f"{sum(1 for o in columns if o.failures)} broken promises",
    ])  # fmt: skip
    print(report)
    (out / "table.md").write_text(report + "\n", encoding="utf-8")
    broken = [o for o in outcomes + columns if o.failures]
    for o in broken[:20]:
        print(f"  #{o.mutant.index} {o.mutant.operator} {o.mutant.file}: {'; '.join(o.failures)}",
              file=sys.stderr)  # fmt: skip
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
