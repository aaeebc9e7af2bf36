"""The coverage master (solver.coverage) bounds the slots any rota of the model staffs, and
proves coverage optimal when a rota meets the bound."""

from __future__ import annotations

import time

import pytest

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.generator import generate
from solver import SolveParams, solve
from solver.coverage import solve_coverage
from solver.cpsat import _Travel, candidate_pairs
from tests.factory import DORCHESTER, carer, child, make_instance, visit


def test_a_week_the_greedy_staffs_fully_is_proven_optimal_on_coverage() -> None:
    inst = make_instance(
        [carer("K1"), carer("K2", lat=DORCHESTER[0] + 0.02)],
        [child("C1"), child("C2", lat=DORCHESTER[0] - 0.02)],
        [visit("V1", "C1", start="09:00"), visit("V2", "C2", start="14:00")],
    )
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert result.carer_slots_bound == 2 == len(result.rota.assignments)
    assert result.coverage_gap == 0.0


def test_two_visits_at_the_same_time_with_one_carer_bound_coverage_at_one_slot() -> None:
    inst = make_instance(
        [carer("K1")],
        [child("C1"), child("C2", lat=DORCHESTER[0] - 0.02)],
        [visit("V1", "C1", start="16:00"), visit("V2", "C2", start="16:00")],
    )
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert result.carer_slots_bound == 1 == len(result.rota.assignments)
    assert result.coverage_gap == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bound_is_never_below_what_a_checked_rota_staffs(seed: int) -> None:
    inst = generate(carers=6, children=10, seed=seed)
    result = solve(inst, SolveParams(time_limit=8, workers=1, seed=seed))
    assert check(inst, result.rota) == []
    slots = sum(v.carers for v in inst.visits)
    covered = len(result.rota.assignments)
    assert result.carer_slots_bound is not None
    assert covered <= result.carer_slots_bound <= slots
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    out = solve_coverage(inst, elig, pairs, _Travel(inst), time.perf_counter() + 8, workers=1)
    assert out.upper is not None and out.upper >= covered


def test_deterministic_mode_with_one_worker_repeats_the_rota_and_the_bound() -> None:
    inst = generate(carers=6, children=10, seed=2)
    params = SolveParams(time_limit=6, workers=1, seed=3, deterministic=True, lns=False)
    first, second = solve(inst, params), solve(inst, params)
    assert check(inst, first.rota) == []
    assert first.rota.assignments == second.rota.assignments
    assert first.carer_slots_bound == second.carer_slots_bound


def test_a_week_too_big_for_the_master_reports_the_lp_capacity_bound(monkeypatch) -> None:
    import importlib

    solve_module = importlib.import_module("solver.solve")
    monkeypatch.setattr(solve_module, "COVERAGE_MAX_PAIRS", 0)
    inst = generate(carers=6, children=10, seed=1)
    result = solve(inst, SolveParams(time_limit=8, workers=1))
    assert check(inst, result.rota) == []
    (stage,) = [s for s in result.stages if s["stage"] == "coverage_bound"]
    assert str(stage["note"]).startswith("LP capacity bound")
    assert result.carer_slots_bound is not None
    assert len(result.rota.assignments) <= result.carer_slots_bound


def test_two_carers_who_each_fit_a_two_to_one_visit_alone_may_not_fit_it_together() -> None:
    from solver.coverage import check_team, check_week

    # K1 ends V1 at 11:30, so starts V2 after 11:30; K2 must leave V2 before V3 at 12:30,
    # so starts it by 11:30 less the journey: each week checks alone, not the two together
    inst = make_instance(
        [carer("K1"), carer("K2")],
        [child("C1"), child("C2", lat=DORCHESTER[0] + 0.012), child("C3", lat=DORCHESTER[0] + 0.014)],
        [
            visit("V1", "C1", start="09:30", duration_min=120),
            visit("V2", "C2", start="11:30", duration_min=60, flex_min=60, carers=2),
            visit("V3", "C3", start="12:30", duration_min=60),
        ],
    )
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    v1, v2, v3 = (inst.visit_index[v] for v in ("V1", "V2", "V3"))
    k1, k2 = inst.carer_index["K1"], inst.carer_index["K2"]
    travel = _Travel(inst)
    assert check_week(inst, elig, travel, pairs, k1, [v1, v2]) is None
    assert check_week(inst, elig, travel, pairs, k2, [v2, v3]) is None
    core = check_team(inst, elig, travel, pairs, {k1: [v1, v2], k2: [v2, v3]})
    assert isinstance(core, list)
    assert {(k1, v2), (k2, v2)} <= set(core)
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == 3 == result.carer_slots_bound


