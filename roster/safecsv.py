"""CSV that a spreadsheet opens as data, never as formulas (CSV or "formula" injection).

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and
some also one that starts with a tab or a carriage return) as a formula, so a carer or child
name such as ``=cmd|' /C calc'!A0`` in a timesheet would run a command on the payroll clerk's PC.
Every CSV that roster hands to a person goes through ``safe_cell``:

* text that starts with one of those characters gets a leading apostrophe (``'=cmd...``), the
  spreadsheet convention for "this is text"; the apostrophe shows, and nothing runs;
* numbers are left alone, whether they are ``int``/``float`` values or text that is nothing but a
  number (``-3.50``, ``+2``, ``-1e3``): a spreadsheet reads those as numbers and runs nothing,
  so an hours difference of ``-2.25`` stays a number a formula can add up.

Contract files written for other programs (``roster.io``: rota.csv read back by the checker) are
not escaped; the copies of them offered as downloads are (``roster.exports.rota_csv_zip``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value``, or text that a spreadsheet will not run: see the module's docstring."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


class SafeWriter:
    """``csv.writer`` whose every cell goes through ``safe_cell`` (``writerow``/``writerows``)."""

    def __init__(self, stream: io.StringIO, **options: Any):
        options.setdefault("lineterminator", "\n")
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def escape_csv_text(text: str) -> str:
    """A whole CSV file (as text) with every cell made safe; the rows and quoting are kept."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerows(csv.reader(io.StringIO(text, newline="")))
    return out.getvalue()


__all__ = ["FORMULA_STARTS", "SafeWriter", "escape_csv_text", "safe_cell", "safe_row"]
