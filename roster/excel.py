"""The instance (and the rota) as one Excel workbook, since coordinators live in Excel.

A workbook holds a sheet per contract file: ``instance`` (key/value rows; lists ``;``-separated,
``travel.road_factor`` and ``travel.speed_mph`` flattened), then ``carers``, ``training``,
``availability``, ``absences``, ``children``, ``visits``, ``history`` and, when there is a supplied
matrix, ``travel``. Each sheet's first row is the contract's header. Reading goes through the
very same checks as the CSV folder (``roster.io.build_instance``), so a problem reads
``visits sheet row 4 (V0003): duration_min is '-30'; ...``. In a workbook the row number is
the sheet's own row number, as Excel shows it (the header is row 1), so a coordinator can go
straight to it.

Typed cells are welcome: Excel dates, times, numbers and TRUE/FALSE are turned back into the
contract's text before parsing. A formula is read by the value Excel saved with it; a formula
saved without a value (the workbook was written by a program that does not calculate) and an
Excel error value (``#REF!``) are each reported as such, never read as a blank cell. ``write_rota_xlsx`` writes a rota the app can offer for
download, and ``load_rota_xlsx`` reads it back.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import zipfile
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from roster.atomic import atomic_write_bytes
from roster.errors import Problem, raise_if_any
from roster.io import (
    ID_FIELDS,
    INSTANCE_TABLES,
    OPTIONAL_FILES,
    ROTA_COLUMNS,
    TRAVEL_COLUMNS,
    UNASSIGNED_COLUMNS,
    Sink,
    Table,
    _fmt_num,
    add_geocode_arguments,
    clean_cells,
    header_columns,
    instance_rows,
    parse_rota_tables,
    parse_travel,
    rota_rows,
    settings_to_json,
    summary_of,
    warn_repeated_columns,
)
from roster.model import Instance, Rota

SETTINGS_SHEET = "instance"
LIST_KEYS = frozenset({"core_hours", "bank_holidays", "mandatory_training"})
NUMBER_KEYS = frozenset(
    {
        "mileage_cap_miles", "return_home_gap_min", "dbs_max_age_years", "max_week_hours",
        "daily_rest_hours", "weekly_rest_hours", "break_after_hours", "break_min",
        "travel.road_factor", "travel.speed_mph",
    }
)  # fmt: skip
KNOWN_KEYS = frozenset({"name", "week_start", "timezone", "travel"}) | LIST_KEYS | NUMBER_KEYS
# Cells that hold a wall-clock date *and* time: a midnight must stay a time, not become a date.
DATETIME_COLUMNS = frozenset({("absences", "start"), ("absences", "end")})


# ---- reading ------------------------------------------------------------------------------


def _cell_text(value: Any, sheet: str, column: str) -> str:
    """An openpyxl cell value as the contract's text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _fmt_num(value) if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        if (sheet, column) in DATETIME_COLUMNS:
            return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M") if value.second == 0 else value.strftime("%H:%M:%S")
    if isinstance(value, timedelta):  # a time typed past 24:00 or a duration
        minutes = int(value.total_seconds() // 60)
        if 0 <= minutes <= 24 * 60:
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        return str(value)
    return str(value).strip()


def _open_workbook(path: Path, sink: Sink) -> Any:
    from openpyxl import load_workbook

    if not path.exists():
        raise FileNotFoundError(2, "No such workbook", str(path))
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        sink.add(
            Problem(
                path.name, None, None, None, None,
                f"it cannot be read as an Excel .xlsx workbook ({type(exc).__name__}).",
            )
        )  # fmt: skip
        return None


def _sheet_names(book: Any) -> dict[str, str]:
    return {name.strip().lower(): name for name in book.sheetnames}


# Formula tags in a worksheet's XML (``<f>``, ``<x:f t="shared" ...>``): only a workbook that
# has some is opened a second time to find them.
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!"})  # fmt: skip

Formulas = dict[str, dict[tuple[int, int], str]]
"""Sheet name -> (row, column), both 1-based -> formula text, for formula cells only."""


def _formula_cells(path: Path) -> Formulas:
    """Every formula cell of the workbook (a second, formula-text read); empty when none."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            has_formulas = any(
                _FORMULA_TAG.search(archive.read(info))
                for info in archive.infolist()
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            )
    except (zipfile.BadZipFile, OSError, KeyError):
        return {}
    if not has_formulas:
        return {}
    book = load_workbook(path, read_only=True, data_only=False)
    found: Formulas = {}
    try:
        for sheet_name in book.sheetnames:
            cells: dict[tuple[int, int], str] = {}
            for r, row in enumerate(book[sheet_name].iter_rows(values_only=True), start=1):
                for c, value in enumerate(row, start=1):
                    text = getattr(value, "text", value)  # an ArrayFormula carries .text
                    if isinstance(text, str) and text.startswith("="):
                        cells[r, c] = text
            if cells:
                found[sheet_name] = cells
    finally:
        book.close()
    return found


def _formula_problem(label: str, number: int, record_id: str | None, column: str | None,
                     shown: str, sink: Sink) -> None:  # fmt: skip
    sink.add(
        Problem(
            label, number, record_id, column, shown,
            "it is a formula saved without its value (the workbook was written by a program "
            "that does not calculate); open and save it in Excel, or type the value.",
        )
    )  # fmt: skip


def _sheet_table(
    book: Any, name: str, real_name: str, sink: Sink, formulas: Formulas | None = None
) -> Table:
    """A sheet as a ``Table``; the row numbers are the sheet's own (header = row 1).

    Cells go through the CSV reader's checks (control characters); a formula without a saved
    value and an Excel error value are reported, and their row is held back (``Table.held``).
    """
    sheet = book[real_name]
    label = f"{name} sheet"
    sheet_formulas = (formulas or {}).get(real_name, {})
    id_field = ID_FIELDS.get(name)
    rows_iter = sheet.iter_rows(values_only=True)
    header_cells = next(rows_iter, None) or ()
    columns = header_columns([_cell_text(h, name, "") for h in header_cells], label, sink)
    warn_repeated_columns(columns, label, sink)
    table = Table(label, tuple(c for c in columns if c), [], [])
    for number, cells in enumerate(rows_iter, start=2):
        texts = [_cell_text(c, name, col) for c, col in zip(cells, columns, strict=False)]
        unsaved = [
            (i, sheet_formulas[number, i + 1])
            for i, cell in enumerate(cells[: len(columns)])
            if cell is None and (number, i + 1) in sheet_formulas
        ]
        if not any(texts) and not unsaved:
            continue
        row: dict[str, str] = {}
        for col, text in zip(columns, texts, strict=False):
            if col and col not in row:
                row[col] = text
        record_id = (row.get(id_field) or None) if id_field else None
        bad = False
        for i, formula in unsaved:
            _formula_problem(label, number, record_id, columns[i] or None, formula, sink)
            bad = True
        for col, text in row.items():
            if text in EXCEL_ERRORS:
                sink.add(
                    Problem(
                        label, number, record_id, col, text,
                        f"it is the Excel error {text} (a formula that failed); correct the "
                        "formula or type the value.",
                    )
                )  # fmt: skip
                bad = True
        if clean_cells(label, row, number, record_id, sink) or bad:
            table.held.append(row)  # reported: its other cells would only add knock-ons
            continue
        table.rows.append(row)
        table.numbers.append(number)
    return table


def _settings_from_sheet(
    book: Any, real_name: str, sink: Sink, formulas: Formulas | None = None
) -> dict[str, Any] | None:
    raw: dict[str, Any] = {}
    travel: dict[str, Any] = {}
    sheet = book[real_name]
    sheet_formulas = (formulas or {}).get(real_name, {})
    label = f"{SETTINGS_SHEET} sheet"
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        if not cells or cells[0] is None:
            continue
        key = str(cells[0]).strip()
        value = cells[1] if len(cells) > 1 else None
        if number == 1 and key.lower() == "key":
            continue
        if not key:
            continue
        if value is None and (number, 2) in sheet_formulas:
            _formula_problem(label, number, None, key, sheet_formulas[number, 2], sink)
            continue
        if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
            sink.add(
                Problem(
                    label, number, None, key, value.strip(),
                    f"it is the Excel error {value.strip()} (a formula that failed); correct the "
                    "formula or type the value.",
                )
            )  # fmt: skip
            continue
        if value is None and key not in LIST_KEYS:
            continue  # a blank setting takes the contract's default
        parsed = _settings_value(key, value)
        if key.startswith("travel."):
            travel[key.split(".", 1)[1]] = parsed
        else:
            raw[key] = parsed
    if travel:
        raw["travel"] = travel
    return raw


def _settings_value(key: str, value: Any) -> Any:
    if value is None:
        return [] if key in LIST_KEYS else ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0, 0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if key in ("name", "timezone"):
        return _cell_text(value, SETTINGS_SHEET, key)
    if isinstance(value, bool | int | float):
        return value
    text = str(value).strip()
    if key in NUMBER_KEYS:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    if key in KNOWN_KEYS:
        return text
    # An extra key: its value was written as JSON; plain text typed by hand stays text.
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def read_workbook_tables(
    path: Path, sink: Sink
) -> tuple[dict[str, Any] | None, str, dict[str, Table | None]]:
    """A workbook -> (raw settings, settings label, tables), as ``roster.io`` reads a folder."""
    tables: dict[str, Table | None] = {}
    label = f"{SETTINGS_SHEET} sheet"
    book = _open_workbook(path, sink)
    if book is None:
        return None, label, tables
    formulas = _formula_cells(path)
    try:
        names = _sheet_names(book)
        settings_raw: dict[str, Any] | None = None
        if SETTINGS_SHEET in names:
            settings_raw = _settings_from_sheet(book, names[SETTINGS_SHEET], sink, formulas)
        else:
            sink.add(
                Problem(
                    label,
                    None,
                    None,
                    None,
                    None,
                    "the sheet is missing from the workbook; it needs at least week_start.",
                )
            )
        for name in (*INSTANCE_TABLES, "travel"):
            if name in names:
                tables[name] = _sheet_table(book, name, names[name], sink, formulas)
            else:
                tables[name] = None
                if name not in OPTIONAL_FILES:
                    sink.add(
                        Problem(
                            f"{name} sheet",
                            None,
                            None,
                            None,
                            None,
                            "the sheet is missing from the workbook.",
                        )
                    )
    finally:
        book.close()
    return settings_raw, label, tables


def read_travel_xlsx(
    path: Path, instance: Instance | None
) -> dict[tuple[str, str], tuple[float, int]]:
    """The ``travel`` sheet of a workbook as a matrix (empty when there is none)."""
    sink = Sink()
    book = _open_workbook(path, sink)
    matrix: dict[tuple[str, str], tuple[float, int]] = {}
    if book is not None:
        try:
            names = _sheet_names(book)
            if "travel" in names:
                table = _sheet_table(book, "travel", names["travel"], sink)
                from roster.io import _place_ids, check_required_columns

                check_required_columns(table, sink)
                matrix = parse_travel(table, _place_ids(instance) if instance else (), sink)
        finally:
            book.close()
    raise_if_any(sink.problems)
    return matrix


# ---- writing ------------------------------------------------------------------------------


def _excel_value(value: Any) -> Any:
    """A typed model value as a cell: dates stay dates, lists and datetimes become text."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _add_sheet(book: Any, name: str, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    """Append a sheet to a write-only workbook: bold frozen header, dates formatted as dates."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheet = book.create_sheet(name)
    for i, column in enumerate(columns):
        width = max([len(column)] + [len(str(r[i])) for r in rows[:200] if r[i] is not None])
        sheet.column_dimensions[_column_letter(i + 1)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        values: list[Any] = [_excel_value(v) for v in row]
        for i, value in enumerate(values):
            if isinstance(value, date):  # datetimes became text in _excel_value
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
                values[i] = cell
            elif isinstance(value, str) and value.startswith("="):
                # Text, never a formula: a name like "=HYPERLINK(...)" must not run in Excel.
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                values[i] = cell
        sheet.append(values)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _settings_rows(instance: Instance) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for key, value in settings_to_json(instance.settings).items():
        if key == "travel":
            rows.append(["travel.road_factor", instance.settings.travel.road_factor])
            rows.append(["travel.speed_mph", instance.settings.travel.speed_mph])
        elif key == "week_start":
            rows.append([key, instance.settings.week_start])
        elif key in LIST_KEYS:
            rows.append([key, ";".join(str(v) for v in value)])
        elif key in KNOWN_KEYS:
            rows.append([key, value])
        else:
            rows.append([key, json.dumps(value, ensure_ascii=False)])
    return rows


def _save(book: Any, path: Path) -> None:
    import io as _stdio

    buffer = _stdio.BytesIO()
    book.save(buffer)
    atomic_write_bytes(path, buffer.getvalue())


def write_instance_xlsx(
    instance: Instance,
    path: str | os.PathLike[str],
    travel: Mapping[tuple[str, str], tuple[float, int]] | None = None,
) -> None:
    """Write the instance as one workbook (a sheet per contract file), atomically."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    rows: list[list[Any]] = []
    for key, value in _settings_rows(instance):
        rows.append([key, value])
    _add_sheet(book, SETTINGS_SHEET, ("key", "value"), rows)
    for name, (columns, rows) in instance_rows(instance).items():
        _add_sheet(book, name, columns, rows)
    if travel:
        _add_sheet(
            book, "travel", TRAVEL_COLUMNS, [[a, b, m, t] for (a, b), (m, t) in travel.items()]
        )
    _save(book, Path(path))


def write_rota_xlsx(instance: Instance, rota: Rota, path: str | os.PathLike[str]) -> None:
    """The rota as a workbook: ``rota`` (contract columns, then readable local date and times),
    ``unassigned`` and ``summary``. Written atomically. Children appear by id only."""
    from openpyxl import Workbook

    clock = instance.clock
    book = Workbook(write_only=True)
    visits = instance.visit_index
    extra_cols = ("child_id", "date", "day", "local_start", "local_end")
    rows: list[list[Any]] = []
    for a, base in zip(rota.assignments, rota_rows(instance, rota), strict=True):
        child_id = instance.visits[visits[a.visit_id]].child_id if a.visit_id in visits else ""
        start, end = clock.datetime_of(a.start), clock.datetime_of(a.end)
        rows.append(
            [
                *base,
                child_id,
                start.date(),
                start.strftime("%a"),
                start.strftime("%H:%M"),
                end.strftime("%H:%M"),
            ]
        )
    _add_sheet(book, "rota", (*ROTA_COLUMNS, *extra_cols), rows)
    _add_sheet(
        book,
        "unassigned",
        UNASSIGNED_COLUMNS,
        [[u.visit_id, u.missing, u.reasons] for u in rota.unassigned],
    )
    summary = summary_of(instance, rota)
    _add_sheet(
        book, "summary", ("key", "value"),
        [[k, v if isinstance(v, str | int | float | bool) or v is None else json.dumps(v, default=str)] for k, v in summary.items()],
    )  # fmt: skip
    _save(book, Path(path))


def load_rota_xlsx(instance: Instance, path: str | os.PathLike[str]) -> Rota:
    """Read a rota workbook written by ``write_rota_xlsx`` (or by hand, same columns)."""
    sink = Sink()
    book = _open_workbook(Path(path), sink)
    rota_t = unassigned_t = None
    summary: dict[str, Any] = {}
    if book is not None:
        try:
            names = _sheet_names(book)
            if "rota" in names:
                rota_t = _sheet_table(book, "rota", names["rota"], sink)
            else:
                sink.add(
                    Problem(
                        "rota sheet",
                        None,
                        None,
                        None,
                        None,
                        "the sheet is missing from the workbook.",
                    )
                )
            if "unassigned" in names:
                unassigned_t = _sheet_table(book, "unassigned", names["unassigned"], sink)
            if "summary" in names:
                for cells in book[names["summary"]].iter_rows(min_row=2, values_only=True):
                    if cells and cells[0] is not None:
                        summary[str(cells[0])] = cells[1] if len(cells) > 1 else None
        finally:
            book.close()
    rota = parse_rota_tables(instance, rota_t, unassigned_t, summary, sink)
    raise_if_any(sink.problems)
    assert rota is not None
    return rota


# ---- CLI: roster convert ------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "src", help="an instance folder or .xlsx workbook (or a rota, with --rota-of)"
    )
    parser.add_argument("dst", help="the folder or .xlsx workbook to write (replaced atomically)")
    parser.add_argument(
        "--rota-of",
        metavar="INSTANCE",
        default=None,
        help="SRC and DST are rotas (rota.csv + unassigned.csv + summary.json, or a rota "
        "workbook) of this instance folder or workbook",
    )
    add_geocode_arguments(parser)


def run_command(args: argparse.Namespace) -> int:
    import sys

    from roster.io import check_instance, load_rota, load_travel, write_instance, write_rota

    src, dst = Path(args.src), Path(args.dst)
    if src.resolve() == dst.resolve():
        print("roster convert: SRC and DST are the same; nothing to do", file=sys.stderr)
        return 2
    kind = "workbook" if dst.suffix.lower() == ".xlsx" else "folder"
    if args.rota_of is not None:
        instance, _ = check_instance(
            args.rota_of, geocode=args.geocode, postcode_table=args.postcode_table
        )
        rota = load_rota(instance, src)
        if kind == "workbook":
            write_rota_xlsx(instance, rota, dst)
        else:
            write_rota(instance, rota, dst)
        print(
            f"wrote {dst} ({kind}): {len(rota.assignments)} rota rows, "
            f"{len(rota.unassigned)} unassigned visits"
        )
        return 0
    instance, found = check_instance(src, geocode=args.geocode, postcode_table=args.postcode_table)
    for problem in found:
        print(f"warning: {problem.sentence()}", file=sys.stderr)
    travel = load_travel(src, instance).matrix
    write_instance(instance, dst, travel=travel or None)
    print(
        f"wrote {dst} ({kind}): {len(instance.carers)} carers, {len(instance.children)} children, "
        f"{len(instance.visits)} visits"
    )
    return 0
