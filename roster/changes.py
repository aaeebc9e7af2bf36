"""Which families gain or lose which carer between two rotas of the same week.

The provider "must consult and involve the family before any change to the Care Worker" (003
§12.9) and must tell a family of any change in the expected time of arrival (003 §8.8), so every
difference between two rota versions is reported per family (child id):

* ``changes_report`` -> ``Change`` rows: a carer the child gains or loses on some visits, with
  ``whole_week`` saying whether the carer is new to the child this week (gains) or no longer
  sees the child at all (loses).
* ``visit_changes`` -> ``VisitChange`` rows: each visit whose carers or start time differ.

Between two weeks (a week rolled forward from the one before, ``roster.rollforward``):

* ``roll_changes`` -> ``SlotChange`` rows: each visit of the new week against last week's rota
  carried onto it, with the reason for every carer that changed (``reason_text`` reads it out:
  "Mon 16:00 Amy's carer changes from Katie Day to Jo Bell: Katie's epilepsy-rescue medication
  training expires on 30 Nov"), and what stays the same;
* ``family_changes_csv`` / ``family_changes_html`` (a printable page) grouped by family, and
  ``carer_changes_csv``: what is new in each carer's week. These exports, which a user asks for,
  are the only place names appear; ``roll_counts`` gives counts for logs.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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


# ---- week to week: every change with its reason (issue 23) -------------------------------------
#
# A rolled-forward week (``roster.rollforward.carry`` then a solve around it) is compared with the
# earlier week's rota carried onto it: per visit of the new week, the carers it had last week and
# the carers it has now, and why they differ. Names are filled in only by the exports below,
# which a user asks for; the records hold ids.

ROLL_COLUMNS: tuple[str, ...] = (
    "child_id", "child", "when", "visit_id", "change", "carers_before", "carers_after",
    "forced", "reason",
)
CARER_COLUMNS: tuple[str, ...] = ("carer_id", "carer", "when", "child_id", "child", "change", "reason")

Kind = Literal["same", "open", "changed", "unstaffed", "new", "filled", "gone"]
"""``same`` carers as last week; ``open``: no carer last week and none yet; ``changed`` carers;
``unstaffed``: last week's carers cannot come and none is found yet; ``new`` session;
``filled``: no carer last week, one now; ``gone``: last week's session is not in this week."""


@dataclass(frozen=True)
class Reason:
    """Why one carer of last week is not on a visit this week: a detail with ``{carer}`` and
    ``{child}`` placeholders (``roster.rollforward.Dropped.detail``), or an uncovered visit the
    carer was moved to staff (``for_child``), or nothing forcing it (``forced`` False)."""

    carer_id: str
    detail: str
    forced: bool
    for_child: str = ""


@dataclass(frozen=True)
class SlotChange:
    """One visit of the new week against last week (``visit_id`` blank for a visit that is gone:
    ``source_visit_id`` names it then)."""

    child_id: str
    visit_id: str
    source_visit_id: str
    when: str
    """``Mon 16:00``: weekday and planned start."""
    kind: Kind
    carers_before: tuple[str, ...]
    carers_after: tuple[str, ...]
    reasons: tuple[Reason, ...] = ()

    @property
    def forced(self) -> bool:
        """Every carer that changed had a reason it must (a rule, or to staff more slots)."""
        return all(r.forced for r in self.reasons)


