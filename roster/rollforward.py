"""Roll last week's rota forward: the same carers week after week.

A coordinator's week starts from last week's rota, not from a blank page (continuity of staff,
002 §4.4, 000 Part 2 §3.4; "no substantial changes on a daily basis", 003 §12.6). ``carry`` maps
the rota of an earlier week onto week W and decides which of its rows still keep every rule:

* **Matching.** Visit ids differ from week to week, so a visit of week W matches a visit of the
  earlier week by child, weekday and planned wall-clock start; a start that moved by up to the
  visit's flex (the larger of the two weeks' flex) still matches, nearest first, one to one.
* **Carried rows.** Each carer of a matched visit is carried with the same offset from the planned
  start (clamped into week W's flex window; a 2:1 keeps both carers and one start), the end from
  week W's duration and the journey (R13) recomputed on week W.
* **Validity.** Per-row rules (R1-R9, ``roster.rules``) on each carried row against the carer's
  previous kept row; then each carer's week (R10-R15): when it does not check, the fewest rows
  are dropped that make it check (one if one is enough; otherwise greedily the row whose removal
  leaves the fewest breaches). The carried rota that is left passes ``roster.checker.check``.
* **Reasons.** Every row that cannot be kept gets a ``Dropped`` with a cause and details in
  words a coordinator can read out on the phone (``Dropped.text``): "Katie's epilepsy-rescue
  medication training expires on 30 Nov", "Katie is away ...", "the family has asked for Katie
  not to come", "Katie has left", "no session on Mon 25 Dec (bank holiday)".

Names appear only in the texts a caller renders with ``names=True`` for an export a user asked
for; ``Dropped`` itself holds ids, and ``describe`` without names gives ids (for logs).

The solver side (``solver.rollforward``) keeps every carried row and solves the rest of the week
around it; this module never imports the solver.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from roster.calendar import DAY_NAMES, format_hhmm, parse_hhmm
from roster.model import Assignment, Carer, Instance, Rota, Unassigned, Visit
from roster.rules import RULES, journey_into, travel_model
from roster.travel import MemoTravel, TravelModel

CAUSES: dict[str, str] = {
    "left": "the carer has left",
    "visit_gone": "the visit is no longer in the package",
    "training": "training expired or not held",
    "dbs": "DBS lapsed",
    "refused": "refused by the family",
    "gender": "the family's gender requirement",
    "absent": "on leave or off sick",
    "unavailable": "not available then",
    "timing": "the visit's time changed",
    "clash": "clashes with another visit",
    "overnight": "outside core hours",
    "driving": "needs a driver",
    "mileage": "over the mileage cap",
    "weekly_hours": "weekly hours",
    "daily_rest": "daily rest",
    "young": "young worker limits",
    "weekly_rest": "weekly rest",
    "rest_break": "rest break",
    "partner": "the 2:1 partner cannot come",
}
"""Cause code -> a short label (for CSV columns and summaries)."""

_ROW_CAUSE = {
    "R1": "dbs", "R2": "training", "R3": "refused", "R4": "timing", "R5": "absent",
    "R6": "clash", "R7": "overnight", "R8": "driving", "R9": "mileage",
}
_WEEK_CAUSE = {
    "R10": "weekly_hours", "R11": "daily_rest", "R12": "young", "R13": "weekly_hours",
    "R14": "weekly_rest", "R15": "rest_break",
}

_COMPETENCY_WORDS = {
    "safeguarding_children": "safeguarding children",
    "medication_administration": "medication",
    "epilepsy_rescue_medication": "epilepsy-rescue medication",
    "peg_feeding": "PEG feeding",
    "tracheostomy_care": "tracheostomy care",
    "hoist_moving_handling": "hoist moving and handling",
    "positive_behaviour_support": "positive behaviour support",
    "autism_awareness": "autism awareness",
}


def competency_words(code: str) -> str:
    """``epilepsy_rescue_medication`` -> ``epilepsy-rescue medication`` (unknown codes: spaces)."""
    return _COMPETENCY_WORDS.get(code, code.replace("_", " "))


def _day(d: date) -> str:
    return f"{d.day} {d:%b}"


@dataclass(frozen=True)
class Dropped:
    """A row of the earlier week's rota that cannot be kept on week W, and why.

    ``visit_id`` is week W's visit ("" when the visit is gone: ``cause == "visit_gone"``),
    ``source_visit_id`` the earlier week's. ``detail`` is the reason with the carer as ``{carer}``
    and the child as ``{child}``, filled in by ``text``.
    """

    visit_id: str
    source_visit_id: str
    carer_id: str
    child_id: str
    cause: str
    detail: str
    rule: str = ""

    def text(self, carers: dict[str, str] | None = None, children: dict[str, str] | None = None) -> str:
        """The reason in words; ``carers`` / ``children`` map ids to the names to use (first
        names read best on the phone); ids where a map is missing."""
        carer = (carers or {}).get(self.carer_id, self.carer_id)
        child = (children or {}).get(self.child_id, self.child_id)
        return self.detail.format(carer=carer, child=child)


@dataclass(frozen=True)
class Carry:
    """Last week's rota carried onto week W (see the module docstring)."""

    instance: Instance
    """Week W."""
    source_week: date
    matches: dict[str, str]
    """Week W visit id -> the earlier week's visit id it continues."""
    kept: tuple[Assignment, ...]
    """Carried rows that keep every rule on week W (travel recomputed), in visit order."""
    dropped: tuple[Dropped, ...]
    """Every row of the earlier rota not kept, with its reason."""
    new_visits: tuple[str, ...]
    """Week W visits with no match in the earlier week (new sessions)."""
    source_rows: int
    """Rows of the earlier rota."""
    carried: dict[tuple[str, str], int] = field(default_factory=dict)
    """(week W visit id, carer id) -> carried start, for every matched row (kept or not)."""

    @property
    def rota(self) -> Rota:
        """The kept rows as a rota of week W (every short visit listed unassigned): it passes
        ``roster.checker.check``."""
        return rota_of(self.instance, self.kept, "not carried from last week")

    def kept_pairs(self) -> set[tuple[str, str]]:
        return {(a.visit_id, a.carer_id) for a in self.kept}

    def complete_rows(self) -> tuple[Assignment, ...]:
        """Kept rows of visits whose every carer is kept (a 2:1 with one carer left is not)."""
        count: dict[str, int] = {}
        for a in self.kept:
            count[a.visit_id] = count.get(a.visit_id, 0) + 1
        return tuple(
            a for a in self.kept if count[a.visit_id] >= self.instance.visit(a.visit_id).carers
        )

    def dropped_for(self) -> dict[tuple[str, str], Dropped]:
        """(week W visit id, carer id) -> why that carried row was not kept."""
        return {(d.visit_id, d.carer_id): d for d in self.dropped if d.visit_id}


