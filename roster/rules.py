"""The hard rules R1-R15 of the contract (``CONTRACT.md`` §3), one pure function per rule.

Each function says, in plain English, why the rule is broken, or returns ``None`` when it holds.
Per-row rules (R1-R9) look at one rota row: ``fn(instance, carer, visit, assignment, *,
previous=None, partners=(), travel=None)`` where ``previous`` is the carer's immediately previous
assignment (R6) and ``partners`` the other rows of the same visit (R4, 2:1); with no assignment
(``None``) they judge what does not depend on the start. Per-carer rules (R10-R15) look at the
carer's week: ``fn(instance, carer, rows, *, travel=None)`` with ``rows`` that carer's assignments;
their ``locate_*`` twins list every breach with the visit it is found at (the checker uses those).
``travel`` is the travel model (``roster.io.load_travel`` for a supplied travel.csv); without it,
the instance's default model.

Times are epoch minutes (real minutes since the week's first local midnight, ``roster.calendar``).
Working time of a visit is its duration plus its ``travel_min`` and occupies
``[start - travel_min, end)`` (contract §3).

Readings of the contract taken here (each the stricter of the plausible readings, so that a rota
passing these rules passes any fair checker):

* **Young worker.** R12 applies on each visit date the carer is under 18 (contract: "under 18 on the
  visit date"); its 8-hour cap applies to each local day on which the carer is under 18. The weekly
  limits (R10 40 h, R11 12 h rest, R14 48 h rest, R15 4.5 h / 30 min) apply to a carer under 18 on
  any day of the week (``Limits``).
* **R5 "touches no absence".** The visit ``[start, end]`` may not even share an instant with an
  absence: a visit ending at 12:00 touches an absence starting at 12:00.
* **R5 "inside one availability window".** One window is one ``availability.csv`` row: rows that
  touch or overlap are *not* merged (a visit 11:30-12:30 over rows 08:00-12:00 and 12:00-16:00 lies
  inside no single window), and a weekday row applies only to that day *of the week* (a Sunday row
  reaching past midnight does not cover the Monday the week starts on). ``availability_windows``.
* **R11 window and week edges.** For every start of work ``t`` (the start of each row's working
  time, travel included), the window is ``[t, t + 24 h)`` in real minutes. A rest is a gap between
  working intervals; only its part inside the window counts. The rota is the only record of work,
  so time after the carer's last working interval, including past the week's end, is rest; work of
  the previous week is not known, so no window starts before the first work of this rota.
* **R12 night.** "No work 22:00-06:00" covers working time, travel included.
* **R14.** Working time is clipped to the week ``[0, week_minutes)``; the rest may run from the
  week's first midnight or up to its last.
* **R15.** A duty is a maximal run of working intervals separated by gaps shorter than the daily
  rest (``daily_rest_hours``, 12 h under 18); its working time is the sum of its rows' working
  times; a duty of two or more rows over the limit must contain one gap of ``break_min`` between
  working intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol

from roster.calendar import DAY_NAMES, format_hhmm, parse_hhmm
from roster.model import Assignment, Carer, Instance, Visit, Window
from roster.travel import TravelModel

YOUNG_AGE = 18
YOUNG_NIGHT = (6 * 60, 22 * 60)
"""R12: a young worker's working time must stay inside 06:00-22:00 local."""
YOUNG_DAY_MAX_MIN = 8 * 60
YOUNG_WEEK_HOURS = 40.0
YOUNG_DAILY_REST_HOURS = 12.0
YOUNG_WEEKLY_REST_HOURS = 48.0
YOUNG_BREAK_AFTER_HOURS = 4.5
YOUNG_BREAK_MIN = 30
DAY_MIN = 24 * 60


# ---- shared helpers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The working-time limits that apply to one carer this week (R10, R11, R14, R15)."""

    young: bool
    max_week_min: int
    daily_rest_min: int
    weekly_rest_min: int
    break_after_min: int
    break_min: int


