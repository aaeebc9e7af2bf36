"""The coordinator-first-fit greedy: fast, and every rota it makes passes the checker."""

from __future__ import annotations

from datetime import date

import pytest

from roster.checker import check
from roster.model import History
from solver.greedy import greedy
from tests.factory import DORCHESTER, carer, child, make_instance, visit


def test_greedy_rota_passes_the_checker_on_a_generated_week():
    from roster.generator import generate

    inst = generate(12, 25, seed=4)
    rota = greedy(inst)
    assert rota.assignments
    assert [v for v in check(inst, rota) if v.rule != "structure"] == []


@pytest.mark.parametrize("seed", [0, 1])
def test_greedy_rota_passes_the_checker_on_random_small_weeks(seed):
    from roster.generator import generate

    inst = generate(6, 10, seed=seed)
    assert [v for v in check(inst, greedy(inst)) if v.rule != "structure"] == []


def test_greedy_prefers_the_carer_the_child_knows():
    inst = make_instance(
        [carer("K1"), carer("K2", lat=DORCHESTER[0] + 0.1)],
        visits=[visit("V1")],
        history=(History("C1", "K2", 12.0),),
    )
    assert [a.carer_id for a in greedy(inst).assignments] == ["K2"]


def test_greedy_prefers_the_nearest_carer_among_strangers():
    inst = make_instance([carer("K1", lat=DORCHESTER[0] + 0.1), carer("K2")], visits=[visit("V1")])
    assert [a.carer_id for a in greedy(inst).assignments] == ["K2"]


def test_greedy_keeps_a_carer_for_the_same_child_across_the_week():
    inst = make_instance(
        [carer("K1"), carer("K2")],
        [child("C1")],
        [visit("V1"), visit("V2", date=date(2026, 11, 24)), visit("V3", date=date(2026, 11, 25))],
    )
    assert {a.carer_id for a in greedy(inst).assignments} == {"K1"}


def test_greedy_respects_locks():
    inst = make_instance([carer("K1"), carer("K2")], visits=[visit("V1")])
    assert [a.carer_id for a in greedy(inst, locks=(("V1", "K2"),)).assignments] == ["K2"]


def test_greedy_leaves_out_what_it_cannot_staff():
    inst = make_instance([carer("K1")], visits=[visit("V1"), visit("V2", start="16:30")])
    rota = greedy(inst)
    assert len(rota.assignments) == 1
    assert [v for v in check(inst, rota) if v.rule != "structure"] == []