# ---- matching --------------------------------------------------------------------------------


def match_visits(old: Instance, new: Instance) -> dict[str, str]:
    """Week ``new``'s visit id -> week ``old``'s, by child, weekday and planned start.

    Exact starts first; then the nearest within the larger flex of the two, one to one.
    """
    def key(v: Visit) -> tuple[str, int]:
        return v.child_id, v.date.weekday()

    olds: dict[tuple[str, int], list[Visit]] = {}
    for v in old.visits:
        olds.setdefault(key(v), []).append(v)
    news: dict[tuple[str, int], list[Visit]] = {}
    for v in new.visits:
        news.setdefault(key(v), []).append(v)
    out: dict[str, str] = {}
    for k, fresh in news.items():
        pool = olds.get(k, [])
        if not pool:
            continue
        pairs = []
        for n in fresh:
            for o in pool:
                moved = abs(parse_hhmm(n.start) - parse_hhmm(o.start))
                if moved <= max(n.flex_min, o.flex_min) and n.carers == o.carers:
                    pairs.append((moved, parse_hhmm(n.start), n.visit_id, o.visit_id))
                elif moved <= max(n.flex_min, o.flex_min):
                    # a 1:1 that became a 2:1 (or back) still continues; after same-size ones
                    pairs.append((moved + 10_000, parse_hhmm(n.start), n.visit_id, o.visit_id))
        used_new: set[str] = set()
        used_old: set[str] = set()
        for _moved, _start, nid, oid in sorted(pairs):
            if nid in used_new or oid in used_old:
                continue
            out[nid] = oid
            used_new.add(nid)
            used_old.add(oid)
    return out


