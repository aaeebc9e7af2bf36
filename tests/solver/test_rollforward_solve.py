"""The roll-forward solve: last week's carers kept, the rest of the week solved around them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from roster.checker import check
from roster.generator import SIZES, first_fit, generate_caseload, steady_week
from roster.model import Training
from roster.rollforward import carry
from solver.params import SolveParams
from solver.rollforward import roll_forward
from solver.solve import solve
from tests.factory import carer, child, make_instance, mandatory, visit

LAST = date(2026, 11, 16)
THIS = date(2026, 11, 23)
PARAMS = SolveParams(time_limit=20, workers=1, seed=1, deterministic=True)


@pytest.fixture(scope="module")
def steady():
    """Last week's rota as roster made it (a first fit's leaves slots a release can staff)."""
    cl = generate_caseload(*SIZES["S"], seed=4)
    rota = solve(cl.instance, PARAMS).rota
    assert check(cl.instance, rota) == []
    new = steady_week(cl.instance, cl.packages)
    return cl, rota, new


def _pairs(rota):
    return {(a.visit_id, a.carer_id) for a in rota.assignments}


def test_with_demand_and_supply_unchanged_every_row_is_kept_and_no_fewer_slots(steady):
    cl, rota, new = steady
    carried = carry(cl.instance, rota, new)
    rolled = roll_forward(new, carried, PARAMS)
    assert check(new, rolled.rota) == []
    assert rolled.kept_share() >= 0.99
    assert carried.kept_pairs() <= _pairs(rolled.rota)
    assert len(rolled.rota.assignments) >= len(rota.assignments)


def test_a_weak_rota_rolled_forward_changes_rows_only_for_more_slots():
    cl = generate_caseload(*SIZES["S"], seed=4)
    rota = first_fit(cl.instance)
    new = steady_week(cl.instance, cl.packages)
    carried = carry(cl.instance, rota, new)
    rolled = roll_forward(new, carried, PARAMS)
    assert check(new, rolled.rota) == []
    lost = {k for k in carried.kept_pairs() if k not in _pairs(rolled.rota)}
    assert set(rolled.released) == lost
    gained = len(rolled.rota.assignments) - len(carried.kept)
    assert (gained > 0) if lost else (gained >= 0)
    # each change is for a visit the kept rota left open, now staffed
    staffed = {a.visit_id for a in rolled.rota.assignments}
    assert all(u in staffed for u in rolled.released.values())
    # and no carried row that is missing can be put back without staffing fewer slots
    from roster.rollforward import restore

    again = restore(new, carried, rolled.rota.assignments)
    assert {(a.visit_id, a.carer_id) for a in again} == _pairs(rolled.rota)


def test_a_training_expiry_changes_only_that_carers_visits(steady):
    cl, rota, new = steady
    carer_id = max({a.carer_id for a in rota.assignments},
                   key=lambda k: sum(a.carer_id == k for a in rota.assignments))
    tuesday = THIS + timedelta(days=1)
    training = tuple(t for t in new.training
                     if (t.carer_id, t.competency) != (carer_id, "safeguarding_children"))
    new = replace(new, training=training + (Training(carer_id, "safeguarding_children", tuesday),))
    carried = carry(cl.instance, rota, new)
    assert carried.dropped and {d.carer_id for d in carried.dropped} == {carer_id}
    rolled = roll_forward(new, carried, PARAMS)
    assert check(new, rolled.rota) == []
    now = _pairs(rolled.rota)
    lost = {k for k in carried.carried if k not in now}
    # every carried row is kept except the expired carer's, and any released to staff a visit
    # left open (the expired carer's, most likely), each with the visit it was released for
    assert lost == {(d.visit_id, d.carer_id) for d in carried.dropped} | set(rolled.released)
    assert all(u in new.visit_index for u in rolled.released.values())
    if rolled.released:
        assert len(rolled.rota.assignments) > rolled.steps[0]["slots"]


def _release_weeks():
    """Last week K1 took C1's Monday 16:00; this week C2 has a new Monday 16:00 session needing
    PEG feeding, which only K1 holds: K1 must move to C2 for K2 to take C1 and staff both."""
    carers = [carer("K1", name="Katie Day"), carer("K2", name="Jo Bell")]
    children = [child("C1", name="Amy Cox"), child("C2", name="Sam Hill", lat=50.72, lon=-2.43)]
    training = mandatory("K1", "peg_feeding") + mandatory("K2")
    old = make_instance(carers, children, [visit("A16", date=LAST)], training=training,
                        week_start=LAST)
    new = make_instance(
        carers, children,
        [visit("A23", date=THIS), visit("B23", "C2", date=THIS, competencies=("peg_feeding",))],
        training=training, week_start=THIS,
    )
    old_rota = first_fit(old)
    assert _pairs(old_rota) == {("A16", "K1")}
    return old, old_rota, new


def test_a_carried_row_is_released_only_to_staff_an_otherwise_uncovered_visit():
    old, old_rota, new = _release_weeks()
    carried = carry(old, old_rota, new)
    assert carried.kept_pairs() == {("A23", "K1")}
    kept_only = roll_forward(new, carried, PARAMS, release=False)
    assert _pairs(kept_only.rota) == {("A23", "K1")}
    rolled = roll_forward(new, carried, PARAMS)
    assert check(new, rolled.rota) == []
    assert _pairs(rolled.rota) == {("A23", "K2"), ("B23", "K1")}
    assert rolled.released == {("A23", "K1"): "B23"}


def test_a_release_that_staffs_nothing_more_is_not_kept():
    old, old_rota, new = _release_weeks()
    # C2's session now needs a competency nobody holds: releasing K1 cannot staff it
    new = replace(new, visits=tuple(
        replace(v, competencies=("tracheostomy_care",)) if v.visit_id == "B23" else v
        for v in new.visits))
    carried = carry(old, old_rota, new)
    rolled = roll_forward(new, carried, PARAMS)
    assert check(new, rolled.rota) == []
    assert _pairs(rolled.rota) == {("A23", "K1")}
    assert rolled.released == {}


def test_roster_solve_db_week_rolls_the_published_week_forward(tmp_path: Path, steady, capsys):
    from roster.cli import main
    from roster.io import load_rota
    from roster.store import Store

    cl, rota, new = steady
    db = f"sqlite:///{tmp_path / 'roster.sqlite'}"
    with Store.open(db) as store:
        old_id = store.save_instance(cl.instance, user="coordinator1")
        version = store.save_rota(old_id, rota, user="coordinator1")
        store.publish(version, user="coordinator1")
        store.save_instance(new, user="coordinator1")
    out = tmp_path / "rota"
    code = main(["solve", "--db", db, "--week", new.settings.week_start.isoformat(), str(out),
                 "--time-limit", "20", "--workers", "1", "--quiet",
                 "--changes", str(tmp_path / "changes")])
    assert code == 0
    err = capsys.readouterr().err
    assert f"carried {len(rota.assignments)} of {len(rota.assignments)} rows" in err
    assert "kept 100.0 % of last week's rows" in err
    got = load_rota(new, out)
    assert check(new, got) == []
    assert carry(cl.instance, rota, new).kept_pairs() <= _pairs(got)
    assert not any(c.name in err for c in new.carers[:5])
    assert "0 not" in err
    page = (tmp_path / "changes" / "family_changes.html").read_text()
    assert page.count("<h2>") == len({v.child_id for v in new.visits})
    assert "carers change" not in page and "carer changes" not in page


def test_every_change_has_a_reason_in_the_family_and_carer_lists(tmp_path: Path):
    import csv

    from roster.changes import (
        carer_changes_csv,
        family_changes_html,
        roll_changes,
        roll_counts,
        write_roll_changes,
    )

    old, old_rota, new = _release_weeks()
    carried = carry(old, old_rota, new)
    rolled = roll_forward(new, carried, PARAMS)
    changes = roll_changes(old, carried, rolled.rota, rolled.released)
    files = write_roll_changes(tmp_path, old, new, changes)
    assert set(files) == {"family_changes.csv", "family_changes.html", "carer_changes.csv"}
    rows = list(csv.DictReader((tmp_path / "family_changes.csv").open()))
    assert [(r["child"], r["change"], r["forced"], r["reason"]) for r in rows] == [
        ("Amy Cox", "changed", "true", "Mon 16:00 Amy's carer changes from Katie Day to Jo Bell: "
         "to staff an otherwise uncovered visit for Sam"),
        ("Sam Hill", "new", "", "Mon 16:00 Sam's new session: Katie Day"),
    ]
    assert roll_counts(changes)["not_forced"] == 0
    assert roll_counts(changes)["families_changed"] == 2
    carers = list(csv.DictReader(carer_changes_csv(old, new, changes).splitlines()))
    assert [(r["carer"], r["when"], r["child"], r["change"], r["reason"]) for r in carers] == [
        ("Katie Day", "Mon 16:00", "Amy Cox", "no longer",
         "to staff an otherwise uncovered visit for Sam"),
        ("Katie Day", "Mon 16:00", "Sam Hill", "new", "new session"),
        ("Jo Bell", "Mon 16:00", "Amy Cox", "new", "instead of Katie Day"),
    ]
    page = family_changes_html(old, new, changes)
    assert page.index("<h2>Amy Cox</h2>") < page.index("<h2>Sam Hill</h2>")
    assert "Amy&#x27;s carer changes from Katie Day to Jo Bell" in page
