"""Large-neighbourhood search over the CP-SAT model, seeded by the greedy.

A move frees a small neighbourhood — the carers living nearest to a visit still unstaffed (or to
a random child when every visit is staffed), with the whole of each one's week — and re-solves it
with ``solver.solve`` on a sub-instance, warm-started from the current rows. Everyone else's
rota is untouched. Because each carer's week is entirely inside the neighbourhood, every weekly
rule (R10-R15) and the R13 travel chain are re-checked by the sub-solve; a 2:1 visit brings its
other carer along. A move is kept when it staffs more carer slots, or as many at a lower
objective (``solver.solve.rota_terms`` with the same weights). The final rota is checked against
the whole instance.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import numpy as np

from roster.model import Assignment, Instance, Rota
from roster.travel import great_circle_miles_matrix


@dataclass(frozen=True)
class LnsParams:
    time_limit: float = 60.0
    seed: int = 0
    carers_per_move: int = 8
    move_time: float = 5.0
    workers: int = 1
    check: bool = True


@dataclass(frozen=True)
class LnsResult:
    rota: Rota
    status: str
    moves: int
    improved: int
    seconds: float
    note: str = ""


def _staffed_rows(instance: Instance, rows: list[Assignment]) -> list[Assignment]:
    count: dict[str, int] = {}
    for a in rows:
        count[a.visit_id] = count.get(a.visit_id, 0) + 1
    return [a for a in rows if count[a.visit_id] >= instance.visit(a.visit_id).carers]


def improve(instance: Instance, rota: Rota | None = None, params: LnsParams | None = None) -> LnsResult:
    """Improve ``rota`` (default: the greedy's) by LNS moves until ``params.time_limit``."""
    from solver.decompose import _rota, sub_instance
    from solver.params import SolveParams
    from solver.solve import objective_of, rota_terms, solve

    params = params or LnsParams()
    t0 = time.perf_counter()
    rng = random.Random(params.seed)
    if rota is None:
        rota = solve(instance, SolveParams(use_greedy_only=True, seed=params.seed)).rota
    rows = list(rota.assignments)
    reasons = {u.visit_id: u.reasons for u in rota.unassigned}
    homes = np.array([(c.lat, c.lon) for c in instance.carers])
    moves = improved = 0
    while time.perf_counter() - t0 < params.time_limit - params.move_time * 0.5:
        moves += 1
        staffed = {a.visit_id for a in rows}
        open_ids = [v.visit_id for v in instance.visits if v.visit_id not in staffed]
        pivot = instance.visit(rng.choice(open_ids)) if open_ids else rng.choice(instance.visits)
        lat, lon = instance.visit_location(pivot)
        miles = great_circle_miles_matrix(homes[:, 0], homes[:, 1], np.array([lat]), np.array([lon]))[:, 0]
        nearest = np.argsort(miles)[: params.carers_per_move]
        carer_ids = {instance.carers[int(c)].carer_id for c in nearest}
        visit_ids = {a.visit_id for a in rows if a.carer_id in carer_ids}
        open_near = sorted(open_ids, key=lambda vid: _miles_to(instance, vid, lat, lon))[:10]
        visit_ids |= set(open_near)
        while True:  # bring the other carer of every 2:1 visit inside, with their week
            partners = {a.carer_id for a in rows if a.visit_id in visit_ids and a.carer_id not in carer_ids}
            if not partners:
                break
            carer_ids |= partners
            visit_ids |= {a.visit_id for a in rows if a.carer_id in carer_ids}
        child_ids = {instance.visit(v).child_id for v in visit_ids}
        sub = sub_instance(instance, sorted(carer_ids), sorted(child_ids), sorted(visit_ids))
        current = Rota(assignments=tuple(a for a in rows if a.carer_id in carer_ids))
        sp = SolveParams(time_limit=min(params.move_time, max(1.0, params.time_limit - (time.perf_counter() - t0))),
                         workers=params.workers, seed=rng.randrange(1 << 30), hint=current)
        try:
            res = solve(sub, sp)
        except Exception:  # a failed move changes nothing
            continue
        before = len(current.assignments)
        after = len(res.rota.assignments)
        better = after > before
        if after == before and res.status != "GREEDY":
            old = objective_of(rota_terms(sub, current, sp), sp.weights)
            better = res.objective < old - 1e-6
        if better:
            improved += 1
            rows = [a for a in rows if a.carer_id not in carer_ids] + list(res.rota.assignments)
            for u in res.rota.unassigned:
                reasons[u.visit_id] = u.reasons
    rows = _staffed_rows(instance, rows)
    final = _rota(instance, rows, reasons)
    if params.check:
        from roster.checker import check
        from solver.solve import RotaBugError

        found = check(instance, final)
        if found:
            raise RotaBugError(f"LNS made a rota that breaks {len(found)} hard rule(s): {found[:5]}")
    return LnsResult(final, "LNS", moves, improved, time.perf_counter() - t0,
                     note=f"{moves} moves, {improved} kept")


def _miles_to(instance: Instance, visit_id: str, lat: float, lon: float) -> float:
    vlat, vlon = instance.visit_location(instance.visit(visit_id))
    return float(great_circle_miles_matrix(np.array([vlat]), np.array([vlon]),
                                           np.array([lat]), np.array([lon]))[0, 0])
