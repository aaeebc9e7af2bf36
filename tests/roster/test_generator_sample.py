"""The bundled sample (data/sample) is valid, recognisable and staffable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from roster.packages import expand, read_packages

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def sample():
    from roster.io import load_instance

    return load_instance(SAMPLE)


def test_sample_loads_and_is_the_week_of_23_november_2026(sample):
    assert sample.settings.week_start == date(2026, 11, 23)
    assert 12 <= len(sample.carers) <= 15 and len(sample.children) == 10


def test_sample_visits_are_its_packages_expanded(sample):
    rows = read_packages(SAMPLE / "packages.csv")
    assert expand(rows, sample.children, sample.settings.week_start) == sample.visits


def test_sample_has_what_a_coordinator_juggles(sample):
    week = sample.settings.week_start
    assert sum(v.carers == 2 for v in sample.visits) >= 3
    assert sum(v.start == "22:00" for v in sample.visits) >= 4
    assert any(c.excluded_carers for c in sample.children)
    assert any(c.gender_required for c in sample.children)
    assert sample.history and sample.absences
    assert any(c.agency for c in sample.carers)
    assert any(c.age_on(week) < 18 for c in sample.carers)
    assert any(v.kind == "community" and v.trip_miles > 0 for v in sample.visits)


def test_every_sample_visit_has_enough_eligible_carers(sample):
    from roster.eligibility import compute_eligibility

    eligible = compute_eligibility(sample).ok.sum(axis=0)
    need = np.array([v.carers for v in sample.visits])
    assert (eligible >= need).all()
