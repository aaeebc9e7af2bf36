"""Key performance indicators of a rota, in the terms a coordinator and a commissioner use.

``compute_kpis(instance, rota)`` returns a flat ``dict[str, float | int]`` (JSON-ready):

* **Coverage** (contract §4.1; seed 003 §8.8: a missed visit is the worst outcome):
  ``visits``, ``visits_covered``, ``visits_covered_pct``; ``carer_slots`` (a 2:1 visit has two),
  ``carer_slots_covered``, ``carer_slots_covered_pct``. A visit is covered when it has as many
  distinct carers as it needs.
* **Continuity** (000 Part 2 §3.4, 002 §4.4, 003 §15.1): ``mean_carers_per_child`` and
  ``max_carers_per_child`` (distinct carers in the week, over children with at least one staffed
  visit), ``children_within_target`` / ``children_within_target_pct`` (distinct carers at most
  ``Child.continuity_target``), ``known_carer_assignments`` / ``known_carer_pct`` (rota rows where
  the carer worked with the child in the last four weeks, ``history.csv``).
* **Family preferences** (003 §8.11, 002 §12.3): for gender preferred, language and culture,
  ``<pref>_assignments`` (rota rows whose child states the preference), ``<pref>_met`` and
  ``<pref>_met_pct`` (100 when no child states it: nothing was unmet).
* **Travel** (002 §13.1): ``travel_miles``, ``travel_minutes`` (journeys into visits),
  ``trip_miles`` (driving inside community sessions), ``mean_travel_miles`` per rota row.
* **Hours and cost** (000 Part 2 §4.4): ``working_hours`` (visits + travel), ``visit_hours``,
  ``agency_hours`` and ``agency_pct`` (working hours of agency staff), ``hours_mean_abs_deviation``
  (mean |working - contracted| over employed carers with contracted hours, used or not),
  ``staff_cost`` (working hours x hourly cost), ``overnight_hours`` (visit minutes outside
  ``core_hours``, R7) and ``bank_holiday_hours`` (visit minutes on the week's bank holidays).

``carer_hours(instance, rota)`` gives the per-carer table behind the hours figures.
CLI: ``roster kpis INSTANCE ROTA`` prints a readable table; ``--json`` prints the dict.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import timedelta

from roster.model import Instance, Rota

PREFERENCES: tuple[str, ...] = ("gender_preferred", "language", "culture")


@dataclass(frozen=True)
class CarerHours:
    """One carer's week: hours worked against hours contracted."""

    carer_id: str
    agency: bool
    contracted_hours: float
    visit_hours: float
    travel_hours: float
    visits: int

    @property
    def working_hours(self) -> float:
        """Working time (contract §3): visits plus the travel into them."""
        return self.visit_hours + self.travel_hours

    @property
    def deviation(self) -> float:
        """Working hours minus contracted hours (negative: under-used)."""
        return self.working_hours - self.contracted_hours


def carer_hours(instance: Instance, rota: Rota) -> list[CarerHours]:
    """Every carer of the instance (used or not) with hours worked and contracted."""
    visit_min: dict[str, int] = {}
    travel_min: dict[str, int] = {}
    count: dict[str, int] = {}
    for a in rota.assignments:
        visit_min[a.carer_id] = visit_min.get(a.carer_id, 0) + (a.end - a.start)
        travel_min[a.carer_id] = travel_min.get(a.carer_id, 0) + a.travel_min
        count[a.carer_id] = count.get(a.carer_id, 0) + 1
    return [
        CarerHours(
            carer_id=c.carer_id,
            agency=c.agency,
            contracted_hours=c.contracted_hours,
            visit_hours=visit_min.get(c.carer_id, 0) / 60.0,
            travel_hours=travel_min.get(c.carer_id, 0) / 60.0,
            visits=count.get(c.carer_id, 0),
        )
        for c in instance.carers
    ]


