"""Solvers for the public HHCRSP benchmarks (Mankowska 2014, Ceschia 2024 "Italian").

- ``solve_exact``: one CP-SAT model, a circuit per carer over the tasks it is qualified for,
  start times with soft tardiness, simultaneous and sequential double services, the papers'
  objective (distance + total tardiness + max tardiness) / 3. For families A and B.
- ``greedy``: a constructive "append the next task to the best carer" heuristic.
- ``solve_lns``: large-neighbourhood search seeded by ``greedy``: free the routes of a few
  carers and re-solve them exactly with the same CP-SAT model while every other route stays put.

All times are scaled to integers (``SCALE`` per unit). Travel is rounded *up* in the time
constraints so every schedule returned is feasible in exact arithmetic; the objective reported
is always the evaluator's, on the returned schedule.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from benchmarks.hhcrsp import HHCInstance, Solution, evaluate

SCALE = 1000
_FIX_HINT = False
_NO_OVERLAP = False
_W_LATE = 2.0
_W_DELAY = 0.0


@dataclass(frozen=True)
class HHCResult:
    solution: Solution
    cost: float
    bound: float | None
    """A proven lower bound on the cost (only from a complete exact model)."""
    status: str
    seconds: float


def _up(x: float) -> int:
    return int(math.ceil(x * SCALE - 1e-6))


def _horizon(inst: HHCInstance) -> int:
    finite = [v for v in inst.latest[1:] if math.isfinite(v)]
    spread = float(inst.distances.max()) + max(t.duration for t in inst.tasks)
    return _up(max(finite, default=0.0) + spread * (len(inst.tasks) + 2))


def _subproblem(
    inst: HHCInstance,
    carers: Sequence[int],
    tasks: Sequence[int],
    fixed_start: dict[int, float],
    tmax_floor: float,
    hint: Solution | None,
    time_limit: float,
    workers: int,
    seed: int,
) -> tuple[str, dict[int, list[tuple[int, float]]], float | None, float | None]:
    """Route ``tasks`` over ``carers`` exactly; tasks whose partner is outside keep its start.

    Returns (status, carer -> route, objective in cost units (x3), best bound (x3)).
    """
    m = cp_model.CpModel()
    d = inst.distances
    horizon = _horizon(inst)
    task_set = set(tasks)
    pair_of = inst.pair_of()
    start = {t: m.new_int_var(_up(inst.earliest[inst.tasks[t].patient]), horizon, f"s{t}")
             for t in tasks}
    tard = {t: m.new_int_var(0, horizon, f"tard{t}") for t in tasks}
    tmax = m.new_int_var(_up(tmax_floor) if tmax_floor > 0 else 0, horizon, "tmax")
    for t in tasks:
        latest = inst.latest[inst.tasks[t].patient]
        if math.isfinite(latest):
            m.add(tard[t] >= start[t] - int(math.floor(latest * SCALE + 1e-6)))
        m.add(tmax >= tard[t])
    assign: dict[tuple[int, int], cp_model.IntVar] = {}
    distance_terms = []
    hint_next: dict[tuple[int, int], int] = {}
    hint_carer: dict[int, int] = {}
    if hint is not None:
        for k, route in enumerate(hint.routes):
            prev = -1
            for t, s in route:
                hint_carer[t] = k
                hint_next[(k, prev)] = t
                prev = t
                if t in start:
                    m.add_hint(start[t], _up(s))
            hint_next[(k, prev)] = -1
    for k in carers:
        mine = [t for t in tasks if inst.qualified(k, t)]
        node = {t: i + 1 for i, t in enumerate(mine)}
        arcs: list[tuple[int, int, Any]] = []
        empty = m.new_bool_var(f"empty{k}")
        arcs.append((0, 0, empty))
        for t in mine:
            x = m.new_bool_var(f"x{t}_{k}")
            assign[(t, k)] = x
            arcs.append((node[t], node[t], x.negated()))
            p = inst.tasks[t].patient
            out0 = m.new_bool_var("")
            arcs.append((0, node[t], out0))
            m.add(start[t] >= _up(d[0, p])).only_enforce_if(out0)
            back = m.new_bool_var("")
            arcs.append((node[t], 0, back))
            distance_terms.append((out0, _up(d[0, p])))
            distance_terms.append((back, _up(d[p, 0])))
            if hint is not None:
                m.add_hint(out0, hint_next.get((k, -1)) == t)
                m.add_hint(back, hint_carer.get(t) == k and hint_next.get((k, t)) == -1)
        for a in mine:
            pa = inst.tasks[a].patient
            for b in mine:
                if a == b:
                    continue
                pb = inst.tasks[b].patient
                lit = m.new_bool_var("")
                arcs.append((node[a], node[b], lit))
                m.add(start[b] >= start[a] + _up(inst.tasks[a].duration + d[pa, pb])).only_enforce_if(lit)
                distance_terms.append((lit, _up(d[pa, pb])))
                if hint is not None:
                    m.add_hint(lit, hint_carer.get(a) == k and hint_next.get((k, a)) == b)
        m.add_circuit(arcs)
        if _NO_OVERLAP:
            # Redundant with the arc constraints; it lets CP-SAT reason on each carer's day.
            ivs = [m.new_optional_fixed_size_interval_var(start[t], _up(inst.tasks[t].duration),
                                                          assign[(t, k)], f"iv{t}_{k}") for t in mine]
            m.add_no_overlap(ivs)
        if hint is not None:
            m.add_hint(empty, not any(hint_carer.get(t) == k for t in mine))
            for t in mine:
                m.add_hint(assign[(t, k)], hint_carer.get(t) == k)
    for t in tasks:
        options = [assign[(t, k)] for k in carers if (t, k) in assign]
        if not options:
            return "INFEASIBLE", {}, None, None
        m.add_exactly_one(options)
    for t in tasks:
        if t not in pair_of:
            continue
        pair, other = pair_of[t]
        if t != pair.first:
            continue
        lo, hi = int(round(pair.min_gap * SCALE)), int(round(pair.max_gap * SCALE))
        if other in task_set:
            m.add(start[other] - start[t] >= lo)
            m.add(start[other] - start[t] <= hi)
            for k in carers:
                if (t, k) in assign and (other, k) in assign:
                    m.add_bool_or([assign[(t, k)].negated(), assign[(other, k)].negated()])
    for t in tasks:
        if t in pair_of and pair_of[t][1] in fixed_start:
            pair, other = pair_of[t]
            s_other = int(round(fixed_start[other] * SCALE))
            lo, hi = int(round(pair.min_gap * SCALE)), int(round(pair.max_gap * SCALE))
            if t == pair.first:
                m.add(start[t] >= s_other - hi)
                m.add(start[t] <= s_other - lo)
            else:
                m.add(start[t] >= s_other + lo)
                m.add(start[t] <= s_other + hi)
    if hint is not None:
        worst = tmax_floor
        for route in hint.routes:
            for t, s in route:
                if t in tard:
                    late = inst.latest[inst.tasks[t].patient]
                    over = max(0, _up(s) - int(math.floor(late * SCALE + 1e-6))) if math.isfinite(late) else 0
                    m.add_hint(tard[t], over)
                    worst = max(worst, over / SCALE)
        m.add_hint(tmax, max(_up(worst) if worst > 0 else 0, _up(tmax_floor) if tmax_floor > 0 else 0))
    m.minimize(sum(lit * c for lit, c in distance_terms) + sum(tard.values()) + tmax)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_search_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.debug_crash_if_presolve_breaks_hint = False
    if _FIX_HINT:
        solver.parameters.fix_variables_to_their_hinted_value = True
    code = solver.solve(m)
    status = solver.status_name(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return status, {}, None, None
    routes: dict[int, list[tuple[int, float]]] = {}
    for k in carers:
        order = sorted((int(solver.value(start[t])), t) for t in tasks
                       if (t, k) in assign and solver.value(assign[(t, k)]))
        routes[k] = [(t, s / SCALE) for s, t in order]
    return status, routes, solver.objective_value / SCALE, solver.best_objective_bound / SCALE


def solve_exact(inst: HHCInstance, time_limit: float = 30.0, workers: int = 2, seed: int = 0,
                hint: Solution | None = None) -> HHCResult:
    """The whole instance as one CP-SAT model; reports a proven bound when it has one."""
    t0 = time.perf_counter()
    if hint is None:
        hint = greedy(inst)
    status, routes, _obj, bound = _subproblem(
        inst, range(inst.n_carers), range(len(inst.tasks)), {}, 0.0, hint, time_limit, workers, seed)
    if not routes:
        sol = hint
        status = "GREEDY"
        bound = None
    else:
        sol = Solution(tuple(tuple(routes[k]) for k in range(inst.n_carers)))
    ev = evaluate(inst, sol)
    lower = None if bound is None else bound / 3
    return HHCResult(sol, ev.cost, lower, status, time.perf_counter() - t0)


def greedy(inst: HHCInstance) -> Solution:
    """Append tasks, earliest window first, each to the carer(s) that can start it soonest.

    A double service books two different qualified carers; a sequential one starts its first
    task late enough that the second fits inside the gap. Works in the exact model's integer
    time units, so its schedule is a valid hint for the CP-SAT model.
    """
    d = inst.distances
    pair_of = inst.pair_of()
    last: list[tuple[int, int] | None] = [None] * inst.n_carers  # (task, start) per carer
    routes: list[list[tuple[int, float]]] = [[] for _ in range(inst.n_carers)]
    done: set[int] = set()
    order = sorted(range(len(inst.tasks)),
                   key=lambda t: (inst.latest[inst.tasks[t].patient], inst.earliest[inst.tasks[t].patient], t))

    def arrival(k: int, t: int) -> int:
        p = inst.tasks[t].patient
        prev = last[k]
        if prev is None:
            ready = _up(d[0, p])
        else:
            q = inst.tasks[prev[0]]
            ready = prev[1] + _up(q.duration + d[q.patient, p])
        return max(ready, _up(inst.earliest[p]))

    def book(k: int, t: int, s: int) -> None:
        routes[k].append((t, s / SCALE))
        last[k] = (t, s)
        done.add(t)

    def score(k: int, t: int, s: int) -> float:
        p = inst.tasks[t].patient
        prev = last[k]
        here = 0 if prev is None else inst.tasks[prev[0]].patient
        return d[here, p] + _W_LATE * max(0.0, s / SCALE - inst.latest[p]) + _W_DELAY * max(0.0, s / SCALE - inst.earliest[p])

    for t in order:
        if t in done:
            continue
        if t not in pair_of:
            options = [k for k in range(inst.n_carers) if inst.qualified(k, t)]
            if not options:
                raise ValueError(f"{inst.name}: no carer can do task {t}.")
            k = min(options, key=lambda k: score(k, t, arrival(k, t)))
            book(k, t, arrival(k, t))
            continue
        pair, _ = pair_of[t]
        a, b = pair.first, pair.second
        lo, hi = int(round(pair.min_gap * SCALE)), int(round(pair.max_gap * SCALE))
        best: tuple[float, int, int, int, int] | None = None
        for ka in range(inst.n_carers):
            if not inst.qualified(ka, a):
                continue
            for kb in range(inst.n_carers):
                if kb == ka or not inst.qualified(kb, b):
                    continue
                sa, sb = arrival(ka, a), arrival(kb, b)
                sb = max(sb, sa + lo)
                sa = max(sa, sb - hi)
                cost = score(ka, a, sa) + score(kb, b, sb)
                if best is None or cost < best[0]:
                    best = (cost, ka, kb, sa, sb)
        if best is None:
            raise ValueError(f"{inst.name}: no two different carers can do the double service "
                             f"at patient {inst.patient_ids[inst.tasks[a].patient]}.")
        _, ka, kb, sa, sb = best
        book(ka, a, sa)
        book(kb, b, sb)
    return Solution(tuple(tuple(r) for r in routes))


def solve_lns(inst: HHCInstance, time_limit: float = 60.0, seed: int = 0, carers_per_move: int = 3,
              move_limit: float = 1.0, workers: int = 1) -> HHCResult:
    """Greedy, then re-solve a few carers' routes at a time exactly while the rest stay fixed."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    best = greedy(inst)
    best_cost = evaluate(inst, best).cost
    pair_of = inst.pair_of()
    moves = 0
    while time.perf_counter() - t0 < time_limit - 0.5:
        moves += 1
        routes = [list(r) for r in best.routes]
        pivot = rng.randrange(inst.n_carers)
        others = sorted((k for k in range(inst.n_carers) if k != pivot),
                        key=lambda k: _closeness(inst, routes[pivot], routes[k]) * rng.uniform(0.5, 1.5))
        chosen = [pivot] + others[: carers_per_move - 1]
        tasks = [t for k in chosen for t, _ in routes[k]]
        chosen_set = set(chosen)
        fixed = {}
        tmax_floor = 0.0
        for k in range(inst.n_carers):
            if k in chosen_set:
                continue
            for t, s in routes[k]:
                tmax_floor = max(tmax_floor, s - inst.latest[inst.tasks[t].patient])
                if t in pair_of and pair_of[t][1] in tasks:
                    fixed[t] = s
        remaining = time_limit - (time.perf_counter() - t0)
        status, new, _, _ = _subproblem(inst, chosen, tasks, fixed, tmax_floor, best,
                                        min(move_limit, max(0.1, remaining)), workers,
                                        rng.randrange(1 << 30))
        if not new:
            continue
        for k in chosen:
            routes[k] = new[k]
        candidate = Solution(tuple(tuple(r) for r in routes))
        ev = evaluate(inst, candidate)
        if ev.feasible and ev.cost < best_cost - 1e-9:
            best, best_cost = candidate, ev.cost
    return HHCResult(best, best_cost, None, f"LNS({moves} moves)", time.perf_counter() - t0)


