"""The local-search engine (``solver.search``): deltas, rules, locks, 2:1 visits, repeatability.

Every test runs a fixed number of moves (``SearchParams.max_moves``), never a time limit, and
runs the checker on the rota it gets.
"""

from __future__ import annotations

import numpy as np
import pytest

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.generator import generate
from roster.io import load_instance
from roster.model import Instance, Rota
from solver.greedy import greedy
from solver.objective import rota_terms, stage_costs
from solver.params import SolveParams, Weights
from solver.search import SearchParams, improve
from solver.search import kernel as K
from solver.search.engine import candidate_pairs_for, load, run

SAMPLE = "data/sample"


def rule_violations(instance: Instance, rota: Rota) -> list[str]:
    """The checker's rule violations (a bare rota has no unassigned.csv: structure is apart)."""
    return [str(v) for v in check(instance, rota) if v.rule != "structure"]


@pytest.fixture(scope="module")
def sample() -> Instance:
    return load_instance(SAMPLE)


@pytest.fixture(scope="module")
def small() -> Instance:
    return generate(carers=12, children=22, seed=3)


def _engine(instance: Instance, rota: Rota | None, **kw):  # type: ignore[no-untyped-def]
    elig = compute_eligibility(instance)
    pairs = candidate_pairs_for(instance, elig, rota, kw.get("reference"), kw.get("locks", ()), 12)
    return load(instance, rota, elig, pairs, weights=Weights(), **kw)


@pytest.mark.parametrize("name", ["sample", "small"])
def test_incremental_totals_equal_a_full_recount_after_every_chunk(name: str, request) -> None:
    instance = request.getfixturevalue(name)
    eng = _engine(instance, greedy(instance))
    for chunk in range(30):
        run(eng, SearchParams(max_moves=100, chunk=100, seed=chunk))
        kept = eng.state.tot.copy()
        assert K.recompute(eng.data, eng.state, eng.scratch), "a route breaks a rule"
        assert np.allclose(kept, eng.state.tot, atol=1e-6), (chunk, kept, eng.state.tot)
        assert not rule_violations(instance, eng.rota(current=True))


@pytest.mark.parametrize("name", ["sample", "small"])
def test_the_engines_totals_are_the_objectives_stages(name: str, request) -> None:
    """The kernel's (uncovered, continuity, quality) are solver.objective's stage costs."""
    instance = request.getfixturevalue(name)
    result = improve(instance, greedy(instance), weights=Weights(),
                     search=SearchParams(max_moves=3_000, seed=1))
    terms = rota_terms(instance, result.rota, SolveParams())
    costs = stage_costs(terms, Weights())
    uncovered, continuity, quality = result.best_totals
    assert uncovered == terms["uncovered_slots"]
    assert continuity == pytest.approx(costs["continuity"], abs=1e-3)
    assert quality == pytest.approx(costs["quality"], abs=0.05)  # rows' miles are rounded
    assert not rule_violations(instance, result.rota)


def test_every_accepted_move_keeps_every_rule_and_its_delta_is_exact(sample: Instance) -> None:
    """Debug mode: one move a chunk, the checker and a full recount after each kept move."""
    eng = _engine(sample, greedy(sample))
    accepted = 0
    for move in range(400):
        _, got, _ = run(eng, SearchParams(max_moves=1, chunk=1, seed=move))
        accepted += got
        if got:
            assert not rule_violations(sample, eng.rota(current=True)), move
            kept = eng.state.tot.copy()  # the move's delta equals a full re-evaluation
            assert K.recompute(eng.data, eng.state, eng.scratch)
            assert np.allclose(kept, eng.state.tot, atol=1e-6), move
    assert accepted > 50


def test_the_search_never_makes_coverage_worse_and_improves_the_greedy(small: Instance) -> None:
    start = greedy(small)
    result = improve(small, start, weights=Weights(), search=SearchParams(max_moves=20_000, seed=2))
    before = result.start_totals
    after = result.best_totals
    assert after[0] <= before[0]
    assert after < before
    assert not rule_violations(small, result.rota)
    assert result.evaluations > result.moves


