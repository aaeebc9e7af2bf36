"""Bad input in an Excel workbook: formulas saved without a value, Excel error values, and the
CSV reader's checks (required columns, ranges) applied to sheets as well."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from roster.errors import InstanceError
from roster.excel import write_instance_xlsx
from roster.io import load_instance

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"


def _tiny_book(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.xlsx"
    write_instance_xlsx(load_instance(TINY), path)
    return path


def _set(path: Path, sheet: str, cell: str, value: object) -> None:
    book = load_workbook(path)
    book[sheet][cell] = value
    book.save(path)


def _problems(path: Path) -> list[str]:
    with pytest.raises(InstanceError) as caught:
        load_instance(path)
    return [p.sentence() for p in caught.value.problems]


def test_a_formula_saved_without_its_value_is_named_as_a_formula_not_a_blank(
    tmp_path: Path,
) -> None:
    # openpyxl (like many generators) writes formulas without the value Excel would cache
    path = _tiny_book(tmp_path)
    _set(path, "visits", "E2", "=60*2")  # V1's duration_min
    assert _problems(path) == [
        "visits sheet row 2 (V1): duration_min is '=60*2'; it is a formula saved without its "
        "value (the workbook was written by a program that does not calculate); open and save "
        "it in Excel, or type the value."
    ]


def test_a_formula_with_its_saved_value_is_read_by_that_value(tmp_path: Path) -> None:
    path = _tiny_book(tmp_path)
    _set(path, "visits", "E2", "=60*2")
    # what Excel writes after calculating: the formula and its cached value side by side
    patched = tmp_path / "calculated.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if b"<f>60*2</f><v />" in data:
                data = data.replace(b"<f>60*2</f><v />", b"<f>60*2</f><v>120</v>")
            dst.writestr(info, data)
    instance = load_instance(patched)
    assert instance.visits[0].duration_min == 120
    assert instance == load_instance(TINY)


def test_a_formula_in_the_instance_sheet_is_named_too(tmp_path: Path) -> None:
    path = _tiny_book(tmp_path)
    book = load_workbook(path)
    sheet = book["instance"]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "week_start")
    sheet.cell(row, 2).value = '=DATE(2026,11,23)'
    book.save(path)
    problems = _problems(path)
    assert problems[0] == (
        f"instance sheet row {row}: week_start is '=DATE(2026,11,23)'; it is a formula saved "
        "without its value (the workbook was written by a program that does not calculate); "
        "open and save it in Excel, or type the value."
    )
    assert "week_start is missing" in " ".join(problems)  # it is then missing, as it was left out


def test_an_excel_error_value_is_named_as_such(tmp_path: Path) -> None:
    path = _tiny_book(tmp_path)
    _set(path, "carers", "P3", "#REF!")  # K2's hourly_cost
    assert _problems(path) == [
        "carers sheet row 3 (K2): hourly_cost is '#REF!'; it is the Excel error #REF! (a formula "
        "that failed); correct the formula or type the value."
    ]


def test_a_sheet_without_a_hard_rule_column_is_refused(tmp_path: Path) -> None:
    path = _tiny_book(tmp_path)
    book = load_workbook(path)
    sheet = book["visits"]
    column = next(c for c in range(1, sheet.max_column + 1) if sheet.cell(1, c).value == "carers")
    sheet.delete_cols(column)
    book.save(path)
    problems = _problems(path)
    assert len(problems) == 1
    assert problems[0].startswith("visits sheet: the column carers is missing;")


def test_an_implausible_number_in_a_sheet_is_refused_with_its_range(tmp_path: Path) -> None:
    path = _tiny_book(tmp_path)
    _set(path, "visits", "J3", 1e300)  # V2's trip_miles
    assert _problems(path) == [
        "visits sheet row 3 (V2): trip_miles is '1e+300'; it must be a number of miles from 0 to 500."
    ]


def test_a_workbook_without_formulas_is_not_read_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the formula pass costs a second read of every sheet: only a workbook holding one pays it
    import openpyxl

    path = _tiny_book(tmp_path)
    opened: list[bool] = []
    real = openpyxl.load_workbook

    def counting(*args: object, **kwargs: object) -> object:
        opened.append(bool(kwargs.get("data_only")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    load_instance(path)
    assert opened == [True]
    _set(path, "visits", "E2", "=60*2")
    opened.clear()
    with pytest.raises(InstanceError):
        load_instance(path)
    assert opened == [True, False]