def roll_changes(
    old: Instance,
    carried: Any,
    rota: Rota,
    released: Mapping[tuple[str, str], str] | None = None,
) -> list[SlotChange]:
    """Every visit of the new week (``carried.instance``) against last week's rota carried onto
    it (``carried``: a ``roster.rollforward.Carry`` of a rota of ``old``), in visit order, then
    last week's visits that are gone. ``released`` maps (visit, carer) of a carried row moved to
    staff an otherwise uncovered visit to that visit (``solver.rollforward.RollForward.released``)."""
    from roster.rollforward import when_text

    new: Instance = carried.instance
    released = released or {}
    dropped = carried.dropped_for()
    before: dict[str, list[str]] = {}
    for (visit_id, carer_id) in carried.carried:
        before.setdefault(visit_id, []).append(carer_id)
    after: dict[str, list[str]] = {}
    for a in rota.assignments:
        after.setdefault(a.visit_id, []).append(a.carer_id)
    out: list[SlotChange] = []
    for v in new.visits:
        was = tuple(sorted(before.get(v.visit_id, ())))
        now = tuple(sorted(after.get(v.visit_id, ())))
        source = carried.matches.get(v.visit_id, "")
        when = when_text(new, v.visit_id)
        if not source:
            out.append(SlotChange(v.child_id, v.visit_id, "", when, "new", (), now))
            continue
        if was == now:
            out.append(SlotChange(v.child_id, v.visit_id, source, when,
                                  "same" if now else "open", was, now))
            continue
        reasons = []
        for carer_id in (k for k in was if k not in now):
            d = dropped.get((v.visit_id, carer_id))
            if d is not None:
                reasons.append(Reason(carer_id, d.detail, True))
            elif (v.visit_id, carer_id) in released:
                target = released[(v.visit_id, carer_id)]
                reasons.append(Reason(carer_id, "to staff an otherwise uncovered visit for {child}",
                                      True, new.visit(target).child_id))
            elif v.carers > 1 and any((v.visit_id, k) in dropped for k in was if k != carer_id):
                # a 2:1 whose other carer cannot come: this one stays only with a new partner
                reasons.append(Reason(
                    carer_id, "the other carer of this 2:1 visit cannot come, so it goes to a "
                    "pair who can" if now else "the other carer of this 2:1 visit cannot come "
                    "and no second carer is free to go with {carer}", True))
            else:
                reasons.append(Reason(carer_id, "changed when the week was re-planned", False))
        kind: Kind = "filled" if not was else "unstaffed" if not now else "changed"
        out.append(SlotChange(v.child_id, v.visit_id, source, when, kind, was, now, tuple(reasons)))
    gone: dict[str, list[Any]] = {}
    for d in carried.dropped:
        if d.cause == "visit_gone":
            gone.setdefault(d.source_visit_id, []).append(d)
    for source, rows in gone.items():
        ov = old.visit(source)
        out.append(SlotChange(
            ov.child_id, "", source, when_text(old, source), "gone",
            tuple(sorted(d.carer_id for d in rows)), (),
            tuple(Reason(d.carer_id, d.detail, True) for d in rows),
        ))
    return out


class _Names:
    """Id -> name for carers and children of both weeks (a carer who left is only in the old)."""

    def __init__(self, old: Instance, new: Instance):
        self.carers = {c.carer_id: c.name for c in (*old.carers, *new.carers)}
        self.children = {c.child_id: c.name for c in (*old.children, *new.children)}
        self.first = {k: n.split()[0] if n else k for k, n in self.carers.items()}

    def carer(self, carer_id: str) -> str:
        return self.carers.get(carer_id, carer_id)

    def child(self, child_id: str) -> str:
        return self.children.get(child_id, child_id)

    def child_first(self, child_id: str) -> str:
        name = self.child(child_id)
        return name.split()[0] if name else child_id


def reason_text(change: SlotChange, names: _Names | None = None) -> str:
    """The change in words a coordinator can read out: ``Mon 16:00 Amy's carer changes from
    Katie Day to Jo Bell: Katie's epilepsy-rescue medication training expires on 30 Nov``.
    Without ``names``, ids stand in for names."""
    def carer(k: str) -> str:
        return names.carer(k) if names else k

    def first(k: str) -> str:
        return names.first.get(k, k) if names else k

    def child(c: str) -> str:
        return names.child_first(c) if names else c

    def listing(ids: Sequence[str]) -> str:
        return " and ".join(carer(k) for k in ids)

    why = "; ".join(
        r.detail.format(carer=first(r.carer_id), child=child(r.for_child or change.child_id))
        for r in change.reasons
    )
    who = f"{change.when} {child(change.child_id)}'s"
    if change.kind == "same":
        return f"{who} visit stays with {listing(change.carers_after)}"
    if change.kind == "new":
        return (f"{who} new session: {listing(change.carers_after)}" if change.carers_after
                else f"{who} new session has no carer yet")
    if change.kind == "filled":
        return f"{who} visit now has {listing(change.carers_after)} (no carer last week)"
    if change.kind == "gone":
        return f"{who} session with {listing(change.carers_before)} ends: {why}"
    if change.kind == "open":
        return f"{who} visit still has no carer"
    if change.kind == "unstaffed":
        return f"{who} visit has no carer yet ({listing(change.carers_before)} cannot come): {why}"
    noun = "carer changes" if len(change.carers_after) == 1 else "carers change"
    return (f"{who} {noun} from {listing(change.carers_before)} to "
            f"{listing(change.carers_after)}: {why}")


def family_changes_csv(old: Instance, new: Instance, changes: Iterable[SlotChange]) -> str:
    """The per-family change list (an export: names included), grouped by family (child),
    each family's visits in week order, what stays the same included."""
    names = _Names(old, new)
    buffer = io.StringIO()
    writer = SafeWriter(buffer)  # no cell may run as a spreadsheet formula
    writer.writerow(ROLL_COLUMNS)
    for c in sorted(changes, key=lambda c: _family_order(new, old, c)):
        writer.writerow([
            c.child_id, names.child(c.child_id), c.when, c.visit_id or c.source_visit_id, c.kind,
            ";".join(names.carer(k) for k in c.carers_before),
            ";".join(names.carer(k) for k in c.carers_after),
            "" if c.kind in ("same", "open", "new", "filled") else ("true" if c.forced else "false"),
            reason_text(c, names),
        ])
    return buffer.getvalue()


