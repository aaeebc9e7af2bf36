"""A realistic, seeded, deterministic synthetic caseload for a county.

``generate(carers, children, seed, week_start, county)`` builds a week's ``Instance`` that a
coordinator of a children's home-care provider would recognise:

* **Where.** Carers and children live around the real towns of the county (``roster.towns``),
  drawn in proportion to population, most within a mile or two of the centre and some out in the
  villages (a wider, rural spread).
* **Carers.** About 80 % women; ages 18-66 plus a few young workers of 16-17 (Working Time
  Regulations limits apply to them, R10-R15); about 75 % drive with business insurance; about
  10 % agency staff at a higher hourly cost. DBS: mostly enhanced with the children's barred list
  check, many on the Update Service; some certificates over three years old without it (expired
  for R1), a few expiring mid-week, and a few lower checks (new starters awaiting clearance).
  Training: ``safeguarding_children`` for everyone (a few expire during the week) and a realistic
  mix of medication, epilepsy rescue medication, PEG feeding, tracheostomy care, hoist moving and
  handling, positive behaviour support and autism awareness. Availability follows the patterns
  that providers actually staff with: full-time days, after-school part-time, morning-and-evening
  split shifts, weekends, waking nights (``overnight_ok``), and flexible bank/agency staff; a few
  carers have leave or sickness absences in the week.
* **Children** aged 0-25 across the three specifications (generic home care, complex home care,
  community support) and the commissioners of the county, each with a weekly *package*
  (``roster.packages``): after-school sessions (Mon-Fri ~15:30-18:30), morning routines
  (07:00-08:30), bedtime calls, weekend community outings (``trip_miles``, ``needs_driver``),
  waking nights (22:00-07:00, complex care), 2:1 sessions (hoist transfers, behaviour that
  challenges); gender required or preferred, home language and culture, a refused carer now and
  then, the carers who served the child over the last four weeks (history) and a continuity
  target (``max_carers_week``).
* **Calibration.** About ten visits per carer-week, with demand near but below the supply of the
  vetted workforce, so that a good roster covers nearly everything but not trivially.

Everything random comes from one ``numpy.random.Generator(seed)``: the same arguments give an
identical instance, in any process. No wall clock, no global random state.
"""

from __future__ import annotations

import argparse
import bisect
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np

from roster.calendar import DAY_NAMES, bank_holidays_in_week
from roster.model import (
    Absence,
    Assignment,
    Availability,
    Carer,
    Child,
    History,
    Instance,
    Rota,
    Settings,
    Training,
    Unassigned,
)
from roster.packages import PackageRow, expand
from roster.towns import COUNTY_ALIASES, COUNTY_NAMES, Town, county_towns
from roster.travel import EARTH_RADIUS_MILES, MemoTravel, great_circle_miles_matrix

SIZES: dict[str, tuple[int, int]] = {
    "S": (30, 56),
    "M": (150, 320),
    "L": (1000, 2550),
    "XL": (5000, 12750),
}
"""Named sizes: (carers, children), calibrated to about 8-10 visits per carer-week with demand
just under supply: on seeds 1-3 the LP capacity bound (``solver.bounds``) is ~97-99 % of carer
slots at S and ~99.6 % at M, and the greedy roster covers ~90 % (S), ~94 % (M), ~97 % (L at 2,400 children). A
larger provider covers more of each patch, so it can carry a little more demand per carer."""

COMPETENCIES: tuple[str, ...] = (
    "safeguarding_children",
    "medication_administration",
    "epilepsy_rescue_medication",
    "peg_feeding",
    "tracheostomy_care",
    "hoist_moving_handling",
    "positive_behaviour_support",
    "autism_awareness",
)
"""Competencies the generator uses (the first is the contract's mandatory training)."""

WEEKDAYS: tuple[str, ...] = DAY_NAMES[:5]
MILES_PER_DEGREE_LAT = 69.05
T = TypeVar("T")

# ---- names (common British first names and surnames, combined at random: fictional) ----
_FEMALE = (
    "Amelia", "Olivia", "Emily", "Sophie", "Jessica", "Charlotte", "Hannah", "Lucy", "Chloe",
    "Megan", "Rebecca", "Laura", "Sarah", "Claire", "Emma", "Gemma", "Rachel", "Nicola", "Kerry",
    "Joanne", "Michelle", "Karen", "Julie", "Tracey", "Donna", "Kelly", "Natalie", "Zoe", "Abigail",
    "Holly", "Bethany", "Jade", "Leanne", "Stacey", "Danielle", "Amy", "Katie", "Lauren", "Ellie",
    "Agnieszka", "Katarzyna", "Aleksandra", "Ioana", "Andreea", "Ana", "Priya", "Aisha", "Fatima",
    "Samina", "Nusrat", "Grace", "Mary", "Chiamaka", "Blessing", "Ruta", "Jurgita",
)
_MALE = (
    "James", "Oliver", "Jack", "Harry", "Thomas", "Daniel", "Matthew", "Luke", "Ben", "Adam",
    "Ryan", "Liam", "Callum", "Craig", "Darren", "Lee", "Mark", "Paul", "Steven", "Gary", "Wayne",
    "Jamie", "Connor", "Kieran", "Sam", "Joe", "Tom", "Piotr", "Tomasz", "Andrei", "Bogdan",
    "Imran", "Bilal", "Hamza", "Rahul", "Tunde", "Samuel", "Joao", "Tiago", "Darius", "Mantas",
)
_CHILD_F = (
    "Ava", "Isla", "Mia", "Poppy", "Ivy", "Freya", "Lily", "Evie", "Rosie", "Grace", "Sienna",
    "Willow", "Daisy", "Phoebe", "Florence", "Maisie", "Erin", "Millie", "Ruby", "Esme", "Zara",
    "Maja", "Zuzanna", "Amira", "Hafsa", "Eliza", "Harriet", "Matilda", "Layla", "Aria",
)
_CHILD_M = (
    "Noah", "Leo", "Oscar", "Arthur", "Muhammad", "George", "Theo", "Freddie", "Archie", "Alfie",
    "Henry", "Charlie", "Finley", "Jacob", "Teddy", "Reggie", "Tommy", "Max", "Ethan", "Harrison",
    "Jayden", "Riley", "Logan", "Kacper", "Jakub", "Ibrahim", "Yusuf", "Rory", "Toby", "Elliot",
)
_X = ("Alex", "Sam", "Charlie", "Jordan", "Robin", "Jesse")
_SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Harris", "Lewis", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark",
    "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis",
    "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter",
    "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards",
    "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum", "Wilkinson",
    "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain",
    "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd",
    "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Dixon", "Fletcher", "Day",
    "Kowalski", "Nowak", "Wisniewska", "Popescu", "Ionescu", "Silva", "Santos", "Patel", "Shah",
    "Okafor", "Adeyemi", "Kazlauskas", "Hodges", "Pike", "Loveless", "Dimmer", "Symonds",
)

# (language, weight) of a second language for carers and the home language of some children.
_LANGUAGES = (
    ("Polish", 5), ("Urdu", 3), ("Romanian", 3), ("Portuguese", 2), ("Punjabi", 2),
    ("Bengali", 1), ("Lithuanian", 2), ("British Sign Language", 2), ("Makaton", 3), ("Arabic", 1),
)
_CULTURES = (("Muslim", 4), ("Polish", 3), ("Sikh", 1), ("Gypsy, Roma and Traveller", 1), ("Hindu", 1))

# Availability patterns: (name, weight, contracted hours range).
_PATTERNS = (
    ("full_time_days", 0.26, (35.0, 37.5)),
    ("after_school", 0.21, (16.0, 22.5)),
    ("split_shift", 0.11, (22.5, 30.0)),
    ("weekends", 0.16, (12.0, 20.0)),
    ("waking_nights", 0.13, (27.0, 36.0)),
    ("flexible", 0.13, (20.0, 30.0)),
)

# Probability a carer holds each optional competency: (ordinary carer, clinically trained carer).
# Providers train a core of "complex care" carers (often the waking-night team) in the clinical
# tasks of continuing care; most carers hold medication and moving-and-handling training.
_SKILL_P: dict[str, tuple[float, float]] = {
    "medication_administration": (0.70, 0.97),
    "epilepsy_rescue_medication": (0.40, 0.90),
    "peg_feeding": (0.10, 0.85),
    "tracheostomy_care": (0.01, 0.45),
    "hoist_moving_handling": (0.50, 0.85),
    "positive_behaviour_support": (0.50, 0.35),
    "autism_awareness": (0.70, 0.55),
}
_CLINICAL_P = {"waking_nights": 0.8, "full_time_days": 0.35, "flexible": 0.3}
"""Share of each availability pattern that is clinically trained (default 0.2)."""


