"""Large-neighbourhood search over the CP-SAT model, seeded by the greedy.

A move frees a small neighbourhood — the carers living nearest to a visit still unstaffed (or to
a random child when every visit is staffed), with the whole of each one's week — and re-solves it
with ``solver.solve`` on a sub-instance, warm-started from the current rows. Everyone else's
rota is untouched. Because each carer's week is entirely inside the neighbourhood, every weekly
rule (R10-R15) and the R13 travel chain are re-checked by the sub-solve; a 2:1 visit brings its
other carer along. A move is kept when the whole week's rota then staffs more carer slots, or as
many at a lower objective (``solver.solve.rota_terms`` on the whole instance, so that continuity
counts the carers a child sees outside the neighbourhood too). The final rota is checked against
the whole instance.

Measured on the generator's S week (30 carers, 226 visits, 30 s, seed 0): 4 carers and 1.5 s a
move staffed 231 slots at a cost of 54,601, against 230 at 69,608 for the monolithic model and
70,532 for the greedy; 8 carers a move kept nothing (each sub-solve timed out), 3 or 5 carers at
1 s a move kept one move or none.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import numpy as np

from roster.model import Assignment, Instance, Rota
from roster.travel import great_circle_miles_matrix
from solver.params import SolveParams, StopFlag


@dataclass(frozen=True)
class LnsParams:
    time_limit: float = 60.0
    seed: int = 0
    carers_per_move: int = 4
    move_time: float = 1.5
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


def improve(
    instance: Instance,
    rota: Rota | None = None,
    params: LnsParams | None = None,
    base: SolveParams | None = None,
    stop: StopFlag | None = None,
) -> LnsResult:
    """Improve ``rota`` (default: the greedy's) by LNS moves until ``params.time_limit`` or
    ``stop`` is set. ``base`` gives the weights and travel model (its locks and reference are
    not supported: ``solver.solve`` uses the monolithic model for those)."""
    from dataclasses import replace

    from solver.decompose import _rota, sub_instance
    from solver.solve import solve

    params = params or LnsParams()
    base = base or SolveParams()
    t0 = time.perf_counter()
    rng = random.Random(params.seed)
    if rota is None:
        rota = solve(instance, replace(base, use_greedy_only=True, seed=params.seed)).rota
    rows = _staffed_rows(instance, list(rota.assignments))
    level = _level(instance, rows, base)
    reasons = {u.visit_id: u.reasons for u in rota.unassigned}
    homes = np.array([(c.lat, c.lon) for c in instance.carers])
    moves = improved = 0
    spent = 0.0  # wall time of the moves so far: no move starts that would end past the limit
    while time.perf_counter() - t0 < params.time_limit - params.move_time * 0.5:
        if stop is not None and stop.is_set():
            break
        if moves and params.time_limit - (time.perf_counter() - t0) < spent / moves:
            break
        began = time.perf_counter()
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
        left = params.time_limit - (time.perf_counter() - t0)
        sp = replace(base, time_limit=min(params.move_time, max(0.5, left)), workers=params.workers,
                     seed=rng.randrange(1 << 30), hint=current, lns=False, locks=(), reference=None)
        try:
            res = solve(sub, sp, stop=stop)
        except Exception:  # a failed move changes nothing
            spent += time.perf_counter() - began
            continue
        spent += time.perf_counter() - began
        if res.status == "GREEDY":
            continue
        trial = _staffed_rows(
            instance, [a for a in rows if a.carer_id not in carer_ids] + list(res.rota.assignments)
        )
        trial_level = _level(instance, trial, base)
        if trial_level < level:
            improved += 1
            rows, level = trial, trial_level
            for u in res.rota.unassigned:
                reasons[u.visit_id] = u.reasons
    rows = _staffed_rows(instance, rows)
    final = _rota(instance, rows, reasons)
    if params.check:
        from roster.checker import check
        from solver.solve import RotaBugError

        found = check(instance, final, base.travel)
        if found:
            raise RotaBugError(f"LNS made a rota that breaks {len(found)} hard rule(s): {found[:5]}")
    return LnsResult(final, "LNS", moves, improved, time.perf_counter() - t0,
                     note=f"{moves} moves, {improved} kept")


def _level(instance: Instance, rows: list[Assignment], base: SolveParams) -> tuple[int, float]:
    """(uncovered carer slots, weighted cost) of the whole week: smaller is better."""
    from solver.solve import objective_of, rota_terms

    terms = rota_terms(instance, Rota(assignments=tuple(rows)), base)
    return int(round(terms["uncovered_slots"])), round(objective_of(terms, base.weights), 6)


def _miles_to(instance: Instance, visit_id: str, lat: float, lon: float) -> float:
    vlat, vlon = instance.visit_location(instance.visit(visit_id))
    return float(great_circle_miles_matrix(np.array([vlat]), np.array([vlon]),
                                           np.array([lat]), np.array([lon]))[0, 0])