def _family_order(new: Instance, old: Instance, c: SlotChange) -> tuple[int, int, str]:
    child = new.child_index.get(c.child_id, len(new.children) + old.child_index.get(c.child_id, 0))
    visit = new.visit_index.get(c.visit_id, len(new.visits))
    return child, visit, c.when


def family_changes_html(old: Instance, new: Instance, changes: Iterable[SlotChange]) -> str:
    """A printable page: one section per family, the changes with their reasons first, then
    what stays the same."""
    from html import escape

    names = _Names(old, new)
    families: dict[str, list[SlotChange]] = {}
    for c in sorted(changes, key=lambda c: _family_order(new, old, c)):
        families.setdefault(c.child_id, []).append(c)
    week = new.settings.week_start
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>Changes for the week of {week:%d %B %Y}</title>",
        "<style>body{font-family:sans-serif;margin:2em}section{page-break-inside:avoid;"
        "margin-bottom:1.5em}h2{margin-bottom:.2em}li.same{color:#555}</style></head><body>",
        f"<h1>Changes for the week of {week:%A %d %B %Y}</h1>",
    ]
    for child_id, rows in families.items():
        moved = [c for c in rows if c.kind not in ("same", "open")]
        same = [c for c in rows if c.kind in ("same", "open")]
        status = f"{len(moved)} change(s)" if moved else "no changes"
        parts.append(f"<section><h2>{escape(names.child(child_id))}</h2><p>{status}</p><ul>")
        parts += [f"<li>{escape(reason_text(c, names))}</li>" for c in moved]
        parts += [f"<li class=\"same\">{escape(reason_text(c, names))}</li>" for c in same]
        parts.append("</ul></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def carer_changes_csv(old: Instance, new: Instance, changes: Iterable[SlotChange]) -> str:
    """Per carer, what is new in their week: each visit they take that they did not have last
    week (``new``), and each one they no longer have (``no longer``), with the reason."""
    names = _Names(old, new)
    rows: list[tuple[str, str, str, str, str]] = []
    for c in changes:
        if c.kind in ("same", "open"):
            continue
        why = {r.carer_id: r for r in c.reasons}
        for k in c.carers_after:
            if k not in c.carers_before:
                note = ("new session" if c.kind == "new" else
                        f"instead of {' and '.join(names.carer(b) for b in c.carers_before if b not in c.carers_after)}"
                        if c.carers_before else "no carer last week")
                rows.append((k, c.when, c.child_id, "new", note))
        for k in c.carers_before:
            if k not in c.carers_after and k in new.carer_index:
                r = why.get(k)
                detail = "" if r is None else r.detail.format(
                    carer=names.first.get(k, k),
                    child=names.child_first(r.for_child or c.child_id))
                rows.append((k, c.when, c.child_id, "no longer", detail))
    order = {k: i for i, k in enumerate(new.carer_index)}
    buffer = io.StringIO()
    writer = SafeWriter(buffer)  # no cell may run as a spreadsheet formula
    writer.writerow(CARER_COLUMNS)
    days = {d: i for i, d in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))}
    for k, when, child_id, change, note in sorted(
        rows, key=lambda r: (order.get(r[0], 10**9), days.get(r[1][:3], 7), r[1])
    ):
        writer.writerow([k, names.carer(k), when, child_id, names.child(child_id), change, note])
    return buffer.getvalue()


def roll_counts(changes: Iterable[SlotChange]) -> dict[str, int]:
    """Counts for logs and benchmarks (no names): visits the same, changed (forced / not),
    families with any change."""
    counts = {"same": 0, "open": 0, "changed": 0, "forced": 0, "not_forced": 0, "new": 0,
              "gone": 0, "unstaffed": 0, "filled": 0, "families_changed": 0}
    families: set[str] = set()
    for c in changes:
        counts[c.kind] += 1
        if c.kind in ("changed", "unstaffed", "gone") and c.reasons:
            counts["forced" if c.forced else "not_forced"] += 1
        if c.kind in ("changed", "unstaffed", "gone", "new", "filled"):
            families.add(c.child_id)
    counts["families_changed"] = len(families)
    return counts


def write_roll_changes(
    folder: Any, old: Instance, new: Instance, changes: Sequence[SlotChange]
) -> tuple[str, ...]:
    """Write family_changes.csv, family_changes.html and carer_changes.csv into ``folder``
    (an export a user asked for: names included). Returns the file names."""
    from pathlib import Path

    from roster.atomic import atomic_write_text

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    files = {
        "family_changes.csv": family_changes_csv(old, new, changes),
        "family_changes.html": family_changes_html(old, new, changes),
        "carer_changes.csv": carer_changes_csv(old, new, changes),
    }
    for name, text in files.items():
        atomic_write_text(target / name, text)
    return tuple(files)