@pytest.mark.parametrize("seed", [4, 5])
def test_a_proven_master_answer_becomes_a_checked_rota_of_that_many_slots(seed: int) -> None:
    inst = generate(carers=10, children=18, seed=seed)
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    # (seed 5's first master solve takes 4 s on one idle core; the limits leave room for
    # cores shared with the rest of the suite and other jobs, and are not used when proven)
    out = solve_coverage(inst, elig, pairs, _Travel(inst), time.perf_counter() + 40, workers=1)
    assert out.proven and out.assignment is not None and out.upper is not None
    assert sum(out.assignment.values()) == out.upper
    result = solve(inst, SolveParams(time_limit=30, workers=1, seed=seed))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == out.upper == result.carer_slots_bound
    assert result.coverage_gap == 0.0


def _master_optimum(inst) -> int:  # type: ignore[no-untyped-def]
    from ortools.sat.python import cp_model

    from solver.coverage import _Master

    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    master = _Master(inst, elig, _Travel(inst), pairs)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(master.model) == cp_model.OPTIMAL
    return int(solver.objective_value)


def test_the_master_refuses_two_visits_that_leave_no_break_after_the_journey_between() -> None:
    # 4 h then 3 h (over R15's 6 h) with 15-30 min between: the journey (about 14 min) fits,
    # a 20 min break after it does not, and coming from home needs the 2 h return-home gap
    far = DORCHESTER[0] + 0.07
    inst = make_instance(
        [carer("K1")],
        [child("C1"), child("C2", lat=far)],
        [
            visit("V1", "C1", start="10:00", duration_min=240),
            visit("V2", "C2", start="14:20", duration_min=180, flex_min=10),
        ],
    )
    assert _master_optimum(inst) == 1
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == 1 == result.carer_slots_bound


def test_the_master_keeps_two_visits_with_room_for_the_journey_and_a_break() -> None:
    far = DORCHESTER[0] + 0.07
    inst = make_instance(
        [carer("K1")],
        [child("C1"), child("C2", lat=far)],
        [
            visit("V1", "C1", start="10:00", duration_min=240),
            visit("V2", "C2", start="14:40", duration_min=180),
        ],
    )
    assert _master_optimum(inst) == 2
    result = solve(inst, SolveParams(time_limit=10, workers=1))
    assert check(inst, result.rota) == []
    assert len(result.rota.assignments) == 2 == result.carer_slots_bound


