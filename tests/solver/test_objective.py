"""The objective's one table (solver.objective): both engines compute each term from it, and the
two computations agree on the same rota."""

from __future__ import annotations

import dataclasses

import pytest

from roster.checker import check
from roster.eligibility import compute_eligibility
from roster.generator import generate
from solver.cpsat import build_model, hint_values
from solver.greedy import greedy_with
from solver.objective import TERM_NAMES, TERMS, TERMS_BY_STAGE, objective_of, rota_terms
from solver.params import SolveParams, Weights
from solver.solve import decode


class _Values:
    def __init__(self, values: dict[int, int]):
        self.values = values

    def value(self, var: object) -> int:
        return self.values[var.index]  # type: ignore[attr-defined]


def test_every_weight_prices_exactly_one_term_and_every_stage_is_listed_in_order():
    assert sorted(t.weight for t in TERMS) == sorted(f.name for f in dataclasses.fields(Weights))
    assert [s for s, _ in TERMS_BY_STAGE] == ["coverage", "continuity", "quality"]
    assert tuple(n for _, ns in TERMS_BY_STAGE for n in ns) == TERM_NAMES
    assert all(t.unit and t.label for t in TERMS)


@pytest.mark.parametrize("seed", [1, 3])
def test_cpsat_terms_at_a_rota_equal_the_rota_s_own_terms(seed):
    inst = generate(6, 12, seed=seed)
    elig = compute_eligibility(inst)
    rota = greedy_with(inst, elig)
    assert not [v for v in check(inst, rota) if v.rule != "structure"]
    # score a rota that keeps every other staffed visit of the greedy's, against the greedy's
    order = sorted({a.visit_id for a in rota.assignments})
    kept = {vid for i, vid in enumerate(order) if i % 2 == 0}
    weeks: dict[str, list[tuple[str, int]]] = {}
    for a in rota.assignments:
        if a.visit_id in kept:
            weeks.setdefault(a.carer_id, []).append((a.visit_id, a.start))
    scored = decode(inst, weeks)  # journeys of the rows that are left (R13)
    assert not [v for v in check(inst, scored) if v.rule != "structure"]
    params = SolveParams(reference=rota)
    rm = build_model(inst, elig, params, rota)
    values = _Values(hint_values(rm, scored))
    finished = rota_terms(inst, scored, params)
    assert set(rm.terms) == set(finished) == set(TERM_NAMES)
    for name in TERM_NAMES:
        # miles: the model's are rounded to hundredths per journey
        tol = 0.005 * len(scored.assignments) if name == "travel_miles" else 1e-4  # rounded to 4 places
        assert rm.terms[name].value(values) == pytest.approx(finished[name], abs=tol), name
    assert finished["changes"] == len(rota.assignments) - len(scored.assignments) > 0
    assert objective_of(finished, params.weights) == pytest.approx(
        sum(getattr(params.weights, t.weight) * finished[t.name] for t in TERMS)
    )