def _floor_min(hours: float) -> int:
    return int(math.floor(hours * 60 + 1e-9))


def _ceil_min(hours: float) -> int:
    return int(math.ceil(hours * 60 - 1e-9))


def is_young(carer: Carer, day: date) -> bool:
    """Under 18 in whole years on ``day`` (contract §3: ages on the visit date)."""
    return carer.age_on(day) < YOUNG_AGE


def young_in_week(instance: Instance, carer: Carer) -> bool:
    """Under 18 on any day of the week: the weekly young-worker limits apply."""
    return is_young(carer, instance.settings.week_start)


def limits(instance: Instance, carer: Carer) -> Limits:
    """The carer's weekly limits: the instance's, the carer's own cap, and the young-worker ones."""
    s = instance.settings
    young = young_in_week(instance, carer)
    week_hours = s.max_week_hours
    if carer.max_week_hours is not None:
        week_hours = min(week_hours, carer.max_week_hours)
    if young:
        week_hours = min(week_hours, YOUNG_WEEK_HOURS)
    return Limits(
        young=young,
        max_week_min=_floor_min(week_hours),
        daily_rest_min=_ceil_min(max(s.daily_rest_hours, YOUNG_DAILY_REST_HOURS) if young else s.daily_rest_hours),
        weekly_rest_min=_ceil_min(
            max(s.weekly_rest_hours, YOUNG_WEEKLY_REST_HOURS) if young else s.weekly_rest_hours
        ),
        break_after_min=_floor_min(
            min(s.break_after_hours, YOUNG_BREAK_AFTER_HOURS) if young else s.break_after_hours
        ),
        break_min=max(s.break_min, YOUNG_BREAK_MIN) if young else s.break_min,
    )


def travel_model(instance: Instance, travel: TravelModel | None = None) -> TravelModel:
    """The instance's travel model: a supplied matrix (travel.csv) if any, else the default.

    ``travel`` (e.g. ``roster.io.load_travel(folder, instance)``) wins when given. Otherwise the
    matrix is read from ``instance.travel_matrix`` when the instance carries one (a mapping
    (from place id, to place id) -> (miles, minutes)); place ids are a carer id for a home and a
    visit id (or, for a visit at the child's home, the child id) for a visit.
    """
    if travel is not None:
        return travel
    matrix = getattr(instance, "travel_matrix", None) or {}
    return TravelModel(instance.settings.travel, matrix)


def visit_place_ids(visit: Visit) -> tuple[str, ...]:
    """Ids a supplied travel matrix may use for a visit's place: the visit id, else the child id."""
    if visit.lat is not None and visit.lon is not None:
        return (visit.visit_id,)
    return (visit.visit_id, visit.child_id)


def _journey(
    instance: Instance,
    model: TravelModel,
    from_ids: tuple[str, ...],
    a: tuple[float, float],
    to_ids: tuple[str, ...],
    b: tuple[float, float],
) -> tuple[float, int]:
    for f in from_ids:
        for t in to_ids:
            if (f, t) in model.matrix:
                miles, minutes = model.matrix[(f, t)]
                return float(miles), int(minutes)
    return model.journey(a, b)


def journey_from_home(
    instance: Instance, carer: Carer, visit: Visit, travel: TravelModel | None = None
) -> tuple[float, int]:
    """(miles, minutes) from the carer's home to the visit's place."""
    model = travel_model(instance, travel)
    return _journey(
        instance,
        model,
        (carer.carer_id,),
        (carer.lat, carer.lon),
        visit_place_ids(visit),
        instance.visit_location(visit),
    )


def journey_between(
    instance: Instance, a: Visit, b: Visit, travel: TravelModel | None = None
) -> tuple[float, int]:
    """(miles, minutes) from visit a's place to visit b's place."""
    model = travel_model(instance, travel)
    if a.visit_id == b.visit_id:
        return 0.0, 0
    return _journey(
        instance,
        model,
        visit_place_ids(a),
        instance.visit_location(a),
        visit_place_ids(b),
        instance.visit_location(b),
    )


