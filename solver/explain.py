"""Why a visit is not staffed: a specific, true, plain-English reason for unassigned.csv.

Reasons come from the eligibility reason bitmask (who is excluded and by which rule) and from the
final rota (what each eligible carer is already doing). Carers are named by id only; children are
never named.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from roster.calendar import format_hhmm
from roster.model import Assignment, Instance, Rota
from roster.rules import RULES, RULES_BY_CODE, journey_into

CAUSE_WORDS: dict[str, str] = {
    "R1": "no current enhanced DBS with the children's barred list",
    "R2": "missing or expired training",
    "R3": "excluded by the family's wishes (gender or refused carer)",
    "R5": "not available (or absent) then",
    "R7": "not cleared for overnight work",
    "R8": "do not drive",
    "R9": "live over the mileage cap away",
    "R10": "the visit alone exceeds their weekly hours",
    "R11": "the visit alone breaks daily rest",
    "R12": "under 18 and the visit is at night or over 8 h",
}


def _when(instance: Instance, visit_index: int) -> str:
    v = instance.visits[visit_index]
    planned = instance.planned_start[visit_index]
    clock = instance.clock
    start = clock.local_minute_of_day(planned)
    end = clock.local_minute_of_day(planned + v.duration_min)
    return f"{clock.datetime_of(planned):%a} {format_hhmm(start)}-{format_hhmm(end)}"


def _span(instance: Instance, a: Assignment) -> str:
    clock = instance.clock
    return (
        f"{a.visit_id} {clock.datetime_of(a.start):%a} "
        f"{format_hhmm(clock.local_minute_of_day(a.start))}-"
        f"{format_hhmm(clock.local_minute_of_day(a.end))}"
    )


def explain_unassigned(instance: Instance, elig: Any, rota: Rota) -> dict[str, str]:
    """visit_id -> reason, for every visit the rota does not fully staff."""
    staffed: dict[str, int] = {}
    for a in rota.assignments:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    by_carer = rota.by_carer()
    out: dict[str, str] = {}
    for v, visit in enumerate(instance.visits):
        if staffed.get(visit.visit_id, 0) >= visit.carers:
            continue
        out[visit.visit_id] = explain_visit(instance, elig, v, by_carer)
    return out


def explain_visit(
    instance: Instance, elig: Any, v: int, by_carer: dict[str, list[Assignment]]
) -> str:
    """The reason visit ``v`` is not staffed, given the carers' rows in the final rota."""
    visit = instance.visits[v]
    when = _when(instance, v)
    need = visit.carers
    eligible = [int(c) for c in elig.eligible_carers(v) if elig.allowed_starts(int(c), v)]
    two = " (a 2:1 visit needs two)" if need > 1 else ""
    if not eligible:
        return f"no carer can take {when}: " + _no_carer(instance, elig, v)
    if len(eligible) < need:
        only = ", ".join(instance.carers[c].carer_id for c in eligible)
        return f"only {len(eligible)} eligible carer{two}: {only}; others: " + _no_carer(
            instance, elig, v
        )
    if not any(bool(elig.home_within_cap[c, v]) for c in eligible):
        nearest = min(eligible, key=lambda c: float(elig.home_miles[c, v]))
        cap = instance.child_cap(instance.child(visit.child_id))
        who = "only eligible carer" if len(eligible) == 1 else "nearest of the eligible carers"
        return (
            f"{who} {instance.carers[nearest].carer_id} is "
            f"{_miles(float(elig.home_miles[nearest, v]), cap)} miles away (cap {cap:g}) and has no "
            f"nearby visit just before {when}"
        )
    parts = []
    for c in eligible[:6]:
        parts.append(_why_not(instance, elig, c, v, by_carer.get(instance.carers[c].carer_id, [])))
    more = f" and {len(eligible) - 6} more" if len(eligible) > 6 else ""
    return f"{len(eligible)} eligible carer(s){two}, none free {when}: " + "; ".join(parts) + more