def _pct(part: float, whole: float, empty: float = 0.0) -> float:
    return round(100.0 * part / whole, 2) if whole else empty


def _preference_met(instance: Instance, child_id: str, carer_id: str, pref: str) -> bool | None:
    """Whether the carer meets the child's stated preference; None when none is stated."""
    child = instance.child(child_id)
    carer = instance.carer(carer_id)
    if pref == "gender_preferred":
        return None if not child.gender_preferred else carer.gender == child.gender_preferred
    if pref == "language":
        if not child.language:
            return None
        return child.language.casefold() in {x.casefold() for x in carer.languages}
    if not child.culture:
        return None
    return carer.culture.casefold() == child.culture.casefold()


def compute_kpis(instance: Instance, rota: Rota) -> dict[str, float | int]:
    """The rota's KPIs (see the module docstring for each key)."""
    kpis: dict[str, float | int] = {}
    by_visit = rota.by_visit()
    rows = [a for a in rota.assignments if a.visit_id in instance.visit_index]

    # coverage
    covered = slots_covered = slots = 0
    for v in instance.visits:
        staffed = len({a.carer_id for a in by_visit.get(v.visit_id, ())})
        slots += v.carers
        slots_covered += min(staffed, v.carers)
        covered += staffed >= v.carers
    kpis["visits"] = len(instance.visits)
    kpis["visits_covered"] = covered
    kpis["visits_covered_pct"] = _pct(covered, len(instance.visits), 100.0)
    kpis["carer_slots"] = slots
    kpis["carer_slots_covered"] = slots_covered
    kpis["carer_slots_covered_pct"] = _pct(slots_covered, slots, 100.0)

    # continuity
    carers_of: dict[str, set[str]] = {}
    for a in rows:
        child_id = instance.visit(a.visit_id).child_id
        carers_of.setdefault(child_id, set()).add(a.carer_id)
    counts = [len(s) for s in carers_of.values()]
    within = sum(len(carers_of[c]) <= instance.child(c).continuity_target for c in carers_of)
    kpis["children_served"] = len(carers_of)
    kpis["mean_carers_per_child"] = round(sum(counts) / len(counts), 3) if counts else 0.0
    kpis["max_carers_per_child"] = max(counts, default=0)
    kpis["children_within_target"] = within
    kpis["children_within_target_pct"] = _pct(within, len(carers_of), 100.0)
    known = sum(instance.knows(instance.visit(a.visit_id).child_id, a.carer_id) for a in rows)
    kpis["known_carer_assignments"] = known
    kpis["known_carer_pct"] = _pct(known, len(rows))

    # family preferences
    for pref in PREFERENCES:
        stated = met = 0
        for a in rows:
            ok = _preference_met(instance, instance.visit(a.visit_id).child_id, a.carer_id, pref)
            if ok is None:
                continue
            stated += 1
            met += ok
        kpis[f"{pref}_assignments"] = stated
        kpis[f"{pref}_met"] = met
        kpis[f"{pref}_met_pct"] = _pct(met, stated, 100.0)

    # travel
    kpis["travel_miles"] = round(sum(a.travel_miles for a in rows), 2)
    kpis["travel_minutes"] = sum(a.travel_min for a in rows)
    kpis["trip_miles"] = round(sum(instance.visit(a.visit_id).trip_miles for a in rows), 2)
    kpis["mean_travel_miles"] = round(kpis["travel_miles"] / len(rows), 3) if rows else 0.0

    # hours, cost, unsocial hours
    table = carer_hours(instance, rota)
    working = sum(h.working_hours for h in table)
    agency = sum(h.working_hours for h in table if h.agency)
    employed = [h for h in table if not h.agency and h.contracted_hours > 0]
    kpis["visit_hours"] = round(sum(h.visit_hours for h in table), 2)
    kpis["working_hours"] = round(working, 2)
    kpis["agency_hours"] = round(agency, 2)
    kpis["agency_pct"] = _pct(agency, working)
    kpis["hours_mean_abs_deviation"] = (
        round(sum(abs(h.deviation) for h in employed) / len(employed), 2) if employed else 0.0
    )
    cost = {c.carer_id: c.hourly_cost for c in instance.carers}
    kpis["staff_cost"] = round(sum(h.working_hours * cost[h.carer_id] for h in table), 2)
    lo, hi = instance.core_band
    clock = instance.clock
    overnight = sum(clock.minutes_outside_band(a.start, a.end, lo, hi) for a in rows)
    kpis["overnight_hours"] = round(overnight / 60.0, 2)
    bank = 0
    for day in instance.settings.bank_holidays:
        d0, d1 = clock.minute_of(day, 0), clock.minute_of(day + timedelta(days=1), 0)
        bank += sum(max(0, min(a.end, d1) - max(a.start, d0)) for a in rows)
    kpis["bank_holiday_hours"] = round(bank / 60.0, 2)
    return kpis


