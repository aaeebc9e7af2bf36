"""A lower bound on continuity at the proven coverage, by column generation over carers' weeks.

Why: CP-SAT's bound on the continuity stage comes from the LP relaxation of "distinct carers
per child", which is worth about one carer per child whatever the week: a visit spread
fractionally over many carers costs nothing. Fifth session, 8 carers / 15 children, seed 1:
CP-SAT's bound was 900 after 30 s against a rota of 2,660, and no setting did better.

Here a column is one carer's whole week: a set of visits that the coverage master's week of
that carer allows (``solver.coverage.add_carer_week`` with the R11 duties), a relaxation of the
model's week. Its cost is what the continuity term charges for the children in it: a distinct
carer each, plus the stranger charge where the child has no history with the carer. The LP:

    min  sum_S cost_S lam_S + w_over * sum_k e_k
    s.t. sum_{S of carer c} lam_S <= 1                 (one week per carer)
         sum_{S holding v} lam_S <= carers(v)          (a visit's places)
         sum_S |S| lam_S >= slots                      (the proven coverage)
         sum_{S holding child k} lam_S - e_k <= max_carers_week(k)

Every rota of the model that staffs ``slots`` slots is a 0/1 point of this LP with the same
continuity cost (the 2:1 partners' shared start and the journeys between carers are dropped,
which only widens it), so the LP optimum is a lower bound on the continuity stage.

Pricing: for each carer, CP-SAT minimises the reduced cost of its weeks (the children's
charges less the visits' prices) over the carer's week model; the best few weeks it meets
join the LP. After every round in which every carer was priced, the Lagrangian bound

    y.b + sum_c min(0, least reduced cost of carer c's weeks)

holds for the round's duals ``y`` (any duals of the right signs give a valid bound), with
CP-SAT's own bound on each pricing problem, so a pricing cut short by its time limit still
gives a valid, weaker, bound. When every carer's least reduced cost is proven non-negative the
bound is the LP optimum. The continuity cost of any rota is a sum of the weights' integer
multiples, so the bound rounds up to their greatest common divisor when the weights are whole.

Measured on idle cores, the LP run to its optimum after a 10 s solve (``target`` None), seed 1:
8 carers / 15 children 2,660 (the best rota's cost, so that rota is optimal) in 7.2 s pricing
one carer at a time, 3.8 s two at a time; 14 / 26 4,380 in 22.8 s / 8.9 s, against a 10 s rota
of 4,680; 20 / 37 5,940 in 87 s (two at a time). On S (30 / 56) one carer at a time it had not
converged in 300 s: a round took ~6 s and the duals were degenerate (the LP's value fell from
18,080 to 12,720 while the bound was still negative). Pricing one column per carer and round,
S's LP did not move in 150 s.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from roster.eligibility import Eligibility
from roster.model import Instance
from solver.candidates import merge_ranges
from solver.coverage import Pairs, add_carer_week
from solver.params import Weights
from solver.rules.daily_rest import add_carer_duties

PRICE_SECONDS = 0.3
"""First time limit of one carer's pricing; doubled (up to ``PRICE_SECONDS_MAX``) for a carer
whose pricing found no column and was not proven, so that the last rounds prove."""
PRICE_SECONDS_MAX = 5.0
COLUMNS_PER_PRICING = 8
"""Improving weeks CP-SAT met on its way to the best one that join the LP: with one column per
carer and round, S seed 1's LP did not move from 18,080 in 150 s; with eight it fell to
12,720 in 300 s (the prototype, one carer at a time)."""
SCALE = 1000
"""Pricing objective coefficients are the LP's prices times this, rounded; the error this
makes is taken off the bound (``_Pricer.price``)."""


@dataclass
class ContinuityBound:
    """What the column generation proved."""

    bound: float
    """A lower bound on the continuity stage's cost (distinct carers, strangers, carers beyond
    the family's maximum, in the weights' units) of every rota staffing ``slots`` slots; -inf
    when no round priced every carer."""
    lp: float | None
    """The restricted LP's last value (an upper bound on the LP optimum, not on rotas)."""
    converged: bool
    """Every carer's least reduced cost was proven non-negative: ``bound`` is the LP optimum."""
    rounds: int = 0
    columns: int = 0
    seconds: float = 0.0
    note: str = ""
    history: list[tuple[float, float]] = field(default_factory=list)
    """(seconds, bound) each time the bound rose."""


def _charges(instance: Instance, c: int, children: set[int], weights: Weights) -> dict[int, float]:
    """The continuity term's charge for carer c working for each child."""
    cid = instance.carers[c].carer_id
    return {
        k: weights.distinct_carers
        + (0.0 if instance.knows(instance.children[k].child_id, cid) else weights.stranger)
        for k in children
    }