def _no_carer(instance: Instance, elig: Any, v: int) -> str:
    visit = instance.visits[v]
    held = instance.training_by_carer
    for comp in (*instance.settings.mandatory_training, *visit.competencies):
        valid = [
            c.carer_id
            for c in instance.carers
            if comp in held.get(c.carer_id, {})
            and (held[c.carer_id][comp] is None or visit.date <= held[c.carer_id][comp])  # type: ignore[operator]
        ]
        if not valid:
            return f"no carer holds {comp} valid on {visit.date}"
    counts = elig.cause_counts(v)
    n = len(instance.carers)
    if counts.get("R9", 0) and all(
        code == "R9" or count < n for code, count in counts.items()
    ):
        only_r9 = [c for c in range(n) if elig.codes(c, v) == ("R9",)]
        if only_r9 and len(only_r9) == sum(1 for c in range(n) if elig.reason_codes[c, v]):
            nearest = min(only_r9, key=lambda c: float(elig.home_miles[c, v]))
            cap = instance.child_cap(instance.child(visit.child_id))
            miles = float(elig.home_miles[nearest, v])
            who = "only eligible carer" if len(only_r9) == 1 else "nearest otherwise eligible carer"
            return f"{who} {instance.carers[nearest].carer_id} is {_miles(miles, cap)} miles away (cap {cap:g})"
    parts = [
        f"{count} {CAUSE_WORDS.get(code, RULES_BY_CODE[code].name)}"
        for code, count in sorted(counts.items(), key=lambda kv: -kv[1])
    ]
    if not parts:
        return "no carer has a start in the window that keeps availability, core hours and age limits"
    return f"of {n} carers, " + ", ".join(parts)


def _why_not(
    instance: Instance, elig: Any, c: int, v: int, rows: Sequence[Assignment]
) -> str:
    """Why carer c (eligible) does not take v in this rota: a clash, or the week rule it breaks."""
    carer = instance.carers[c]
    visit = instance.visits[v]
    ranges = elig.allowed_starts(c, v)
    lo, hi = ranges[0][0], ranges[-1][1]
    clash = [a for a in rows if a.start < hi + visit.duration_min + 60 and lo - 60 < a.end]
    if clash:
        return f"{carer.carer_id} ({', '.join(_span(instance, a) for a in clash[:2])})"
    # no visit nearby: find the rule the visit would break in the carer's week
    planned = instance.planned_start[v]
    starts = sorted({min(max(planned, a), b) for a, b in ranges}, key=lambda s: abs(s - planned))
    for start in starts[:3]:
        trial = _with_visit(instance, carer, rows, v, start)
        for rule in RULES:
            if rule.scope == "week" and rule.locate is not None:
                found = rule.locate(instance, carer, trial)
                if found:
                    return f"{carer.carer_id} ({rule.code} {rule.name}: {found[0][1]})"
        previous = None
        for a in sorted(trial, key=lambda r: (r.start, r.visit_id)):
            if a.visit_id == visit.visit_id:
                for rule in RULES:
                    if rule.scope == "row" and rule.code in ("R6", "R9"):
                        why = rule.function(instance, carer, visit, a, previous=previous)
                        if why:
                            return f"{carer.carer_id} ({rule.code} {rule.name}: {why})"
            previous = a
    if not elig.home_within_cap[c, v]:
        cap = instance.child_cap(instance.child(visit.child_id))
        return (
            f"{carer.carer_id} (home {_miles(float(elig.home_miles[c, v]), cap)} miles away, cap {cap:g}, "
            "and no nearby visit just before)"
        )
    return f"{carer.carer_id} (free, but giving it this visit would cost more elsewhere in the rota)"


def _with_visit(
    instance: Instance, carer: Any, rows: Sequence[Assignment], v: int, start: int
) -> list[Assignment]:
    """The carer's rows with visit v added at ``start``, travel recomputed by R13."""
    visit = instance.visits[v]
    chosen = [(a.visit_id, a.start) for a in rows] + [(visit.visit_id, start)]
    out: list[Assignment] = []
    previous = None
    for vid, s in sorted(chosen, key=lambda r: (r[1], r[0])):
        k = instance.visit_index[vid]
        origin, miles, minutes = journey_into(instance, carer, previous, k, s)
        row = Assignment(vid, carer.carer_id, s, s + instance.visits[k].duration_min, origin, miles, minutes)
        out.append(row)
        previous = row
    return out


def _miles(miles: float, cap: float) -> str:
    """Miles to one decimal, or to three when one decimal would hide that they exceed the cap
    (20.003 miles is over a 20-mile cap, but "20.0 miles (cap 20)" reads as within it)."""
    short = f"{miles:.1f}"
    return f"{miles:.3f}" if miles > cap >= float(short) else short