def journey_into(
    instance: Instance,
    carer: Carer,
    previous: Assignment | None,
    visit_index: int,
    start: int,
    travel: TravelModel | None = None,
) -> tuple[str, float, int]:
    """R13: ``(travel_from, miles, minutes)`` of the journey into visit ``visit_index`` at ``start``.

    The carer comes from ``previous`` (their immediately previous assignment) when it ended less
    than ``return_home_gap_min`` before ``start``, else from home.
    """
    model = travel_model(instance, travel)
    visit = instance.visits[visit_index]
    if previous is not None and start - previous.end < instance.settings.return_home_gap_min:
        miles, minutes = journey_between(instance, instance.visit(previous.visit_id), visit, model)
        return previous.visit_id, miles, minutes
    miles, minutes = journey_from_home(instance, carer, visit, model)
    return "home", miles, minutes


def minutes_outside_band(instance: Instance, start: int, end: int, lo: int, hi: int) -> int:
    """Minutes of [start, end) outside the daily wall-clock band [lo, hi) (R7, R12).

    ``Clock.minutes_outside_band``, with a fast path for the common case of an interval inside
    one local day with no change of UTC offset (the wall clock then runs with real minutes).
    """
    if end <= start:
        return 0
    clock = instance.clock
    first, last = clock.datetime_of(start), clock.datetime_of(end)
    if first.utcoffset() == last.utcoffset() and (
        first.date() == last.date() or (last.date() - first.date()).days == 1 and last.hour == last.minute == 0
    ):
        s = first.hour * 60 + first.minute
        e = s + (end - start)
        return (e - s) - max(0, min(e, hi) - max(s, lo))
    return clock.minutes_outside_band(start, end, lo, hi)


def availability_windows(instance: Instance) -> dict[str, tuple[Window, ...]]:
    """R5's windows per carer, read strictly: one window per ``availability.csv`` row, unmerged.

    A weekday row applies to each such day of the week only; an ISO-date row to its date; a row
    whose end is not after its start runs past midnight. Windows nested inside another add
    nothing to "inside one window" and are dropped, so what is left is sorted with both starts and
    ends strictly increasing (windows may still overlap). Cached on the instance.
    """
    cached = instance.__dict__.get("_r5_availability_windows")
    if cached is not None:
        return cached
    week = [instance.settings.week_start + timedelta(days=d) for d in range(7)]
    clock = instance.clock
    table: dict[str, list[Window]] = {c.carer_id: [] for c in instance.carers}
    for row in instance.availability:
        s, e = parse_hhmm(row.start), parse_hhmm(row.end)
        if row.day in DAY_NAMES:
            days = [d for d in week if DAY_NAMES[d.weekday()] == row.day]
        else:
            days = [date.fromisoformat(row.day)]
        for d in days:
            end_day = d if e > s else d + timedelta(days=1)
            table.setdefault(row.carer_id, []).append(Window(clock.minute_of(d, s), clock.minute_of(end_day, e)))
    out = {k: drop_nested(v) for k, v in table.items()}
    instance.__dict__["_r5_availability_windows"] = out
    return out


def drop_nested(windows: Sequence[Window]) -> tuple[Window, ...]:
    """Sorted windows without those lying inside another (starts and ends strictly increase)."""
    kept: list[Window] = []
    for w in sorted(windows, key=lambda w: (w.start, -w.end)):
        if w.end <= w.start or (kept and w.end <= kept[-1].end):
            continue
        kept.append(w)
    return tuple(kept)


def working_interval(a: Assignment) -> tuple[int, int]:
    """[start - travel_min, end): the working time of a row (contract §3)."""
    return a.start - a.travel_min, a.end


def working_minutes(a: Assignment) -> int:
    return (a.end - a.start) + a.travel_min


