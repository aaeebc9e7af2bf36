"""Solving the whole model (``solver.cpsat.build_model``) in stages: coverage, then continuity
(+ changes), then quality, each keeping the level the stages before it reached, or one
weighted stage on very large models. The stages and their terms are ``solver.objective``'s.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from roster.model import Rota
from solver.candidates import Travel
from solver.contbound import continuity_bound
from solver.cpbase import StopWatcher
from solver.cpsat import RotaModel, chosen_of, hint_values
from solver.objective import SCALE, TERM_WEIGHT, TERMS_BY_STAGE
from solver.params import SolveParams

LEXICOGRAPHIC_MAX_VARIABLES = 150_000
"""Above this many variables one weighted stage replaces the three lexicographic ones: each
stage presolves the whole model again, and on large weeks presolve is most of the time. The
default weights keep coverage first (a carer slot outweighs any one carer's continuity)."""

@dataclass
class StagesOutcome:
    assignments: dict[str, list[tuple[str, int]]] | None
    """carer_id -> [(visit_id, start)] of the best rota found, or None when CP-SAT found none."""
    status: str
    bound: float | None
    slots_bound: int | None
    stages: list[dict[str, Any]]


class _Snapshot:
    """Variable values of one solution, readable like a solver (``Value``)."""

    def __init__(self, values: dict[int, int]):
        self.values = values

    def Value(self, var: Any) -> int:  # noqa: N802 - mirrors CpSolver.Value
        if isinstance(var, int):
            return var
        return self.values[var.index]


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, progress: Any, t0: float, offset: float, den: float, stop: Any = None):
        super().__init__()
        self.progress, self.t0, self.offset, self.den = progress, t0, offset, den
        self.stop = stop

    def on_solution_callback(self) -> None:

        wants_stop = self.progress(
            time.perf_counter() - self.t0,
            self.objective_value / self.den + self.offset,
            self.best_objective_bound / self.den + self.offset,
        )
        if wants_stop is True:
            if self.stop is not None and hasattr(self.stop, "set"):
                self.stop.set()
            self.stop_search()


CONTINUITY_BOUND_SHARE = 0.3
"""Share of the time left after the continuity stage that the column-generation bound
(``solver.contbound``) may take when CP-SAT did not prove that stage (coverage proven, no
reference rota), if at least ``CONTINUITY_BOUND_MIN_SECONDS`` are left. It stops as soon as
its bound reaches the stage's cost (then proven), or once its LP shows it cannot. Sixth
session, 10 carers / 19 children seeds 1-5 in ``solve`` with 10 s (half the time left): seed 1's
continuity (4,340) proven in 1.2 s, which CP-SAT's bound (2,960) never was; on the other four
the LP fell below the rota's cost within 0.5-2.2 s, and on seed 5 the quality stage, left
with under a second, found nothing better than the continuity stage's rota."""
CONTINUITY_BOUND_MIN_SECONDS = 3.0


def _continuity_by_columns(
    rm: RotaModel, params: SolveParams, best: dict[int, int], info: dict[str, Any],
    deadline: float, stop: Any,
) -> bool:
    """Raise the continuity stage's bound with ``solver.contbound``; True when it meets the
    stage's cost, which is then optimal."""


    weeks: dict[int, list[int]] = {}
    for (c, v), lit in rm.x.items():
        if best.get(lit.index):
            weeks.setdefault(c, []).append(v)
    slots = sum(len(vs) for vs in weeks.values())
    began = time.perf_counter()
    until = began + CONTINUITY_BOUND_SHARE * max(0.0, deadline - began)
    found = float(info["objective"])
    cb = continuity_bound(rm.instance, rm.eligibility, rm.pairs, Travel(rm.instance, params.travel),
                          slots, params.weights, until, weeks, target=found, stop=stop,
                          workers=max(1, params.workers))
    info["column_bound"] = {"bound": cb.bound, "rounds": cb.rounds, "columns": cb.columns,
                            "seconds": round(cb.seconds, 3), "note": cb.note}
    if cb.bound > info["bound"]:
        info["bound"] = min(cb.bound, found)
    if cb.bound >= found - 1e-6:
        info["note"] = (f"continuity proven by column generation ({cb.rounds} rounds, "
                        f"{cb.seconds:.1f} s)")
        return True
    return False


