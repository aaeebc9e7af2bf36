"""The rota checker: every hard rule of the contract (R1-R15) applied to a rota, plus its structure.

``check(instance, rota)`` returns every violation (an empty list means the rota is valid). It
applies the per-row rules to each rota row (with the carer's previous row for R6 and the other rows
of the visit for R4) and the per-carer rules to each carer's week, from ``roster.rules.RULES``.
Structural checks (rule ``structure``): ids that point nowhere, a visit with more carers than it
needs, and the contract's "no visit may be silently dropped": each visit is either fully staffed in
rota.csv (exactly ``carers`` distinct carers) or listed once in unassigned.csv with the number of
carers missing and a reason. ``end = start + duration`` is R4; travel fields are R13.

``roster check INSTANCE ROTA`` prints each violation with rule, visit, carer and why, and exits 1
on any; 0 with an ``OK:`` line when the rota is valid.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from roster.model import Assignment, Instance, Rota
from roster.rules import RULES, travel_model
from roster.travel import MemoTravel, TravelModel

STRUCTURE = "structure"


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``rule`` is ``R1``..``R15`` or ``structure``."""

    rule: str
    visit_id: str
    carer_id: str
    message: str

    def __str__(self) -> str:
        who = f" carer {self.carer_id}" if self.carer_id else ""
        what = f" visit {self.visit_id}" if self.visit_id else ""
        return f"{self.rule}{what}{who}: {self.message}"


def check(instance: Instance, rota: Rota, travel: TravelModel | None = None) -> list[Violation]:
    """Every violation of the contract's hard rules and structure in ``rota``; empty when valid.

    ``travel`` is the travel model (a supplied travel.csv via ``roster.io.load_travel``); without
    it, the instance's default model.
    """
    model = MemoTravel.of(travel_model(instance, travel))
    out: list[Violation] = []
    out += _structure(instance, rota)

    known = [
        a for a in rota.assignments
        if a.visit_id in instance.visit_index and a.carer_id in instance.carer_index
    ]
    by_visit: dict[str, list[Assignment]] = {}
    for a in known:
        by_visit.setdefault(a.visit_id, []).append(a)
    by_carer: dict[str, list[Assignment]] = {}
    for a in known:
        by_carer.setdefault(a.carer_id, []).append(a)

    row_rules = [r for r in RULES if r.scope == "row"]
    week_rules = [r for r in RULES if r.scope == "week"]
    for carer_id in sorted(by_carer, key=instance.carer_index.__getitem__):
        carer = instance.carer(carer_id)
        rows = sorted(by_carer[carer_id], key=lambda a: (a.start, a.visit_id))
        previous: Assignment | None = None
        for a in rows:
            visit = instance.visit(a.visit_id)
            partners = [p for p in by_visit[a.visit_id] if p is not a]
            for rule in row_rules:
                reason = rule.function(
                    instance, carer, visit, a, previous=previous, partners=partners, travel=model
                )
                if reason:
                    out.append(Violation(rule.code, a.visit_id, carer_id, reason))
            previous = a
        for rule in week_rules:
            assert rule.locate is not None
            for visit_id, reason in rule.locate(instance, carer, rows, travel=model):
                out.append(Violation(rule.code, visit_id, carer_id, reason))
    return out


def _structure(instance: Instance, rota: Rota) -> list[Violation]:
    out: list[Violation] = []
    staffed: dict[str, set[str]] = {}
    for a in rota.assignments:
        if a.visit_id not in instance.visit_index:
            out.append(Violation(STRUCTURE, a.visit_id, a.carer_id, "rota.csv names a visit the instance does not have"))
            continue
        if a.carer_id not in instance.carer_index:
            out.append(Violation(STRUCTURE, a.visit_id, a.carer_id, "rota.csv names a carer the instance does not have"))
            continue
        staffed.setdefault(a.visit_id, set()).add(a.carer_id)

    listed: dict[str, list[int]] = {}
    for u in rota.unassigned:
        if u.visit_id not in instance.visit_index:
            out.append(Violation(STRUCTURE, u.visit_id, "", "unassigned.csv names a visit the instance does not have"))
            continue
        listed.setdefault(u.visit_id, []).append(u.missing)
        if not u.reasons.strip():
            out.append(Violation(STRUCTURE, u.visit_id, "", "unassigned.csv gives no reason"))

    for visit in instance.visits:
        have = len(staffed.get(visit.visit_id, ()))
        missing = visit.carers - have
        entries = listed.get(visit.visit_id, [])
        if have > visit.carers:
            out.append(
                Violation(STRUCTURE, visit.visit_id, "", f"has {have} carers but needs {visit.carers}")
            )
        if len(entries) > 1:
            out.append(Violation(STRUCTURE, visit.visit_id, "", f"is listed {len(entries)} times in unassigned.csv"))
        if missing > 0 and not entries:
            out.append(
                Violation(
                    STRUCTURE,
                    visit.visit_id,
                    "",
                    f"is silently dropped: {have} of {visit.carers} carers in rota.csv and not in unassigned.csv",
                )
            )
        elif entries and entries[0] != max(missing, 0):
            out.append(
                Violation(
                    STRUCTURE,
                    visit.visit_id,
                    "",
                    f"unassigned.csv says {entries[0]} carer(s) missing but {max(missing, 0)} are "
                    f"({have} of {visit.carers} in rota.csv)",
                )
            )
    return out


def summarise(violations: Sequence[Violation]) -> str:
    """``3 violations (R5: 2, structure: 1)``."""
    counts = Counter(v.rule for v in violations)
    order = [r.code for r in RULES] + [STRUCTURE]
    parts = ", ".join(f"{code}: {counts[code]}" for code in order if counts[code])
    return f"{len(violations)} violation{'s' if len(violations) != 1 else ''} ({parts})"


# ---- command line -----------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance", metavar="INSTANCE", help="instance folder or .xlsx workbook")
    parser.add_argument("rota", metavar="ROTA", help="rota folder (rota.csv, unassigned.csv)")


def run_command(args: argparse.Namespace) -> int:
    import warnings

    from roster.errors import DataWarning
    from roster.io import load_instance, load_rota, load_travel

    # odd-but-solvable data (a carer with no availability, an odd rota row) as one sentence
    # each on stderr, as `roster validate` gives them, not Python's raw warning lines
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        instance = load_instance(args.instance)
        travel = load_travel(args.instance, instance)
        rota = load_rota(instance, args.rota)
    for warning in caught:
        if issubclass(warning.category, DataWarning):
            print(f"warning: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    violations = check(instance, rota, travel)
    for v in violations:
        print(v)
    if violations:
        print(summarise(violations))
        return 1
    covered = sum(
        1 for v in instance.visits
        if len({a.carer_id for a in rota.by_visit().get(v.visit_id, [])}) >= v.carers
    )
    print(
        f"OK: {len(rota.assignments)} rota rows, {covered} of {len(instance.visits)} visits fully "
        f"staffed, {len(rota.unassigned)} listed unassigned; all {len(RULES)} hard rules hold"
    )
    return 0
