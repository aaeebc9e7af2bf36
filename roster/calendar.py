"""Time handling: one clock per instance, real minutes since the week's first midnight.

Every instant inside roster is an ``int``: the number of *real* (elapsed) minutes since
Monday 00:00 wall-clock in the instance's time zone. A visit's duration is therefore
``end - start`` even across the October or March clock change, and an overnight visit is just
an interval that crosses a local midnight. Wall-clock is used only at the edges: reading the
contract's ``date`` + ``HH:MM`` columns, writing ISO 8601 with the UTC offset, and asking
whether a minute lies inside ``core_hours`` (R7) or the young-worker night (R12).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def parse_hhmm(text: str) -> int:
    """``"HH:MM"`` -> minutes after midnight (0..1439). Raises ``ValueError`` when malformed."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a time in HH:MM form")
    hours, minutes = int(parts[0]), int(parts[1])
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 23:59")
    return hours * 60 + minutes


def format_hhmm(minute_of_day: int) -> str:
    """Minutes after midnight -> ``"HH:MM"``."""
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


@dataclass(frozen=True)
class Clock:
    """Converts between wall-clock in ``timezone`` and real minutes since ``week_start`` 00:00."""

    week_start: date
    timezone: str = "Europe/London"

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def epoch(self) -> datetime:
        """The instant of the week's first midnight, in UTC."""
        return datetime.combine(self.week_start, time(0, 0), self.zone).astimezone(UTC)

    @cached_property
    def week_minutes(self) -> int:
        """Real minutes in the week: 10080, or 10020/10140 in a clock-change week."""
        return self.minute_of(self.week_start + timedelta(days=7), 0)

    def minute_of(self, day: date, minute_of_day: int) -> int:
        """Real minutes since the epoch of wall-clock ``day`` + ``minute_of_day``.

        A wall-clock time that happens twice (October) is read as its first occurrence; one
        that does not exist (March) is read with the offset in force before the change.
        """
        local = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), self.zone)
        return int((local.astimezone(UTC) - self.epoch).total_seconds() // 60)

    def minute_of_datetime(self, moment: datetime) -> int:
        """Real minutes since the epoch of an aware or naive (wall-clock) datetime."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return int((moment.astimezone(UTC) - self.epoch).total_seconds() // 60)

    def datetime_of(self, minute: int) -> datetime:
        """The aware local datetime of a minute since the epoch."""
        return (self.epoch + timedelta(minutes=minute)).astimezone(self.zone)

    def iso(self, minute: int) -> str:
        """ISO 8601 with the UTC offset, as rota.csv wants (``2026-11-23T15:30:00+00:00``)."""
        return self.datetime_of(minute).isoformat(timespec="seconds")

    def local_date(self, minute: int) -> date:
        return self.datetime_of(minute).date()

    def local_minute_of_day(self, minute: int) -> int:
        moment = self.datetime_of(minute)
        return moment.hour * 60 + moment.minute

    def day_starts(self, days: int = 9) -> tuple[int, ...]:
        """Epoch minutes of the local midnights from the week start (day 0) onward."""
        return tuple(self.minute_of(self.week_start + timedelta(days=d), 0) for d in range(days))

    def outside_daily_band(self, start: int, end: int, band_start: int, band_end: int) -> bool:
        """Whether any minute of [start, end) lies outside the wall-clock band [band_start, band_end).

        Used for core hours (R7: 06:30-22:30) and the young-worker night (R12: 22:00-06:00 is
        outside 06:00-22:00). Exact across clock changes.
        """
        return self.minutes_outside_band(start, end, band_start, band_end) > 0

    def minutes_outside_band(self, start: int, end: int, band_start: int, band_end: int) -> int:
        """How many minutes of [start, end) lie outside the daily wall-clock band."""
        if end <= start:
            return 0
        total = 0
        day = self.local_date(start) - timedelta(days=1)
        last = self.local_date(end) + timedelta(days=1)
        while day <= last:
            day_lo = self.minute_of(day, 0)
            day_hi = self.minute_of(day + timedelta(days=1), 0)
            lo = self.minute_of(day, band_start)
            hi = self.minute_of(day, band_end)
            s, e = max(start, day_lo), min(end, day_hi)
            if s < e:
                inside = max(0, min(e, hi) - max(s, lo))
                total += (e - s) - inside
            day += timedelta(days=1)
        return total


def bank_holidays_in_week(week_start: date, subdivision: str = "ENG") -> tuple[date, ...]:
    """Bank holidays of England (or another UK subdivision) inside the 7 days from ``week_start``.

    Uses the ``holidays`` package, which knows substitute days: Boxing Day 2026 falls on a
    Saturday and the bank holiday is Monday 28 December. The package also lists the Saturday
    itself; gov.uk does not (a bank holiday falling at a weekend moves to a weekday), so weekend
    dates are dropped.
    """
    import holidays

    days = [week_start + timedelta(days=d) for d in range(7)]
    table = holidays.country_holidays("GB", subdiv=subdivision, years=sorted({d.year for d in days}))
    return tuple(d for d in days if d in table and d.weekday() < 5)
