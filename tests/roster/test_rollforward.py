"""Carrying last week's rota onto this week: which rows still keep every rule, and why not."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import pytest

from roster.calendar import bank_holidays_in_week, format_hhmm, parse_hhmm
from roster.checker import check
from roster.generator import SIZES, first_fit, generate_caseload, steady_week
from roster.model import Absence, Training
from roster.packages import delivers_on_bank_holidays
from roster.rollforward import carry, describe, match_visits, with_travel
from roster.rules import RULES_BY_CODE


def _week(seed: int = 1, week: date = date(2026, 11, 23), county: str = "Dorset"):
    cl = generate_caseload(*SIZES["S"], seed=seed, week_start=week, county=county)
    rota = first_fit(cl.instance)
    assert check(cl.instance, rota) == []
    return cl, rota


@pytest.fixture(scope="module")
def base():
    return _week()


def _local(instance, minute):
    return instance.clock.datetime_of(minute).strftime("%a %H:%M")


def test_a_week_where_nothing_changed_is_carried_whole(base):
    cl, rota = base
    new = steady_week(cl.instance, cl.packages)
    carried = carry(cl.instance, rota, new)
    assert carried.dropped == ()
    assert len(carried.kept) == len(rota.assignments)
    old_rows = Counter((cl.instance.visit(a.visit_id).child_id, _local(cl.instance, a.start),
                        a.carer_id) for a in rota.assignments)
    new_rows = Counter((new.visit(a.visit_id).child_id, _local(new, a.start), a.carer_id)
                       for a in carried.kept)
    assert old_rows == new_rows
    assert check(new, carried.rota) == []
    assert "0 not kept" in describe(carried)


def test_a_training_expiry_drops_only_that_carers_later_visits_with_its_reason(base):
    cl, rota = base
    new = steady_week(cl.instance, cl.packages)
    mine = Counter(a.carer_id for a in rota.assignments)
    carer_id = next(k for k, n in mine.most_common() if n >= 4)
    wednesday = new.settings.week_start + timedelta(days=2)
    training = tuple(
        replace(t, expires=wednesday) if (t.carer_id, t.competency) == (carer_id, "safeguarding_children")
        else t for t in new.training
    )
    if not any(t.carer_id == carer_id and t.competency == "safeguarding_children" for t in training):
        training += (Training(carer_id, "safeguarding_children", wednesday),)
    new = replace(new, training=training)
    carried = carry(cl.instance, rota, new)
    later = {
        a.visit_id for a in rota.assignments
        if a.carer_id == carer_id and cl.instance.visit(a.visit_id).date.weekday() > 2
    }
    assert later, "the carer works after Wednesday"
    assert {d.source_visit_id for d in carried.dropped} == later
    assert all(d.carer_id == carer_id and d.cause == "training" for d in carried.dropped)
    names = {carer_id: "Katie"}
    assert {d.text(names) for d in carried.dropped} == {
        f"Katie's safeguarding children training expires on {wednesday.day} {wednesday:%b}"
    }
    assert len(carried.kept) == len(rota.assignments) - len(later)
    assert check(new, carried.rota) == []
    # read out per family: the kept rota as this week's, the expired carer's visits open
    from roster.changes import reason_text, roll_changes, roll_counts

    changes = roll_changes(cl.instance, carried, carried.rota)
    moved = [c for c in changes if c.kind not in ("same", "open")]
    assert {c.kind for c in moved} == {"unstaffed"}
    assert {c.source_visit_id for c in moved} == later
    text = reason_text(moved[0])
    assert text.startswith(f"{moved[0].when} {moved[0].child_id}'s visit has no carer yet "
                           f"({carer_id} cannot come): {carer_id}'s safeguarding children "
                           "training expires on")
    counts = roll_counts(changes)
    assert counts["forced"] == len(moved) and counts["not_forced"] == 0


def test_a_visit_moved_by_fifteen_minutes_keeps_its_carer(base):
    cl, rota = base
    staffed = {a.visit_id for a in rota.assignments}
    row = next(
        r for r in cl.packages
        if r.flex_min >= 15 and r.carers == 1
        and any(v.child_id == r.child_id and v.visit_id in staffed and v.start == r.start
                and v.date.strftime("%a") == r.day for v in cl.instance.visits)
    )
    moved = format_hhmm(parse_hhmm(row.start) + 15)
    packages = tuple(replace(r, start=moved) if r is row else r for r in cl.packages)
    new = steady_week(cl.instance, packages)
    carried = carry(cl.instance, rota, new)
    old_visit = next(v for v in cl.instance.visits if v.child_id == row.child_id
                     and v.start == row.start and v.date.strftime("%a") == row.day)
    new_visit = next(v for v in new.visits if v.child_id == row.child_id
                     and v.start == moved and v.date.strftime("%a") == row.day)
    assert match_visits(cl.instance, new)[new_visit.visit_id] == old_visit.visit_id
    was = {a.carer_id for a in rota.assignments if a.visit_id == old_visit.visit_id}
    now = {a.carer_id for a in carried.kept if a.visit_id == new_visit.visit_id}
    assert now == was
    assert check(new, carried.rota) == []


def test_a_2_to_1_visit_keeps_both_carers(base):
    cl, rota = base
    by_visit = Counter(a.visit_id for a in rota.assignments)
    pairs = [v for v, n in by_visit.items() if n == 2]
    assert pairs, "the first fit staffs some 2:1 visits"
    new = steady_week(cl.instance, cl.packages)
    carried = carry(cl.instance, rota, new)
    back = {o: n for n, o in carried.matches.items()}
    for old_id in pairs:
        rows = [a for a in carried.kept if a.visit_id == back[old_id]]
        assert len(rows) == 2 and rows[0].start == rows[1].start
        assert {a.carer_id for a in rows} == {a.carer_id for a in rota.assignments
                                               if a.visit_id == old_id}


def test_churn_gives_each_dropped_row_its_own_reason(base):
    cl, rota = base
    new = steady_week(cl.instance, cl.packages)
    mine = Counter(a.carer_id for a in rota.assignments)
    leaver, away, refused = (k for k, _ in mine.most_common(3))
    monday = new.settings.week_start
    new = replace(
        new,
        carers=tuple(c for c in new.carers if c.carer_id != leaver),
        training=tuple(t for t in new.training if t.carer_id != leaver),
        availability=tuple(a for a in new.availability if a.carer_id != leaver),
        absences=new.absences + (Absence(away, datetime_at(monday), datetime_at(monday + timedelta(days=7))),),
    )
    refused_child = next(cl.instance.visit(a.visit_id).child_id for a in rota.assignments
                         if a.carer_id == refused)
    new = replace(new, children=tuple(
        replace(c, excluded_carers=(*c.excluded_carers, refused)) if c.child_id == refused_child else c
        for c in new.children
    ))
    carried = carry(cl.instance, rota, new)
    causes = {(d.carer_id, d.cause) for d in carried.dropped}
    assert causes == {(leaver, "left"), (away, "absent"), (refused, "refused")}
    assert {d.child_id for d in carried.dropped if d.cause == "refused"} == {refused_child}
    names = {leaver: "Jo", away: "Amy", refused: "Sam"}
    texts = {d.cause: d.text(names) for d in carried.dropped}
    assert texts["left"] == "Jo has left"
    assert texts["absent"].startswith("Amy is away (leave or sickness) from Mon")
    assert texts["refused"] == "the family has asked for Sam not to come"
    assert "Jo" not in describe(carried) and leaver not in describe(carried)
    assert check(new, carried.rota) == []


def datetime_at(day: date):
    from datetime import datetime, time

    return datetime.combine(day, time(0, 0))


def test_a_carer_over_the_weekly_hours_loses_the_fewest_rows(base):
    cl, rota = base
    new = steady_week(cl.instance, cl.packages)
    mine = Counter(a.carer_id for a in rota.assignments)
    carer_id = mine.most_common(1)[0][0]
    carried = carry(cl.instance, rota, new)
    rows = [a for a in carried.kept if a.carer_id == carer_id]
    worked = sum(a.end - a.start + a.travel_min for a in rows) / 60
    limit = worked * 0.7
    new = replace(new, carers=tuple(
        replace(c, max_week_hours=limit) if c.carer_id == carer_id else c for c in new.carers))
    carried = carry(cl.instance, rota, new)
    dropped = [d for d in carried.dropped if d.carer_id == carer_id]
    assert dropped and all(d.cause == "weekly_hours" for d in dropped)
    kept = [a for a in carried.kept if a.carer_id == carer_id]
    assert check(new, carried.rota) == []
    # fewest: putting back any one dropped row breaks the weekly hours again
    r10 = RULES_BY_CODE["R10"]
    carer = new.carer(carer_id)
    for d in dropped:
        start = carried.carried[(d.visit_id, carer_id)]
        back = replace(kept[0], visit_id=d.visit_id, start=start,
                       end=start + new.visit(d.visit_id).duration_min)
        assert r10.function(new, carer, with_travel(new, [*kept, back]))


def test_bank_holiday_sessions_are_gone_with_their_reason_and_come_back():
    before = date(2026, 8, 24)
    holiday = date(2026, 8, 31)
    assert bank_holidays_in_week(holiday) == (holiday,)
    cl, rota = _week(seed=2, week=before, county="Cambridgeshire")
    new = steady_week(cl.instance, cl.packages)
    assert new.settings.bank_holidays == (holiday,)
    carried = carry(cl.instance, rota, new)
    delivered = {(v.child_id, v.start) for v in new.visits if v.date == holiday}
    not_delivered = {
        a.visit_id for a in rota.assignments
        if (v := cl.instance.visit(a.visit_id)).date.weekday() == 0
        and (v.child_id, v.start) not in delivered
    }
    assert all(
        not delivers_on_bank_holidays(cl.instance.child(cl.instance.visit(v).child_id).commissioner)
        for v in not_delivered
    )
    gone = {d.source_visit_id for d in carried.dropped if d.cause == "visit_gone"}
    assert gone, "some Monday sessions are not delivered on the bank holiday"
    assert all(cl.instance.visit(v).date.weekday() == 0 for v in gone)
    assert all("bank holiday" in d.text() for d in carried.dropped if d.cause == "visit_gone")
    assert not_delivered == gone
    assert len(carried.kept) + len(carried.dropped) == len(rota.assignments)
    assert len(carried.dropped) == sum(1 for a in rota.assignments if a.visit_id in gone)
    assert check(new, carried.rota) == []
    # the week after: the Monday sessions are new again; everything else carries on
    after = steady_week(new, cl.packages)
    again = carry(new, carried.rota, after)
    assert again.dropped == ()
    assert {after.visit(v).date.weekday() for v in again.new_visits} <= {0}
    assert check(after, again.rota) == []


@pytest.mark.parametrize("week", [date(2026, 10, 19), date(2027, 3, 22)],
                         ids=["clocks-go-back", "clocks-go-forward"])
def test_a_clock_change_week_keeps_every_wall_clock_start(week):
    cl, rota = _week(seed=3, week=week - timedelta(days=7))
    new = steady_week(cl.instance, cl.packages)
    assert new.clock.week_minutes != cl.instance.clock.week_minutes  # the change is in the week
    carried = carry(cl.instance, rota, new)
    back = carried.matches
    for a in carried.kept:
        old = next(b for b in rota.assignments
                   if b.visit_id == back[a.visit_id] and b.carer_id == a.carer_id)
        assert _local(new, a.start) == _local(cl.instance, old.start)
    for d in carried.dropped:
        assert d.rule and d.text()
    assert len(carried.kept) >= 0.97 * len(rota.assignments)
    assert check(new, carried.rota) == []
