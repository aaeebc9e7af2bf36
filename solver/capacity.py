"""Capacity view: supply against demand in carer-hours, by competency, area and day-part.

Before bidding for a referral (003 §8.1-8.3) a manager wants to see where the service is short.
Demand is the week's visits in carer-hours (a 2:1 hour is two), split minute by minute into
day-parts at the planned start; supply is what the carers who could take those visits
(``roster.eligibility`` with R9 chain tightening, as in ``solver.bounds``) are available for.

Day-parts (wall clock): on school days (Mon-Fri, not a bank holiday) ``morning`` (core start to
09:00), ``school_day`` (09:00-15:00), ``after_school`` (15:00-18:00), ``evening`` (18:00 to core
end); on Saturdays, Sundays and bank holidays ``weekend`` (core hours); every day ``night``
(outside core hours, 003 §1.6).
Areas: the nearest town of ``roster.towns`` within 10 miles of the visit, else a 0.1-degree grid
cell. Competencies: the visit's competencies beyond the mandatory ones (``none`` if none).

The question "how many of these hours can be covered at all?" is a transportation LP, solved with
PuLP and HiGHS: carer-hours ``f[c, g] >= 0`` from each carer to each demand group
``g = (date, day-part, area, competencies)`` the carer could serve, at most the group's demand,
at most the hours of the group's visits the carer could take, at most the carer's available hours
in that date's day-part, and at most their weekly limit (R10). A group whose demand exceeds what
the LP can cover is a *bottleneck*; the view says whether no carer is eligible at all, too few
eligible hours exist, or the eligible carers' hours are needed elsewhere.

CLI: ``roster capacity INSTANCE [--json] [--top N]``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from roster.eligibility import compute_eligibility, free_pieces
from roster.io import load_instance
from roster.model import Instance
from roster.rules import limits
from roster.towns import COUNTIES
from roster.travel import great_circle_miles_matrix
from solver.bounds import capacity_bound, reachable_pairs

DAY_PARTS: tuple[str, ...] = ("morning", "school_day", "after_school", "evening", "weekend", "night")
AREA_RADIUS_MILES = 10.0


def day_part_intervals(instance: Instance, day: date) -> list[tuple[str, int, int]]:
    """(day-part, start, end) epoch-minute intervals covering the local day ``day``."""
    clock = instance.clock
    core_lo, core_hi = instance.core_band
    weekendish = day.weekday() >= 5 or day in set(instance.settings.bank_holidays)
    at = lambda m: clock.minute_of(day, m)  # noqa: E731 - a local shorthand
    midnight_next = clock.minute_of(day + timedelta(days=1), 0)
    out = [("night", at(0), at(core_lo))]
    if weekendish:
        out.append(("weekend", at(core_lo), at(core_hi)))
    else:
        cuts = [core_lo, max(core_lo, 9 * 60), 15 * 60, 18 * 60, max(18 * 60, core_hi)]
        cuts = [min(max(c, core_lo), core_hi) for c in cuts]
        for name, a, b in zip(("morning", "school_day", "after_school", "evening"), cuts, cuts[1:], strict=False):
            if b > a:
                out.append((name, at(a), at(b)))
    out.append(("night", at(core_hi), midnight_next))
    return [(n, a, b) for n, a, b in out if b > a]


def area_of(lat: float, lon: float, towns: list[Any] | None = None) -> str:
    """The nearest town within AREA_RADIUS_MILES, else a 0.1-degree grid cell label."""
    if towns is None:
        towns = [t for ts in COUNTIES.values() for t in ts]
    if towns:
        miles = great_circle_miles_matrix(
            np.array([lat]), np.array([lon]), np.array([t.lat for t in towns]), np.array([t.lon for t in towns])
        )[0]
        k = int(np.argmin(miles))
        if miles[k] <= AREA_RADIUS_MILES:
            return str(towns[k].name)
    return f"cell {round(lat, 1):.1f},{round(lon, 1):.1f}"


@dataclass(frozen=True)
class Group:
    day: date
    part: str
    area: str
    competencies: str
    demand_hours: float
    visits: tuple[int, ...]


@dataclass(frozen=True)
class CapacityReport:
    demand_hours: float
    coverable_hours: float
    """What the LP can cover: no rota staffs more of these hours."""
    rows: tuple[dict[str, Any], ...]
    """One per (day-part, area, competencies): demand, eligible supply, coverable, shortfall."""
    by_part: tuple[dict[str, Any], ...]
    by_area: tuple[dict[str, Any], ...]
    by_competency: tuple[dict[str, Any], ...]
    bottlenecks: tuple[dict[str, Any], ...]
    lp_status: str
    lp_seconds: float
    seconds: float
    carers: int
    visits: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "demand_hours": self.demand_hours,
            "coverable_hours": self.coverable_hours,
            "carers": self.carers,
            "visits": self.visits,
            "by_part": list(self.by_part),
            "by_area": list(self.by_area),
            "by_competency": list(self.by_competency),
            "bottlenecks": list(self.bottlenecks),
            "rows": list(self.rows),
            "lp_status": self.lp_status,
            "lp_seconds": round(self.lp_seconds, 3),
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }


def _groups(instance: Instance) -> tuple[list[Group], list[dict[int, float]]]:
    """Demand groups, and per visit: group index -> carer-hours of the visit in that group."""
    towns: list[Any] = [t for ts in COUNTIES.values() for t in ts]
    mandatory = set(instance.settings.mandatory_training)
    area_cache: dict[tuple[float, float], str] = {}
    keyed: dict[tuple[date, str, str, str], list[tuple[int, float]]] = {}
    part_cache: dict[date, list[tuple[str, int, int]]] = {}
    for j, v in enumerate(instance.visits):
        loc = instance.visit_location(v)
        if loc not in area_cache:
            area_cache[loc] = area_of(loc[0], loc[1], towns)
        comps = "+".join(sorted(c for c in v.competencies if c not in mandatory)) or "none"
        s = instance.planned_start[j]
        e = s + v.duration_min
        day = instance.clock.local_date(s)
        for d in (day, day + timedelta(days=1), day + timedelta(days=2)):
            if d not in part_cache:
                part_cache[d] = day_part_intervals(instance, d)
            for name, a, b in part_cache[d]:
                overlap = min(e, b) - max(s, a)
                if overlap > 0:
                    keyed.setdefault((d, name, area_cache[loc], comps), []).append((j, overlap * v.carers / 60.0))
    groups: list[Group] = []
    per_visit: list[dict[int, float]] = [{} for _ in instance.visits]
    for g, (key, items) in enumerate(sorted(keyed.items())):
        groups.append(Group(key[0], key[1], key[2], key[3], sum(h for _, h in items), tuple(j for j, _ in items)))
        for j, h in items:
            per_visit[j][g] = per_visit[j].get(g, 0.0) + h
    return groups, per_visit


def _available_hours(instance: Instance, days: list[date]) -> tuple[dict[tuple[date, str], int], np.ndarray]:
    """Available hours of every carer in every (date, day-part), from availability minus absences."""
    slots: dict[tuple[date, str], int] = {}
    intervals: list[tuple[int, int, int]] = []
    for d in days:
        for name, a, b in day_part_intervals(instance, d):
            key = (d, name)
            if key not in slots:
                slots[key] = len(slots)
            intervals.append((slots[key], a, b))
    hours = np.zeros((len(instance.carers), len(slots)))
    for i, c in enumerate(instance.carers):
        pieces = free_pieces(instance.windows_by_carer.get(c.carer_id, ()), instance.absences_by_carer.get(c.carer_id, ()))
        for ps, pe in pieces:
            for k, a, b in intervals:
                overlap = min(int(pe), b) - max(int(ps), a)
                if overlap > 0:
                    hours[i, k] += overlap / 60.0
    return slots, hours


def capacity_view(instance: Instance, eligibility: Any = None, time_limit: float | None = 60.0) -> CapacityReport:
    """Supply against demand by competency, area and day-part, with the bottlenecks."""
    t0 = time.perf_counter()
    el = eligibility if eligibility is not None else compute_eligibility(instance)
    reach = reachable_pairs(instance, el)
    groups, per_visit = _groups(instance)
    days = sorted({g.day for g in groups})
    slots, avail = _available_hours(instance, days)
    n_c, n_g = len(instance.carers), len(groups)
    # cap[c, g]: hours of the group's visits the carer could take.
    cap = np.zeros((n_c, n_g))
    for j, parts in enumerate(per_visit):
        able = np.flatnonzero(reach[:, j])
        if not len(able):
            continue
        for g, h in parts.items():
            cap[able, g] += h
    slot_of = np.array([slots[(g.day, g.part)] for g in groups], dtype=np.int64)
    # Eligible supply (no sharing): each carer's available hours in the group's day-part, at most
    # what they could take there.
    eligible_supply = np.minimum(cap, avail[:, slot_of]).sum(axis=0) if n_g else np.zeros(0)
    week_h = np.array([limits(instance, c).max_week_min / 60.0 for c in instance.carers])
    covered, status, lp_seconds = _transport_lp(cap, avail, slot_of, week_h, np.array([g.demand_hours for g in groups]), time_limit)

    def table(key_of: Any, many: bool = False) -> list[dict[str, Any]]:
        agg: dict[Any, list[float]] = {}
        for g, grp in enumerate(groups):
            for key in (key_of(grp) if many else [key_of(grp)]):
                row = agg.setdefault(key, [0.0, 0.0, 0.0])
                row[0] += grp.demand_hours
                row[1] += eligible_supply[g]
                row[2] += covered[g]
        return [
            {"key": k, "demand_hours": round(d, 2), "eligible_supply_hours": round(s, 2),
             "coverable_hours": round(c, 2), "shortfall_hours": round(max(0.0, d - c), 2)}
            for k, (d, s, c) in sorted(agg.items(), key=lambda kv: (-(kv[1][0] - kv[1][2]), str(kv[0])))
        ]  # fmt: skip

    rows = table(lambda g: (g.part, g.area, g.competencies))
    detailed = [dict(r, part=r["key"][0], area=r["key"][1], competencies=r["key"][2]) for r in rows]
    for r in detailed:
        r.pop("key")
    by_part = [dict(r, part=r.pop("key")) for r in table(lambda g: g.part)]
    by_area = [dict(r, area=r.pop("key")) for r in table(lambda g: g.area)]
    # By competency: each visit counts under every competency it needs.
    by_comp = [dict(r, competencies=r.pop("key")) for r in table(lambda g: g.competencies.split("+"), many=True)]
    # Competency supply: available hours of carers holding it (valid at the week's start).
    held = instance.training_by_carer
    week_start = instance.settings.week_start
    total_avail = avail.sum(axis=1)
    for r in by_comp:
        need = [] if r["competencies"] == "none" else r["competencies"].split("+")
        holders = [
            i for i, c in enumerate(instance.carers)
            if all(n in held.get(c.carer_id, {}) and (held[c.carer_id][n] is None or held[c.carer_id][n] >= week_start) for n in need)  # type: ignore[operator]
        ]  # fmt: skip
        r["carers_holding"] = len(holders)
        r["their_available_hours"] = round(float(total_avail[holders].sum()), 2) if holders else 0.0
    # Bottlenecks, worst first, with why.
    bottlenecks: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str, str], list[int]] = {}
    for g, grp in enumerate(groups):
        by_key.setdefault((grp.part, grp.area, grp.competencies), []).append(g)
    for r in detailed:
        if r["shortfall_hours"] <= 0.01:
            continue
        gs = by_key[(r["part"], r["area"], r["competencies"])]
        days_short = sorted({groups[g].day for g in gs if groups[g].demand_hours - covered[g] > 0.01})
        if r["eligible_supply_hours"] <= 0.01:
            why = "no carer who could take these visits is available then"
            if r["competencies"] != "none":
                unheld = [
                    c["competencies"] for c in by_comp
                    if c["competencies"] in r["competencies"].split("+") and c["carers_holding"] == 0
                ]  # fmt: skip
                if unheld:
                    why = f"no carer holds {' or '.join(unheld)}"
        elif r["eligible_supply_hours"] + 0.01 < r["demand_hours"]:
            why = f"eligible carers are available for only {r['eligible_supply_hours']:g} of {r['demand_hours']:g} hours"
        else:
            why = "the eligible carers' hours are needed by other visits at the same time"
        bottlenecks.append(dict(r, days=[d.strftime("%a %d %b") for d in days_short], why=why))
    demand = float(sum(g.demand_hours for g in groups))
    return CapacityReport(
        demand_hours=round(demand, 2),
        coverable_hours=round(float(covered.sum()), 2),
        rows=tuple(detailed),
        by_part=tuple(sorted(by_part, key=lambda r: DAY_PARTS.index(r["part"]))),
        by_area=tuple(by_area),
        by_competency=tuple(by_comp),
        bottlenecks=tuple(bottlenecks),
        lp_status=status,
        lp_seconds=lp_seconds,
        seconds=time.perf_counter() - t0,
        carers=n_c,
        visits=len(instance.visits),
    )


def _transport_lp(
    cap: np.ndarray,
    avail: np.ndarray,
    slot_of: np.ndarray,
    week_h: np.ndarray,
    demand: np.ndarray,
    time_limit: float | None,
) -> tuple[np.ndarray, str, float]:
    """Max carer-hours covered per group (PuLP + HiGHS). Returns (covered per group, status, s)."""
    import pulp  # an LP library, loaded only when the view's LP runs

    t0 = time.perf_counter()
    pc, pg = np.nonzero(cap > 1e-9)
    covered = np.zeros(len(demand))
    if not len(pc):
        return covered, "optimal", 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        prob = pulp.LpProblem("capacity", pulp.LpMaximize)
        f = [pulp.LpVariable(f"f{k}", 0, float(cap[c, g])) for k, (c, g) in enumerate(zip(pc, pg, strict=True))]
        prob += pulp.lpSum(f)
        by_group: dict[int, list[Any]] = {}
        by_carer_slot: dict[tuple[int, int], list[Any]] = {}
        by_carer: dict[int, list[Any]] = {}
        for k, (c, g) in enumerate(zip(pc, pg, strict=True)):
            by_group.setdefault(int(g), []).append(f[k])
            by_carer_slot.setdefault((int(c), int(slot_of[g])), []).append(f[k])
            by_carer.setdefault(int(c), []).append(f[k])
        for gi, xs in by_group.items():
            prob += pulp.lpSum(xs) <= float(demand[gi]), f"demand_{gi}"
        for (ci, si), xs in by_carer_slot.items():
            prob += pulp.lpSum(xs) <= float(avail[ci, si]), f"avail_{ci}_{si}"
        for ci, xs in by_carer.items():
            prob += pulp.lpSum(xs) <= float(week_h[ci]), f"week_{ci}"
        solver = pulp.HiGHS(msg=False, timeLimit=time_limit)
        if not solver.available():  # pragma: no cover - highspy is a dependency
            solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
        prob.solve(solver)
        status = pulp.LpStatus[prob.status].lower()
        for k, g in enumerate(pg):
            covered[g] += f[k].varValue or 0.0
    return np.minimum(covered, demand), status, time.perf_counter() - t0


# ---- CLI ---------------------------------------------------------------------------------------


def _fmt_table(rows: list[dict[str, Any]], cols: list[tuple[str, str]], limit: int | None = None) -> str:
    shown = rows[:limit] if limit else rows
    header = [h for _, h in cols]
    cells = [[("" if r.get(k) is None else (f"{r[k]:,.1f}" if isinstance(r[k], float) else str(r[k]))) for k, _ in cols] for r in shown]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for c in cells:
        lines.append("  ".join(v.rjust(w) if i >= 1 and v[:1].isdigit() else v.ljust(w) for i, (v, w) in enumerate(zip(c, widths, strict=True))))
    if limit and len(rows) > limit:
        lines.append(f"... and {len(rows) - limit} more")
    return "\n".join(lines)


def format_report(instance: Instance, report: CapacityReport, top: int = 15) -> str:
    share = report.coverable_hours / report.demand_hours * 100 if report.demand_hours else 100.0
    nums = [("demand_hours", "demand h"), ("eligible_supply_hours", "eligible supply h"),
            ("coverable_hours", "coverable h"), ("shortfall_hours", "short h")]  # fmt: skip
    out = [
        f"Capacity, week of {instance.settings.week_start}: {report.carers} carers, {report.visits} visits",
        f"Demand {report.demand_hours:,.1f} carer-hours; at most {report.coverable_hours:,.1f} can be covered "
        f"({share:.1f}%; LP {report.lp_status}, {report.lp_seconds:.1f} s).",
        "",
        "By day-part",
        _fmt_table(list(report.by_part), [("part", "day-part"), *nums]),
        "",
        "By competency",
        _fmt_table(list(report.by_competency), [("competencies", "competencies"), *nums, ("carers_holding", "carers holding")]),
        "",
        "By area",
        _fmt_table(list(report.by_area), [("area", "area"), *nums], limit=top),
        "",
    ]
    if report.bottlenecks:
        out.append("Bottlenecks (demand beyond what eligible carers can cover)")
        out.append(_fmt_table(list(report.bottlenecks), [("part", "day-part"), ("area", "area"), ("competencies", "competencies"),
                                                         ("demand_hours", "demand h"), ("shortfall_hours", "short h"), ("why", "why")], limit=top))  # fmt: skip
    else:
        out.append("No bottleneck: every day-part, area and competency can be covered.")
    return "\n".join(out)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance", help="instance folder (or .xlsx workbook)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--top", type=int, default=15, help="rows shown per long table (default 15)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds for the LP (default 60)")
    parser.add_argument("--bound", action="store_true",
                        help="also the LP upper bound on carer slots any rota can staff (solver.bounds)")  # fmt: skip


def run_command(args: argparse.Namespace) -> int:
    instance = load_instance(args.instance)
    el = compute_eligibility(instance)
    report = capacity_view(instance, el, time_limit=args.time_limit)
    bound = None
    if getattr(args, "bound", False):
        bound = capacity_bound(instance, el, time_limit=args.time_limit)
    if args.json:
        data = report.as_dict()
        if bound is not None:
            data["slot_bound"] = bound.as_dict()
        print(json.dumps(data, indent=2, default=str))
    else:
        print(format_report(instance, report, args.top))
        if bound is not None:
            print(
                f"\nNo rota can staff more than {bound.bound:,} of {bound.slots:,} carer slots "
                f"(LP bound, {bound.backend}, {bound.lp_seconds:.1f} s; "
                f"{len(bound.unreachable_visits)} visits no carer can ever take)."
            )
    return 0


__all__ = ["DAY_PARTS", "CapacityReport", "area_of", "capacity_view", "day_part_intervals", "format_report"]
