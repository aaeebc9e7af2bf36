"""Tiny hand-made instances for tests: sensible, rule-abiding defaults, override what you test.

``make_instance`` builds a week starting Monday 2026-11-23 (no bank holiday, no clock change)
where every default carer is vetted, trained, available 07:00-22:00 every day, drives, and lives
in Dorchester; every default child lives a mile or two away.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from roster.model import (
    Availability,
    Carer,
    Child,
    History,
    Instance,
    Settings,
    Training,
    Visit,
)

WEEK = date(2026, 11, 23)
DORCHESTER = (50.7154, -2.4367)


def carer(carer_id: str = "K1", **kw: Any) -> Carer:
    base = Carer(
        carer_id=carer_id,
        name=f"Carer {carer_id}",
        gender="F",
        date_of_birth=date(1990, 1, 1),
        lat=DORCHESTER[0],
        lon=DORCHESTER[1],
        drives=True,
        dbs_check="enhanced_barred_children",
        dbs_issued=date(2025, 1, 1),
        dbs_update_service=False,
        languages=("English",),
        culture="",
        overnight_ok=False,
        max_week_hours=None,
        contracted_hours=30.0,
        hourly_cost=13.0,
        agency=False,
    )
    return replace(base, **kw)


def child(child_id: str = "C1", **kw: Any) -> Child:
    base = Child(
        child_id=child_id,
        name=f"Child {child_id}",
        date_of_birth=date(2015, 6, 1),
        lat=DORCHESTER[0] + 0.01,
        lon=DORCHESTER[1] + 0.01,
        commissioner="Dorset Council",
        spec="generic_home_care",
    )
    return replace(base, **kw)


def visit(visit_id: str = "V1", child_id: str = "C1", **kw: Any) -> Visit:
    base = Visit(
        visit_id=visit_id,
        child_id=child_id,
        date=WEEK,
        start="16:00",
        duration_min=120,
    )
    return replace(base, **kw)


def everyday(carer_id: str, start: str = "07:00", end: str = "22:00") -> tuple[Availability, ...]:
    return tuple(Availability(carer_id, d, start, end) for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))


def mandatory(carer_id: str, *extra: str) -> tuple[Training, ...]:
    return tuple(Training(carer_id, c) for c in ("safeguarding_children", *extra))


def make_instance(
    carers: tuple[Carer, ...] | list[Carer] = (),
    children: tuple[Child, ...] | list[Child] = (),
    visits: tuple[Visit, ...] | list[Visit] = (),
    *,
    training: tuple[Training, ...] | None = None,
    availability: tuple[Availability, ...] | None = None,
    history: tuple[History, ...] = (),
    **settings: Any,
) -> Instance:
    """An instance; training and availability default to mandatory training + 07:00-22:00 daily."""
    carers = tuple(carers) or (carer(),)
    children = tuple(children) or (child(),)
    visits = tuple(visits) or (visit(),)
    if training is None:
        training = tuple(t for c in carers for t in mandatory(c.carer_id))
    if availability is None:
        availability = tuple(a for c in carers for a in everyday(c.carer_id))
    settings.setdefault("week_start", WEEK)
    settings.setdefault("name", "test")
    return Instance(
        settings=Settings(**settings),
        carers=carers,
        children=children,
        visits=visits,
        training=tuple(training),
        availability=tuple(availability),
        history=tuple(history),
    )
