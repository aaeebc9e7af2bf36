"""The rota checker: a valid tiny rota passes; one planted defect is reported as exactly its rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

import pytest

from roster.checker import STRUCTURE, Violation, check, summarise
from roster.model import Absence, Assignment, Availability, Instance, Rota, Unassigned
from roster.rules import RULES, RULES_BY_CODE, Rule
from tests.factory import DORCHESTER, carer, child, everyday, make_instance, mandatory, visit
from tests.roster.test_rules import plan

TUE, WED, THU, FRI = (date(2026, 11, d) for d in (24, 25, 26, 27))
PLAN = [("V1", "K1"), ("V2", "K1"), ("V3", "K1"), ("V3", "K2"), ("V4", "K2"), ("V5", "K3")]


def base_instance(**settings) -> Instance:
    """Three carers (K3 is 17 and does not drive), three children, a 2:1, an overnight, one spare visit."""
    return make_instance(
        [
            carer("K1"),
            carer("K2", overnight_ok=True, gender="M"),
            carer("K3", date_of_birth=date(2009, 6, 1), drives=False),
        ],
        [
            child("C1"),
            child("C2", lat=DORCHESTER[0] + 0.03, lon=DORCHESTER[1] + 0.04),
            child("C3", gender_required="M", lat=DORCHESTER[0] - 0.01, lon=DORCHESTER[1]),
        ],
        [
            visit("V1", "C1", start="16:00", duration_min=120, flex_min=30),
            visit("V2", "C2", start="18:30", duration_min=60),
            visit("V3", "C1", date=TUE, start="09:00", duration_min=180, carers=2),
            visit("V4", "C3", date=WED, start="22:00", duration_min=540),
            visit("V5", "C2", date=THU, start="10:00", duration_min=120),
            visit("V6", "C1", date=FRI, start="16:00", duration_min=120),
        ],
        availability=(
            *everyday("K1"),
            *everyday("K2", "00:00", "00:00"),
            *everyday("K2", "12:00", "12:00"),  # an overnight visit lies inside one row
            *everyday("K3", "07:00", "23:00"),
        ),
        **settings,
    )


def base_rota(instance: Instance, entries=PLAN) -> Rota:
    return Rota(plan(instance, entries), (Unassigned("V6", 1, "no carer free Fri 16:00-18:00"),))


def codes(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def test_the_base_rota_is_valid():
    inst = base_instance()
    rota = base_rota(inst)
    assert check(inst, rota) == []
    # and it exercises what it should: a journey from the previous visit, a 2:1, an overnight
    assert {a.travel_from for a in rota.assignments} == {"home", "V1"}


def _row(rota: Rota, visit_id: str, carer_id: str) -> Assignment:
    return next(a for a in rota.assignments if a.visit_id == visit_id and a.carer_id == carer_id)


def _edit_row(rota: Rota, visit_id: str, carer_id: str, **changes) -> Rota:
    rows = tuple(
        replace(a, **changes) if (a.visit_id, a.carer_id) == (visit_id, carer_id) else a
        for a in rota.assignments
    )
    return replace(rota, assignments=rows)


def _instance_with(inst: Instance, *, carers=None, children=None, visits=None, **extra) -> Instance:
    def swap(records, changes, key):
        if not changes:
            return records
        return tuple(replace(r, **changes[getattr(r, key)]) if getattr(r, key) in changes else r for r in records)

    return replace(
        inst,
        carers=swap(inst.carers, carers, "carer_id"),
        children=swap(inst.children, children, "child_id"),
        visits=swap(inst.visits, visits, "visit_id"),
        **extra,
    )


def _replan(inst: Instance) -> tuple[Instance, Rota]:
    return inst, base_rota(inst)


def _partner_late(minutes: int) -> tuple[Instance, Rota]:
    inst = base_instance()
    rota = base_rota(inst)
    row = _row(rota, "V3", "K2")
    return inst, _edit_row(rota, "V3", "K2", start=row.start + minutes, end=row.end + minutes)


Plant = Callable[[], tuple[Instance, Rota]]
PLANTS: dict[str, Plant] = {
    "R1": lambda: _replan(_instance_with(base_instance(), carers={"K1": {"dbs_check": "enhanced"}})),
    "R2": lambda: _replan(_instance_with(base_instance(), visits={"V5": {"competencies": ("peg_feeding",)}})),
    "R3": lambda: _replan(_instance_with(base_instance(), children={"C1": {"excluded_carers": ("K1",)}})),
    "R4": lambda: _partner_late(10),
    "R5": lambda: _replan(
        replace(base_instance(), absences=(Absence("K3", datetime(2026, 11, 26, 8), datetime(2026, 11, 26, 10)),))
    ),
    "R6": lambda: _replan(_instance_with(base_instance(), visits={"V2": {"start": "18:00"}})),
    "R7": lambda: _replan(_instance_with(base_instance(), carers={"K2": {"overnight_ok": False}})),
    "R8": lambda: _replan(_instance_with(base_instance(), visits={"V5": {"needs_driver": True}})),
    "R9": lambda: _replan(_instance_with(base_instance(), children={"C2": {"mileage_cap_miles": 0.5}})),
    "R10": lambda: _replan(_instance_with(base_instance(), carers={"K1": {"max_week_hours": 3}})),
    "R11": lambda: _replan(
        _instance_with(base_instance(), visits={"V2": {"start": "20:00"}, "V3": {"start": "07:30"}})
    ),
    "R12": lambda: _replan(_instance_with(base_instance(), visits={"V5": {"start": "20:30", "duration_min": 105}})),
    "R13": lambda: (base_instance(), _edit_row(base_rota(base_instance()), "V2", "K1", travel_from="home")),
    "R14": lambda: _replan(base_instance(weekly_rest_hours=100)),
    "R15": lambda: _replan(base_instance(break_after_hours=2, break_min=60)),
}


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_checker_reports_exactly_the_planted_rule(rule: Rule):
    inst, rota = PLANTS[rule.code]()
    found = check(inst, rota)
    assert found, f"planted {rule} not caught"
    assert codes(found) == {rule.code}, [str(v) for v in found]
    for v in found:
        assert v.visit_id in inst.visit_index and v.carer_id in inst.carer_index
        assert v.message


def test_every_rule_has_a_planted_violation():
    assert set(PLANTS) == set(RULES_BY_CODE)


def test_planted_r6_is_reported_at_the_later_visit_of_the_carer():
    inst, rota = PLANTS["R6"]()
    [v] = check(inst, rota)
    assert (v.visit_id, v.carer_id) == ("V2", "K1")
    assert "journey" in v.message


def test_violation_prints_rule_visit_carer_and_why_on_one_line():
    v = Violation("R7", "V4", "K2", "60 min fall outside core hours")
    assert str(v) == "R7 visit V4 carer K2: 60 min fall outside core hours"
    assert "\n" not in str(v)


# ---- structure: no visit silently dropped, ids that point nowhere -------------------------------


def test_a_visit_neither_staffed_nor_listed_is_silently_dropped():
    inst = base_instance()
    rota = replace(base_rota(inst), unassigned=())
    [v] = check(inst, rota)
    assert (v.rule, v.visit_id) == (STRUCTURE, "V6") and "silently dropped" in v.message


def test_half_staffed_two_to_one_must_be_listed_with_one_missing():
    inst = base_instance()
    entries = [e for e in PLAN if e != ("V3", "K2")]
    rota = Rota(plan(inst, entries), base_rota(inst).unassigned)
    assert [(v.rule, v.visit_id) for v in check(inst, rota)] == [(STRUCTURE, "V3")]
    listed = replace(rota, unassigned=(*rota.unassigned, Unassigned("V3", 1, "no second carer free")))
    assert check(inst, listed) == []
    wrong = replace(rota, unassigned=(*rota.unassigned, Unassigned("V3", 2, "no carer free")))
    [v] = check(inst, wrong)
    assert "says 2 carer(s) missing but 1" in v.message


def test_a_fully_staffed_visit_listed_as_unassigned_is_reported():
    inst = base_instance()
    rota = base_rota(inst)
    rota = replace(rota, unassigned=(*rota.unassigned, Unassigned("V1", 1, "?")))
    [v] = check(inst, rota)
    assert (v.rule, v.visit_id) == (STRUCTURE, "V1")


def test_unassigned_without_a_reason_is_reported():
    inst = base_instance()
    rota = replace(base_rota(inst), unassigned=(Unassigned("V6", 1, " "),))
    assert [(v.rule, v.visit_id) for v in check(inst, rota)] == [(STRUCTURE, "V6")]


def test_unknown_visit_and_carer_ids_are_reported_not_crashed_on():
    inst = base_instance()
    rota = base_rota(inst)
    rows = (
        *rota.assignments,
        Assignment("V99", "K1", 0, 60),
        Assignment("V6", "K42", 0, 60),
    )
    rota = replace(rota, assignments=rows, unassigned=(*rota.unassigned, Unassigned("V77", 1, "x")))
    found = check(inst, rota)
    assert codes(found) == {STRUCTURE}
    assert {(v.visit_id, v.carer_id) for v in found} == {("V99", "K1"), ("V6", "K42"), ("V77", "")}


def test_more_carers_than_the_visit_needs_is_reported():
    inst = base_instance()
    rota = base_rota(inst, [*PLAN, ("V5", "K1")])
    assert STRUCTURE in codes(check(inst, rota))


def test_summary_counts_violations_by_rule():
    found = [Violation("R5", "V1", "K1", "x"), Violation("R5", "V2", "K1", "y"), Violation(STRUCTURE, "V3", "", "z")]
    assert summarise(found) == "3 violations (R5: 2, structure: 1)"


def test_checker_honours_a_supplied_travel_matrix():
    from roster.travel import TravelModel

    inst = base_instance()
    rota = base_rota(inst)
    model = TravelModel(inst.settings.travel, {("K1", "C1"): (3.0, 12)})
    found = check(inst, rota, model)
    # K1 comes from home to C1's house twice: V1 on Monday, V3 on Tuesday.
    assert [(v.rule, v.visit_id, v.carer_id) for v in found] == [("R13", "V1", "K1"), ("R13", "V3", "K1")]
    assert "travel_miles is 1.06 but the journey is 3.00" in found[0].message


def test_every_row_of_a_solver_style_rota_is_checked_with_the_trainee_split_by_availability():
    """A carer with no availability on a visit's day is caught even when everything else is fine."""
    inst = base_instance()
    inst = replace(
        inst,
        availability=tuple(a for a in inst.availability if not (a.carer_id == "K3" and a.day == "Thu"))
        + (Availability("K3", "Fri", "07:00", "23:00"),),
    )
    found = check(inst, base_rota(inst))
    assert [(v.rule, v.visit_id) for v in found] == [("R5", "V5")]


