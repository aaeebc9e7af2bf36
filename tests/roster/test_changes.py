"""Changes between two rota versions, per family (roster.changes)."""

from __future__ import annotations

from datetime import timedelta

from roster.changes import (
    Change,
    changes_csv,
    changes_report,
    families_to_tell,
    visit_changes,
    visit_changes_csv,
)
from roster.model import Assignment, Rota
from tests.factory import WEEK, carer, child, make_instance, visit


def _instance():
    return make_instance(
        [carer("K1"), carer("K2"), carer("K3")],
        [child("C1"), child("C2")],
        [visit("V1", "C1"), visit("V2", "C1", date=WEEK + timedelta(days=1)),
         visit("V3", "C2", start="10:00"), visit("V4", "C2", carers=2, start="12:00")],
    )


def _rota(*rows: tuple[str, str, int]) -> Rota:
    return Rota(tuple(Assignment(v, k, s, s + 120) for v, k, s in rows))


def test_identical_rotas_have_no_changes():
    rota = _rota(("V1", "K1", 960), ("V3", "K2", 600))
    assert changes_report(_instance(), rota, rota) == []
    assert visit_changes(_instance(), rota, rota) == []


def test_a_visit_moved_to_another_carer_is_a_loss_and_a_gain_for_that_family_only():
    old = _rota(("V1", "K1", 960), ("V2", "K1", 2400), ("V3", "K2", 600))
    new = _rota(("V1", "K1", 960), ("V2", "K3", 2400), ("V3", "K2", 600))
    assert changes_report(_instance(), old, new) == [
        Change("C1", "K1", "loses", ("V2",), whole_week=False),
        Change("C1", "K3", "gains", ("V2",), whole_week=True),
    ]
    assert families_to_tell(changes_report(_instance(), old, new)) == ("C1",)


def test_a_carer_who_no_longer_sees_a_child_is_lost_for_the_whole_week():
    old = _rota(("V3", "K2", 600), ("V4", "K2", 720), ("V4", "K1", 720))
    new = _rota(("V3", "K3", 600), ("V4", "K3", 720), ("V4", "K1", 720))
    report = changes_report(_instance(), old, new)
    assert Change("C2", "K2", "loses", ("V3", "V4"), whole_week=True) in report
    assert Change("C2", "K3", "gains", ("V3", "V4"), whole_week=True) in report
    assert not [c for c in report if c.carer_id == "K1"]


def test_visit_changes_report_carers_and_a_moved_start():
    old = _rota(("V1", "K1", 960), ("V3", "K2", 600))
    new = _rota(("V1", "K1", 975), ("V3", "K2", 600))
    (change,) = visit_changes(_instance(), old, new)
    assert (change.child_id, change.visit_id) == ("C1", "V1")
    assert change.carers_before == change.carers_after == ("K1",)
    assert change.start_before == "2026-11-23T16:00:00+00:00"
    assert change.start_after == "2026-11-23T16:15:00+00:00"


def test_an_unstaffed_visit_shows_as_a_loss_with_no_carer_after():
    old = _rota(("V1", "K1", 960))
    new = _rota()
    (change,) = visit_changes(_instance(), old, new)
    assert change.carers_after == () and change.start_after == ""
    assert changes_report(_instance(), old, new) == [Change("C1", "K1", "loses", ("V1",), True)]


def test_the_changes_csv_has_one_row_per_change_with_the_family_first():
    old = _rota(("V1", "K1", 960), ("V2", "K1", 2400))
    new = _rota(("V1", "K2", 960), ("V2", "K2", 2400))
    lines = changes_csv(changes_report(_instance(), old, new)).splitlines()
    assert lines == [
        "child_id,carer_id,change,whole_week,visits",
        "C1,K1,loses,true,V1;V2",
        "C1,K2,gains,true,V1;V2",
    ]
    assert visit_changes_csv(visit_changes(_instance(), old, new)).splitlines()[1].startswith("C1,V1,K1,K2,")