# ---- travel, rotas ---------------------------------------------------------------------------


def with_travel(
    instance: Instance, rows: Iterable[Assignment], travel: TravelModel | None = None
) -> list[Assignment]:
    """``rows`` with each carer's journeys (R13) recomputed in start order."""
    model = travel_model(instance, travel)
    by_carer: dict[str, list[Assignment]] = {}
    for a in rows:
        by_carer.setdefault(a.carer_id, []).append(a)
    out: list[Assignment] = []
    for carer_id, mine in by_carer.items():
        carer = instance.carer(carer_id)
        previous: Assignment | None = None
        for a in sorted(mine, key=lambda a: (a.start, a.visit_id)):
            origin, miles, minutes = journey_into(
                instance, carer, previous, instance.visit_index[a.visit_id], a.start, model
            )
            fixed = replace(a, travel_from=origin, travel_miles=miles, travel_min=minutes)
            out.append(fixed)
            previous = fixed
    order = instance.visit_index
    out.sort(key=lambda a: (order[a.visit_id], a.carer_id))
    return out


def rota_of(instance: Instance, rows: Sequence[Assignment], reason: str) -> Rota:
    """A rota of ``rows`` with every visit short of carers listed unassigned with ``reason``."""
    staffed: dict[str, int] = {}
    for a in rows:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    unassigned = tuple(
        Unassigned(v.visit_id, v.carers - staffed.get(v.visit_id, 0), reason)
        for v in instance.visits
        if staffed.get(v.visit_id, 0) < v.carers
    )
    return Rota(assignments=tuple(rows), unassigned=unassigned)


# ---- reasons ---------------------------------------------------------------------------------


def _row_reason(
    instance: Instance, carer: Carer, visit: Visit, a: Assignment, code: str, message: str
) -> tuple[str, str]:
    """(cause, detail) for a per-row rule broken by a carried row."""
    if code == "R2":
        held = instance.training_by_carer.get(carer.carer_id, {})
        for comp in dict.fromkeys((*instance.settings.mandatory_training, *visit.competencies)):
            if comp not in held:
                return "training", (
                    f"the visit now needs {competency_words(comp)} training, which {{carer}} "
                    "does not hold"
                )
            expires = held[comp]
            if expires is not None and visit.date > expires:
                return "training", (
                    f"{{carer}}'s {competency_words(comp)} training expires on {_day(expires)}"
                )
        return "training", "{carer}'s training does not cover the visit"
    if code == "R1":
        if carer.dbs_check != "enhanced_barred_children":
            return "dbs", "{carer}'s DBS check is not an enhanced check with the barred list"
        if carer.dbs_issued is not None:
            years = instance.settings.dbs_max_age_years
            try:
                lapse = carer.dbs_issued.replace(year=carer.dbs_issued.year + years)
            except ValueError:  # 29 February
                lapse = carer.dbs_issued.replace(year=carer.dbs_issued.year + years, day=28)
            return "dbs", f"{{carer}}'s DBS check lapsed on {_day(lapse)}"
        return "dbs", "{carer}'s DBS check is not current"
    if code == "R3":
        child = instance.child(visit.child_id)
        if carer.carer_id in child.excluded_carers:
            return "refused", "the family has asked for {carer} not to come"
        return "gender", "the family now asks for a carer of another gender"
    if code == "R5":
        for w in instance.absences_by_carer.get(carer.carer_id, ()):
            if w.start <= a.end and a.start <= w.end:
                first = instance.clock.datetime_of(w.start)
                last = instance.clock.datetime_of(max(w.start, w.end - 1))
                span = (
                    f"on {first:%a} {_day(first.date())}" if first.date() == last.date()
                    else f"from {first:%a} {_day(first.date())} to {last:%a} {_day(last.date())}"
                )
                return "absent", f"{{carer}} is away (leave or sickness) {span}"
        return "unavailable", "{carer} is no longer available at that time"
    if code == "R6":
        return "clash", "{carer} has another visit at that time"
    if code == "R7":
        return "overnight", "the visit now runs outside core hours and {carer} does not work nights"
    if code == "R8":
        return "driving", "the visit now needs a driver and {carer} does not drive"
    if code == "R9":
        return "mileage", "the journey would take {carer} over the family's mileage cap"
    return "timing", "the visit's time has changed"