# ---- presentation ------------------------------------------------------------------------

_SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Coverage", (
        ("Visits covered", "{visits_covered} of {visits} ({visits_covered_pct:.1f} %)"),
        ("Carer slots covered", "{carer_slots_covered} of {carer_slots} ({carer_slots_covered_pct:.1f} %)"),
    )),
    ("Continuity", (
        ("Distinct carers per child", "mean {mean_carers_per_child:.2f}, max {max_carers_per_child}"),
        ("Children within their target", "{children_within_target} of {children_served} ({children_within_target_pct:.1f} %)"),
        ("Visits by a known carer", "{known_carer_assignments} ({known_carer_pct:.1f} % of rota rows)"),
    )),
    ("Family preferences", (
        ("Gender preference met", "{gender_preferred_met} of {gender_preferred_assignments} ({gender_preferred_met_pct:.1f} %)"),
        ("Language shared", "{language_met} of {language_assignments} ({language_met_pct:.1f} %)"),
        ("Culture shared", "{culture_met} of {culture_assignments} ({culture_met_pct:.1f} %)"),
    )),
    ("Travel", (
        ("Travel", "{travel_miles:.1f} miles, {travel_minutes} min (mean {mean_travel_miles:.2f} miles per visit)"),
        ("Outings driven", "{trip_miles:.1f} miles"),
    )),
    ("Hours and cost", (
        ("Working hours", "{working_hours:.1f} h ({visit_hours:.1f} h of visits)"),
        ("Agency hours", "{agency_hours:.1f} h ({agency_pct:.1f} %)"),
        ("Hours vs contracted", "mean |difference| {hours_mean_abs_deviation:.1f} h per employed carer"),
        ("Overnight hours", "{overnight_hours:.1f} h"),
        ("Bank-holiday hours", "{bank_holiday_hours:.1f} h"),
        ("Staff cost", "£{staff_cost:,.2f}"),
    )),
)


def format_kpis(kpis: dict[str, float | int]) -> str:
    """A readable table of the KPIs."""
    lines: list[str] = []
    width = max(len(label) for _, items in _SECTIONS for label, _ in items)
    for title, items in _SECTIONS:
        lines.append(title)
        for label, template in items:
            lines.append(f"  {label:<{width}}  {template.format(**kpis)}")
    return "\n".join(lines)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance", help="instance folder or .xlsx workbook")
    parser.add_argument("rota", help="rota folder (rota.csv, unassigned.csv)")
    parser.add_argument("--json", action="store_true", help="print the KPIs as JSON")


def run_command(args: argparse.Namespace) -> int:
    from roster.io import load_instance, load_rota

    instance = load_instance(args.instance)
    rota = load_rota(instance, args.rota)
    kpis = compute_kpis(instance, rota)
    if args.json:
        print(json.dumps(kpis, indent=2))
    else:
        print(format_kpis(kpis))
    return 0