@dataclass(frozen=True)
class GeneratedCaseload:
    """A generated instance and the package rows its visits were expanded from."""

    instance: Instance
    packages: tuple[PackageRow, ...]
    history_weeks: tuple[tuple[Instance, Rota], ...] = ()
    """The rostered weeks the history was planted from (``plant_history``), oldest first;
    empty for sampled history."""


# ---- small helpers ---------------------------------------------------------------------


def _hhmm(minute: int) -> str:
    minute %= 24 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _pick(rng: np.random.Generator, items: Sequence[T], weights: Sequence[float] | None = None) -> T:
    """One of ``items``, uniformly or by ``weights`` (plain Python: far faster than
    ``Generator.choice`` for the handful of options drawn here)."""
    if weights is None:
        return items[int(rng.integers(len(items)))]
    total = 0.0
    cum: list[float] = []
    for w in weights:
        total += w
        cum.append(total)
    return items[min(bisect.bisect_right(cum, rng.random() * total), len(items) - 1)]


def _places(
    rng: np.random.Generator, towns: Sequence[Town], n: int, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n homes around the towns, by population (or ``weights``): (town index, lat, lon)."""
    if weights is None:
        weights = np.array([t.weight for t in towns], dtype=float)
    idx = rng.choice(len(towns), size=n, p=weights / weights.sum())
    rural = rng.random(n) < 0.22
    sigma = np.where(rural, 3.5, 0.9)  # miles
    dy = rng.normal(0.0, 1.0, n) * sigma
    dx = rng.normal(0.0, 1.0, n) * sigma
    lat0 = np.array([t.lat for t in towns])[idx]
    lon0 = np.array([t.lon for t in towns])[idx]
    lat = lat0 + dy / MILES_PER_DEGREE_LAT
    lon = lon0 + dx / (MILES_PER_DEGREE_LAT * np.cos(np.radians(lat0)))
    return idx, np.round(lat, 5), np.round(lon, 5)


def _birth_date(rng: np.random.Generator, on: date, age: int) -> date:
    """A date of birth giving whole-years ``age`` on ``on``."""
    days_into = int(rng.integers(0, 365))
    born = date(on.year - age - 1, on.month, min(on.day, 28)) + timedelta(days=days_into + 1)
    return born


# ---- carers ------------------------------------------------------------------------------


@dataclass
class _CarerDraft:
    carer: Carer
    pattern: str
    town: int


def _carer_availability(
    rng: np.random.Generator, carer_id: str, pattern: str, young: bool
) -> list[Availability]:
    rows: list[Availability] = []

    def add(day: str, start: int, end: int) -> None:
        rows.append(Availability(carer_id, day, _hhmm(start), _hhmm(end)))

    shift = int(rng.integers(-2, 3)) * 15
    if pattern == "full_time_days":
        days = list(WEEKDAYS)
        if rng.random() < 0.5:  # works one weekend day instead of a weekday
            days.remove(_pick(rng, WEEKDAYS))
            days.append(_pick(rng, ("Sat", "Sun")))
        for d in DAY_NAMES:
            if d in days:
                add(d, 7 * 60 + shift, 19 * 60 + 30 + shift)
    elif pattern == "after_school":
        for d in WEEKDAYS:
            add(d, 14 * 60 + 30 + shift, 21 * 60 + 30)
        if rng.random() < 0.5:
            add(_pick(rng, ("Sat", "Sun")), 9 * 60, 18 * 60)
    elif pattern == "split_shift":
        for d in WEEKDAYS:
            add(d, 6 * 60 + 30, 9 * 60 + 30)
            add(d, 15 * 60 + shift, 21 * 60)
        if rng.random() < 0.4:
            add("Sat", 8 * 60, 16 * 60)
    elif pattern == "weekends":
        add("Fri", 15 * 60, 21 * 60 + 30)
        add("Sat", 7 * 60 + 30 + shift, 20 * 60 + 30)
        add("Sun", 7 * 60 + 30 + shift, 20 * 60 + 30)
    elif pattern == "waking_nights":
        nights = sorted(
            rng.choice(7, size=int(rng.integers(3, 6)), replace=False).tolist()
        )
        for n in nights:
            add(DAY_NAMES[n], 21 * 60 + 30, 7 * 60 + 30)
        if rng.random() < 0.3:  # also picks up the odd weekend day
            add(_pick(rng, ("Sat", "Sun")), 9 * 60, 15 * 60)
    else:  # flexible (bank) and agency: most days, long windows
        days = sorted(rng.choice(7, size=int(rng.integers(4, 7)), replace=False).tolist())
        late = 23 * 60 if (rng.random() < 0.3 and not young) else 21 * 60 + 30
        for n in days:
            add(DAY_NAMES[int(n)], 7 * 60 + shift, late)
    return rows


def _make_carers(
    rng: np.random.Generator, n: int, towns: Sequence[Town], week: date
) -> tuple[list[_CarerDraft], list[Training], list[Availability], list[Absence]]:
    width = max(4, len(str(n)))
    town_idx, lat, lon = _places(rng, towns, n)
    gender = rng.choice(np.array(["F", "M", "X"]), size=n, p=[0.80, 0.19, 0.01])
    young = rng.random(n) < 0.025
    agency = (~young) & (rng.random(n) < 0.10)
    pat_names = [p[0] for p in _PATTERNS]
    pat_w = np.array([p[1] for p in _PATTERNS])
    pattern_idx = rng.choice(len(_PATTERNS), size=n, p=pat_w / pat_w.sum())
    drafts: list[_CarerDraft] = []
    training: list[Training] = []
    availability: list[Availability] = []
    absences: list[Absence] = []
    for i in range(n):
        cid = f"K{i + 1:0{width}d}"
        g = str(gender[i])
        first = _pick(rng, _FEMALE if g == "F" else _MALE if g == "M" else _X)
        name = f"{first} {_pick(rng, _SURNAMES)}"
        if young[i]:
            age = int(rng.integers(16, 18))
            pattern = _pick(rng, ("after_school", "weekends"))
        else:
            age = int(np.clip(rng.normal(40, 12), 18, 66))
            pattern = "flexible" if agency[i] else pat_names[int(pattern_idx[i])]
        dob = _birth_date(rng, week, age)
        drives = bool(rng.random() < (0.25 if young[i] else 0.78))
        # DBS (R1): enhanced + children's barred list for nearly everyone.
        r = rng.random()
        dbs = (
            "enhanced_barred_children" if r < 0.965
            else "enhanced" if r < 0.98
            else "standard" if r < 0.99
            else "basic"
        )
        update = bool(rng.random() < (0.0 if young[i] else 0.62))
        if update:
            issued = week - timedelta(days=int(rng.integers(30, 365 * 8)))
        else:
            r = rng.random()
            if r < 0.04:  # over three years old: lapsed
                issued = week - timedelta(days=int(rng.integers(365 * 3 + 10, 365 * 5)))
            elif r < 0.06:  # turns three years old during this week
                lapse = week + timedelta(days=int(rng.integers(1, 6)))
                issued = lapse.replace(year=lapse.year - 3, day=min(lapse.day, 28))
            else:
                issued = week - timedelta(days=int(rng.integers(14, 365 * 3 - 30)))
        languages = ["English"]
        if rng.random() < 0.14:
            languages.append(_pick(rng, [x[0] for x in _LANGUAGES], [x[1] for x in _LANGUAGES]))
        culture = ""
        if rng.random() < 0.08:
            culture = _pick(rng, [x[0] for x in _CULTURES], [x[1] for x in _CULTURES])
        lo, hi = dict((p[0], p[2]) for p in _PATTERNS)[pattern]
        contracted = 0.0 if agency[i] else round(float(rng.uniform(lo, hi)) * 2) / 2
        if young[i]:
            contracted = min(contracted, 16.0)
        overnight_ok = pattern == "waking_nights" or (
            not young[i] and rng.random() < 0.12
        )
        max_hours: float | None = None
        if not young[i] and not agency[i] and rng.random() < 0.2:
            max_hours = float(max(contracted + 8, 24))
        # National Living/Minimum Wage from April 2026: 21+ £12.71, 18-20 £10.85, 16-17 £8.00.
        floor = 8.0 if age < 18 else 10.85 if age < 21 else 12.71
        cost = (
            round(float(rng.uniform(24.0, 32.0)), 2) if agency[i]
            else round(floor + float(rng.uniform(0.0, 2.8)) + (1.0 if pattern == "waking_nights" else 0), 2)
        )
        drafts.append(
            _CarerDraft(
                Carer(
                    carer_id=cid,
                    name=name,
                    gender=g,  # type: ignore[arg-type]
                    date_of_birth=dob,
                    lat=float(lat[i]),
                    lon=float(lon[i]),
                    drives=drives,
                    dbs_check=dbs,
                    dbs_issued=issued,
                    dbs_update_service=update,
                    languages=tuple(languages),
                    culture=culture,
                    overnight_ok=bool(overnight_ok),
                    max_week_hours=max_hours,
                    contracted_hours=contracted,
                    hourly_cost=cost,
                    agency=bool(agency[i]),
                ),
                pattern,
                int(town_idx[i]),
            )
        )
        # Training (R2): mandatory safeguarding for all, a few expiring mid-week.
        if rng.random() < 0.03:
            expiry: date | None = week + timedelta(days=int(rng.integers(0, 6)))
        else:
            expiry = week + timedelta(days=int(rng.integers(20, 3 * 365)))
        training.append(Training(cid, "safeguarding_children", expiry))
        clinical = not young[i] and rng.random() < _CLINICAL_P.get(pattern, 0.2)
        for comp, (p_plain, p_clinical) in _SKILL_P.items():
            if young[i] and comp in ("tracheostomy_care", "peg_feeding"):
                continue
            p_held = p_clinical if clinical else p_plain * (0.6 if young[i] else 1.0)
            if rng.random() < p_held:
                r = rng.random()
                if r < 0.02:
                    comp_expiry: date | None = week + timedelta(days=int(rng.integers(0, 6)))
                elif r < 0.45:
                    comp_expiry = None
                else:
                    comp_expiry = week + timedelta(days=int(rng.integers(14, 3 * 365)))
                training.append(Training(cid, comp, comp_expiry))
        availability.extend(_carer_availability(rng, cid, pattern, bool(young[i])))
        r = rng.random()
        if r < 0.03:  # annual leave: a few whole days
            first_day = int(rng.integers(0, 6))
            length = int(rng.integers(2, 6))
            start = week + timedelta(days=first_day)
            end = min(start + timedelta(days=length), week + timedelta(days=7))
            absences.append(Absence(cid, _midnight(start), _midnight(end)))
        elif r < 0.05:  # off sick one day
            day = week + timedelta(days=int(rng.integers(0, 7)))
            absences.append(Absence(cid, _midnight(day), _midnight(day + timedelta(days=1))))
    return drafts, training, availability, absences


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0))


# ---- children and packages ---------------------------------------------------------------


def _row(
    child_id: str,
    day: str,
    start: int,
    duration: int,
    flex: int = 15,
    carers: int = 1,
    kind: str = "home",
    needs_driver: bool = False,
    trip: float = 0.0,
    comps: Sequence[str] = (),
    bank: bool = False,
) -> PackageRow:
    return PackageRow(
        child_id=child_id,
        day=day,
        start=_hhmm(start),
        duration_min=duration,
        flex_min=flex,
        carers=carers,
        kind=kind,
        needs_driver=needs_driver,
        trip_miles=trip,
        competencies=tuple(comps),
        deliver_on_bank_holiday=bank,
    )


def _days(rng: np.random.Generator, pool: Sequence[str], k: int) -> list[str]:
    chosen = rng.choice(len(pool), size=min(k, len(pool)), replace=False)
    return [pool[i] for i in sorted(chosen.tolist())]


# Weekday and weekend sessions as families book them: (starts, durations, flex) per band.
# The bands are spread so that one carer can do, say, an after-school call and a teatime call
# on the same afternoon (seed 003 §1.6: most visits are one to two hours).
_BANDS: dict[str, tuple[tuple[int, ...], tuple[int, ...], int]] = {
    "morning": ((420, 435, 450), (60, 75, 90), 15),  # 07:00-08:30, getting ready for school
    "day": ((570, 600, 780), (120, 150, 180), 30),  # 09:30 / 13:00: under-5s, 18+, out of school
    "after_school": ((915, 930, 945), (75, 90, 105, 120), 15),  # 15:15-17:45
    "teatime": ((1065, 1080, 1095), (75, 90), 15),  # 17:45-19:45: tea, bath
    "bedtime": ((1170, 1185), (60, 75), 15),  # 19:30-21:00
    "weekend_am": ((570, 600, 630), (150, 180, 240), 30),
    "weekend_pm": ((780, 810, 840), (150, 180, 240), 30),
    "night": ((1320,), (540,), 0),  # 22:00-07:00 waking night (complex care)
}
_EVENING = ("after_school", "teatime", "bedtime")
_EVENING_W = (0.45, 0.37, 0.18)


def _session(
    rng: np.random.Generator,
    child_id: str,
    day: str,
    band: str,
    carers: int = 1,
    comps: Sequence[str] = (),
    bank: bool = False,
    kind: str = "home",
    trip: float = 0.0,
    needs_driver: bool = False,
) -> PackageRow:
    starts, durations, flex = _BANDS[band]
    return _row(
        child_id, day, int(_pick(rng, starts)), int(_pick(rng, durations)), flex, carers,
        kind, needs_driver, trip, comps, bank,
    )


def _child_package(
    rng: np.random.Generator, child_id: str, spec: str, age: int, bank: bool
) -> list[PackageRow]:
    """A child's weekly sessions, by specification and age.

    A family books its regular time: one evening band for all its weekday sessions.
    """
    rows: list[PackageRow] = []
    r = rng.random
    at_home_in_day = age < 5 or age >= 19 or r() < 0.06  # pre-school, adult, out of school
    evening = _pick(rng, _EVENING, _EVENING_W)

    def weekdays(k: int, band: str, carers: int, comps: Sequence[str]) -> None:
        for d in _days(rng, WEEKDAYS, k):
            rows.append(_session(rng, child_id, d, band, carers, comps, bank))

    if spec == "complex_home_care":
        comps = ["medication_administration"] if r() < 0.85 else []
        if r() < 0.5:
            comps.append("epilepsy_rescue_medication")
        if r() < 0.4:
            comps.append("peg_feeding")
        if r() < 0.05:
            comps.append("tracheostomy_care")
        hoist = age >= 6 and r() < 0.4
        if hoist:
            comps.append("hoist_moving_handling")
        comps = sorted(comps)
        pair = 2 if hoist and r() < 0.5 else 1
        if at_home_in_day:
            weekdays(int(rng.integers(1, 4)), "day", pair, comps)
        else:
            weekdays(int(rng.integers(2, 6)), evening, pair, comps)
        if r() < 0.3:  # waking nights, so the parents sleep
            for d in _days(rng, DAY_NAMES, int(_pick(rng, (1, 1, 2)))):
                rows.append(_session(rng, child_id, d, "night", 1, comps, bank))
        if r() < 0.35:
            d = _pick(rng, ("Sat", "Sun"))
            rows.append(_session(rng, child_id, d, _pick(rng, ("weekend_am", "weekend_pm")), pair, comps, bank))
        return rows
    if spec == "community_support":
        comps = []
        if r() < 0.55:
            comps.append("autism_awareness")
        pbs = r() < 0.35
        if pbs:
            comps.append("positive_behaviour_support")
        comps = sorted(comps)
        pair = 2 if pbs and r() < 0.35 else 1
        for d in _days(rng, ("Sat", "Sun"), int(_pick(rng, (1, 1, 1, 2)))):
            drive = r() < 0.7
            trip = round(float(rng.uniform(3, 12)), 1) if drive else 0.0
            band = _pick(rng, ("weekend_am", "weekend_pm"))
            rows.append(_session(rng, child_id, d, band, pair, comps, bank, "community", trip, drive))
        for d in _days(rng, WEEKDAYS, int(_pick(rng, (0, 1, 1, 2)))):
            drive = r() < 0.5
            trip = round(float(rng.uniform(2, 8)), 1) if drive else 0.0
            band = "day" if at_home_in_day else _pick(rng, ("after_school", "teatime"))
            rows.append(_session(rng, child_id, d, band, pair, comps, bank, "community", trip, drive))
        return rows
    # generic home care
    comps = []
    if r() < 0.4:
        comps.append("autism_awareness")
    if r() < 0.3:
        comps.append("medication_administration")
    if r() < 0.12:
        comps.append("epilepsy_rescue_medication")
    hoist = age >= 8 and r() < 0.1
    if hoist:
        comps.append("hoist_moving_handling")
    comps = sorted(comps)
    pair = 2 if hoist else 1
    if at_home_in_day:
        weekdays(int(rng.integers(2, 4)), "day", pair, comps)
    else:
        weekdays(int(_pick(rng, (2, 3, 3, 4, 5, 5))), evening, pair, comps)
        if r() < 0.4:
            weekdays(int(rng.integers(3, 6)), "morning", 1, comps)
    if r() < 0.3:
        d = _pick(rng, ("Sat", "Sun"))
        rows.append(_session(rng, child_id, d, _pick(rng, ("weekend_am", "weekend_pm")), pair, comps, bank))
    return rows


def _make_children(
    rng: np.random.Generator, n: int, towns: Sequence[Town], week: date, staff: np.ndarray
) -> tuple[list[Child], list[list[PackageRow]]]:
    """Children and their packages. ``staff`` counts the carers living in each town: a provider
    takes referrals where it has carers (seed 002 §13.1: allocate staff locally)."""
    width = max(4, len(str(n)))
    town_idx, lat, lon = _places(rng, towns, n, staff.astype(float) + 0.25)
    specs = rng.choice(
        np.array(["generic_home_care", "complex_home_care", "community_support"]),
        size=n,
        p=[0.45, 0.25, 0.30],
    )
    children: list[Child] = []
    packages: list[list[PackageRow]] = []
    lang_names = [x[0] for x in _LANGUAGES if x[0] != "Makaton"]
    lang_w = [x[1] for x in _LANGUAGES if x[0] != "Makaton"]
    for i in range(n):
        cid = f"C{i + 1:0{width}d}"
        town = towns[int(town_idx[i])]
        spec = str(specs[i])
        dorset = town.council == "Dorset Council"
        if spec == "community_support":
            age = int(rng.integers(8, 18 if dorset else 26))
        elif spec == "complex_home_care":
            age = int(rng.integers(0, 18 if dorset else 26))
        else:
            age = int(rng.integers(4, 18)) if dorset or rng.random() < 0.9 else int(rng.integers(18, 26))
        gender = "M" if rng.random() < 0.62 else "F"
        commissioner = town.health if (spec == "complex_home_care" and age < 18 and rng.random() < 0.7) else town.council
        gender_required = ""
        if gender == "F" and age >= 10 and rng.random() < 0.35:
            gender_required = "F"
        elif gender == "M" and age >= 14 and rng.random() < 0.04:
            gender_required = "M"
        gender_preferred = ""
        if not gender_required and rng.random() < 0.15:
            gender_preferred = "F" if rng.random() < 0.75 else "M"
        language = ""
        if rng.random() < 0.07:
            language = _pick(rng, lang_names, lang_w)
        culture = ""
        if rng.random() < 0.06:
            culture = _pick(rng, [x[0] for x in _CULTURES], [x[1] for x in _CULTURES])
        cap: float | None = None
        if rng.random() < 0.03:
            cap = float(_pick(rng, (25, 30)))
        max_carers: int | None = None
        r = rng.random()
        if r < 0.25:
            max_carers = int(_pick(rng, (2, 3)))
        elif r < 0.35:
            max_carers = 4
        first = _pick(rng, _CHILD_F if gender == "F" else _CHILD_M)
        children.append(
            Child(
                child_id=cid,
                name=f"{first} {_pick(rng, _SURNAMES)}",
                date_of_birth=_birth_date(rng, week, age),
                lat=float(lat[i]),
                lon=float(lon[i]),
                commissioner=commissioner,
                spec=spec,
                gender_required=gender_required,
                gender_preferred=gender_preferred,
                language=language,
                culture=culture,
                excluded_carers=(),
                mileage_cap_miles=cap,
                max_carers_week=max_carers,
            )
        )
        bank = commissioner == "Peterborough City Council" and rng.random() < 0.15
        rows = _child_package(rng, cid, spec, age, bank)
        if not rows:  # every child on the caseload has at least one session
            rows = [_row(cid, "Sat", 600, 180, 30)]
        packages.append(rows)
    return children, packages


# ---- history and refusals ----------------------------------------------------------------


def _nearest(
    child_lat: np.ndarray, child_lon: np.ndarray, carer_lat: np.ndarray, carer_lon: np.ndarray, k: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For each child (in chunks): the k nearest carers and their great-circle miles, nearest first.

    The k are chosen on a flat (equirectangular) projection, exact to well under 1 % across a
    county and far cheaper than great circles for every pair; their miles are then great-circle.
    """
    k = min(k, len(carer_lat))
    scale = MILES_PER_DEGREE_LAT * math.cos(math.radians(float(np.mean(carer_lat))))
    cy = (carer_lat * MILES_PER_DEGREE_LAT).astype(np.float32)
    cx = (carer_lon * scale).astype(np.float32)
    ky = (child_lat * MILES_PER_DEGREE_LAT).astype(np.float32)
    kx = (child_lon * scale).astype(np.float32)
    chunk = max(1, 4_000_000 // max(1, len(carer_lat)))
    for lo in range(0, len(child_lat), chunk):
        hi = min(lo + chunk, len(child_lat))
        d2 = (ky[lo:hi, None] - cy[None, :]) ** 2 + (kx[lo:hi, None] - cx[None, :]) ** 2
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(carer_lat) else (
            np.broadcast_to(np.arange(len(carer_lat)), (hi - lo, len(carer_lat)))
        )
        miles = _great_circle_pairs(
            child_lat[lo:hi, None], child_lon[lo:hi, None], carer_lat[part], carer_lon[part]
        )
        order = np.argsort(miles, axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1)
        miles = np.take_along_axis(miles, order, axis=1)
        for j in range(hi - lo):
            yield lo + j, idx[j], miles[j]


def _great_circle_pairs(
    lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray
) -> np.ndarray:
    """Element-wise great-circle miles (broadcasting), the formula of ``roster.travel``."""
    la1, lo1, la2, lo2 = (np.radians(x) for x in (lat_a, lon_a, lat_b, lon_b))
    dlon = lo2 - lo1
    num = np.sqrt(
        (np.cos(la2) * np.sin(dlon)) ** 2
        + (np.cos(la1) * np.sin(la2) - np.sin(la1) * np.cos(la2) * np.cos(dlon)) ** 2
    )
    den = np.sin(la1) * np.sin(la2) + np.cos(la1) * np.cos(la2) * np.cos(dlon)
    return np.asarray(EARTH_RADIUS_MILES * np.arctan2(num, den))


_QUARTERS = 96  # quarter-hours in a day


def _availability_grid(carers: Sequence[Carer], availability: Sequence[Availability]) -> np.ndarray:
    """Cumulative count of available quarter-hours per carer over Mon 00:00 .. next Tue 00:00.

    ``grid[c, hi] - grid[c, lo] == hi - lo`` when the carer is available for all of [lo, hi).
    """
    index = {c.carer_id: i for i, c in enumerate(carers)}
    free = np.zeros((len(carers), 8 * _QUARTERS), dtype=bool)
    for a in availability:
        if a.day not in DAY_NAMES:
            continue
        d = DAY_NAMES.index(a.day)
        s = int(a.start[:2]) * 60 + int(a.start[3:])
        e = int(a.end[:2]) * 60 + int(a.end[3:])
        if e <= s:
            e += 24 * 60
        free[index[a.carer_id], d * _QUARTERS + math.ceil(s / 15): d * _QUARTERS + e // 15] = True
    cum = np.zeros((len(carers), 8 * _QUARTERS + 1), dtype=np.int32)
    np.cumsum(free, axis=1, out=cum[:, 1:])
    return cum


_DAY_INDEX = {d: i for i, d in enumerate(DAY_NAMES)}


def _is_overnight(start_min: int, duration: int) -> bool:
    """Any minute outside the contract's default core hours 06:30-22:30 (R7)."""
    return start_min < 6 * 60 + 30 or start_min + duration > 22 * 60 + 30


def _staffable_days(
    rows: list[PackageRow], cand: np.ndarray, miles: np.ndarray, ok: np.ndarray, cum: np.ndarray,
    overnight: np.ndarray, drives: np.ndarray, cap: float,
) -> list[PackageRow]:
    """Rows moved to a day some nearby, trained carer is free, or dropped if none is.

    Families agree session days with the provider around the staff it has (seed 003 §5.5-5.6):
    a session no nearby carer could ever take is booked on another day of the same kind.
    """
    out: list[PackageRow] = []
    taken: set[tuple[str, str]] = set()
    for row in rows:
        start = int(row.start[:2]) * 60 + int(row.start[3:])
        night = _is_overnight(start, row.duration_min)
        fit = ok & (miles * 1.35 + row.trip_miles <= cap)  # R9 with room for the road factor
        if night:
            fit &= overnight[cand]
        if row.needs_driver or row.trip_miles > 0:
            fit &= drives[cand]
        idx = cand[fit]
        first = start // 15
        last = math.ceil((start + row.duration_min) / 15)

        def staff(day: str, idx: np.ndarray = idx, first: int = first, last: int = last) -> int:
            d = _DAY_INDEX[day] * _QUARTERS
            return int(np.count_nonzero(cum[idx, d + last] - cum[idx, d + first] == last - first))

        if (row.day, row.start) not in taken and staff(row.day) > row.carers:
            best = row.day
        else:
            group = (
                DAY_NAMES if night
                else ("Sat", "Sun") if row.day in ("Sat", "Sun")
                else WEEKDAYS
            )
            options = [d for d in group if (d, row.start) not in taken]
            counts = [staff(d) for d in options]
            if not options or max(counts) < row.carers:
                continue
            best = options[int(np.argmax(counts))]
        taken.add((best, row.start))
        out.append(row if best == row.day else replace(row, day=best))
    return out


def _history_and_refusals(
    rng: np.random.Generator,
    carers: Sequence[Carer],
    training: Sequence[Training],
    availability: Sequence[Availability],
    children: list[Child],
    packages: list[list[PackageRow]],
) -> tuple[list[History], list[Child]]:
    """Who served each child over the last four weeks, and a refused carer now and then; each
    package fitted to the staff the provider has (see ``_staffable_days``)."""
    cum = _availability_grid(carers, availability)
    overnight = np.array([c.overnight_ok for c in carers])
    drives = np.array([c.drives for c in carers])
    comp_bit = {c: 1 << i for i, c in enumerate(COMPETENCIES)}
    held = np.zeros(len(carers), dtype=np.int64)
    index = {c.carer_id: i for i, c in enumerate(carers)}
    for t in training:
        held[index[t.carer_id]] |= comp_bit.get(t.competency, 0)
    vetted = np.array([c.dbs_check == "enhanced_barred_children" for c in carers])
    gender = np.array([c.gender for c in carers])
    lat = np.array([c.lat for c in carers])
    lon = np.array([c.lon for c in carers])
    clat = np.array([c.lat for c in children])
    clon = np.array([c.lon for c in children])
    history: list[History] = []
    out = list(children)
    for i, cand, miles in _nearest(clat, clon, lat, lon, 40):
        child = children[i]
        rows = packages[i]
        need = 0
        for row in rows:
            for comp in row.competencies:
                need |= comp_bit.get(comp, 0)
        base = vetted[cand] & (miles < 12)
        if child.gender_required:
            base &= gender[cand] == child.gender_required
        # The provider accepted this referral because it can staff it: when too few carers
        # nearby hold every competency the package asks for, the package is one the provider
        # could staff (the rarest competency is left to the commissioner's nurse).
        wanted = 3 * max(r.carers for r in rows)
        ok = base & ((held[cand] & need) == need)
        while need and int(ok.sum()) < wanted:
            rarest = min(
                (b for b in comp_bit.values() if need & b),
                key=lambda b: (int((base & ((held[cand] & b) == b)).sum()), b),
            )
            need &= ~rarest
            ok = base & ((held[cand] & need) == need)
            dropped = next(c for c, b in comp_bit.items() if b == rarest)
            rows = [
                replace(r, competencies=tuple(c for c in r.competencies if c != dropped))
                for r in rows
            ]
        cap = child.mileage_cap_miles or 20.0
        rows = _staffable_days(rows, cand, miles, ok, cum, overnight, drives, cap)
        packages[i] = rows
        pool = cand[ok]
        weekly_hours = sum(r.duration_min * r.carers for r in rows) / 60.0
        served: list[int] = []
        if len(pool) and weekly_hours > 0 and rng.random() < 0.85:  # not a new referral: someone served them lately
            k = min(len(pool), int(rng.integers(1, 4)) + (1 if weekly_hours > 12 else 0))
            # the nearest few are likeliest to have served the child
            # (weighted sampling without replacement by Gumbel keys: log(u) / weight, top k)
            top = pool[:12]
            keys = np.log(rng.random(len(top))) * (1.0 + np.arange(len(top)))
            served = top[np.argsort(-keys, kind="stable")[:k]].tolist()
            shares = rng.dirichlet(np.ones(len(served)))
            total = 4 * weekly_hours * float(rng.uniform(0.6, 1.0))
            for j, s in zip(served, shares, strict=True):
                hours = max(0.5, round(float(total * s) * 2) / 2)  # timesheets in half hours
                history.append(History(child.child_id, carers[j].carer_id, hours))
        if rng.random() < 0.06:  # the family asked not to have a particular carer again
            others = [int(j) for j in cand[:10] if int(j) not in served]
            if others:
                refused = carers[_pick(rng, others)].carer_id
                out[i] = replace(child, excluded_carers=(refused,))
    return history, out


# ---- the public entry points ------------------------------------------------------------


def footprint(towns: Sequence[Town], carers: int) -> tuple[Town, ...]:
    """The towns a provider of this many carers covers: the county's first town (its hub) and
    the nearest others, about one town per dozen carers (a small agency works one patch; a
    large one the whole county)."""
    keep = min(len(towns), max(3, math.ceil(carers / 12)))
    hub = towns[0]
    lat = np.array([t.lat for t in towns])
    lon = np.array([t.lon for t in towns])
    miles = great_circle_miles_matrix(np.array([hub.lat]), np.array([hub.lon]), lat, lon)[0]
    order = np.argsort(miles, kind="stable")[:keep]
    return tuple(towns[int(i)] for i in sorted(order.tolist()))



def generate_caseload(
    carers: int,
    children: int,
    seed: int = 0,
    week_start: date = date(2026, 11, 23),
    county: str = "Dorset",
    progress: Callable[[str], None] | None = None,
    history_mode: str = "auto",
    roster_fn: RosterFn | None = None,
) -> GeneratedCaseload:
    """Generate an instance and the packages its visits come from. See ``generate``."""
    if carers < 1 or children < 1:
        raise ValueError(
            f"carers is {carers} and children is {children}; both must be at least 1."
        )
    if week_start.weekday() != 0:
        raise ValueError(
            f"week_start is {week_start.isoformat()}, a {DAY_NAMES[week_start.weekday()]}; "
            "it must be a Monday."
        )
    towns = footprint(county_towns(county), carers)
    step = progress or (lambda _stage: None)
    rng = np.random.default_rng(seed)
    carer_rng, child_rng, link_rng = (np.random.default_rng(s) for s in rng.spawn(3))
    step("carers")
    drafts, training, availability, absences = _make_carers(carer_rng, carers, towns, week_start)
    carer_list = [d.carer for d in drafts]
    step("children")
    staff = np.bincount([d.town for d in drafts], minlength=len(towns))
    child_list, packages = _make_children(child_rng, children, towns, week_start, staff)
    step("history")
    history, child_list = _history_and_refusals(
        link_rng, carer_list, training, availability, child_list, packages
    )
    step("visits")
    holidays = bank_holidays_in_week(week_start)
    rows = tuple(r for rs in packages for r in rs)
    visits = expand(rows, child_list, week_start, holidays)
    if history_mode not in HISTORY_MODES:
        raise ValueError(
            f"history_mode is {history_mode!r}; it must be one of {', '.join(HISTORY_MODES)}."
        )
    county_name = COUNTY_NAMES[COUNTY_ALIASES[county.strip().lower()]]
    settings = Settings(
        week_start=week_start,
        name=f"Synthetic caseload, {county_name}: {carers} carers, {children} children (seed {seed})",
        bank_holidays=holidays,
        extra={"generator": {"county": county, "seed": seed, "carers": carers, "children": children}},
    )
    instance = Instance(
        settings=settings,
        carers=tuple(carer_list),
        children=tuple(child_list),
        visits=visits,
        training=tuple(training),
        availability=tuple(availability),
        absences=tuple(absences),
        history=tuple(history),
    )
    weeks: tuple[tuple[Instance, Rota], ...] = ()
    if history_mode == "rostered" or (
        history_mode == "auto" and carers <= ROSTERED_HISTORY_MAX_CARERS
    ):
        step("history weeks")
        instance, weeks = plant_history(instance, rows, seed, roster_fn or first_fit)
    step("done")
    return GeneratedCaseload(instance, rows, weeks)


def generate(
    carers: int,
    children: int,
    seed: int = 0,
    week_start: date = date(2026, 11, 23),
    county: str = "Dorset",
    progress: Callable[[str], None] | None = None,
) -> Instance:
    """A realistic synthetic week for ``county``: ``carers`` carers and ``children`` children.

    Deterministic: the same arguments give an identical instance. ``week_start`` must be a
    Monday; its bank holidays are written into the settings and honoured by the packages.
    ``county`` is ``Dorset``, ``Cambridgeshire`` (with Peterborough) or ``Milton Keynes``.
    ``progress`` (optional) is called with the name of each stage as it starts.
    """
    return generate_caseload(carers, children, seed, week_start, county, progress).instance


def steady_week(instance: Instance, packages: Sequence[PackageRow], weeks: int = 1) -> Instance:
    """The same caseload ``weeks`` weeks later with nothing changed: the packages expanded on the
    new week, and every date of supply (training expiries, DBS issue dates, dates of birth,
    absences) moved by the same days, so that demand and supply are exactly those of
    ``instance``. History is left as it is (the caller decides what the weeks in between were).
    """
    from roster.packages import expand_instance

    shift = timedelta(weeks=weeks)
    week = instance.settings.week_start + shift
    moved = expand_instance(instance, packages, week)
    carers = tuple(
        replace(c, date_of_birth=c.date_of_birth + shift,
                dbs_issued=None if c.dbs_issued is None else c.dbs_issued + shift)
        for c in instance.carers
    )
    training = tuple(
        replace(t, expires=None if t.expires is None else t.expires + shift)
        for t in instance.training
    )
    absences = tuple(replace(a, start=a.start + shift, end=a.end + shift) for a in instance.absences)
    availability = tuple(
        a if a.day in DAY_NAMES else replace(a, day=(date.fromisoformat(a.day) + shift).isoformat())
        for a in instance.availability
    )
    children = tuple(replace(c, date_of_birth=c.date_of_birth + shift) for c in instance.children)
    return replace(moved, carers=carers, training=training, absences=absences,
                   availability=availability, children=children)


RosterFn = Callable[[Instance], Rota]
"""Makes a week's rota from an instance (the generator's ``first_fit``, or a solver injected by
the CLI: roster never imports the solver)."""

FIRST_FIT_TRIES = 12
"""Carers a first fit tries per visit (known carers first, then the nearest)."""


def first_fit(instance: Instance, keep: Sequence[Assignment] = ()) -> Rota:
    """A coordinator's first fit: visits in date and start order, each given to the first carers
    (the child's known carers by hours together, then the nearest) who can take it at one start
    of its flex window (planned first) with every rule of their week still kept. Every rota it
    returns passes ``roster.checker.check``; a visit it cannot staff is listed unassigned.

    ``keep``: rows already decided (e.g. last week's rota carried forward, rows that keep every
    rule together); they stay, and only the visits they do not fully staff are fitted."""
    from roster.eligibility import compute_eligibility
    from roster.rollforward import with_travel
    from roster.rules import RULES, journey_into, travel_model

    elig = compute_eligibility(instance)
    model = MemoTravel.of(travel_model(instance))
    week_rules = [r for r in RULES if r.scope == "week" and r.code != "R13"]
    r6 = next(r for r in RULES if r.code == "R6")
    r9 = next(r for r in RULES if r.code == "R9")
    weeks: dict[str, list[Assignment]] = {c.carer_id: [] for c in instance.carers}
    for a in keep:
        weeks[a.carer_id].append(a)
    for carer_id, rows in weeks.items():
        if rows:  # journeys of the kept rows as they now follow each other (R13)
            weeks[carer_id] = sorted(with_travel(instance, rows, model),
                                     key=lambda a: (a.start, a.visit_id))
    kept_count: dict[str, int] = {}
    for a in keep:
        kept_count[a.visit_id] = kept_count.get(a.visit_id, 0) + 1
    hours = instance.history_hours

    def placed(carer: Carer, rows: list[Assignment], row: Assignment) -> list[Assignment] | None:
        """The carer's week with ``row`` added (journeys redone), or None if a rule breaks."""
        trial = sorted([*rows, row], key=lambda a: (a.start, a.visit_id))
        out: list[Assignment] = []
        previous: Assignment | None = None
        for a in trial:
            origin, miles, minutes = journey_into(
                instance, carer, previous, instance.visit_index[a.visit_id], a.start, model)
            a = replace(a, travel_from=origin, travel_miles=miles, travel_min=minutes)
            visit = instance.visit(a.visit_id)
            for rule in (r6, r9):
                if rule.function(instance, carer, visit, a, previous=previous, travel=model):
                    return None
            out.append(a)
            previous = a
        for rule in week_rules:
            if rule.function(instance, carer, out, travel=model):
                return None
        return out

    order = sorted(range(len(instance.visits)), key=lambda v: instance.planned_start[v])
    for v in order:
        visit = instance.visits[v]
        if visit.visit_id in kept_count:
            continue  # decided already (a 2:1 with one kept carer stays short: one start each)
        planned = instance.planned_start[v]
        cands = [int(c) for c in elig.eligible_carers(v)]
        cands.sort(key=lambda c: (-hours.get((visit.child_id, instance.carers[c].carer_id), 0.0),
                                  float(elig.home_miles[c, v]), c))
        cands = cands[:FIRST_FIT_TRIES]
        starts = sorted({planned + d for d in range(-visit.flex_min, visit.flex_min + 1, 15)}
                        | {planned - visit.flex_min, planned + visit.flex_min},
                        key=lambda s: (abs(s - planned), s))
        for start in starts:
            chosen: list[tuple[str, list[Assignment]]] = []
            for c in cands:
                if not any(lo <= start <= hi for lo, hi in elig.allowed_starts(c, v)):
                    continue
                carer = instance.carers[c]
                row = Assignment(visit.visit_id, carer.carer_id, start, start + visit.duration_min)
                week = placed(carer, weeks[carer.carer_id], row)
                if week is not None:
                    chosen.append((carer.carer_id, week))
                    if len(chosen) == visit.carers:
                        break
            if len(chosen) == visit.carers:
                for carer_id, week in chosen:
                    weeks[carer_id] = week
                break
    rows = [a for week in weeks.values() for a in week]
    rows.sort(key=lambda a: (instance.visit_index[a.visit_id], a.carer_id))
    staffed: dict[str, int] = {}
    for a in rows:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    unassigned = tuple(
        Unassigned(x.visit_id, x.carers - staffed.get(x.visit_id, 0), "no carer found by first fit")
        for x in instance.visits if staffed.get(x.visit_id, 0) < x.carers
    )
    return Rota(assignments=tuple(rows), unassigned=unassigned)


# ---- history from rostered weeks, and weeks of churn (issue 23) ------------------------------

HISTORY_MODES: tuple[str, ...] = ("auto", "rostered", "sampled")
"""``rostered``: the history comes from rotas of the four weeks before (``plant_history``);
``sampled``: nearby carers drawn at random (the generator before issue 23); ``auto``: rostered
up to ``ROSTERED_HISTORY_MAX_CARERS`` carers, sampled above."""

ROSTERED_HISTORY_MAX_CARERS = 400
"""Above this many carers ``auto`` keeps the sampled history: the first fit takes about 1 s a
week at M (150 carers) but 17 s at L (1,000), and four weeks of it would dominate generating L."""

NEW_REFERRAL_SHARE = 0.08
"""Share of children whose package starts in the target week (no history: a new referral)."""


def _churn_rng(seed: int, salt: int) -> np.random.Generator:
    """A random stream of its own, so that planting history leaves every draw of the target
    week (carers, children, packages, refusals) as it was."""
    return np.random.default_rng([seed, 23, salt])


def _absences_for(rng: np.random.Generator, carer_ids: Sequence[str], week: date) -> list[Absence]:
    """Leave and sickness as ``_make_carers`` draws them: about 3 % on a few days' annual leave,
    2 % off sick one day."""
    out: list[Absence] = []
    for cid in carer_ids:
        r = rng.random()
        if r < 0.03:
            start = week + timedelta(days=int(rng.integers(0, 6)))
            end = min(start + timedelta(days=int(rng.integers(2, 6))), week + timedelta(days=7))
            out.append(Absence(cid, _midnight(start), _midnight(end)))
        elif r < 0.05:
            day = week + timedelta(days=int(rng.integers(0, 7)))
            out.append(Absence(cid, _midnight(day), _midnight(day + timedelta(days=1))))
    return out


def _clone_carer(
    rng: np.random.Generator, template: Carer, carer_id: str, instance: Instance
) -> tuple[Carer, list[Training], list[Availability]]:
    """A new carer like ``template`` (a starter or a leaver): same pattern and skills, a new
    name, living nearby, DBS on the Update Service."""
    g = template.gender
    first = _pick(rng, _FEMALE if g == "F" else _MALE if g == "M" else _X)
    carer = replace(
        template, carer_id=carer_id, name=f"{first} {_pick(rng, _SURNAMES)}",
        lat=template.lat + float(rng.normal(0, 0.01)), lon=template.lon + float(rng.normal(0, 0.01)),
        dbs_check="enhanced_barred_children", dbs_update_service=True,
        dbs_issued=instance.settings.week_start - timedelta(days=60),
    )
    training = [replace(t, carer_id=carer_id, expires=None) for t in instance.training
                if t.carer_id == template.carer_id]
    availability = [replace(a, carer_id=carer_id) for a in instance.availability
                    if a.carer_id == template.carer_id]
    return carer, training, availability


def _next_id(prefix: str, ids: Iterable[str]) -> str:
    known = [i for i in ids if i.startswith(prefix) and i[len(prefix):].isdigit()]
    width = max((len(i) - len(prefix) for i in known), default=4)
    top = max((int(i[len(prefix):]) for i in known), default=0)
    return f"{prefix}{top + 1:0{width}d}"


def history_from(weeks: Sequence[tuple[Instance, Rota]], instance: Instance) -> tuple[History, ...]:
    """Hours per (child, carer) over the rotas of ``weeks`` (the four before ``instance``'s), as
    the store's ``history_for`` counts them (visit minutes / 60, 2 dp), for the carers and
    children of ``instance`` (a carer who has left is not in history.csv)."""
    minutes: dict[tuple[str, str], int] = {}
    first = instance.settings.week_start - timedelta(weeks=4)
    for week, rota in weeks:
        if not first <= week.settings.week_start < instance.settings.week_start:
            continue
        for a in rota.assignments:
            key = (week.visit(a.visit_id).child_id, a.carer_id)
            minutes[key] = minutes.get(key, 0) + a.end - a.start
    return tuple(
        History(c, k, round(m / 60.0, 2)) for (c, k), m in sorted(minutes.items())
        if c in instance.child_index and k in instance.carer_index
    )


def plant_history(
    instance: Instance, packages: Sequence[PackageRow], seed: int, roster_fn: RosterFn
) -> tuple[Instance, tuple[tuple[Instance, Rota], ...]]:
    """``instance`` with its history taken from rotas of the four weeks before it, rostered by
    ``roster_fn`` from the same packages, oldest first, each week knowing the ones before it.

    The usual churn: each earlier week has its own leave and sickness; a carer who has since left
    (a clone of a target carer, with an id after the last) works the first three weeks; about
    one carer in a hundred is a starter who joined two weeks ago; ``NEW_REFERRAL_SHARE`` of the
    children are new referrals whose package starts this week. Training that expires during the
    target week was valid in the earlier ones. Returns the instance and the rostered weeks."""
    rng = _churn_rng(seed, 0)
    ws = instance.settings.week_start
    n = len(instance.carers)
    starters = {instance.carers[int(i)].carer_id
                for i in rng.choice(n, size=min(n, max(1, n // 100)), replace=False)} if n > 1 else set()
    fresh = {c.child_id for c in instance.children if rng.random() < NEW_REFERRAL_SHARE}
    template = instance.carers[int(rng.integers(n))]
    leaver, l_training, l_availability = _clone_carer(
        rng, template, _next_id("K", instance.carer_index), instance)
    weeks: list[tuple[Instance, Rota]] = []
    for back in range(4, 0, -1):
        week = ws - timedelta(weeks=back)
        carers = [c for c in instance.carers if back <= 2 or c.carer_id not in starters]
        training = [t for t in instance.training if back <= 2 or t.carer_id not in starters]
        availability = [a for a in instance.availability
                        if a.day in DAY_NAMES and (back <= 2 or a.carer_id not in starters)]
        if back >= 2:
            carers.append(leaver)
            training += l_training
            availability += l_availability
        children = tuple(c for c in instance.children if c.child_id not in fresh)
        rows = [r for r in packages if r.child_id not in fresh]
        holidays = bank_holidays_in_week(week)
        earlier = replace(
            instance,
            settings=replace(instance.settings, week_start=week, bank_holidays=holidays),
            carers=tuple(carers), children=children, training=tuple(training),
            availability=tuple(availability),
            absences=tuple(_absences_for(rng, [c.carer_id for c in carers], week)),
            visits=expand(rows, children, week, holidays),
            history=(),
        )
        earlier = replace(earlier, history=history_from(weeks, earlier))
        weeks.append((earlier, roster_fn(earlier)))
    return replace(instance, history=history_from(weeks, instance)), tuple(weeks)


@dataclass(frozen=True)
class ChurnEvent:
    """One change between two weeks of a caseload (a row of ``changes.csv``)."""

    week_start: date
    event: str
    carer_id: str = ""
    child_id: str = ""
    detail: str = ""


CHURN_COLUMNS: tuple[str, ...] = ("week_start", "event", "carer_id", "child_id", "detail")

EVENTS: tuple[str, ...] = (
    "sickness", "annual_leave", "carer_leaves", "new_starter", "training_expires",
    "new_referral", "package_ends", "family_refuses_carer", "training_renewed",
)


@dataclass(frozen=True)
class CaseloadWeek:
    """One week of ``generate_weeks``: its instance (history from the weeks before it, rostered by
    ``roster_fn``), the rota ``roster_fn`` made for it, and the events that led to it."""

    instance: Instance
    rota: Rota
    events: tuple[ChurnEvent, ...]
    packages: tuple[PackageRow, ...] = ()
    """The package rows the week's visits come from."""


def generate_weeks(
    carers: int,
    children: int,
    weeks: int,
    seed: int = 0,
    week_start: date = date(2026, 11, 23),
    county: str = "Dorset",
    roster_fn: RosterFn | None = None,
) -> tuple[GeneratedCaseload, tuple[CaseloadWeek, ...]]:
    """``weeks`` consecutive weeks of one caseload from ``week_start``, with churn between them.

    Week 1 is ``generate_caseload``'s (history planted from four rostered weeks). Before each
    later week: a few carers off sick for a day or two and on annual leave, one carer's training
    expiring mid-week; and in turn a carer leaves, a new starter joins, a new referral, a package
    ends and a family refuses the carer who came most often last week (about one of each per
    hundred carers). Each week's history is the four weeks before it as ``roster_fn`` rostered
    them (default ``first_fit``). Deterministic for a seed."""
    if weeks < 1:
        raise ValueError(f"weeks is {weeks}; it must be at least 1.")
    roster = roster_fn or first_fit
    caseload = generate_caseload(carers, children, seed, week_start, county, history_mode="rostered",
                                 roster_fn=roster)
    rng = _churn_rng(seed, 1)
    first = caseload.instance
    done: list[tuple[Instance, Rota]] = list(caseload.history_weeks)
    packages = list(caseload.packages)
    out: list[CaseloadWeek] = []
    current = first
    scale = max(1, round(len(first.carers) / 100))
    for i in range(weeks):
        events: list[ChurnEvent] = []
        if i > 0:
            current, packages, events = _churn(rng, current, packages, done[-1], i, scale)
            current = replace(current, history=history_from(done, current))
        rota = roster(current)
        done.append((current, rota))
        out.append(CaseloadWeek(current, rota, tuple(events), tuple(packages)))
    return caseload, tuple(out)


def _churn(
    rng: np.random.Generator, instance: Instance, packages: list[PackageRow],
    last: tuple[Instance, Rota], index: int, scale: int,
) -> tuple[Instance, list[PackageRow], list[ChurnEvent]]:
    """The next week of ``instance`` with this week's churn (see ``generate_weeks``)."""
    week = instance.settings.week_start + timedelta(weeks=1)
    holidays = bank_holidays_in_week(week)
    carers = list(instance.carers)
    training = list(instance.training)
    availability = list(instance.availability)
    children = list(instance.children)
    events: list[ChurnEvent] = []
    ids = [c.carer_id for c in carers]

    def some(k: int) -> list[str]:
        return [ids[int(j)] for j in rng.choice(len(ids), size=min(k, len(ids)), replace=False)]

    absences: list[Absence] = []
    for cid in some(scale * 2):
        day = week + timedelta(days=int(rng.integers(0, 6)))
        length = int(rng.integers(1, 3))
        absences.append(Absence(cid, _midnight(day), _midnight(day + timedelta(days=length))))
        events.append(ChurnEvent(week, "sickness", cid, "", f"off sick {day} for {length} day(s)"))
    for cid in some(scale * 2):
        if any(a.carer_id == cid for a in absences):
            continue
        absences.append(Absence(cid, _midnight(week), _midnight(week + timedelta(days=7))))
        events.append(ChurnEvent(week, "annual_leave", cid, "", "on annual leave all week"))
    for t in [t for t in training if t.expires is not None and t.expires < week]:
        # a refresher course: training that ran out in an earlier week is renewed for a year
        training = [replace(x, expires=week + timedelta(days=365)) if x is t else x
                    for x in training]
        events.append(ChurnEvent(week, "training_renewed", t.carer_id, "",
                                 f"{t.competency} renewed to {week + timedelta(days=365)}"))
    for cid in some(scale):
        held = [t for t in training if t.carer_id == cid]
        if not held:
            continue
        t = held[int(rng.integers(len(held)))]
        expires = week + timedelta(days=2)
        training = [replace(x, expires=expires) if x is t else x for x in training]
        events.append(ChurnEvent(week, "training_expires", cid, "",
                                 f"{t.competency} expires {expires}"))
    turn = EVENTS[2 + (index - 1) % 6]  # one of the occasional events each week, in turn
    for _ in range(scale):
        if turn == "carer_leaves" and len(carers) > 2:
            gone = carers.pop(int(rng.integers(len(carers))))
            training = [t for t in training if t.carer_id != gone.carer_id]
            availability = [a for a in availability if a.carer_id != gone.carer_id]
            children = [replace(c, excluded_carers=tuple(k for k in c.excluded_carers
                                                         if k != gone.carer_id)) for c in children]
            events.append(ChurnEvent(week, turn, gone.carer_id, "", "leaves the provider"))
        elif turn == "new_starter":
            template = carers[int(rng.integers(len(carers)))]
            new, t_rows, a_rows = _clone_carer(
                rng, template, _next_id("K", [c.carer_id for c in carers]), instance)
            carers.append(new)
            training += t_rows
            availability += a_rows
            events.append(ChurnEvent(week, turn, new.carer_id, "", "joins the provider"))
        elif turn == "new_referral":
            model = children[int(rng.integers(len(children)))]
            near = children[int(rng.integers(len(children)))]
            child_id = _next_id("C", [c.child_id for c in children])
            children.append(replace(model, child_id=child_id, lat=near.lat + 0.003,
                                    lon=near.lon + 0.003, excluded_carers=()))
            packages = packages + [replace(r, child_id=child_id) for r in packages
                                   if r.child_id == model.child_id]
            events.append(ChurnEvent(week, turn, "", child_id, "a new package starts"))
        elif turn == "package_ends" and len(children) > 2:
            gone_child = children.pop(int(rng.integers(len(children))))
            packages = [r for r in packages if r.child_id != gone_child.child_id]
            events.append(ChurnEvent(week, turn, "", gone_child.child_id, "the package ends"))
        elif turn == "family_refuses_carer":
            last_week, last_rota = last
            counts: dict[tuple[str, str], int] = {}
            for a in last_rota.assignments:
                key = (last_week.visit(a.visit_id).child_id, a.carer_id)
                counts[key] = counts.get(key, 0) + 1
            live = {c.child_id for c in children}
            options = sorted((k for k in counts if k[0] in live), key=lambda k: (-counts[k], k))
            if options:
                child_id, cid = options[int(rng.integers(min(len(options), 10)))]
                children = [replace(c, excluded_carers=(*c.excluded_carers, cid))
                            if c.child_id == child_id else c for c in children]
                events.append(ChurnEvent(week, turn, cid, child_id,
                                         "the family asks for this carer not to come"))
    live_carers = {c.carer_id for c in carers}
    children = [replace(c, excluded_carers=tuple(k for k in c.excluded_carers if k in live_carers))
                for c in children]
    settings = replace(instance.settings, week_start=week, bank_holidays=holidays)
    nxt = replace(
        instance, settings=settings, carers=tuple(carers), children=tuple(children),
        training=tuple(training), availability=tuple(availability), absences=tuple(absences),
        visits=expand(packages, children, week, holidays), history=(),
    )
    return nxt, packages, events


def churn_csv(events: Iterable[ChurnEvent]) -> str:
    """``changes.csv``: one row per churn event (ids, no names)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CHURN_COLUMNS)
    for e in events:
        writer.writerow([e.week_start.isoformat(), e.event, e.carer_id, e.child_id, e.detail])
    return buffer.getvalue()


def size(name: str) -> tuple[int, int]:
    """(carers, children) of a named size ``S``, ``M``, ``L`` or ``XL``."""
    key = name.strip().upper()
    if key not in SIZES:
        raise ValueError(f"size is {name!r}; it must be one of {', '.join(SIZES)}.")
    return SIZES[key]


def generate_instance_folder(
    out: str | Path,
    carers: int,
    children: int,
    seed: int = 0,
    week_start: date = date(2026, 11, 23),
    county: str = "Dorset",
    progress: bool = False,
) -> Instance:
    """Generate and write a contract folder at ``out`` (plus its ``packages.csv``)."""
    from roster.io import write_instance
    from roster.packages import PACKAGES_FILE, write_packages

    bar = None
    callback = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=5, desc="generate", unit="stage")

        def callback(stage: str) -> None:
            assert bar is not None
            bar.set_postfix_str(stage)
            if stage != "carers":
                bar.update(1)

    caseload = generate_caseload(carers, children, seed, week_start, county, callback)
    if bar is not None:
        bar.set_postfix_str("writing")
    write_instance(caseload.instance, out)
    write_packages(caseload.packages, Path(out) / PACKAGES_FILE)
    if bar is not None:
        bar.update(1)
        bar.close()
    return caseload.instance


# ---- CLI ---------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="folder to write the instance to")
    parser.add_argument("--size", choices=list(SIZES), help="a named size (S, M, L, XL)")
    parser.add_argument("--carers", type=int, help="number of carers")
    parser.add_argument("--children", type=int, help="number of children")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--week", type=date.fromisoformat, default=date(2026, 11, 23),
                        help="the Monday the week starts (default 2026-11-23)")
    parser.add_argument("--county", default="Dorset",
                        help="Dorset, Cambridgeshire (with Peterborough) or Milton Keynes")
    parser.add_argument("--weeks", type=int, default=None, metavar="N",
                        help="write N consecutive weeks of the same caseload with churn between "
                        "them: OUT/YYYY-MM-DD/ per week and OUT/changes.csv naming the events")


def run_command(args: argparse.Namespace) -> int:
    import sys

    carers, children = (None, None)
    if args.size:
        carers, children = SIZES[args.size]
    if args.carers is not None:
        carers = args.carers
    if args.children is not None:
        children = args.children
    if carers is None:
        print("roster generate: give --size or --carers (and --children).", file=sys.stderr)
        return 2
    if children is None:
        children = max(1, math.ceil(carers * SIZES["L"][1] / SIZES["L"][0]))
    try:
        if args.weeks is not None:
            return _write_weeks(args, carers, children)
        instance = generate_instance_folder(
            args.out, carers, children, args.seed, args.week, args.county,
            progress=carers >= 500 and sys.stderr.isatty(),
        )
    except ValueError as exc:
        print(f"roster generate: {exc}", file=sys.stderr)
        return 2
    slots = sum(v.carers for v in instance.visits)
    print(
        f"{len(instance.carers)} carers, {len(instance.children)} children, "
        f"{len(instance.visits)} visits ({slots} carer slots) written to {args.out}"
    )
    return 0


def _write_weeks(args: argparse.Namespace, carers: int, children: int) -> int:
    """``roster generate OUT --weeks N``: one contract folder per week and OUT/changes.csv."""
    from roster.atomic import atomic_write_text
    from roster.io import write_instance
    from roster.packages import PACKAGES_FILE, write_packages

    _caseload, weeks = generate_weeks(carers, children, args.weeks, args.seed, args.week,
                                      args.county)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for w in weeks:
        folder = out / w.instance.settings.week_start.isoformat()
        write_instance(w.instance, folder)
        write_packages(w.packages, folder / PACKAGES_FILE)
    atomic_write_text(out / "changes.csv", churn_csv(e for w in weeks for e in w.events))
    first = weeks[0].instance
    print(
        f"{len(weeks)} weeks from {first.settings.week_start} of {len(first.carers)} carers and "
        f"{len(first.children)} children, {sum(len(w.events) for w in weeks)} churn events "
        f"written to {args.out} (one folder per week, changes.csv)"
    )
    return 0