def _week_detail(instance: Instance, code: str) -> str:
    s = instance.settings
    return {
        "R10": "{carer} would work more than the weekly hours allowed",
        "R11": f"{{carer}} would not get {s.daily_rest_hours:g} hours' rest between shifts",
        "R12": "{carer} is under 18 and would go over the young worker limits",
        "R13": "{carer}'s journeys no longer fit",
        "R14": f"{{carer}} would not get a {s.weekly_rest_hours:g}-hour weekly rest",
        "R15": "{carer} would have no rest break in a long shift",
    }.get(code, "{carer}'s week would break a working-time rule")


# ---- the carry -------------------------------------------------------------------------------


def carry(
    old: Instance, old_rota: Rota, new: Instance, travel: TravelModel | None = None
) -> Carry:
    """``old_rota`` (a rota of week ``old``) carried onto week ``new``; see the module docstring."""
    matches = match_visits(old, new)
    back = {o: n for n, o in matches.items()}
    model = MemoTravel.of(travel_model(new, travel))
    dropped: list[Dropped] = []
    candidates: list[Assignment] = []
    carried: dict[tuple[str, str], int] = {}
    holidays = set(new.settings.bank_holidays)
    old_order = old.visit_index
    for a in sorted(old_rota.assignments, key=lambda a: (old_order.get(a.visit_id, -1), a.carer_id)):
        if a.visit_id not in old_order:
            continue
        ov = old.visit(a.visit_id)
        nid = back.get(a.visit_id)
        if nid is None:
            day = new.settings.week_start + timedelta(days=ov.date.weekday())
            detail = (
                f"no session on {DAY_NAMES[day.weekday()]} {_day(day)} (bank holiday)"
                if day in holidays else "the visit is no longer in the package"
            )
            dropped.append(Dropped("", a.visit_id, a.carer_id, ov.child_id, "visit_gone", detail))
            continue
        nv = new.visit(nid)
        offset = a.start - old.planned_start[old_order[a.visit_id]]
        offset = max(-nv.flex_min, min(nv.flex_min, offset))
        start = new.planned_start[new.visit_index[nid]] + offset
        carried[(nid, a.carer_id)] = start
        if a.carer_id not in new.carer_index:
            dropped.append(Dropped(nid, a.visit_id, a.carer_id, nv.child_id, "left", "{carer} has left"))
            continue
        candidates.append(Assignment(nid, a.carer_id, start, start + nv.duration_min))
    # a 2:1 keeps one start: both carried rows take the first one's
    first_start: dict[str, int] = {}
    for i, a in enumerate(candidates):
        s = first_start.setdefault(a.visit_id, a.start)
        if s != a.start:
            candidates[i] = replace(a, start=s, end=s + new.visit(a.visit_id).duration_min)
    # rows of a visit beyond its carers (a 2:1 that became 1:1): keep the first
    seen: dict[str, int] = {}
    fitted: list[Assignment] = []
    for a in candidates:
        seen[a.visit_id] = seen.get(a.visit_id, 0) + 1
        if seen[a.visit_id] > new.visit(a.visit_id).carers:
            dropped.append(Dropped(a.visit_id, matches[a.visit_id], a.carer_id,
                                   new.visit(a.visit_id).child_id, "timing",
                                   "the visit now needs one carer fewer"))
            continue
        fitted.append(a)
    kept, more = _keep_valid(new, fitted, model, matches)
    dropped += more
    order = new.visit_index
    kept.sort(key=lambda a: (order[a.visit_id], a.carer_id))
    dropped.sort(key=lambda d: (order.get(d.visit_id, -1), d.source_visit_id, d.carer_id))
    return Carry(
        instance=new,
        source_week=old.settings.week_start,
        matches=matches,
        kept=tuple(kept),
        dropped=tuple(dropped),
        new_visits=tuple(v.visit_id for v in new.visits if v.visit_id not in matches),
        source_rows=len(old_rota.assignments),
        carried=carried,
    )


