"""What every method hands back and the pipeline finishes: a rota from rows or from (carer ->
visits), the staffed-slot count, the validity test, and ``finish`` (explanations of the open
visits, the checker, terms and KPIs into a ``Result``). ``RotaBugError`` is what a method raises
when its rota breaks a hard rule.

Below the pipeline (``solver.solve``) and every method (greedy, coverage master, search,
decomposition), so that none of them imports the pipeline for these.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from roster.checker import check
from roster.kpis import compute_kpis
from roster.model import Assignment, Instance, Rota, Unassigned
from roster.rules import journey_into, travel_model
from roster.travel import TravelModel
from solver.explain import explain_unassigned
from solver.objective import objective_of, rota_terms
from solver.params import Result, SolveParams


class RotaBugError(RuntimeError):
    """The solver produced a rota that breaks a hard rule: a bug, reported loudly."""


def staffed_slots(instance: Instance, rota: Rota) -> int:
    """Carer slots of fully staffed visits."""
    count: dict[str, int] = {}
    for a in rota.assignments:
        count[a.visit_id] = count.get(a.visit_id, 0) + 1
    return sum(n for vid, n in count.items() if n >= instance.visit(vid).carers)


def is_valid(instance: Instance, rota: Rota, travel: TravelModel | None) -> bool:
    """The rota breaks no hard rule (structure aside: open visits are not listed yet)."""
    return not [v for v in check(instance, rota, travel) if v.rule != "structure"]


def decode(
    instance: Instance,
    chosen: Mapping[str, Sequence[tuple[str, int]]],
    travel: TravelModel | None = None,
) -> Rota:
    """Rows of the rota from (carer_id -> [(visit_id, start)]): travel per R13 from the carer's
    previous row. Unassigned rows are filled in by ``finish``."""
    model = travel_model(instance, travel)
    rows: list[Assignment] = []
    for carer_id in sorted(chosen):
        carer = instance.carer(carer_id)
        previous: Assignment | None = None
        for visit_id, start in sorted(chosen[carer_id], key=lambda r: (r[1], r[0])):
            v = instance.visit_index[visit_id]
            origin, miles, minutes = journey_into(instance, carer, previous, v, start, model)
            row = Assignment(
                visit_id=visit_id,
                carer_id=carer_id,
                start=start,
                end=start + instance.visits[v].duration_min,
                travel_from=origin,
                travel_miles=miles,
                travel_min=minutes,
            )
            rows.append(row)
            previous = row
    rows.sort(key=lambda a: (instance.visit_index[a.visit_id], a.carer_id))
    return Rota(assignments=tuple(rows))


def finish(
    instance: Instance,
    rota: Rota,
    params: SolveParams,
    elig: Any,
    status: str,
    bound: float | None,
    stages: list[dict[str, Any]],
    t0: float,
    slots_bound: int | None = None,
) -> Result:
    """Explain what is unassigned, check, measure, and wrap up a ``Result``."""
    staffed: dict[str, int] = {}
    for a in rota.assignments:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    rows = tuple(
        a for a in rota.assignments if staffed[a.visit_id] >= instance.visit(a.visit_id).carers
    )
    rota = Rota(assignments=rows)
    reasons = explain_unassigned(instance, elig, rota)
    unassigned = tuple(
        Unassigned(v.visit_id, v.carers, reasons[v.visit_id])
        for v in instance.visits
        if v.visit_id in reasons
    )
    rota = Rota(assignments=rows, unassigned=unassigned)
    violations = check(instance, rota, params.travel)
    if violations:
        listing = "\n".join(f"  {v}" for v in violations[:50])
        raise RotaBugError(
            f"the solver made a rota that breaks {len(violations)} hard rule(s); this is a bug:\n"
            f"{listing}"
        )
    terms = rota_terms(instance, rota, params)
    objective = objective_of(terms, params.weights)
    gap = None
    if bound is not None:
        gap = max(0.0, objective - bound) / max(abs(objective), 1e-9) if objective else 0.0
    seconds = time.perf_counter() - t0
    kpis = _kpis(instance, rota)
    slots = sum(v.carers for v in instance.visits)
    covered = sum(1 for _ in rota.assignments)
    coverage_gap = None
    if slots_bound is not None:
        coverage_gap = max(0.0, slots_bound - covered) / max(slots_bound, 1)
    summary = {
        "visits": len(instance.visits),
        "visits_covered": len(instance.visits) - len(unassigned),
        "carer_slots": slots,
        "carer_slots_covered": covered,
        "carer_slots_bound": slots_bound,
        "coverage_gap": None if coverage_gap is None else round(coverage_gap, 6),
        "travel_miles": round(terms["travel_miles"], 2),
        "mean_carers_per_child": _mean_carers_per_child(instance, rota),
        "objective": round(objective, 4),
        "bound": None if bound is None else round(bound, 4),
        "gap": None if gap is None else round(gap, 6),
        "solve_seconds": round(seconds, 3),
        "status": status,
        "terms": {k: round(v, 4) for k, v in terms.items()},
    }
    rota = Rota(assignments=rows, unassigned=unassigned, summary=summary)
    return Result(
        status=status,
        rota=rota,
        objective=objective,
        bound=bound,
        gap=gap,
        terms=terms,
        seconds=seconds,
        kpis=kpis,
        violations=(),
        stages=tuple(stages),
        carer_slots_bound=slots_bound,
        coverage_gap=coverage_gap,
    )


def _kpis(instance: Instance, rota: Rota) -> dict[str, Any]:
    return dict(compute_kpis(instance, rota))


def _mean_carers_per_child(instance: Instance, rota: Rota) -> float:
    seen: dict[str, set[str]] = {}
    for a in rota.assignments:
        seen.setdefault(instance.visit(a.visit_id).child_id, set()).add(a.carer_id)
    if not seen:
        return 0.0
    return round(sum(len(s) for s in seen.values()) / len(seen), 3)


def rota_of_rows(instance: Instance, rows: Sequence[Assignment], reasons: dict[str, str]) -> Rota:
    """A rota of the fully staffed visits' rows (in visit order), the others unassigned with
    their ``reasons`` (the decomposition's and the search's summary)."""
    staffed: dict[str, int] = {}
    for a in rows:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    kept = tuple(sorted((a for a in rows if staffed[a.visit_id] >= instance.visit(a.visit_id).carers),
                        key=lambda a: (instance.visit_index[a.visit_id], a.carer_id)))
    full = {a.visit_id for a in kept}
    unassigned = tuple(
        Unassigned(v.visit_id, v.carers, reasons.get(v.visit_id, "no carer could be found"))
        for v in instance.visits if v.visit_id not in full)
    summary = {"visits": len(instance.visits), "visits_covered": len(instance.visits) - len(unassigned),
               "carer_slots": sum(v.carers for v in instance.visits), "carer_slots_covered": len(kept),
               "method": "decomposed"}
    return Rota(assignments=kept, unassigned=unassigned, summary=summary)


def staffed_rows(instance: Instance, rows: list[Assignment]) -> list[Assignment]:
    """The rows of fully staffed visits (a 2:1 visit with one carer is not staffed)."""
    count: dict[str, int] = {}
    for a in rows:
        count[a.visit_id] = count.get(a.visit_id, 0) + 1
    return [a for a in rows if count[a.visit_id] >= instance.visit(a.visit_id).carers]