def _closeness(inst: HHCInstance, a: Sequence[tuple[int, float]],
               b: Sequence[tuple[int, float]]) -> float:
    """How near two routes pass: the least distance between their patients."""
    if not a or not b:
        return float(inst.distances.max())
    pa = [inst.tasks[t].patient for t, _ in a]
    pb = [inst.tasks[t].patient for t, _ in b]
    return float(inst.distances[pa][:, pb].min())


def solve(inst: HHCInstance, time_limit: float = 30.0, seed: int = 0, workers: int = 1,
          exact_max_tasks: int = 40) -> HHCResult:
    """Choose by size. Small instances: the exact model first (a quarter of the time, greedy
    hint); if not proven optimal, LNS, then the exact model again from the best so far. Larger
    instances: LNS only. The bound is the exact model's, on travel times rounded up to 1/SCALE,
    so it can sit a few thousandths above the true optimum; it is capped at the cost."""
    t0 = time.perf_counter()
    if len(inst.tasks) > exact_max_tasks:
        return solve_lns(inst, time_limit=time_limit, seed=seed, workers=workers)
    first = solve_exact(inst, time_limit=time_limit * 0.25, workers=workers, seed=seed)
    if first.status == "OPTIMAL":
        bound0 = None if first.bound is None else min(first.bound, first.cost)
        return HHCResult(first.solution, first.cost, bound0, first.status, time.perf_counter() - t0)
    warm = solve_lns(inst, time_limit=time_limit * 0.25, seed=seed, workers=workers)
    start = warm if warm.cost <= first.cost else first
    exact = solve_exact(inst, time_limit=time_limit * 0.5, workers=workers, seed=seed,
                        hint=start.solution)
    best = min((exact, warm, first), key=lambda r: r.cost)
    bounds = [b for b in (first.bound, exact.bound) if b is not None]
    bound = min(max(bounds), best.cost) if bounds else None
    return HHCResult(best.solution, best.cost, bound, exact.status, time.perf_counter() - t0)