def _keep_valid(
    instance: Instance, rows: list[Assignment], model: TravelModel, matches: dict[str, str]
) -> tuple[list[Assignment], list[Dropped]]:
    """The rows that keep every rule (fewest dropped per carer's week), and the dropped ones."""
    dropped: list[Dropped] = []
    row_rules = [r for r in RULES if r.scope == "row" and r.code not in ("R6", "R9")]
    seq_rules = [r for r in RULES if r.code in ("R6", "R9")]
    week_rules = [r for r in RULES if r.scope == "week"]

    def drop(a: Assignment, cause: str, detail: str, rule: str) -> None:
        dropped.append(Dropped(a.visit_id, matches[a.visit_id], a.carer_id,
                               instance.visit(a.visit_id).child_id, cause, detail, rule))

    # rules of the row alone (the 2:1 partner is the other carried row of the visit)
    by_visit: dict[str, list[Assignment]] = {}
    for a in rows:
        by_visit.setdefault(a.visit_id, []).append(a)
    alone: list[Assignment] = []
    for a in rows:
        carer, visit = instance.carer(a.carer_id), instance.visit(a.visit_id)
        partners = [p for p in by_visit[a.visit_id] if p is not a]
        broken = next(
            (
                (r.code, msg) for r in row_rules
                if (msg := r.function(instance, carer, visit, a, partners=partners, travel=model))
            ),
            None,
        )
        if broken is None:
            alone.append(a)
        else:
            cause, detail = _row_reason(instance, carer, visit, a, *broken)
            drop(a, cause, detail, broken[0])

    by_carer: dict[str, list[Assignment]] = {}
    for a in alone:
        by_carer.setdefault(a.carer_id, []).append(a)
    kept: list[Assignment] = []
    for carer_id, mine in by_carer.items():
        carer = instance.carer(carer_id)
        rows_left = sorted(mine, key=lambda a: (a.start, a.visit_id))
        while True:
            rows_left = _sequence_pass(instance, carer, rows_left, seq_rules, model, drop)
            breaches = _week_breaches(instance, carer, rows_left, week_rules, model)
            if not breaches:
                break
            victim = _fewest_to_drop(instance, carer, rows_left, week_rules, model, breaches)
            code = breaches[0][0]
            for rule_code, visit_id in breaches:
                if visit_id == victim.visit_id:
                    code = rule_code
                    break
            drop(victim, _WEEK_CAUSE.get(code, "weekly_hours"), _week_detail(instance, code), code)
            rows_left = [a for a in rows_left if a is not victim]
        kept += with_travel(instance, rows_left, model)
    return kept, dropped