def run_stages(
    rm: RotaModel,
    params: SolveParams,
    warm: Rota | None,
    progress: Any,
    t0: float,
    stop: Any = None,
    deadline: float | None = None,
    slots_upper: int | None = None,
) -> StagesOutcome:
    """Solve lexicographically (coverage, then continuity + changes, then the rest), each stage
    keeping the level the previous ones reached, or once with the weighted sum.

    ``slots_upper``: carer slots no solution can exceed, proven outside the model
    (``solver.coverage``). The coverage stage gets it as a redundant cut; when the warm start
    already staffs that many, the stage is proven optimal without a search.

    ``deadline`` (``time.perf_counter()`` seconds, default ``params.time_limit`` from now) is
    wall-clock: every stage, deterministic or not, stops by it."""

    m = rm.model
    w = params.weights
    if params.lexicographic and len(rm.variables) <= LEXICOGRAPHIC_MAX_VARIABLES:
        plan = [(name, names) for name, names in TERMS_BY_STAGE]
        shares = [0.5, 0.5, 1.0]  # of the time left when the stage starts
    else:
        plan = [("weighted", tuple(n for _, ns in TERMS_BY_STAGE for n in ns))]
        shares = [1.0]
    hint = hint_values(rm, warm) if warm is not None else {}
    best: dict[int, int] | None = None
    stages: list[dict[str, Any]] = []
    bound_total = 0.0
    done_cost = 0.0  # the finished stages' objectives: progress reports the whole cost
    all_optimal = True
    found_any = False
    bound_ok = True
    coverage_proven = False
    slots_bound: int | None = None
    if deadline is None:
        deadline = time.perf_counter() + params.time_limit
    if stop is None:
        stop = threading.Event()  # a progress callback returning True sets it
    for (name, names), share in zip(plan, shares, strict=True):
        if stop.is_set() and (best is not None or hint):
            break  # cancelled: keep what the earlier stages (or the warm start) reached
        exprs, const = [], 0
        for n in names:
            e, k = rm.terms[n].scaled(getattr(w, TERM_WEIGHT[n]))
            exprs.append(e)
            const += k
        objective = cp_model.LinearExpr.sum(exprs)
        if name == "coverage" and slots_upper is not None and w.coverage > 0:
            slots = sum(v.carers for v in rm.instance.visits)
            floor = int(round((slots - slots_upper) * w.coverage * SCALE)) - const
            m.add(objective >= floor)  # no rota staffs more than slots_upper
            if best is None and len(hint) == len(rm.variables):
                level = rm.terms["uncovered_slots"].scaled_value(w.coverage, hint)
                if level <= floor:
                    # the warm start meets the proven bound: coverage is optimal as it is
                    m.add(objective <= level)
                    best = dict(hint)
                    found_any = True
                    bound_total += (level + const) / SCALE
                    done_cost += (level + const) / SCALE
                    slots_bound = slots_upper
                    coverage_proven = True
                    stages.append({"stage": name, "status": "OPTIMAL", "seconds": 0.0,
                                   "objective": (level + const) / SCALE,
                                   "bound": (level + const) / SCALE,
                                   "note": "warm start meets the coverage bound"})
                    continue
        m.clear_hints()
        for var in rm.variables:
            val = (best or hint).get(var.index)
            if val is not None:
                m.add_hint(var, val)
        m.minimize(objective)
        solver = cp_model.CpSolver()
        left = deadline - time.perf_counter()
        if left < 0.05 and (best is not None or hint):
            stages.append({"stage": name, "status": "SKIPPED", "seconds": 0.0,
                           "objective": None, "bound": None})
            all_optimal = False
            bound_ok = False
            continue  # out of time: keep what the earlier stages (or the warm start) reached
        left = max(0.05, left)
        budget = left * share
        sp = solver.parameters
        if params.deterministic:
            # repeatable when the deterministic budget ends first; the wall clock still rules
            sp.max_deterministic_time = budget
            sp.max_time_in_seconds = left
        else:
            sp.max_time_in_seconds = budget
        sp.num_workers = max(1, params.workers)
        if len(rm.variables) > 20_000:
            # probing costs more than it gains on big rota models (measured on S: 30 s of 40)
            sp.cp_model_probing_level = 0
        if len(rm.variables) > LEXICOGRAPHIC_MAX_VARIABLES or (
            len(rm.variables) > 20_000 and budget < 20
        ):
            # On M the presolve alone outlasted a 66 s stage, on S a 5 s one (2 busy cores):
            # search from the warm start instead, which CP-SAT then holds as its first solution.
            sp.cp_model_presolve = False
        sp.random_seed = params.seed
        sp.log_search_progress = params.log
        started = time.perf_counter()
        with StopWatcher(solver, stop):
            if progress is not None:
                cb = _Callback(progress, t0, const / SCALE + done_cost, SCALE, stop)
                code = solver.solve(m, cb)
            else:
                code = solver.solve(m)
        status = solver.status_name(code)
        info: dict[str, Any] = {"stage": name, "status": status, "seconds": round(time.perf_counter() - started, 3)}
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = int(round(solver.objective_value))
            info["objective"] = (found + const) / SCALE
            info["bound"] = (solver.best_objective_bound + const) / SCALE
            bound_total += info["bound"]
            done_cost += info["objective"]
            found_any = True
            best = {var.index: solver.value(var) for var in rm.variables}
            if name == "coverage":
                coverage_proven = code == cp_model.OPTIMAL
            if (name == "continuity" and code != cp_model.OPTIMAL and coverage_proven
                    and params.reference is None and CONTINUITY_BOUND_SHARE > 0
                    and not params.deterministic  # a time-limited proof would vary the status
                    and deadline - time.perf_counter() >= CONTINUITY_BOUND_MIN_SECONDS):
                proved = _continuity_by_columns(rm, params, best, info, deadline, stop)
                bound_total += info["bound"] - (solver.best_objective_bound + const) / SCALE
                if proved:
                    info["status"] = status = "OPTIMAL"
                    code = cp_model.OPTIMAL
            if name == "coverage" and w.coverage > 0:
                slots = sum(v.carers for v in rm.instance.visits)
                lower = (solver.best_objective_bound + const) / SCALE / w.coverage
                slots_bound = slots - max(0, math.ceil(lower - 1e-6))
                if slots_upper is not None:
                    slots_bound = min(slots_bound, slots_upper)
            if code != cp_model.OPTIMAL:
                all_optimal = False
            # keep this level in the stages that follow
            m.add(objective <= found)
        else:
            all_optimal = False
            info["objective"] = None
            info["bound"] = None
            bound_ok = False
            stages.append(info)
            if best is None and code == cp_model.UNKNOWN and len(hint) == len(rm.variables):
                # CP-SAT ran out of time before taking the complete warm start (loading a large
                # model on busy cores): the warm start is this stage's rota, and its level holds
                # for the stages that follow.
                best = dict(hint)
            if best is not None and code == cp_model.UNKNOWN:
                level = sum(
                    rm.terms[n].scaled_value(getattr(w, TERM_WEIGHT[n]), best) for n in names
                )
                m.add(objective <= level)
            if code == cp_model.INFEASIBLE and best is None:
                # only the hard rules and the locks constrain the first stage
                raise ValueError(
                    "no rota satisfies the locks together with the hard rules "
                    "(a lock clashes with another lock or a rule)"
                )
            if best is None:
                break
            continue
        stages.append(info)
    if best is None or not found_any:
        return StagesOutcome(None, "GREEDY", None, None, stages)
    chosen = chosen_of(rm, _Snapshot(best).Value)
    return StagesOutcome(
        chosen,
        "OPTIMAL" if all_optimal else "FEASIBLE",
        bound_total if bound_ok else None,
        slots_bound,
        stages,
    )