class _Pricer:
    """Carer c's week model, with the objective set afresh each round."""

    def __init__(self, instance: Instance, elig: Eligibility, travel: Any, pairs: Pairs, c: int,
                 visits: list[int], weights: Weights):
        self.c = c
        vs = instance.visits
        self.visits = sorted(visits, key=lambda v: (instance.planned_start[v], vs[v].visit_id))
        m = cp_model.CpModel()
        x = {(c, v): m.new_bool_var(f"x{v}") for v in self.visits}
        start = {
            v: m.new_int_var_from_domain(
                cp_model.Domain.from_intervals([[a, b] for a, b in merge_ranges(pairs[(c, v)])]),
                f"s{v}",
            )
            for v in self.visits
        }
        data, _never = add_carer_week(m, instance, elig, travel, pairs, c, self.visits, x, start)
        add_carer_duties(m, instance, c, self.visits, pairs, x, start, data.t_min)
        self.child = {v: instance.child_index[vs[v].child_id] for v in self.visits}
        self.y: dict[int, Any] = {}
        for v in self.visits:
            k = self.child[v]
            if k not in self.y:
                self.y[k] = m.new_bool_var(f"y{k}")
            m.add_implication(x[(c, v)], self.y[k])
        self.charge = _charges(instance, c, set(self.y), weights)
        self.model = m
        self.xs = [x[(c, v)] for v in self.visits]
        self.limit = PRICE_SECONDS

    def reduced(self, week: list[int], price: dict[int, float], child_price: dict[int, float],
                own: float) -> float:
        kids = {self.child[v] for v in week}
        return (sum(self.charge[k] - child_price[k] for k in kids)
                - sum(price[v] for v in week) - own)

    def price(self, price: dict[int, float], child_price: dict[int, float], own: float,
              deadline: float) -> tuple[float, list[list[int]], bool]:
        """(a lower bound on carer c's least reduced cost, improving weeks met, proven)."""
        terms = [(y, int(round((self.charge[k] - child_price[k]) * SCALE)))
                 for k, y in self.y.items()]
        terms += [(lit, -int(round(price[v] * SCALE))) for v, lit in zip(self.visits, self.xs,
                                                                         strict=True)]
        terms = [(var, coef) for var, coef in terms if coef]
        self.model.minimize(cp_model.LinearExpr.weighted_sum([v for v, _ in terms],
                                                             [k for _, k in terms]))
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.01, min(self.limit,
                                                              deadline - time.perf_counter()))
        met: list[list[int]] = []
        visits, xs = self.visits, self.xs

        class _Met(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                met.append([v for v, lit in zip(visits, xs, strict=True) if self.value(lit)])

        code = solver.solve(self.model, _Met())
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            self.limit = min(PRICE_SECONDS_MAX, 2 * self.limit)
            return -math.inf, [], False
        # each rounded coefficient is off by at most 1 / (2 SCALE)
        err = 0.5 / SCALE * len(terms)
        bound = solver.best_objective_bound / SCALE - err - own
        weeks = [w for w in met[-COLUMNS_PER_PRICING:]
                 if self.reduced(w, price, child_price, own) < -1e-6]
        proven = code == cp_model.OPTIMAL
        if not weeks and not proven:
            self.limit = min(PRICE_SECONDS_MAX, 2 * self.limit)
        return bound, weeks, proven


def _granularity(weights: Weights) -> float | None:
    """The greatest common divisor of the continuity weights, when they are whole numbers."""
    ws = [weights.distinct_carers, weights.stranger, weights.over_target]
    if any(w != int(w) for w in ws):
        return None
    g = 0
    for w in ws:
        g = math.gcd(g, int(w))
    return float(g) if g else None


def continuity_bound(
    instance: Instance,
    elig: Eligibility,
    pairs: Pairs,
    travel: Any,
    slots: int,
    weights: Weights,
    deadline: float,
    weeks: dict[int, list[int]] | None = None,
    target: float | None = None,
    stop: Any = None,
    give_up: bool = True,
    workers: int = 2,
) -> ContinuityBound:
    """A lower bound on the continuity cost of every rota over ``pairs`` that staffs ``slots``
    carer slots, by ``deadline`` (``time.perf_counter()`` seconds).

    ``weeks`` (carer -> visits, e.g. a rota's) start the LP with columns; ``target`` (the cost
    of a rota in hand) stops the work once the bound reaches it (that rota is then optimal), or
    once the LP's value falls below it (the bound cannot reach it). ``stop``: an event that
    ends the work at the next carer.
    """
    import highspy  # an LP library, loaded only when this bound runs

    t0 = time.perf_counter()
    vs = instance.visits
    by_carer: dict[int, list[int]] = {}
    for c, v in pairs:
        by_carer.setdefault(c, []).append(v)
    carers = sorted(by_carer)
    pricers = {c: _Pricer(instance, elig, travel, pairs, c, by_carer[c], weights) for c in carers}
    visits = sorted({v for _, v in pairs})
    n_children = len(instance.children)
    row_own = {c: i for i, c in enumerate(carers)}
    row_place = {v: len(carers) + i for i, v in enumerate(visits)}
    row_slots = len(carers) + len(visits)
    row_child = {k: row_slots + 1 + k for k in range(n_children)}
    n_rows = row_slots + 1 + n_children
    inf = highspy.kHighsInf
    lower = np.full(n_rows, -inf)
    upper = np.full(n_rows, inf)
    rhs = np.zeros(n_rows)
    for c in carers:
        upper[row_own[c]] = rhs[row_own[c]] = 1
    for v in visits:
        upper[row_place[v]] = rhs[row_place[v]] = vs[v].carers
    lower[row_slots] = rhs[row_slots] = slots
    for k in range(n_children):
        upper[row_child[k]] = rhs[row_child[k]] = instance.children[k].continuity_target

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addRows(n_rows, lower, upper, 0, np.zeros(0, dtype=np.int32),
              np.zeros(0, dtype=np.int32), np.zeros(0))
    for k in range(n_children):
        h.addCol(weights.over_target, 0, inf, 1, np.array([row_child[k]], dtype=np.int32),
                 np.array([-1.0]))
    # slots bought outside any week, at a price that caps the slots' dual: keeps the LP
    # feasible before the weeks can staff ``slots``, and any capped dual still bounds
    artificial = 10 * (weights.distinct_carers + weights.stranger + weights.over_target)
    h.addCol(artificial, 0, inf, 1, np.array([row_slots], dtype=np.int32), np.array([1.0]))
    seen: set[tuple[int, tuple[int, ...]]] = set()

    def add(c: int, week: list[int]) -> bool:
        key = (c, tuple(sorted(week)))
        if not week or key in seen:
            return False
        seen.add(key)
        kids = sorted({pricers[c].child[v] for v in week})
        cost = sum(pricers[c].charge[k] for k in kids)
        rows = [row_own[c]] + [row_place[v] for v in key[1]] + [row_slots] + [row_child[k] for k in kids]
        vals = [1.0] * (1 + len(week)) + [float(len(week))] + [1.0] * len(kids)
        h.addCol(cost, 0, inf, len(rows), np.array(rows, dtype=np.int32), np.array(vals))
        return True

    for c, week in (weeks or {}).items():
        if c not in pricers:
            continue
        kept = [v for v in week if (c, v) in pairs]
        add(c, kept)
        by_child: dict[int, list[int]] = {}
        for v in kept:
            by_child.setdefault(pricers[c].child[v], []).append(v)
        if len(by_child) > 1:
            for part in by_child.values():
                add(c, part)
                add(c, [v for v in kept if v not in part])

    step = _granularity(weights)
    out = ContinuityBound(bound=-math.inf, lp=None, converged=False)
    note = "time"
    with ThreadPoolExecutor(max(1, workers)) as pool:
        while time.perf_counter() < deadline and not (stop is not None and stop.is_set()):
            out.rounds += 1
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                note = f"LP: {h.modelStatusToString(h.getModelStatus())}"
                break
            out.lp = float(h.getInfo().objective_function_value)
            if give_up and target is not None and _rounded(out.lp, step) < target - 1e-6:
                # the RMP's weeks are rotas' weeks (or parts of them), so its value bounds the
                # LP's optimum from above: the bound cannot reach the target
                note = "the LP is below the rota's cost"
                break
            y = np.asarray(h.getSolution().row_dual, dtype=float)
            # the signs the bound needs, and the e and artificial columns priced non-negative
            # (HiGHS's duals may miss them by its tolerance)
            y[:row_slots] = np.minimum(y[:row_slots], 0.0)
            y[row_slots] = min(max(y[row_slots], 0.0), artificial)
            y[row_slots + 1:] = np.clip(y[row_slots + 1:], -weights.over_target, 0.0)
            price = {v: float(y[row_place[v]] + y[row_slots]) for v in visits}
            child_price = {k: float(y[row_child[k]]) for k in range(n_children)}
            bound = float(y @ rhs)
            proven_all, added, complete = True, 0, True

            def job(c: int, y: np.ndarray = y, price: dict[int, float] = price,
                    child_price: dict[int, float] = child_price) -> Any:
                if time.perf_counter() >= deadline or (stop is not None and stop.is_set()):
                    return None  # not priced: no bound this round
                return pricers[c].price(price, child_price, float(y[row_own[c]]), deadline)

            # CP-SAT releases the GIL: carers are priced side by side
            for c, got in zip(carers, pool.map(job, carers), strict=True):
                if got is None:
                    complete = False
                    continue
                low, found, proven = got
                bound += min(0.0, low)
                proven_all = proven_all and (proven or low >= 0)
                for week in found:
                    added += add(c, week)
            if complete and bound > out.bound:
                out.bound = bound
                out.history.append((round(time.perf_counter() - t0, 3), bound))
            if complete and proven_all and added == 0:
                out.converged, note = True, "LP optimum"
                break
            if target is not None and _rounded(out.bound, step) >= target - 1e-6:
                note = "bound reached the rota's cost"
                break
    out.bound = _rounded(out.bound, step)
    out.columns = len(seen)
    out.seconds = time.perf_counter() - t0
    out.note = note
    return out


def _rounded(bound: float, step: float | None) -> float:
    if step is None or not math.isfinite(bound):
        return bound
    # a thousandth of a step: HiGHS's duals are good to about 1e-7 of the bound
    return math.ceil(bound / step - 1e-3) * step