def _sequence_pass(
    instance: Instance, carer: Carer, rows: list[Assignment], rules: Sequence, model: TravelModel,
    drop: object,
) -> list[Assignment]:
    """R6 and R9 against the previous kept row, in start order; a breaking row is dropped."""
    out: list[Assignment] = []
    previous: Assignment | None = None
    for a in rows:
        visit = instance.visit(a.visit_id)
        origin, miles, minutes = journey_into(
            instance, carer, previous, instance.visit_index[a.visit_id], a.start, model
        )
        row = replace(a, travel_from=origin, travel_miles=miles, travel_min=minutes)
        broken = next(
            (
                (r.code, msg) for r in rules
                if (msg := r.function(instance, carer, visit, row, previous=previous, travel=model))
            ),
            None,
        )
        if broken is not None:
            cause, detail = _row_reason(instance, carer, visit, row, *broken)
            drop(a, cause, detail, broken[0])  # type: ignore[operator]
            continue
        out.append(row)
        previous = row
    return out


def _week_breaches(
    instance: Instance, carer: Carer, rows: list[Assignment], rules: Sequence, model: TravelModel
) -> list[tuple[str, str]]:
    """(rule code, visit id) of every per-week breach of the carer's rows (journeys redone)."""
    fixed = with_travel(instance, rows, model)
    out: list[tuple[str, str]] = []
    for rule in rules:
        for visit_id, _ in rule.locate(instance, carer, fixed, travel=model):
            out.append((rule.code, visit_id))
    return out


def _fewest_to_drop(
    instance: Instance, carer: Carer, rows: list[Assignment], rules: Sequence, model: TravelModel,
    breaches: list[tuple[str, str]],
) -> Assignment:
    """The row to drop next: one whose removal makes the week check if there is one (a row named
    by a breach first, then the latest), else the one leaving the fewest breaches."""
    named = {v for _, v in breaches}
    order = sorted(rows, key=lambda a: (a.visit_id not in named, -a.start))
    best: tuple[int, int] | None = None
    choice = order[0]
    for rank, a in enumerate(order):
        rest = [b for b in rows if b is not a]
        left = len(_week_breaches(instance, carer, rest, rules, model))
        if left == 0:
            return a
        if best is None or (left, rank) < best:
            best, choice = (left, rank), a
    return choice


def week_ok(
    instance: Instance, carer_id: str, rows: Sequence[Assignment], travel: TravelModel | None = None
) -> bool:
    """Whether ``rows`` (one carer's week; journeys are recomputed) keep every per-row rule
    (against the previous row; a 2:1 partner's start is the caller's to keep) and every rule of
    the carer's week."""
    model = MemoTravel.of(travel_model(instance, travel))
    carer = instance.carer(carer_id)
    fixed = sorted(with_travel(instance, rows, model), key=lambda a: (a.start, a.visit_id))
    previous: Assignment | None = None
    for a in fixed:
        visit = instance.visit(a.visit_id)
        for rule in RULES:
            if rule.scope == "row" and rule.function(
                instance, carer, visit, a, previous=previous, travel=model
            ):
                return False
        previous = a
    return not any(
        rule.locate(instance, carer, fixed, travel=model)  # type: ignore[misc]
        for rule in RULES if rule.scope == "week"
    )