# ---- the command line --------------------------------------------------------------------------


def test_cli_prints_each_violation_and_exits_1(tmp_path, capsys):
    from roster.cli import main
    from roster.io import write_instance, write_rota

    inst, rota = PLANTS["R7"]()
    write_instance(inst, tmp_path / "inst")
    write_rota(inst, rota, tmp_path / "rota")
    assert main(["check", str(tmp_path / "inst"), str(tmp_path / "rota")]) == 1
    out = capsys.readouterr().out
    assert "R7 visit V4 carer K2:" in out
    assert "1 violation (R7: 1)" in out


def test_cli_says_ok_and_exits_0_on_a_valid_rota(tmp_path, capsys):
    from roster.cli import main
    from roster.io import write_instance, write_rota

    inst = base_instance()
    write_instance(inst, tmp_path / "inst")
    write_rota(inst, base_rota(inst), tmp_path / "rota")
    assert main(["check", str(tmp_path / "inst"), str(tmp_path / "rota")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK:") and "5 of 6 visits fully staffed" in out


def test_training_rows_are_needed_for_every_carer_of_a_two_to_one():
    inst = base_instance()
    inst = replace(inst, training=tuple(t for c in ("K1", "K3") for t in mandatory(c)))
    found = check(inst, base_rota(inst))
    assert codes(found) == {"R2"} and {v.carer_id for v in found} == {"K2"}


def test_cli_on_a_missing_rota_folder_says_so_without_a_traceback(tmp_path, capsys):
    from roster.cli import main
    from roster.io import write_instance

    write_instance(base_instance(), tmp_path / "inst")
    assert main(["check", str(tmp_path / "inst"), str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "Traceback" not in err


@pytest.mark.parametrize("code", sorted(PLANTS))
def test_violations_do_not_depend_on_the_order_of_rota_rows(code: str):
    import random

    inst, rota = PLANTS[code]()
    rows = list(rota.assignments)
    random.Random(code).shuffle(rows)
    shuffled = replace(rota, assignments=tuple(rows), unassigned=tuple(reversed(rota.unassigned)))
    assert sorted(map(str, check(inst, shuffled))) == sorted(map(str, check(inst, rota)))
