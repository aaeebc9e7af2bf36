"""The domain model: a frozen, validated weekly instance and the rota made for it.

Records mirror the contract's CSV files (``../shared/design/CONTRACT.md`` §1-2) one field per
column, so that writing an instance back out is lossless. Everything derived (epoch minutes,
id -> index maps, expanded availability windows, valid competencies) is computed once, lazily,
on the frozen ``Instance``. Edits make a new instance with ``dataclasses.replace``.

Times inside roster are integer *real* minutes since the week's first local midnight; see
``roster.calendar.Clock``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, Literal

from roster.calendar import DAY_NAMES, Clock

Gender = Literal["F", "M", "X"]
DBS_LEVELS: tuple[str, ...] = ("enhanced_barred_children", "enhanced", "standard", "basic", "none")
SPECS: tuple[str, ...] = ("generic_home_care", "complex_home_care", "community_support")
KINDS: tuple[str, ...] = ("home", "community")


@dataclass(frozen=True)
class Travel:
    """The contract's default travel model: great-circle miles x road factor at a speed."""

    road_factor: float = 1.3
    speed_mph: float = 20.0


@dataclass(frozen=True)
class Settings:
    """``instance.json``. Defaults are the contract's."""

    week_start: date
    name: str = ""
    timezone: str = "Europe/London"
    core_hours: tuple[str, str] = ("06:30", "22:30")
    bank_holidays: tuple[date, ...] = ()
    mileage_cap_miles: float = 20.0
    travel: Travel = field(default_factory=Travel)
    return_home_gap_min: int = 120
    dbs_max_age_years: int = 3
    mandatory_training: tuple[str, ...] = ("safeguarding_children",)
    max_week_hours: float = 48.0
    daily_rest_hours: float = 11.0
    weekly_rest_hours: float = 24.0
    break_after_hours: float = 6.0
    break_min: int = 20
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Keys of instance.json the contract does not name, kept so a round trip loses nothing."""


@dataclass(frozen=True)
class Carer:
    carer_id: str
    name: str
    gender: Gender
    date_of_birth: date
    lat: float
    lon: float
    drives: bool
    dbs_check: str
    dbs_issued: date | None
    dbs_update_service: bool
    languages: tuple[str, ...] = ()
    culture: str = ""
    overnight_ok: bool = False
    max_week_hours: float | None = None
    contracted_hours: float = 0.0
    hourly_cost: float = 0.0
    agency: bool = False

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day`` (contract §3: ages are whole years on the visit date)."""
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


@dataclass(frozen=True)
class Training:
    carer_id: str
    competency: str
    expires: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.expires is None or day <= self.expires


@dataclass(frozen=True)
class Availability:
    """One availability row. ``day`` is ``Mon``..``Sun`` or an ISO date string."""

    carer_id: str
    day: str
    start: str
    end: str


@dataclass(frozen=True)
class Absence:
    carer_id: str
    start: datetime
    """Wall-clock (naive) in the instance's time zone, as written in absences.csv."""
    end: datetime


@dataclass(frozen=True)
class Child:
    child_id: str
    name: str
    date_of_birth: date
    lat: float
    lon: float
    commissioner: str
    spec: str
    gender_required: str = ""
    gender_preferred: str = ""
    language: str = ""
    culture: str = ""
    excluded_carers: tuple[str, ...] = ()
    mileage_cap_miles: float | None = None
    max_carers_week: int | None = None

    @property
    def continuity_target(self) -> int:
        """The family's target of distinct carers in the week (contract: blank = 3)."""
        return 3 if self.max_carers_week is None else self.max_carers_week