def restore(
    instance: Instance, carried: Carry, rows: Sequence[Assignment], passes: int = 3
) -> list[Assignment]:
    """``rows`` with the carried rows that are missing put back wherever that staffs no fewer
    slots, by three moves: the carer onto the visit if it is short of carers; in place of the
    carer now on it (whose week must still check); or swapped with that carer, who takes the
    carer's rows that clash with the visit. Each move keeps both carers' weeks checking (2:1
    partners start together); journeys of the touched carers are redone. Up to ``passes``
    sweeps, until one changes nothing."""
    model = MemoTravel.of(travel_model(instance))
    by_carer: dict[str, list[Assignment]] = {}
    by_visit: dict[str, list[Assignment]] = {}
    for a in rows:
        by_carer.setdefault(a.carer_id, []).append(a)
        by_visit.setdefault(a.visit_id, []).append(a)

    def apply(weeks: dict[str, list[Assignment]]) -> None:
        for carer_id in weeks:
            for a in by_carer.get(carer_id, ()):
                by_visit[a.visit_id] = [b for b in by_visit[a.visit_id] if b is not a]
        for carer_id, week in weeks.items():
            fixed = with_travel(instance, week, model)
            by_carer[carer_id] = fixed
            for a in fixed:
                by_visit.setdefault(a.visit_id, []).append(a)

    for _ in range(passes):
        changed = False
        for (visit_id, carer_id), start in sorted(carried.carried.items()):
            if carer_id not in instance.carer_index:
                continue
            on_visit = by_visit.get(visit_id, [])
            if any(a.carer_id == carer_id for a in on_visit):
                continue
            visit = instance.visit(visit_id)
            mine = by_carer.get(carer_id, [])
            when = on_visit[0].start if on_visit else start
            back = Assignment(visit_id, carer_id, when, when + visit.duration_min)
            lo, hi = when - 120, back.end + 120
            clash = [a for a in mine if a.start < hi and lo < a.end]
            rest = [a for a in mine if a not in clash]
            moves: list[dict[str, list[Assignment]]] = []
            if len(on_visit) < visit.carers:
                moves.append({carer_id: [*mine, back]})
            for other in on_visit:
                theirs = [a for a in by_carer.get(other.carer_id, []) if a is not other]
                moves.append({carer_id: [*mine, back], other.carer_id: theirs})
                if clash:
                    swapped = [replace(a, carer_id=other.carer_id) for a in clash]
                    if any(len({b.carer_id for b in by_visit[a.visit_id]} & {other.carer_id}) for a in clash):
                        continue
                    moves.append({carer_id: [*rest, back], other.carer_id: [*theirs, *swapped]})
            for move in moves:
                if all(week_ok(instance, k, week, model) for k, week in move.items()):
                    apply(move)
                    changed = True
                    break
        if not changed:
            break
    order = instance.visit_index
    out = [a for week in by_carer.values() for a in week]
    out.sort(key=lambda a: (order[a.visit_id], a.carer_id))
    return out


# ---- the store -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """The latest published rota of an earlier week, with its instance."""

    week_start: date
    version_id: int
    instance: Instance
    rota: Rota


def latest_published_before(
    url: str | os.PathLike[str] | None, week_start: date, weeks_back: int = 4
) -> Published | None:
    """The most recent week before ``week_start`` (within ``weeks_back`` weeks) with a
    published rota in the store, or ``None``."""
    from roster.store import Store

    with Store.open(url) as store:
        published = store.versions(status="published")
        earlier = [
            v for v in published
            if week_start - timedelta(weeks=weeks_back) <= v.week_start < week_start
        ]
        if not earlier:
            return None
        latest_week = max(v.week_start for v in earlier)
        head = [v for v in earlier if v.week_start == latest_week][-1]
        return Published(
            latest_week, head.id, store.load_instance(head.instance_id), store.load_rota(head.id)
        )


def describe(carry_: Carry) -> str:
    """One line for logs (ids and counts only, no names)."""
    causes: dict[str, int] = {}
    for d in carry_.dropped:
        causes[d.cause] = causes.get(d.cause, 0) + 1
    listing = ", ".join(f"{CAUSES[c]}: {n}" for c, n in sorted(causes.items()))
    return (
        f"carried {len(carry_.kept)} of {carry_.source_rows} rows from the week of "
        f"{carry_.source_week}; {len(carry_.dropped)} not kept ({listing or 'none'}); "
        f"{len(carry_.new_visits)} new sessions"
    )


def when_text(instance: Instance, visit_id: str) -> str:
    """``Mon 16:00``: the visit's weekday and planned start."""
    v = instance.visit(visit_id)
    return f"{DAY_NAMES[v.date.weekday()]} {format_hhmm(parse_hhmm(v.start))}"