def _merge(intervals: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _sorted_rows(rows: Sequence[Assignment]) -> list[Assignment]:
    return sorted(rows, key=lambda a: (a.start, a.visit_id))


def format_when(instance: Instance, minute: int) -> str:
    moment = instance.clock.datetime_of(minute)
    return moment.strftime("%a %d %b %H:%M")


def format_span(instance: Instance, start: int, end: int) -> str:
    return f"{format_when(instance, start)}-{format_hhmm(instance.clock.local_minute_of_day(end))}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def format_hours(minutes: float) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".") + " h"


# ---- per-row rules R1-R9 ----------------------------------------------------------------


def r1_vetting(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R1 vetting: an enhanced DBS with the children's barred list, current on the visit date.

    Source: 000 §5.1, 002 §10.1, 003 §16.4. Current means on the Update Service, or the visit
    date within ``dbs_max_age_years`` of ``dbs_issued`` (and not before it). Read strictly: the
    certificate is valid for that many years *after* issue, so it has lapsed on the anniversary
    itself (issued 2023-11-23: current to 2026-11-22); a 29 February issue lapses on 28 February.
    """
    if carer.dbs_check != "enhanced_barred_children":
        return f"DBS check is {carer.dbs_check!r}; an enhanced check with the children's barred list is required"
    if carer.dbs_update_service:
        return None
    if carer.dbs_issued is None:
        return "DBS has no issue date and is not on the Update Service"
    if visit.date < carer.dbs_issued:
        return f"DBS issued {carer.dbs_issued} is after the visit date {visit.date}"
    years = instance.settings.dbs_max_age_years
    expiry = _add_years(carer.dbs_issued, years)
    if visit.date >= expiry:
        return (
            f"DBS issued {carer.dbs_issued} is {years} years old or more on {visit.date} "
            "and not on the Update Service"
        )
    return None


def r2_training(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R2 training: every mandatory competency and every visit competency valid on the visit date.

    Source: 002 §10.1, §10.4. The visit date is the ``date`` column (an overnight visit uses the
    date it starts on); a competency is valid on or before its ``expires`` date.
    """
    held = instance.training_by_carer.get(carer.carer_id, {})
    missing: list[str] = []
    for competency in dict.fromkeys((*instance.settings.mandatory_training, *visit.competencies)):
        if competency not in held:
            missing.append(f"does not hold {competency}")
        else:
            expires = held[competency]
            if expires is not None and visit.date > expires:
                missing.append(f"{competency} expired {expires}")
    if missing:
        return "; ".join(missing) + f" (needed valid on {visit.date})"
    return None


def r3_family_wishes(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R3 family wishes: the required gender, and no carer the family has refused.

    Source: 003 §8.11, §8.12.
    """
    child = instance.child(visit.child_id)
    if carer.carer_id in child.excluded_carers:
        return "the family has asked for this carer not to come"
    if child.gender_required and carer.gender != child.gender_required:
        return f"the family requires a carer of gender {child.gender_required}; this carer is {carer.gender}"
    return None


def r4_timing(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R4 timing: start within the flex window, end = start + duration, a 2:1 starts together
    with two different carers.

    Source: 003 §1.6, §8.15, 002 §15.3.
    """
    if a is None:
        return None
    planned = instance.planned_start[instance.visit_index[visit.visit_id]]
    if not planned - visit.flex_min <= a.start <= planned + visit.flex_min:
        return (
            f"starts {format_when(instance, a.start)}, outside the window "
            f"{format_when(instance, planned - visit.flex_min)} to {format_when(instance, planned + visit.flex_min)}"
        )
    if a.end != a.start + visit.duration_min:
        return f"lasts {a.end - a.start} min but the visit is {visit.duration_min} min"
    for other in partners:
        if other.carer_id == a.carer_id:
            return "the same carer is booked twice on this 2:1 visit"
        if other.start != a.start:
            return (
                f"2:1 partner {other.carer_id} starts {format_when(instance, other.start)}, "
                f"not together at {format_when(instance, a.start)}"
            )
    return None


def r5_availability(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R5 availability: the visit lies inside one availability window and touches no absence.

    One window is one availability row, on the days of the week (``availability_windows``): a
    visit spanning two touching rows lies inside neither, the strict reading of "one window".
    """
    if a is None:
        return None
    windows = availability_windows(instance).get(carer.carer_id, ())
    if not any(w.start <= a.start and a.end <= w.end for w in windows):
        return f"not available for the whole of {format_span(instance, a.start, a.end)}"
    for absence in instance.absences_by_carer.get(carer.carer_id, ()):
        if absence.start <= a.end and a.start <= absence.end:
            return (
                f"absent {format_span(instance, absence.start, absence.end)}, touching "
                f"{format_span(instance, a.start, a.end)}"
            )
    return None


def r6_no_double_booking(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R6 no double booking: no overlap with the carer's previous visit, and time to travel from it.

    Source: 003 §1.4-1.5 (Ethical Care Charter: no rushed visits). ``previous`` is the carer's
    immediately previous row (by start). The travel minutes are between the two visits' places,
    whatever R13 says the carer travels from.
    """
    if a is None or previous is None:
        return None
    if previous.end > a.start:
        return (
            f"overlaps {previous.visit_id} ({format_span(instance, previous.start, previous.end)})"
        )
    _, minutes = journey_between(instance, instance.visit(previous.visit_id), visit, travel)
    if a.start < previous.end + minutes:
        return (
            f"starts {a.start - previous.end} min after {previous.visit_id} ends "
            f"but the journey takes {minutes} min"
        )
    return None


def r7_overnight(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R7 overnight: a visit with any minute outside ``core_hours`` needs ``overnight_ok``.

    Source: 003 §1.6, §5.5, 002 §5.6.
    """
    if a is None or carer.overnight_ok:
        return None
    lo, hi = instance.core_band
    outside = minutes_outside_band(instance, a.start, a.end, lo, hi)
    if outside:
        return (
            f"{outside} min of {format_span(instance, a.start, a.end)} fall outside core hours "
            f"{instance.settings.core_hours[0]}-{instance.settings.core_hours[1]} and the carer "
            "does not do overnight work"
        )
    return None


def r8_driving(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R8 driving: a visit that needs a driver or plans trip miles needs a carer who drives.

    Source: 002 §11.4, 000 Part 2 §3.4.
    """
    if carer.drives:
        return None
    if visit.needs_driver:
        return "the visit needs a driver and the carer does not drive"
    if visit.trip_miles > 0:
        return f"the visit plans {visit.trip_miles:g} trip miles and the carer does not drive"
    return None


def r9_mileage_cap(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment | None = None,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> str | None:
    """R9 mileage cap: travel miles into the session + trip miles <= the child's cap, else the
    instance's.

    Source: 002 §5.8. Miles are compared unrounded, and on the larger of the miles written in the
    row and the journey the travel model gives (R13): a checker may read either, and 20.004 miles
    is over a 20-mile cap even though it prints as 20.00 at 2 dp.
    """
    if a is None:
        miles = journey_from_home(instance, carer, visit, travel)[0]
    else:
        index = instance.visit_index.get(visit.visit_id)
        modelled = (
            journey_into(instance, carer, previous, index, a.start, travel)[1] if index is not None else 0.0
        )
        miles = max(a.travel_miles, modelled)
    cap = instance.child_cap(instance.child(visit.child_id))
    total = miles + visit.trip_miles
    if total > cap + 1e-9:
        return (
            f"{miles:.4f} travel miles + {visit.trip_miles:g} trip miles = {total:.4f} "
            f"exceeds the cap of {cap:g} miles"
        )
    return None


# ---- per-carer week rules R10-R15 -------------------------------------------------------


def locate_r10(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> list[tuple[str, str]]:
    rows = _sorted_rows(rows)
    if not rows:
        return []
    lim = limits(instance, carer)
    total = sum(working_minutes(a) for a in rows)
    if total > lim.max_week_min:
        young = " (under 18)" if lim.young else ""
        return [
            (
                rows[-1].visit_id,
                f"works {format_hours(total)} this week (visits + travel), over the limit of "
                f"{format_hours(lim.max_week_min)}{young}",
            )
        ]
    return []


def locate_r11(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> list[tuple[str, str]]:
    rows = _sorted_rows(rows)
    if not rows:
        return []
    lim = limits(instance, carer)
    merged = _merge([working_interval(a) for a in rows])
    ends = [e for _, e in merged]
    nexts = [s for s, _ in merged[1:]] + [math.inf]
    found: list[tuple[str, str]] = []
    for a in rows:
        t = a.start - a.travel_min
        horizon = t + DAY_MIN
        best = 0.0
        for gap_start, gap_end in zip(ends, nexts, strict=True):
            if gap_start < t or gap_start >= horizon:
                continue
            best = max(best, min(gap_end, horizon) - gap_start)
        if best < lim.daily_rest_min:
            found.append(
                (
                    a.visit_id,
                    f"the 24 h from {format_when(instance, t)} hold at most {format_hours(best)} of unbroken rest; "
                    f"{format_hours(lim.daily_rest_min)} are owed" + (" (under 18)" if lim.young else ""),
                )
            )
    return found


def locate_r12(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> list[tuple[str, str]]:
    if not young_in_week(instance, carer):
        return []  # R12 applies only on days the carer is under 18, and none is in this week
    rows = _sorted_rows(rows)
    found: list[tuple[str, str]] = []
    clock = instance.clock
    lo, hi = YOUNG_NIGHT
    per_day: dict[date, int] = {}
    first_row: dict[date, str] = {}
    for a in rows:
        visit = instance.visit(a.visit_id)
        ws, we = working_interval(a)
        if is_young(carer, visit.date):
            night = minutes_outside_band(instance, ws, we, lo, hi)
            if night:
                found.append(
                    (
                        a.visit_id,
                        f"under 18 and works {night} min between 22:00 and 06:00 "
                        f"({format_span(instance, ws, we)}, travel included)",
                    )
                )
        # split working time over local days
        day = clock.local_date(ws)
        while True:
            day_lo = clock.minute_of(day, 0)
            day_hi = clock.minute_of(day + timedelta(days=1), 0)
            s, e = max(ws, day_lo), min(we, day_hi)
            if s < e:
                per_day[day] = per_day.get(day, 0) + (e - s)
                first_row.setdefault(day, a.visit_id)
            if day_hi >= we:
                break
            day += timedelta(days=1)
    for day, minutes in sorted(per_day.items()):
        if is_young(carer, day) and minutes > YOUNG_DAY_MAX_MIN:
            found.append(
                (
                    first_row[day],
                    f"under 18 and works {format_hours(minutes)} on {day:%a %d %b} (visits + travel), "
                    f"over the 8 h a day limit",
                )
            )
    return found


def locate_r13(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> list[tuple[str, str]]:
    rows = _sorted_rows(rows)
    model = travel_model(instance, travel)
    found: list[tuple[str, str]] = []
    previous: Assignment | None = None
    for a in rows:
        index = instance.visit_index.get(a.visit_id)
        if index is None:
            previous = a
            continue
        origin, miles, minutes = journey_into(instance, carer, previous, index, a.start, model)
        problems = []
        if a.travel_from != origin:
            problems.append(f"travel_from is {a.travel_from!r} but should be {origin!r}")
        if abs(a.travel_miles - miles) > 0.01 + 1e-9:
            problems.append(f"travel_miles is {a.travel_miles:.2f} but the journey is {miles:.2f}")
        if a.travel_min != minutes:
            problems.append(f"travel_min is {a.travel_min} but the journey takes {minutes}")
        if problems:
            found.append((a.visit_id, "; ".join(problems)))
        previous = a
    return found


def locate_r14(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> list[tuple[str, str]]:
    rows = _sorted_rows(rows)
    if not rows:
        return []
    lim = limits(instance, carer)
    week_end = instance.clock.week_minutes
    clipped = [
        (max(s, 0), min(e, week_end)) for s, e in (working_interval(a) for a in rows)
    ]
    merged = _merge([(s, e) for s, e in clipped if s < e])
    edges = [0] + [x for iv in merged for x in iv] + [week_end]
    best = max((edges[i + 1] - edges[i] for i in range(0, len(edges), 2)), default=week_end)
    if best < lim.weekly_rest_min:
        return [
            (
                rows[0].visit_id,
                f"the longest unbroken rest in the week is {format_hours(best)}; "
                f"{format_hours(lim.weekly_rest_min)} are owed" + (" (under 18)" if lim.young else ""),
            )
        ]
    return []


def duties(rows: Sequence[Assignment], daily_rest_min: int) -> list[list[Assignment]]:
    """R15: split a carer's rows into duties, runs of working time with no gap of a daily rest."""
    out: list[list[Assignment]] = []
    reach = -math.inf
    for a in sorted(rows, key=lambda r: (working_interval(r), r.visit_id)):
        s, e = working_interval(a)
        if out and s - reach < daily_rest_min:
            out[-1].append(a)
            reach = max(reach, e)
        else:
            out.append([a])
            reach = e
    return out


def locate_r15(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> list[tuple[str, str]]:
    lim = limits(instance, carer)
    found: list[tuple[str, str]] = []
    for duty in duties(rows, lim.daily_rest_min):
        if len(duty) < 2:
            continue
        total = sum(working_minutes(a) for a in duty)
        if total <= lim.break_after_min:
            continue
        merged = _merge([working_interval(a) for a in duty])
        longest = max((merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)), default=0)
        if longest < lim.break_min:
            first = min(duty, key=lambda r: r.start)
            last = max(duty, key=lambda r: r.end)
            found.append(
                (
                    first.visit_id,
                    f"a duty of {len(duty)} visits and {format_hours(total)} working time "
                    f"({format_span(instance, first.start - first.travel_min, last.end)}) has no break of "
                    f"{lim.break_min} min (longest gap {longest} min)"
                    + (" (under 18)" if lim.young else ""),
                )
            )
    return found


def _first(found: list[tuple[str, str]]) -> str | None:
    return f"{found[0][0]}: {found[0][1]}" if found else None


def r10_weekly_hours(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> str | None:
    """R10 weekly hours: visit + travel minutes <= min(carer, instance) ``max_week_hours``, 40 h
    under 18.

    Source: Working Time Regulations 1998 (reg. 4, 5A).
    """
    return _first(locate_r10(instance, carer, rows, travel=travel))


def r11_daily_rest(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> str | None:
    """R11 daily rest: from each start of work the next 24 h hold an unbroken rest of
    ``daily_rest_hours`` (12 h under 18).

    Source: WTR 1998 reg. 10. See the module docstring for the window and the week's edges.
    """
    return _first(locate_r11(instance, carer, rows, travel=travel))


def r12_young_workers(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> str | None:
    """R12 young workers: under 18 on the visit date, no working time 22:00-06:00 and at most 8 h
    of working time per local day.

    Source: WTR 1998 reg. 5A, 6A.
    """
    return _first(locate_r12(instance, carer, rows, travel=travel))


def r13_travel_origin(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> str | None:
    """R13 travel origin: ``travel_from`` is the previous visit when it ended less than
    ``return_home_gap_min`` before, else home; miles (to 0.01) and minutes follow the travel model.

    Source: contract §3 (no seed clause).
    """
    return _first(locate_r13(instance, carer, rows, travel=travel))


def r14_weekly_rest(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> str | None:
    """R14 weekly rest: an unbroken rest of ``weekly_rest_hours`` (48 h under 18) between the
    week's first midnight and its last, free of any working time.

    Source: WTR 1998 reg. 11.
    """
    return _first(locate_r14(instance, carer, rows, travel=travel))


def r15_rest_break(
    instance: Instance,
    carer: Carer,
    rows: Sequence[Assignment],
    *,
    travel: TravelModel | None = None,
) -> str | None:
    """R15 rest break: a duty of two or more visits with more than ``break_after_hours`` of working
    time (4.5 h under 18) holds a gap of ``break_min`` (30 min under 18) free of visits and travel.

    Source: WTR 1998 reg. 12, 12A. A one-visit duty takes its break inside the session.
    """
    return _first(locate_r15(instance, carer, rows, travel=travel))


# ---- the rule table -----------------------------------------------------------------------


class RowRule(Protocol):
    def __call__(
        self,
        instance: Instance,
        carer: Carer,
        visit: Visit,
        a: Assignment | None = None,
        *,
        previous: Assignment | None = None,
        partners: Sequence[Assignment] = (),
        travel: TravelModel | None = None,
    ) -> str | None: ...


Locator = Callable[..., list[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    """One hard rule of the contract. ``scope`` is ``row`` (R1-R9) or ``week`` (R10-R15)."""

    code: str
    name: str
    clause: str
    scope: Literal["row", "week"]
    function: Callable[..., str | None]
    locate: Locator | None = None
    """Week rules: every breach as (visit_id, reason)."""

    @property
    def bit(self) -> int:
        """This rule's bit in ``Eligibility.reason_codes``."""
        return 1 << (int(self.code[1:]) - 1)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


RULES: tuple[Rule, ...] = (
    Rule("R1", "vetting", "000 §5.1, 002 §10.1, 003 §16.4", "row", r1_vetting),
    Rule("R2", "training", "002 §10.1, §10.4", "row", r2_training),
    Rule("R3", "family wishes", "003 §8.11, §8.12", "row", r3_family_wishes),
    Rule("R4", "timing", "003 §1.6, §8.15, 002 §15.3", "row", r4_timing),
    Rule("R5", "availability", "contract §3", "row", r5_availability),
    Rule("R6", "no double booking", "003 §1.4-1.5", "row", r6_no_double_booking),
    Rule("R7", "overnight", "003 §1.6, §5.5, 002 §5.6", "row", r7_overnight),
    Rule("R8", "driving", "002 §11.4, 000 Part 2 §3.4", "row", r8_driving),
    Rule("R9", "mileage cap", "002 §5.8", "row", r9_mileage_cap),
    Rule("R10", "weekly hours", "WTR 1998 reg. 4, 5A", "week", r10_weekly_hours, locate_r10),
    Rule("R11", "daily rest", "WTR 1998 reg. 10", "week", r11_daily_rest, locate_r11),
    Rule("R12", "young workers", "WTR 1998 reg. 5A, 6A", "week", r12_young_workers, locate_r12),
    Rule("R13", "travel origin", "contract §3", "week", r13_travel_origin, locate_r13),
    Rule("R14", "weekly rest", "WTR 1998 reg. 11", "week", r14_weekly_rest, locate_r14),
    Rule("R15", "rest break", "WTR 1998 reg. 12, 12A", "week", r15_rest_break, locate_r15),
)

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}


def iter_row_reasons(
    instance: Instance,
    carer: Carer,
    visit: Visit,
    a: Assignment,
    *,
    previous: Assignment | None = None,
    partners: Sequence[Assignment] = (),
    travel: TravelModel | None = None,
) -> Iterator[tuple[Rule, str]]:
    """Every per-row rule this row breaks, with why."""
    for rule in RULES:
        if rule.scope == "row":
            reason = rule.function(
                instance, carer, visit, a, previous=previous, partners=partners, travel=travel
            )
            if reason:
                yield rule, reason
