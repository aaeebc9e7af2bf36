"""Which families gain or lose which carer between two rotas of the same week.

The provider "must consult and involve the family before any change to the Care Worker" (003
§12.9) and must tell a family of any change in the expected time of arrival (003 §8.8), so every
difference between two rota versions is reported per family (child id):

* ``changes_report`` -> ``Change`` rows: a carer the child gains or loses on some visits, with
  ``whole_week`` saying whether the carer is new to the child this week (gains) or no longer
  sees the child at all (loses).
* ``visit_changes`` -> ``VisitChange`` rows: each visit whose carers or start time differ.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from roster.model import Instance, Rota
from roster.safecsv import SafeWriter

CHANGE_COLUMNS: tuple[str, ...] = ("child_id", "carer_id", "change", "whole_week", "visits")
VISIT_CHANGE_COLUMNS: tuple[str, ...] = (
    "child_id",
    "visit_id",
    "carers_before",
    "carers_after",
    "start_before",
    "start_after",
)


@dataclass(frozen=True)
class Change:
    """A child (family) gains or loses a carer on some of its visits."""

    child_id: str
    carer_id: str
    change: Literal["gains", "loses"]
    visit_ids: tuple[str, ...]
    whole_week: bool
    """gains: the carer did not see the child at all in the old rota; loses: the carer no
    longer sees the child at all in the new one."""


@dataclass(frozen=True)
class VisitChange:
    """A visit whose carers or start differ. Starts are ISO 8601 (blank when unstaffed)."""

    child_id: str
    visit_id: str
    carers_before: tuple[str, ...]
    carers_after: tuple[str, ...]
    start_before: str
    start_after: str


def _pairs(instance: Instance, rota: Rota) -> dict[str, dict[str, list[str]]]:
    """child_id -> carer_id -> visit ids, in visit order."""
    order = instance.visit_index
    table: dict[str, dict[str, list[str]]] = {}
    for a in sorted(rota.assignments, key=lambda a: (order.get(a.visit_id, -1), a.visit_id)):
        child_id = instance.visit(a.visit_id).child_id
        table.setdefault(child_id, {}).setdefault(a.carer_id, []).append(a.visit_id)
    return table


def changes_report(instance: Instance, old: Rota, new: Rota) -> list[Change]:
    """Every (child, carer) whose visits together differ between ``old`` and ``new``.

    Sorted by child, then carer, a loss before a gain. A visit moved from one carer to another
    shows as the child losing the first on it and gaining the second.
    """
    before, after = _pairs(instance, old), _pairs(instance, new)
    out: list[Change] = []
    for child_id in sorted(set(before) | set(after)):
        had, has = before.get(child_id, {}), after.get(child_id, {})
        for carer_id in sorted(set(had) | set(has)):
            old_visits, new_visits = had.get(carer_id, []), has.get(carer_id, [])
            lost = tuple(v for v in old_visits if v not in new_visits)
            gained = tuple(v for v in new_visits if v not in old_visits)
            if lost:
                out.append(Change(child_id, carer_id, "loses", lost, whole_week=not new_visits))
            if gained:
                out.append(Change(child_id, carer_id, "gains", gained, whole_week=not old_visits))
    return out


def visit_changes(instance: Instance, old: Rota, new: Rota) -> list[VisitChange]:
    """Every visit whose set of carers or start time differs, in the instance's visit order."""
    old_by, new_by = old.by_visit(), new.by_visit()
    out: list[VisitChange] = []
    for visit in instance.visits:
        was, now = old_by.get(visit.visit_id, []), new_by.get(visit.visit_id, [])
        carers_was = tuple(sorted(a.carer_id for a in was))
        carers_now = tuple(sorted(a.carer_id for a in now))
        start_was = instance.clock.iso(was[0].start) if was else ""
        start_now = instance.clock.iso(now[0].start) if now else ""
        if carers_was != carers_now or start_was != start_now:
            out.append(
                VisitChange(visit.child_id, visit.visit_id, carers_was, carers_now, start_was, start_now)
            )
    return out


def changes_csv(changes: Iterable[Change]) -> str:
    """``child_id, carer_id, change, whole_week, visits`` (visits separated by ``;``)."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer)  # no cell may run as a spreadsheet formula
    writer.writerow(CHANGE_COLUMNS)
    for c in changes:
        writer.writerow(
            [c.child_id, c.carer_id, c.change, "true" if c.whole_week else "false", ";".join(c.visit_ids)]
        )
    return buffer.getvalue()


def visit_changes_csv(changes: Iterable[VisitChange]) -> str:
    buffer = io.StringIO()
    writer = SafeWriter(buffer)  # no cell may run as a spreadsheet formula
    writer.writerow(VISIT_CHANGE_COLUMNS)
    for c in changes:
        writer.writerow(
            [
                c.child_id,
                c.visit_id,
                ";".join(c.carers_before),
                ";".join(c.carers_after),
                c.start_before,
                c.start_after,
            ]
        )
    return buffer.getvalue()


def families_to_tell(changes: Iterable[Change | VisitChange]) -> tuple[str, ...]:
    """The child ids whose family must be consulted or told, sorted."""
    return tuple(sorted({c.child_id for c in changes}))