def test_a_seed_and_a_move_limit_give_the_same_rota(small: Instance) -> None:
    a = improve(small, greedy(small), weights=Weights(), search=SearchParams(max_moves=5_000, seed=7))
    b = improve(small, greedy(small), weights=Weights(), search=SearchParams(max_moves=5_000, seed=7))
    assert a.rota.assignments == b.rota.assignments


def test_locked_rows_never_move(small: Instance) -> None:
    start = greedy(small)
    locks = tuple(start.assignments[::5])
    result = improve(small, start, weights=Weights(), locks=locks,
                     search=SearchParams(max_moves=10_000, seed=3))
    rows = {(a.visit_id, a.carer_id): a.start for a in result.rota.assignments}
    for lock in locks:
        assert rows.get((lock.visit_id, lock.carer_id)) == lock.start
    assert not rule_violations(small, result.rota)


def test_a_two_to_one_visit_is_never_split(small: Instance) -> None:
    doubles = {v.visit_id for v in small.visits if v.carers == 2}
    assert doubles, "the week needs 2:1 visits for this test"
    result = improve(small, greedy(small), weights=Weights(), search=SearchParams(max_moves=10_000, seed=4))
    by_visit: dict[str, list[int]] = {}
    for a in result.rota.assignments:
        by_visit.setdefault(a.visit_id, []).append(a.start)
    staffed = [vid for vid in doubles if vid in by_visit]
    assert staffed
    for vid in staffed:
        starts = by_visit[vid]
        assert len(starts) == 2 and starts[0] == starts[1], vid


def test_a_kept_rota_counts_changes_against_the_reference(small: Instance) -> None:
    """Started from the reference itself, the search keeps (nearly) all of it: each change
    costs continuity, and the kept rota is already covered as well as the greedy covers."""
    start = greedy(small)
    result = improve(small, start, weights=Weights(), reference=start,
                     search=SearchParams(max_moves=10_000, seed=5))
    kept = {(a.visit_id, a.carer_id) for a in result.rota.assignments}
    same = sum(1 for a in start.assignments if (a.visit_id, a.carer_id) in kept)
    assert result.best_totals[0] <= result.start_totals[0]
    assert same >= 0.9 * len(start.assignments)
    assert not rule_violations(small, result.rota)


def test_rows_that_break_a_rule_are_dropped_at_load_and_named(sample: Instance) -> None:
    start = greedy(sample)
    first = start.assignments[0]
    clash = [a for a in start.assignments if a.carer_id != first.carer_id][0]
    # the same carer twice at one time: the second row cannot be kept
    bad = Rota(assignments=(*start.assignments, type(first)(clash.visit_id, first.carer_id, clash.start,
                                                             clash.end, "home", 0.0, 0)))
    eng = _engine(sample, bad)
    assert eng.dropped
    assert not rule_violations(sample, eng.rota())


def test_a_locked_row_that_keeps_r9_only_after_its_previous_visit_loads() -> None:
    """Roll forward's case: a lock whose journey from the previous visit keeps the child's
    mileage cap, where the journey from home would not; loaded together, both rows stay."""
    from roster.model import Assignment
    from roster.rules import journey_into
    from tests import factory as F

    far = F.carer("K1", lat=F.DORCHESTER[0] + 0.11)
    near_cap = F.child("C2", mileage_cap_miles=5.0)
    inst = F.make_instance([far], [F.child("C1"), near_cap],
                           [F.visit("P", "C1", start="10:00", duration_min=60),
                            F.visit("X", "C2", start="11:10", duration_min=60)])
    rows = []
    previous = None
    for v in range(2):
        origin, miles, minutes = journey_into(inst, far, previous, v, inst.planned_start[v])
        row = Assignment(inst.visits[v].visit_id, "K1", inst.planned_start[v],
                         inst.planned_start[v] + 60, origin, miles, minutes)
        rows.append(row)
        previous = row
    rota = Rota(assignments=tuple(rows))
    assert not rule_violations(inst, rota)
    eng = _engine(inst, rota, locks=(rows[1],))
    assert not eng.dropped
    assert {a.visit_id for a in eng.rota().assignments} == {"P", "X"}
