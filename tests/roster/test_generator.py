"""The synthetic generator: deterministic, the promised sizes, realistic, and valid."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest

from roster.generator import SIZES, footprint, generate, generate_caseload, generate_instance_folder
from roster.towns import COUNTIES, county_towns

WEEK = date(2026, 11, 23)


@pytest.fixture(scope="module")
def medium():
    return generate(*SIZES["M"], seed=7, week_start=WEEK)


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_writes_identical_files(tmp_path):
    generate_instance_folder(tmp_path / "a", 20, 40, seed=3)
    generate_instance_folder(tmp_path / "b", 20, 40, seed=3)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert {"carers.csv", "children.csv", "visits.csv", "instance.json", "packages.csv"} <= set(a)
    assert a == b


def test_different_seeds_give_different_caseloads():
    a = generate(20, 40, seed=1)
    b = generate(20, 40, seed=2)
    assert a != b
    assert [c.lat for c in a.carers] != [c.lat for c in b.carers]


def test_same_seed_gives_equal_instances_in_memory():
    assert generate(15, 30, seed=11) == generate(15, 30, seed=11)


@pytest.mark.parametrize("name", ["S", "M"])
def test_named_sizes_have_the_promised_counts_and_about_ten_visits_per_carer(name):
    carers, children = SIZES[name]
    instance = generate(carers, children, seed=1)
    assert len(instance.carers) == carers
    assert len(instance.children) == children
    assert 6.5 <= len(instance.visits) / carers <= 12


def test_sizes_are_s_m_l_xl_with_the_agreed_carer_counts():
    assert {k: v[0] for k, v in SIZES.items()} == {"S": 30, "M": 150, "L": 1000, "XL": 5000}


def test_generated_instance_round_trips_through_the_contract_folder(tmp_path):
    from roster.io import load_instance, write_instance

    instance = generate(*SIZES["S"], seed=5)
    write_instance(instance, tmp_path / "inst")
    assert load_instance(tmp_path / "inst") == instance


def test_workforce_is_realistic(medium):
    carers = medium.carers
    n = len(carers)
    share = lambda pred: sum(map(pred, carers)) / n  # noqa: E731
    assert 0.7 <= share(lambda c: c.gender == "F") <= 0.9
    assert 0.65 <= share(lambda c: c.drives) <= 0.85
    assert 0.04 <= share(lambda c: c.agency) <= 0.18
    assert 0.85 <= share(lambda c: c.dbs_check == "enhanced_barred_children") < 1.0
    agency_cost = np.mean([c.hourly_cost for c in carers if c.agency])
    staff_cost = np.mean([c.hourly_cost for c in carers if not c.agency])
    assert agency_cost > staff_cost + 5
    assert any(c.age_on(WEEK) < 18 for c in carers)
    assert all(16 <= c.age_on(WEEK) <= 67 for c in carers)


def test_everyone_holds_safeguarding_and_some_training_expires_this_week(medium):
    held = medium.training_by_carer
    assert all("safeguarding_children" in held[c.carer_id] for c in medium.carers)
    week_end = date(2026, 11, 29)
    expiring = [t for t in medium.training if t.expires is not None and WEEK <= t.expires <= week_end]
    assert expiring
    assert {t.competency for t in medium.training} >= {
        "peg_feeding", "epilepsy_rescue_medication", "hoist_moving_handling",
        "positive_behaviour_support", "autism_awareness", "medication_administration",
    }


def test_children_span_ages_specs_and_sessions(medium):
    years = [(WEEK - c.date_of_birth).days // 365 for c in medium.children]
    assert min(years) <= 4 and max(years) >= 15 and max(years) <= 25
    assert set(c.spec for c in medium.children) == {
        "generic_home_care", "complex_home_care", "community_support"}
    starts = Counter(v.start[:2] for v in medium.visits)
    assert starts["07"] and starts["15"] and starts["22"]  # morning, after school, waking night
    assert any(v.carers == 2 for v in medium.visits)
    community = [v for v in medium.visits if v.kind == "community"]
    assert community and any(v.trip_miles > 0 and v.needs_driver for v in community)
    assert any(v.date.weekday() >= 5 for v in community)
    assert all(1 <= v.duration_min <= 600 and v.flex_min < v.duration_min for v in medium.visits)


def test_children_have_family_wishes_history_and_continuity_targets(medium):
    kids = medium.children
    assert any(c.gender_required for c in kids) and any(c.gender_preferred for c in kids)
    assert any(c.language for c in kids) and any(c.culture for c in kids)
    assert any(c.excluded_carers for c in kids)
    assert any(c.max_carers_week for c in kids)
    served = {h.child_id for h in medium.history}
    assert len(served) >= 0.6 * len(kids)
    ids = {c.carer_id for c in medium.carers}
    assert all(h.carer_id in ids and h.hours > 0 for h in medium.history)
    assert all(set(c.excluded_carers) <= ids for c in kids)


def test_every_visit_has_enough_eligible_carers_on_a_medium_caseload(medium):
    from roster.eligibility import compute_eligibility

    eligible = compute_eligibility(medium).ok.sum(axis=0)
    need = np.array([v.carers for v in medium.visits])
    assert np.mean(eligible >= need) >= 0.99


@pytest.mark.parametrize("county", sorted(COUNTIES))
def test_people_live_near_the_countys_towns(county):
    instance = generate(40, 80, seed=2, county=county)
    towns = county_towns(county)
    lat = [t.lat for t in towns]
    lon = [t.lon for t in towns]
    for person in (*instance.carers, *instance.children):
        assert min(lat) - 0.4 <= person.lat <= max(lat) + 0.4
        assert min(lon) - 0.6 <= person.lon <= max(lon) + 0.6


def test_commissioners_fit_the_county():
    cambs = generate(150, 300, seed=4, county="Cambridgeshire")
    names = {c.commissioner for c in cambs.children}
    assert "Peterborough City Council" in names and "Cambridgeshire County Council" in names
    assert {c.commissioner for c in generate(20, 40, seed=4).children} <= {"Dorset Council", "NHS Dorset"}


def test_a_small_provider_covers_one_patch():
    towns = county_towns("Dorset")
    assert len(footprint(towns, 30)) == 3
    assert len(footprint(towns, 1000)) == len(towns)


def test_bank_holiday_week_is_written_into_settings_and_peterborough_skips_it():
    caseload = generate_caseload(
        150, 300, seed=4, week_start=date(2026, 12, 28), county="Peterborough"
    )
    instance = caseload.instance
    assert instance.settings.bank_holidays == (date(2026, 12, 28), date(2027, 1, 1))
    pcc = {c.child_id for c in instance.children if c.commissioner == "Peterborough City Council"}
    requested = {r.child_id for r in caseload.packages if r.deliver_on_bank_holiday}
    on_holiday = {v.child_id for v in instance.visits if v.date in instance.settings.bank_holidays}
    assert on_holiday - pcc  # Cambridgeshire delivers on bank holidays
    assert (on_holiday & pcc) <= requested
    assert any(r.day in ("Mon", "Fri") and r.child_id in pcc and not r.deliver_on_bank_holiday
               for r in caseload.packages)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="county is 'Kent'"):
        generate(5, 5, county="Kent")
    with pytest.raises(ValueError, match="it must be a Monday"):
        generate(5, 5, week_start=date(2026, 11, 24))
    with pytest.raises(ValueError, match="at least 1"):
        generate(0, 5)


def test_generate_cli_writes_a_valid_folder(tmp_path, capsys):
    from roster.cli import main

    assert main(["generate", str(tmp_path / "s"), "--size", "S", "--seed", "2"]) == 0
    assert "30 carers, 56 children" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "s")]) == 0
    assert main(["generate", str(tmp_path / "c"), "--carers", "12", "--children", "20",
                 "--county", "Milton Keynes", "--week", "2026-10-19"]) == 0
    from roster.io import load_instance

    inst = load_instance(tmp_path / "c")
    assert len(inst.carers) == 12 and inst.settings.week_start == date(2026, 10, 19)


def test_progress_bar_reports_each_stage(tmp_path, capsys):
    generate_instance_folder(tmp_path / "p", 10, 20, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "generate" in err and "5/5" in err