@pytest.mark.parametrize("seed", [1, 2])
def test_every_checked_rota_is_an_answer_of_the_master_with_every_carers_duties(seed: int) -> None:
    """The master, with its R15 breaks and every carer's R11 duties, is a relaxation: the
    checked rota's carers and starts satisfy it."""
    from ortools.sat.python import cp_model

    from solver.coverage import _Master

    inst = generate(carers=8, children=14, seed=seed)
    result = solve(inst, SolveParams(time_limit=8, workers=1, seed=seed))
    assert check(inst, result.rota) == []
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    master = _Master(inst, elig, _Travel(inst), pairs)
    for c in master.carers:
        master.add_duties(c)
    taken = {(inst.carer_index[a.carer_id], inst.visit_index[a.visit_id]): a.start
             for a in result.rota.assignments}
    assert len(taken) > 10
    for key, lit in master.x.items():
        master.model.add(lit == int(key in taken))
    for (_, v), when in taken.items():
        master.model.add(master.start[v] == when)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(master.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _polish(inst, answer):  # type: ignore[no-untyped-def]
    from solver.coverage import _Checks, _Master, polish_continuity

    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    travel = _Travel(inst)
    checks = _Checks(inst, elig, travel, pairs, _Master(inst, elig, travel, pairs))
    return polish_continuity(checks, answer, time.perf_counter() + 10)


def test_polishing_moves_a_childs_visit_to_the_carer_who_already_works_for_the_child() -> None:
    from datetime import timedelta

    from tests.factory import WEEK

    # C1 has a visit on Monday and on Tuesday; the answer gives them to two carers, either of
    # whom could take both: polishing leaves one carer for C1, the same two visits staffed
    inst = make_instance(
        [carer("K1"), carer("K2")],
        [child("C1")],
        [visit("V1", "C1", start="10:00"), visit("V2", "C1", date=WEEK + timedelta(days=1))],
    )
    k1, k2 = inst.carer_index["K1"], inst.carer_index["K2"]
    v1, v2 = inst.visit_index["V1"], inst.visit_index["V2"]
    answer = {(k1, v1): 1, (k2, v1): 0, (k1, v2): 0, (k2, v2): 1}
    polished, moved = _polish(inst, answer)
    assert moved == 1
    assert sum(polished.values()) == 2
    assert polished[(k1, v1)] + polished[(k2, v1)] == 1 == polished[(k1, v2)] + polished[(k2, v2)]
    carers = {c for (c, _v), on in polished.items() if on}
    assert len(carers) == 1


def test_polishing_leaves_a_visit_with_a_stranger_when_the_carer_the_child_has_is_busy() -> None:
    # V1 and V2 overlap: K1 cannot take both, so C1 keeps two carers
    inst = make_instance(
        [carer("K1"), carer("K2")],
        [child("C1")],
        [visit("V1", "C1", start="10:00"), visit("V2", "C1", start="11:00")],
    )
    k1, k2 = inst.carer_index["K1"], inst.carer_index["K2"]
    v1, v2 = inst.visit_index["V1"], inst.visit_index["V2"]
    answer = {(k1, v1): 1, (k2, v1): 0, (k1, v2): 0, (k2, v2): 1}
    polished, moved = _polish(inst, answer)
    assert moved == 0
    assert polished == answer


@pytest.mark.parametrize("seed", [1, 2])
def test_every_pair_the_master_never_holds_together_fails_the_week_check(seed: int) -> None:
    """The polish skips a move onto a week holding a visit the master never pairs with the
    moved one, without a check: sound only if the check would refuse every such pair."""
    import random

    from solver.coverage import _Master, check_week

    inst = generate(carers=8, children=14, seed=seed)
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    travel = _Travel(inst)
    master = _Master(inst, elig, travel, pairs)
    never = sorted((c, i, j) for c, ps in master.never.items() for i, j in ps if i < j)
    assert len(never) > 20
    for c, i, j in random.Random(seed).sample(never, 20):
        assert check_week(inst, elig, travel, pairs, c, [i, j]) is not None


def test_polishing_swaps_a_visit_of_another_child_to_make_room_for_the_childs_own_carer() -> None:
    """C1's Tuesday visit is with K2, but only K1 can take C1's Monday one; K1 is busy on
    Tuesday at that time with C2, whom K2 also works for: K1 takes C1's Tuesday visit, K2 takes
    C2's, and each child is left with one carer."""
    from datetime import timedelta

    from tests.factory import WEEK, everyday

    tue, wed = WEEK + timedelta(days=1), WEEK + timedelta(days=2)
    k2_days = tuple(a for a in everyday("K2") if a.day != "Mon")
    inst = make_instance(
        [carer("K1"), carer("K2")],
        [child("C1"), child("C2")],
        [visit("V1", "C1", start="10:00"), visit("V2", "C1", date=tue, start="10:00"),
         visit("W1", "C2", date=tue, start="10:00"), visit("W2", "C2", date=wed, start="10:00")],
        availability=everyday("K1") + k2_days,
    )
    ix = inst.visit_index
    k1, k2 = inst.carer_index["K1"], inst.carer_index["K2"]
    answer = {(c, v): 0 for c in (k1, k2) for v in ix.values()}
    del answer[(k2, ix["V1"])]  # K2 is away on Monday
    for c, v in ((k1, "V1"), (k1, "W1"), (k2, "V2"), (k2, "W2")):
        answer[(c, ix[v])] = 1
    polished, moved = _polish(inst, answer)
    assert sum(polished.values()) == 4
    weeks = {c: {v for (c2, v), on in polished.items() if on and c2 == c} for c in (k1, k2)}
    assert weeks == {k1: {ix["V1"], ix["V2"]}, k2: {ix["W1"], ix["W2"]}}
    assert moved == 1


def test_a_failing_week_is_mended_by_a_move_that_sends_the_busy_carers_visit_to_a_third() -> None:
    """K1 holds two overlapping PEG visits of C1; K2, the only other carer trained for them,
    is busy at that time with C2, whom K3 could see: V1 goes to K2 and C2's visit to K3."""
    from solver.coverage import _Checks, _Master
    from tests.factory import mandatory

    inst = make_instance(
        [carer("K1"), carer("K2"), carer("K3")],
        [child("C1"), child("C2")],
        [visit("V1", "C1", start="10:00", competencies=("peg_feeding",)),
         visit("V2", "C1", start="10:30", competencies=("peg_feeding",)),
         visit("W", "C2", start="10:30")],
        training=mandatory("K1", "peg_feeding") + mandatory("K2", "peg_feeding")
        + mandatory("K3"),
    )
    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    travel = _Travel(inst)
    checks = _Checks(inst, elig, travel, pairs, _Master(inst, elig, travel, pairs))
    k1, k2, k3 = (inst.carer_index[k] for k in ("K1", "K2", "K3"))
    v1, v2, w = (inst.visit_index[v] for v in ("V1", "V2", "W"))
    assert (k3, v1) not in pairs and (k3, v2) not in pairs
    on = {(k1, v1), (k1, v2), (k2, w)}
    sol = {key: int(key in on) for key in pairs}
    mended = checks.move_out(sol, {k1: [v1, v2]}, time.perf_counter() + 10)
    assert mended is not None
    assert {key for key, x in mended.items() if x} == {(k1, v2), (k2, v1), (k3, w)}


def test_polishing_moves_a_strangers_place_on_a_two_to_one_visit_to_a_carer_the_child_knows() -> None:
    """C1 knows K1 and K2; K3, a stranger, has one place on C1's 2:1 visit: that place goes
    to K2, who is not on it, and C1 keeps the two carers it knows."""
    from datetime import timedelta

    from roster.model import History
    from tests.factory import WEEK

    day = [WEEK + timedelta(days=d) for d in range(4)]
    inst = make_instance(
        [carer("K1"), carer("K2"), carer("K3")],
        [child("C1")],
        [visit("V1", "C1", date=day[0]), visit("T", "C1", date=day[1], carers=2),
         visit("V2", "C1", date=day[2]), visit("V3", "C1", date=day[3])],
        history=(History("C1", "K1", 10.0), History("C1", "K2", 10.0)),
    )
    ix = inst.visit_index
    k1, k2, k3 = (inst.carer_index[k] for k in ("K1", "K2", "K3"))
    on = {(k1, ix["V1"]), (k1, ix["T"]), (k3, ix["T"]), (k2, ix["V2"]), (k2, ix["V3"])}
    answer = {(c, v): int((c, v) in on) for c in (k1, k2, k3) for v in ix.values()}
    polished, _moved = _polish(inst, answer)
    assert sum(polished.values()) == 5
    assert polished[(k1, ix["T"])] + polished[(k2, ix["T"])] + polished[(k3, ix["T"])] == 2
    assert {c for (c, _v), x in polished.items() if x} == {k1, k2}


def _known_week(k1_agency: bool = False):  # type: ignore[no-untyped-def]
    """C1 knows K1 (history), not K2. V1 and V3 overlap on Monday, so C1 needs both carers;
    V2 (Tuesday) can go to either. K2 lives by the child, K1 about a mile farther."""
    from datetime import timedelta

    from roster.model import History
    from tests.factory import WEEK

    near = (DORCHESTER[0] + 0.01, DORCHESTER[1] + 0.01)
    return make_instance(
        [carer("K1", agency=k1_agency), carer("K2", lat=near[0], lon=near[1])],
        [child("C1")],
        [visit("V1", "C1", start="10:00"), visit("V3", "C1", start="10:30"),
         visit("V2", "C1", date=WEEK + timedelta(days=1), start="10:00", duration_min=300)],
        history=(History("C1", "K1", 20.0),),
    )


def _answer(inst, weeks):  # type: ignore[no-untyped-def]
    """A master answer over every (carer, visit) pair: carer id -> the visit ids it holds."""
    cx, ix = inst.carer_index, inst.visit_index
    return {(cx[k], v): int(vid in weeks.get(k, ())) for k in cx for vid, v in ix.items()}


def _polish_known(inst, answer, weights):  # type: ignore[no-untyped-def]
    from solver.coverage import _Checks, _Master, polish_known

    elig = compute_eligibility(inst)
    pairs = candidate_pairs(inst, elig, SolveParams(max_candidates=None))
    travel = _Travel(inst)
    checks = _Checks(inst, elig, travel, pairs, _Master(inst, elig, travel, pairs))
    return polish_known(checks, answer, time.perf_counter() + 10, weights)


def test_polishing_gives_a_strangers_visit_to_the_carer_the_child_knows() -> None:
    from solver.params import Weights

    inst = _known_week()
    k1, k2 = inst.carer_index["K1"], inst.carer_index["K2"]
    ix = inst.visit_index
    answer = _answer(inst, {"K1": ("V1",), "K2": ("V3", "V2")})
    polished, moved = _polish_known(inst, answer, Weights())
    assert moved == 1
    on = {(c, v) for (c, v), x in polished.items() if x}
    assert on == {(k1, ix["V1"]), (k2, ix["V3"]), (k1, ix["V2"])}
    # without the weight nothing moves
    assert _polish_known(inst, answer, Weights(stranger_visit=0.0)) == (answer, 0)


def test_polishing_leaves_a_strangers_visit_when_the_known_carer_costs_more_than_the_weight() -> None:
    """K1 is an agency carer: V2's 5 hours at 5 a hour (25) outweigh a known carer's 20."""
    from solver.params import Weights

    inst = _known_week(k1_agency=True)
    answer = _answer(inst, {"K1": ("V1",), "K2": ("V3", "V2")})
    assert _polish_known(inst, answer, Weights()) == (answer, 0)
    _, moved = _polish_known(inst, answer, Weights(agency_hour=3.0))
    assert moved == 1


def test_the_solver_gives_the_childs_visits_to_the_carer_the_child_knows() -> None:
    """Continuity needs both carers either way (V1 and V3 overlap); the quality stage gives
    Tuesday's visit to K1, whom the child knows, over K2, who lives nearer. Without the
    weight, miles decide and K2 takes it."""
    from solver.params import Weights

    inst = _known_week()
    for weight, carer_of_v2 in ((20.0, "K1"), (0.0, "K2")):
        result = solve(inst, SolveParams(time_limit=10, workers=1, lns=False,
                                         weights=Weights(stranger_visit=weight)))
        assert check(inst, result.rota) == []
        rows = {a.visit_id: a.carer_id for a in result.rota.assignments}
        assert len(rows) == 3
        assert rows["V2"] == carer_of_v2
        assert result.terms["distinct_carers"] == 2
        assert result.terms["stranger_visits"] == (1 if carer_of_v2 == "K1" else 2)


@pytest.mark.parametrize("agency", [False, True])
def test_polishing_frees_the_known_carer_by_sending_their_other_visit_to_its_childs_carer(
    agency: bool,
) -> None:
    """C1 knows K1. V1 and V3 overlap on Monday (two carers), and Tuesday's V2 is with K2, a
    stranger, because K1 is with C2 (W1) at that time. K3 already works for C2 (W2): W1 goes
    to K3 and V2 to K1. When K3 is an agency carer, W1's 5 hours at 5 an hour (25) cost more
    than a known carer gains (20), and nothing moves."""
    from datetime import timedelta

    from roster.model import History
    from solver.params import Weights
    from tests.factory import WEEK

    tue, wed = WEEK + timedelta(days=1), WEEK + timedelta(days=2)
    inst = make_instance(
        [carer("K1"), carer("K2"), carer("K3", agency=agency)],
        [child("C1"), child("C2")],
        [visit("V1", "C1", start="10:00"), visit("V3", "C1", start="10:30"),
         visit("V2", "C1", date=tue, start="10:00"),
         visit("W1", "C2", date=tue, start="10:00", duration_min=300),
         visit("W2", "C2", date=wed, start="10:00")],
        history=(History("C1", "K1", 20.0),),
    )
    ix, cx = inst.visit_index, inst.carer_index
    answer = _answer(inst, {"K1": ("V1", "W1"), "K2": ("V3", "V2"), "K3": ("W2",)})
    polished, moved = _polish_known(inst, answer, Weights())
    on = {(c, v) for (c, v), x in polished.items() if x}
    if agency:
        assert (polished, moved) == (answer, 0)
    else:
        assert moved == 1
        assert on == {(cx["K1"], ix["V1"]), (cx["K1"], ix["V2"]), (cx["K2"], ix["V3"]),
                      (cx["K3"], ix["W1"]), (cx["K3"], ix["W2"])}