@dataclass(frozen=True)
class Visit:
    visit_id: str
    child_id: str
    date: date
    start: str
    """Planned wall-clock start ``HH:MM``."""
    duration_min: int
    flex_min: int = 0
    carers: int = 1
    kind: str = "home"
    needs_driver: bool = False
    trip_miles: float = 0.0
    competencies: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class History:
    child_id: str
    carer_id: str
    hours: float


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) of epoch minutes."""

    start: int
    end: int

    def contains(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True, eq=False)
class Instance:
    """A week's rostering problem. Frozen: edits make a new one (``dataclasses.replace``)."""

    settings: Settings
    carers: tuple[Carer, ...]
    children: tuple[Child, ...]
    visits: tuple[Visit, ...]
    training: tuple[Training, ...] = ()
    availability: tuple[Availability, ...] = ()
    absences: tuple[Absence, ...] = ()
    history: tuple[History, ...] = ()

    # ---- derived, computed once -------------------------------------------------------
    @cached_property
    def clock(self) -> Clock:
        return Clock(self.settings.week_start, self.settings.timezone)

    @cached_property
    def core_band(self) -> tuple[int, int]:
        """Core hours as minutes after midnight (R7)."""
        from roster.calendar import parse_hhmm

        return parse_hhmm(self.settings.core_hours[0]), parse_hhmm(self.settings.core_hours[1])

    @cached_property
    def carer_index(self) -> dict[str, int]:
        return {c.carer_id: i for i, c in enumerate(self.carers)}

    @cached_property
    def child_index(self) -> dict[str, int]:
        return {c.child_id: i for i, c in enumerate(self.children)}

    @cached_property
    def visit_index(self) -> dict[str, int]:
        return {v.visit_id: i for i, v in enumerate(self.visits)}

    def carer(self, carer_id: str) -> Carer:
        return self.carers[self.carer_index[carer_id]]

    def child(self, child_id: str) -> Child:
        return self.children[self.child_index[child_id]]

    def visit(self, visit_id: str) -> Visit:
        return self.visits[self.visit_index[visit_id]]

    @cached_property
    def planned_start(self) -> tuple[int, ...]:
        """Epoch minute of each visit's planned start, in visit order."""
        from roster.calendar import parse_hhmm

        return tuple(self.clock.minute_of(v.date, parse_hhmm(v.start)) for v in self.visits)

    def visit_location(self, visit: Visit) -> tuple[float, float]:
        """Where the visit happens: its own lat/lon, else the child's home."""
        if visit.lat is not None and visit.lon is not None:
            return visit.lat, visit.lon
        child = self.child(visit.child_id)
        return child.lat, child.lon

    def child_cap(self, child: Child) -> float:
        """R9: the child's agreed mileage cap, else the instance's."""
        return (
            self.settings.mileage_cap_miles
            if child.mileage_cap_miles is None
            else child.mileage_cap_miles
        )

    @cached_property
    def training_by_carer(self) -> dict[str, dict[str, date | None]]:
        """carer_id -> competency -> expiry (None = never). The latest expiry wins."""
        table: dict[str, dict[str, date | None]] = {c.carer_id: {} for c in self.carers}
        for row in self.training:
            held = table.setdefault(row.carer_id, {})
            if row.competency in held:
                old = held[row.competency]
                if old is None or (row.expires is not None and row.expires <= old):
                    continue
            held[row.competency] = row.expires
        return table

    @cached_property
    def windows_by_carer(self) -> dict[str, tuple[Window, ...]]:
        """Availability rows expanded into epoch-minute windows over the week (and its edges).

        A weekday row applies to every such day from the day before the week (so a Sunday-night
        window reaching into Monday counts) to the day after it. A window whose end is not after
        its start runs past midnight into the next day.
        """
        from roster.calendar import parse_hhmm

        ws = self.settings.week_start
        days = [ws + timedelta(days=d) for d in range(-1, 8)]
        table: dict[str, list[Window]] = {c.carer_id: [] for c in self.carers}
        for row in self.availability:
            s, e = parse_hhmm(row.start), parse_hhmm(row.end)
            if row.day in DAY_NAMES:
                dates = [d for d in days if DAY_NAMES[d.weekday()] == row.day]
            else:
                dates = [date.fromisoformat(row.day)]
            for d in dates:
                start = self.clock.minute_of(d, s)
                end_day = d if e > s else d + timedelta(days=1)
                end = self.clock.minute_of(end_day, e)
                table.setdefault(row.carer_id, []).append(Window(start, end))
        return {k: _merge(v) for k, v in table.items()}

    @cached_property
    def absences_by_carer(self) -> dict[str, tuple[Window, ...]]:
        table: dict[str, list[Window]] = {c.carer_id: [] for c in self.carers}
        for row in self.absences:
            table.setdefault(row.carer_id, []).append(
                Window(
                    self.clock.minute_of_datetime(row.start), self.clock.minute_of_datetime(row.end)
                )
            )
        return {k: tuple(sorted(v, key=lambda w: w.start)) for k, v in table.items()}

    @cached_property
    def history_hours(self) -> dict[tuple[str, str], float]:
        """(child_id, carer_id) -> hours worked together over the previous four weeks."""
        table: dict[tuple[str, str], float] = {}
        for row in self.history:
            key = (row.child_id, row.carer_id)
            table[key] = table.get(key, 0.0) + row.hours
        return table

    def knows(self, child_id: str, carer_id: str) -> bool:
        """The carer is known to the child: they worked together in the history's four weeks
        (contract §4.2: known carers before strangers)."""
        return self.history_hours.get((child_id, carer_id), 0.0) > 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instance):
            return NotImplemented
        return (
            self.settings == other.settings
            and self.carers == other.carers
            and self.children == other.children
            and self.visits == other.visits
            and self.training == other.training
            and self.availability == other.availability
            and self.absences == other.absences
            and self.history == other.history
        )


def _merge(windows: list[Window]) -> tuple[Window, ...]:
    """Sort and merge touching/overlapping windows, so a visit spanning two rows fits one."""
    merged: list[Window] = []
    for w in sorted(windows, key=lambda w: (w.start, w.end)):
        if merged and w.start <= merged[-1].end:
            if w.end > merged[-1].end:
                merged[-1] = Window(merged[-1].start, w.end)
        else:
            merged.append(w)
    return tuple(merged)


# ---- the rota ------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """One carer on one visit (rota.csv row). Times are epoch minutes; see ``Clock.iso``."""

    visit_id: str
    carer_id: str
    start: int
    end: int
    travel_from: str = "home"
    travel_miles: float = 0.0
    travel_min: int = 0


@dataclass(frozen=True)
class Unassigned:
    """A visit not fully staffed (unassigned.csv row)."""

    visit_id: str
    missing: int
    reasons: str


@dataclass(frozen=True)
class Rota:
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)

    def by_carer(self) -> dict[str, list[Assignment]]:
        """carer_id -> that carer's assignments sorted by start."""
        table: dict[str, list[Assignment]] = {}
        for a in self.assignments:
            table.setdefault(a.carer_id, []).append(a)
        for rows in table.values():
            rows.sort(key=lambda a: (a.start, a.visit_id))
        return table

    def by_visit(self) -> dict[str, list[Assignment]]:
        table: dict[str, list[Assignment]] = {}
        for a in self.assignments:
            table.setdefault(a.visit_id, []).append(a)
        return table
