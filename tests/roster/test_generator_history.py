"""The generator's history comes from rostered weeks, and it can write weeks of churn."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date, timedelta

import pytest

from roster.checker import check
from roster.generator import (
    EVENTS,
    SIZES,
    first_fit,
    generate_caseload,
    generate_weeks,
    history_from,
)

WEEK = date(2026, 11, 23)


@pytest.fixture(scope="module")
def small():
    return generate_caseload(*SIZES["S"], seed=3, week_start=WEEK)


def test_history_comes_from_four_rostered_weeks_that_keep_every_rule(small):
    weeks = small.history_weeks
    assert [w.settings.week_start for w, _ in weeks] == [WEEK - timedelta(weeks=k) for k in (4, 3, 2, 1)]
    for week, rota in weeks:
        assert check(week, rota) == []
    minutes: dict[tuple[str, str], int] = {}
    for week, rota in weeks:
        for a in rota.assignments:
            key = (week.visit(a.visit_id).child_id, a.carer_id)
            minutes[key] = minutes.get(key, 0) + a.end - a.start
    inst = small.instance
    expected = {k: round(m / 60, 2) for k, m in minutes.items()
                if k[0] in inst.child_index and k[1] in inst.carer_index}
    assert {(h.child_id, h.carer_id): h.hours for h in inst.history} == expected


def test_only_the_history_differs_from_the_sampled_generator(small):
    sampled = generate_caseload(*SIZES["S"], seed=3, week_start=WEEK, history_mode="sampled")
    assert sampled.history_weeks == ()
    assert replace(sampled.instance, history=()) == replace(small.instance, history=())
    assert sampled.packages == small.packages
    assert sampled.instance.history != small.instance.history


def test_the_history_weeks_have_a_leaver_a_starter_and_new_referrals(small):
    inst = small.instance
    ids = [{c.carer_id for c in w.carers} for w, _ in small.history_weeks]
    target = set(inst.carer_index)
    leavers = set.union(*ids) - target
    assert len(leavers) == 1
    (leaver,) = leavers
    assert [leaver in i for i in ids] == [True, True, True, False]
    starters = target - ids[0]
    assert starters and all(s in ids[2] and s in ids[3] for s in starters)
    children = {c.child_id for c in small.history_weeks[0][0].children}
    referrals = set(inst.child_index) - children
    assert referrals
    assert not any(h.child_id in referrals for h in inst.history)
    assert not any(h.carer_id == leaver for h in inst.history)


def test_a_long_running_caseload_knows_most_of_its_carers(small):
    """With real history, the carer a first fit gives a child this week is nearly always one
    the child knows (it was sampled at random nearby before: 25-41 % of rows on S)."""
    inst = small.instance
    rota = first_fit(inst)
    old_children = {c.child_id for c in small.history_weeks[-1][0].children}
    rows = [a for a in rota.assignments if inst.visit(a.visit_id).child_id in old_children]
    known = sum(inst.knows(inst.visit(a.visit_id).child_id, a.carer_id) for a in rows)
    assert known / len(rows) >= 0.8


def test_the_rostering_function_is_a_parameter():
    seen: list[date] = []

    def roster(instance):
        seen.append(instance.settings.week_start)
        return first_fit(instance)

    caseload = generate_caseload(12, 20, seed=5, week_start=WEEK, roster_fn=roster)
    assert seen == [WEEK - timedelta(weeks=k) for k in (4, 3, 2, 1)]
    assert caseload.instance.history == history_from(caseload.history_weeks, caseload.instance)


def test_an_unknown_history_mode_is_refused():
    with pytest.raises(ValueError, match="history_mode is 'real'; it must be one of auto"):
        generate_caseload(5, 5, history_mode="real")


def test_weeks_of_churn_are_consecutive_checked_and_deterministic():
    caseload, weeks = generate_weeks(*SIZES["S"], weeks=8, seed=2, week_start=WEEK)
    assert [w.instance.settings.week_start for w in weeks] == [WEEK + timedelta(weeks=k) for k in range(8)]
    assert weeks[0].events == ()
    kinds = {e.event for w in weeks for e in w.events}
    assert set(EVENTS) - {"training_renewed"} <= kinds
    for w in weeks:
        assert check(w.instance, w.rota) == []
        assert all(e.week_start == w.instance.settings.week_start for e in w.events)
    left = next(e.carer_id for w in weeks for e in w.events if e.event == "carer_leaves")
    after = next(i for i, w in enumerate(weeks) if any(e.event == "carer_leaves" for e in w.events))
    assert all(left not in w.instance.carer_index for w in weeks[after:])
    # history of each later week: the four weeks before it as rostered
    w3 = weeks[3].instance
    earlier = [*caseload.history_weeks, *((w.instance, w.rota) for w in weeks[:3])]
    assert w3.history == history_from(earlier, w3)
    assert w3.history != history_from(earlier[-4:-1], w3)
    _, again = generate_weeks(*SIZES["S"], weeks=8, seed=2, week_start=WEEK)
    assert [w.instance for w in again] == [w.instance for w in weeks]


def test_roster_generate_weeks_writes_a_folder_per_week_and_changes_csv(tmp_path):
    from roster.cli import main
    from roster.io import load_instance

    code = main(["generate", str(tmp_path / "out"), "--size", "S", "--seed", "4", "--weeks", "3"])
    assert code == 0
    folders = sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert folders == ["2026-11-23", "2026-11-30", "2026-12-07"]
    for name in folders:
        instance = load_instance(tmp_path / "out" / name)
        assert instance.settings.week_start == date.fromisoformat(name)
        assert (tmp_path / "out" / name / "packages.csv").exists()
    rows = list(csv.DictReader((tmp_path / "out" / "changes.csv").open()))
    assert rows and {r["week_start"] for r in rows} == {"2026-11-30", "2026-12-07"}
    assert {r["event"] for r in rows} <= set(EVENTS)


def test_a_first_fit_around_kept_rows_redoes_their_journeys(small):
    inst = small.instance
    rota = first_fit(inst)
    keep = [a for i, a in enumerate(rota.assignments)
            if i % 2 and inst.visit(a.visit_id).carers == 1]  # journeys now stale (R13)
    again = first_fit(inst, keep=keep)
    assert check(inst, again) == []
    assert {(a.visit_id, a.carer_id) for a in keep} <= {
        (a.visit_id, a.carer_id) for a in again.assignments}
