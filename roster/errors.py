"""Errors for bad input: every problem at once, each one sentence naming file, row, field, value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One defect in the input.

    ``row`` is the 1-based data row (row 1 is the first row after the header), or ``None`` for a
    file-level problem.
    """

    file: str
    row: int | None
    record_id: str | None
    field: str | None
    value: str | None
    message: str
    kind: str = "value"
    """``value`` (a ValueError), ``lookup`` (an id that points nowhere) or ``warning``."""

    def sentence(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
            if self.record_id:
                where += f" ({self.record_id})"
        if self.field is not None:
            return f"{where}: {self.field} is {self.value!r}; {self.message}"
        return f"{where}: {self.message}"

    def __str__(self) -> str:
        return self.sentence()


class InstanceError(ValueError):
    """The input has one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(p.sentence() for p in self.problems))


class UnknownIdError(InstanceError, LookupError):
    """Every problem is an id that points nowhere (a child, carer or visit that does not exist)."""


class DataWarning(UserWarning):
    """Data that is odd but solvable (e.g. a carer with no availability)."""


def raise_if_any(problems: Sequence[Problem]) -> None:
    """Raise ``InstanceError`` (or ``UnknownIdError`` when every problem is a lookup) if any."""
    errors = [p for p in problems if p.kind != "warning"]
    if not errors:
        return
    if all(p.kind == "lookup" for p in errors):
        raise UnknownIdError(errors)
    raise InstanceError(errors)
