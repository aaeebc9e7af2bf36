"""An LP upper bound on the carer slots any rota can staff (PuLP + HiGHS).

The bound is the optimum of a linear relaxation over the (carer, visit) pairs that can ever be
staffed. Every constraint below holds for every valid rota (contract §3), so no rota — from the
CP-SAT solver, the greedy or anyone else — can staff more slots than the bound.

Variables
    ``x[c, v]`` in [0, 1] for each *reachable* pair: ``roster.eligibility`` says the carer may
    take the visit (``ok``: R1-R3, R5, R7, R8, R10-R12 for the visit alone) and R9 can be met:
    either the journey from home is within the child's cap, or (R13) the carer could arrive
    from an earlier visit they can reach themselves, ending less than ``return_home_gap_min``
    before, close enough to keep R9 and far enough ahead for the journey (R6). The second case is
    propagated to a fixed point, in start order (chain tightening).
Constraints
    * visit: ``sum_c x[c, v] <= carers_v`` (a 2:1 visit has two slots, by two different carers).
    * time: a visit may start anywhere in [planned - flex, planned + flex], so whatever its start
      it occupies its *core* [planned + flex, planned - flex + duration). For each carer and each
      point ``t`` of a grid (``grid_min``, default 30 minutes), the visits whose cores all
      contain ``t`` pairwise overlap in every rota, so ``sum_{v: t in core(v)} x[c, v] <= 1``
      (R6). Only points shared by two or more of the carer's visits make a row.
    * hours: ``sum_v duration_v x[c, v] <= the carer's weekly limit`` (R10; travel counted as
      zero, which keeps the bound valid).
Objective
    maximise ``sum x`` (carer slots).

The LP is written with PuLP and solved by HiGHS (``pulp.HiGHS``). Past ``direct_above`` pairs
PuLP's per-variable Python objects dominate the run time, so the same arrays are handed to HiGHS
through ``highspy`` directly, by column generation: start from each visit's six nearest carers,
price every pair with the row duals, add the best, repeat (``BoundResult.backend`` says which
was used). Whatever the route, the bound is computed from the row prices by weak duality
(``dual_bound``), so it is valid even when a solve stops early or is approximate. Measured on
generator L (1,000 carers, 6,051 visits, 1.13 M reachable pairs, 68 k rows): the whole LP by
interior point took 87 s of CPU; column generation 24 s (same bound, 6,571 of 6,591 slots). Without HiGHS the
bound falls back to PuLP's CBC and says so.

Large weeks (L, XL) use ``partitioned_bound``: the same LP written over each part of a
partition of the visits (dates, and busy dates by area) with every carer's whole week, each part
by column generation on one HiGHS simplex model kept between rounds; the sum of the parts' bounds
is a valid bound (its docstring argues why), the pairs are found a block of carers at a time, and
the parts run in parallel processes. If the LP cannot be solved to optimality (time limit)
the result falls back to the always-valid *eligibility bound*, ``sum_v min(carers_v, #reachable
carers of v)``.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import time
import uuid
import warnings
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from roster.eligibility import Eligibility, compute_eligibility
from roster.model import Instance
from roster.rules import limits, travel_model
from solver.decompose import kmeans

GRID_MIN = 30
DIRECT_ABOVE = 60_000


@dataclass(frozen=True)
class BoundResult:
    """An upper bound on staffable carer slots, with what binds."""

    bound: int
    """No rota staffs more carer slots than this (floor of the LP optimum)."""
    slots: int
    """Carer slots the instance asks for (sum of ``carers`` over visits)."""
    lp_value: float | None
    eligibility_bound: int
    """The simple bound ``sum_v min(carers_v, reachable carers of v)``."""
    status: str
    """``optimal``, or why the LP value could not be used (the bound is then the eligibility one)."""
    backend: str
    """``pulp/HiGHS``, ``highspy`` (same LP, handed over directly), or a fallback solver."""
    pairs: int
    rows: Mapping[str, int]
    """How many constraints of each kind (visit, time, hours)."""
    lp_seconds: float
    seconds: float
    binding: Mapping[str, int] = field(default_factory=dict)
    """How many constraints of each kind are tight with a positive dual."""
    unreachable_visits: tuple[str, ...] = ()
    """Visits no carer can ever take."""
    short_visits: tuple[tuple[str, float], ...] = ()
    """(visit_id, LP slots staffed) for visits the LP cannot fully staff, worst first."""
    binding_carers: tuple[tuple[str, float], ...] = ()
    """(carer_id, dual of their weekly hours) for carers whose hours bind, largest first."""
    binding_times: tuple[tuple[str, float], ...] = ()
    """(day and hour, summed duals of carers' time rows), largest first: when carers run out."""
    note: str = ""

    @property
    def coverage_ratio_cap(self) -> float:
        """The bound as a share of the slots asked for."""
        return self.bound / self.slots if self.slots else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "bound": self.bound,
            "slots": self.slots,
            "lp_value": None if self.lp_value is None else round(self.lp_value, 4),
            "eligibility_bound": self.eligibility_bound,
            "status": self.status,
            "backend": self.backend,
            "pairs": self.pairs,
            "rows": dict(self.rows),
            "lp_seconds": round(self.lp_seconds, 3),
            "seconds": round(self.seconds, 3),
            "binding": dict(self.binding),
            "unreachable_visits": list(self.unreachable_visits),
            "short_visits": [[v, round(x, 3)] for v, x in self.short_visits],
            "binding_carers": [[c, round(d, 4)] for c, d in self.binding_carers],
            "binding_times": [[t, round(d, 4)] for t, d in self.binding_times],
            "note": self.note,
        }


# ---- which pairs can ever be staffed ----------------------------------------------------------


def reachable_pairs(
    instance: Instance, eligibility: Eligibility, feeders: dict[int, np.ndarray] | None = None
) -> np.ndarray:
    """(n_carers, n_visits) bool: pairs some valid rota could hold (see the module docstring).

    ``ok_strict`` pairs (home within the cap) are reachable; an ``ok`` pair over the cap from home
    is reachable when the carer can reach a *feeder* visit: one that can end less than
    ``return_home_gap_min`` before the visit starts, with time for the journey (R6, R13), and close
    enough that journey + trip miles keep the cap (R9). With a supplied travel matrix the
    distances between visits are not the default model's, so no tightening is done.

    ``feeders`` (visit index -> feeder visit indices) depends on the visits alone; pass the same
    dict for every block of carers of one instance and each visit's feeders are found once.
    """
    el = eligibility
    reach = np.array(el.ok_strict, dtype=bool, copy=True)
    pending = el.ok & ~reach
    cols = np.flatnonzero(pending.any(axis=0))
    if not len(cols):
        return reach
    model = travel_model(instance)
    if model.matrix:
        return np.array(el.ok, dtype=bool, copy=True)
    visits = instance.visits
    n_v = len(visits)
    places = [instance.visit_location(v) for v in visits]
    lat = np.array([p[0] for p in places], dtype=float).reshape(n_v)
    lon = np.array([p[1] for p in places], dtype=float).reshape(n_v)
    dur = np.array([v.duration_min for v in visits], dtype=np.int64).reshape(n_v)
    trip = np.array([v.trip_miles for v in visits], dtype=float).reshape(n_v)
    cap = np.array(
        [instance.child_cap(instance.child(v.child_id)) for v in visits], dtype=float
    ).reshape(n_v)
    lo = np.asarray(el.start_lo, dtype=np.int64)
    hi = np.asarray(el.start_hi, dtype=np.int64)
    gap = instance.settings.return_home_gap_min
    earliest_end, latest_end = lo + dur, hi + dur
    if feeders is None:
        feeders = {}
    for v in cols:
        if int(v) in feeders:
            continue
        # s_v - e_w must lie in [journey minutes, gap - 1] for some starts in the windows.
        timing = (latest_end >= lo[v] - gap + 1) & (earliest_end <= hi[v])
        timing[v] = False
        cand = np.flatnonzero(timing)
        if not len(cand):
            feeders[int(v)] = cand
            continue
        miles, minutes = model.journey_matrix(lat[cand], lon[cand], lat[v : v + 1], lon[v : v + 1])
        miles, minutes = miles[:, 0], minutes[:, 0]
        fits = (np.round(miles + trip[v], 2) <= cap[v] + 1e-9) & (
            earliest_end[cand] + minutes <= hi[v]
        )
        feeders[int(v)] = cand[fits]
    order = cols[np.argsort(lo[cols], kind="stable")]
    # Visit-major copies, the carers of a visit packed 8 to a byte: "reaches some feeder" is
    # one OR over the feeders' rows.
    n_c = reach.shape[0]
    reach_t = np.ascontiguousarray(reach.T)
    pending_t = np.ascontiguousarray(pending.T)
    packed = np.packbits(reach_t, axis=1)
    changed = True
    while changed:
        changed = False
        for v in order:
            w = feeders[int(v)]
            if not len(w):
                continue
            open_v = pending_t[v] & ~reach_t[v]
            if not open_v.any():
                continue
            fed = np.unpackbits(np.bitwise_or.reduce(packed[w], axis=0), count=n_c).astype(bool)
            new = open_v & fed
            if new.any():
                reach_t[v] |= new
                packed[v] = np.packbits(reach_t[v])
                changed = True
    return np.ascontiguousarray(reach_t.T)


# ---- the LP as arrays ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _LP:
    n_cols: int
    rows_i: np.ndarray
    cols_j: np.ndarray
    vals: np.ndarray
    row_ub: np.ndarray
    row_kind: tuple[str, ...]
    row_label: tuple[str, ...]


def _build_lp(instance: Instance, reach: np.ndarray, grid_min: int) -> tuple[_LP, np.ndarray, np.ndarray]:
    """Arrays of the LP: a sparse matrix in COO form, row upper bounds, kinds and labels."""
    pc, pv = np.nonzero(reach)
    return build_lp_pairs(instance, pc, pv, grid_min), pc, pv


def build_lp_pairs(instance: Instance, pc: np.ndarray, pv: np.ndarray, grid_min: int,
                    labels_wanted: bool = True) -> _LP:
    """The LP over the pairs ``(pc[k], pv[k])`` (carer and visit indices), in COO form."""
    pc = np.asarray(pc, dtype=np.int64)
    pv = np.asarray(pv, dtype=np.int64)
    n = len(pc)
    visits = instance.visits
    n_v = len(visits)
    dur = np.array([v.duration_min for v in visits], dtype=np.int64).reshape(n_v)
    flex = np.array([v.flex_min for v in visits], dtype=np.int64).reshape(n_v)
    planned = np.array(instance.planned_start, dtype=np.int64).reshape(n_v)
    core_lo, core_hi = planned + flex, planned - flex + dur
    slots = np.array([v.carers for v in visits], dtype=np.int64).reshape(n_v)

    ri: list[np.ndarray] = []
    cj: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    ub: list[np.ndarray] = []
    kinds: list[str] = []
    labels: list[str] = []
    row = 0

    # visit rows
    used_v = np.unique(pv)
    v_row = np.full(n_v, -1, dtype=np.int64)
    v_row[used_v] = np.arange(len(used_v)) + row
    ri.append(v_row[pv])
    cj.append(np.arange(n))
    vals.append(np.ones(n))
    ub.append(slots[used_v].astype(float))
    kinds += ["visit"] * len(used_v)
    labels += [visits[j].visit_id for j in used_v]
    row += len(used_v)

    # time rows: grid points inside cores, shared by two or more of a carer's visits
    first = -(-core_lo[pv] // grid_min)  # ceil
    last = (core_hi[pv] - 1) // grid_min
    count = np.maximum(last - first + 1, 0)
    if count.sum():
        rep = np.repeat(np.arange(n), count)
        offs = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        point = first[rep] + offs
        carer = pc[rep]
        key = carer.astype(np.int64) * (1 << 32) + (point - point.min())
        order = np.argsort(key, kind="stable")
        key, rep, point, carer = key[order], rep[order], point[order], carer[order]
        uniq, start, size = np.unique(key, return_index=True, return_counts=True)
        keep = size >= 2
        group = np.repeat(np.arange(len(uniq)), size)
        keep_entry = keep[group]
        new_id = np.cumsum(keep) - 1
        ri.append(new_id[group[keep_entry]] + row)
        cj.append(rep[keep_entry])
        vals.append(np.ones(int(keep_entry.sum())))
        n_time = int(keep.sum())
        ub.append(np.ones(n_time))
        kinds += ["time"] * n_time
        clock = instance.clock
        if labels_wanted:
            for s in start[keep]:
                minute = int(point[s]) * grid_min
                labels.append(
                    f"{instance.carers[int(carer[s])].carer_id}@{clock.datetime_of(minute):%a %H:%M}"
                )
        else:
            labels += [""] * n_time
        row += n_time

    # hours rows
    used_c = np.unique(pc)
    c_row = np.full(len(instance.carers), -1, dtype=np.int64)
    c_row[used_c] = np.arange(len(used_c)) + row
    ri.append(c_row[pc])
    cj.append(np.arange(n))
    vals.append(dur[pv].astype(float))
    ub.append(
        np.array([limits(instance, instance.carers[c]).max_week_min for c in used_c], dtype=float)
    )
    kinds += ["hours"] * len(used_c)
    labels += [instance.carers[c].carer_id for c in used_c]
    row += len(used_c)

    lp = _LP(
        n_cols=n,
        rows_i=np.concatenate(ri) if ri else np.zeros(0, np.int64),
        cols_j=np.concatenate(cj) if cj else np.zeros(0, np.int64),
        vals=np.concatenate(vals) if vals else np.zeros(0),
        row_ub=np.concatenate(ub) if ub else np.zeros(0),
        row_kind=tuple(kinds),
        row_label=tuple(labels),
    )
    return lp


# ---- solving: PuLP + HiGHS, or HiGHS directly for large LPs --------------------------------------


def _pulp_solver(time_limit: float | None, large: bool) -> tuple[Any, str, str]:
    import pulp  # an LP library, loaded only when an LP bound runs (here and below)

    options: dict[str, Any] = {}
    if large:
        options = {"solver": "ipm", "run_crossover": "off"}
    highs = pulp.HiGHS(msg=False, timeLimit=time_limit, **options)
    if highs.available():
        return highs, "pulp/HiGHS", ""
    cmd = pulp.HiGHS_CMD(msg=False, timeLimit=time_limit)
    if cmd.available():
        return cmd, "pulp/HiGHS_CMD", "highspy is not installed; used the HiGHS command line"
    return (
        pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit),
        "pulp/CBC",
        "HiGHS is not available; used CBC",
    )


def _solve_pulp(lp: _LP, time_limit: float | None) -> tuple[str, float | None, np.ndarray, np.ndarray, np.ndarray, str, str]:
    with warnings.catch_warnings():
        # PuLP 3.x announces its 4.0 API (prob.add_variable, constraints as a list); the 3.x
        # calls used here work on every PuLP this project supports.
        warnings.simplefilter("ignore", DeprecationWarning)
        return _solve_pulp_inner(lp, time_limit)


def _solve_pulp_inner(lp: _LP, time_limit: float | None) -> tuple[str, float | None, np.ndarray, np.ndarray, np.ndarray, str, str]:
    import pulp

    prob = pulp.LpProblem("capacity_bound", pulp.LpMaximize)
    xs = [pulp.LpVariable(f"x{k}", 0, 1) for k in range(lp.n_cols)]
    prob += pulp.LpAffineExpression([(x, 1.0) for x in xs])
    order = np.argsort(lp.rows_i, kind="stable")
    ri, cj, vals = lp.rows_i[order], lp.cols_j[order], lp.vals[order]
    bounds = np.searchsorted(ri, np.arange(len(lp.row_ub) + 1))
    names = []
    for r in range(len(lp.row_ub)):
        a, b = bounds[r], bounds[r + 1]
        expr = pulp.LpAffineExpression([(xs[int(j)], float(v)) for j, v in zip(cj[a:b], vals[a:b], strict=True)])
        name = f"r{r}"
        prob += (expr <= float(lp.row_ub[r])), name
        names.append(name)
    solver, backend, note = _pulp_solver(time_limit, lp.n_cols > 20_000)
    prob.solve(solver)
    status = pulp.LpStatus[prob.status].lower()
    value = pulp.value(prob.objective) if status == "optimal" else None
    x = np.array([xv.varValue or 0.0 for xv in xs])
    duals = np.array([prob.constraints[nm].pi or 0.0 for nm in names])
    slack = np.array([prob.constraints[nm].slack or 0.0 for nm in names])
    return status, value, x, duals, slack, backend, note


def dual_bound(lp: _LP, duals: np.ndarray) -> float:
    """An upper bound on the LP (hence on any rota) from *any* row prices ``y >= 0``.

    Weak duality with ``0 <= x <= 1``: ``max 1.x s.t. Ax <= b`` is at most
    ``b.y + sum_j max(0, 1 - (A^T y)_j)``. It holds whatever the solver's tolerances or status,
    so a time-limited or approximate solve still gives a valid bound. Both sign conventions of
    the reported duals are tried (each is valid) and the smaller kept.
    """
    best = math.inf
    for sign in (1.0, -1.0):
        y = np.clip(sign * np.asarray(duals, dtype=float), 0.0, None)
        aty = np.bincount(lp.cols_j, weights=lp.vals * y[lp.rows_i], minlength=lp.n_cols)
        best = min(best, float(lp.row_ub @ y + np.clip(1.0 - aty, 0.0, None).sum()))
    return best


def solve_direct(lp: _LP, time_limit: float | None, method: str = "ipm") -> tuple[str, float | None, np.ndarray, np.ndarray, np.ndarray, str, str]:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", method)
    if method == "ipm":
        h.setOptionValue("run_crossover", "off")
    elif method == "pdlp":
        # duals need only be good, not exact: dual_bound() turns them into a valid bound
        h.setOptionValue("pdlp_d_gap_tol", 1e-4)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    n_rows = len(lp.row_ub)
    model = highspy.HighsLp()
    model.num_col_ = lp.n_cols
    model.num_row_ = n_rows
    model.sense_ = highspy.ObjSense.kMaximize
    model.col_cost_ = np.ones(lp.n_cols)
    model.col_lower_ = np.zeros(lp.n_cols)
    model.col_upper_ = np.ones(lp.n_cols)
    model.row_lower_ = np.full(n_rows, -highspy.kHighsInf)
    model.row_upper_ = lp.row_ub.astype(float)
    order = np.lexsort((lp.rows_i, lp.cols_j))
    cols = lp.cols_j[order]
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = np.searchsorted(cols, np.arange(lp.n_cols + 1)).astype(np.int32)
    model.a_matrix_.index_ = lp.rows_i[order].astype(np.int32)
    model.a_matrix_.value_ = lp.vals[order].astype(float)
    h.passModel(model)
    h.run()
    ms = h.getModelStatus()
    status = "optimal" if ms == highspy.HighsModelStatus.kOptimal else h.modelStatusToString(ms).lower()
    sol = h.getSolution()
    value = h.getInfo().objective_function_value if status == "optimal" else None
    x = np.array(sol.col_value) if lp.n_cols else np.zeros(0)
    row_act = np.array(sol.row_value) if n_rows else np.zeros(0)
    duals = np.array(sol.row_dual) if n_rows else np.zeros(0)
    return status, value, x, duals, lp.row_ub - row_act, "highspy", ""


def _solve_by_columns(
    lp: _LP, start: np.ndarray, time_limit: float | None, method: str, rounds: int = 12, batch: int = 60_000
) -> tuple[str, float | None, np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Column generation: solve the LP on a subset of pairs, price every pair with the row duals,
    add the most promising, repeat until the dual bound (valid for the full LP, see
    ``dual_bound``) and the restricted optimum (a full-LP solution) round to the same integer.
    Returns the best prices found; the caller's bound comes from them."""
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    n_rows = len(lp.row_ub)
    in_set = np.zeros(lp.n_cols, dtype=bool)
    in_set[start] = True
    best_bound, best_duals = math.inf, np.zeros(n_rows)
    x_full = np.zeros(lp.n_cols)
    primal = 0.0
    status = "unknown"
    for _ in range(rounds):
        cols = np.flatnonzero(in_set)
        remap = np.full(lp.n_cols, -1, dtype=np.int64)
        remap[cols] = np.arange(len(cols))
        keep = in_set[lp.cols_j]
        sub = _LP(len(cols), lp.rows_i[keep], remap[lp.cols_j[keep]], lp.vals[keep], lp.row_ub, lp.row_kind, lp.row_label)
        left = None if deadline is None else max(1.0, deadline - time.perf_counter())
        st, value, x, duals, _slack, _b, _n = solve_direct(sub, left, method)
        if len(duals) != n_rows:
            break
        primal = max(primal, float(value or 0.0))
        x_full[:] = 0.0
        x_full[cols] = x
        bound_now = dual_bound(lp, duals)
        if bound_now < best_bound:
            best_bound, best_duals = bound_now, np.asarray(duals, dtype=float)
        if math.floor(best_bound + 1e-6) <= math.floor(primal + 1e-6) or (deadline and time.perf_counter() > deadline):
            status = "optimal" if math.floor(best_bound + 1e-6) <= math.floor(primal + 1e-6) else "time limit"
            break
        # price every pair with the better sign convention
        y = best_duals
        sign = 1.0
        costs = []
        for sg in (1.0, -1.0):
            yy = np.clip(sg * y, 0.0, None)
            aty = np.bincount(lp.cols_j, weights=lp.vals * yy[lp.rows_i], minlength=lp.n_cols)
            costs.append((float(lp.row_ub @ yy + np.clip(1.0 - aty, 0.0, None).sum()), sg, 1.0 - aty))
        _, sign, reduced = min(costs, key=lambda t: t[0])
        reduced[in_set] = -np.inf
        candidates = np.flatnonzero(reduced > 1e-9)
        if not len(candidates):
            status = "optimal"
            break
        top = candidates[np.argsort(-reduced[candidates])[:batch]]
        in_set[top] = True
    row_act = np.bincount(lp.rows_i, weights=lp.vals * x_full[lp.cols_j], minlength=n_rows)
    value_out = primal if status == "optimal" else None
    return status, value_out, x_full, best_duals, lp.row_ub - row_act, "highspy (column generation)", ""


def _solve_by_columns_warm(
    lp: _LP, start: np.ndarray, time_limit: float | None, batch: int = 3_000, rounds: int = 200,
    ceiling: float = math.inf,
) -> tuple[str, float | None, np.ndarray]:
    """Column generation on one HiGHS model kept between rounds: new columns are added to it
    and simplex restarts from the last basis, so a round costs a few pivots, not a new solve.

    Simplex prices are a vertex of the dual, so far fewer columns price out than with interior
    point prices. Small batches (about two columns per visit a round) keep each round's
    simplex short: on one date of generator L, 2.2 s and 18 k columns with batches of 2,500,
    13.5 s and 66 k columns with batches of 60,000, 38 s by interior point (240 k columns).
    A restricted optimum that reaches ``ceiling`` (a bound known otherwise, e.g. eligibility)
    ends the search: the LP cannot exceed it. Returns (status, restricted optimum when proven
    optimal, the best row prices found)."""
    import highspy

    deadline = None if time_limit is None else time.perf_counter() + time_limit
    n_rows = len(lp.row_ub)
    order = np.lexsort((lp.rows_i, lp.cols_j))
    colptr = np.searchsorted(lp.cols_j[order], np.arange(lp.n_cols + 1))
    entry_row = lp.rows_i[order].astype(np.int32)
    entry_val = lp.vals[order].astype(float)
    del order
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "simplex")
    inf = highspy.kHighsInf
    h.addRows(n_rows, np.full(n_rows, -inf), lp.row_ub.astype(float), 0,
              np.zeros(n_rows, np.int32), np.zeros(0, np.int32), np.zeros(0))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    in_set = np.zeros(lp.n_cols, dtype=bool)
    add = np.unique(np.asarray(start, dtype=np.int64))
    best_bound, best_duals = math.inf, np.zeros(n_rows)
    status, primal = "unknown", None
    for _ in range(rounds):
        if len(add):
            first = colptr[add]
            lens = colptr[add + 1] - first
            ptr = np.concatenate([[0], np.cumsum(lens)])
            idx = np.repeat(first - ptr[:-1], lens) + np.arange(int(ptr[-1]))
            h.addCols(len(add), np.ones(len(add)), np.zeros(len(add)), np.ones(len(add)),
                      int(ptr[-1]), ptr[:-1].astype(np.int32), entry_row[idx], entry_val[idx])
            in_set[add] = True
        if deadline is not None:
            h.setOptionValue("time_limit", max(1.0, deadline - time.perf_counter()))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            status = h.modelStatusToString(h.getModelStatus()).lower()
            break
        duals = np.array(h.getSolution().row_dual, dtype=float)
        if len(duals) != n_rows:
            break
        primal = float(h.getInfo().objective_function_value)
        if math.floor(primal + 1e-6) >= ceiling:
            status = "optimal"
            break
        reduced = None
        for sign in (1.0, -1.0):  # either sign convention of the reported duals is valid
            y = np.clip(sign * duals, 0.0, None)
            aty = np.bincount(lp.cols_j, weights=lp.vals * y[lp.rows_i], minlength=lp.n_cols)
            value = float(lp.row_ub @ y + np.clip(1.0 - aty, 0.0, None).sum())
            if value < best_bound:
                best_bound, best_duals, reduced = value, sign * duals, 1.0 - aty
        if math.floor(best_bound + 1e-6) <= math.floor(primal + 1e-6):
            status = "optimal"
            break
        if reduced is None:
            y = np.clip(best_duals, 0.0, None)
            reduced = 1.0 - np.bincount(lp.cols_j, weights=lp.vals * y[lp.rows_i], minlength=lp.n_cols)
        reduced[in_set] = -np.inf
        candidates = np.flatnonzero(reduced > 1e-9)
        if not len(candidates):
            status = "optimal"
            break
        if deadline is not None and time.perf_counter() > deadline:
            status = "time limit"
            break
        add = np.sort(candidates[np.argsort(-reduced[candidates])[:batch]])
    return status, primal if status == "optimal" else None, best_duals


def capacity_bound(
    instance: Instance,
    eligibility: Eligibility | None = None,
    *,
    grid_min: int = GRID_MIN,
    time_limit: float | None = None,
    direct_above: int = DIRECT_ABOVE,
    method: str = "ipm",
    columns: bool = True,
    top: int = 10,
) -> BoundResult:
    """An upper bound on carer slots any valid rota can staff (see the module docstring).

    Parameters
    ----------
    eligibility:
        ``compute_eligibility(instance)`` if already at hand.
    grid_min:
        Spacing of the time points (minutes) at which each carer does one visit at a time.
    time_limit:
        Seconds for the LP; past it the eligibility bound is returned (status says so).
    direct_above:
        Pairs beyond which the LP goes to HiGHS through highspy instead of PuLP objects.
    method:
        HiGHS's method for that direct LP: ``ipm`` (default), ``pdlp`` (first-order, faster on
        very large LPs, approximate: the bound still holds, from its prices) or ``simplex``.
    columns:
        For a direct LP, column generation from each visit's nearest carers (priced with the
        duals; the bound is valid at every round), instead of one solve of every pair.
    top:
        How many binding carers, times and short visits to list.
    """
    t0 = time.perf_counter()
    el = eligibility if eligibility is not None else compute_eligibility(instance)
    reach = reachable_pairs(instance, el)
    slots_v = np.array([v.carers for v in instance.visits], dtype=np.int64).reshape(len(instance.visits))
    per_visit = reach.sum(axis=0)
    elig_bound = int(np.minimum(slots_v, per_visit).sum())
    unreachable = tuple(instance.visits[j].visit_id for j in np.flatnonzero(per_visit == 0))
    lp, pc, pv = _build_lp(instance, reach, grid_min)
    rows = {k: lp.row_kind.count(k) for k in ("visit", "time", "hours")}
    t1 = time.perf_counter()
    if lp.n_cols == 0:
        return BoundResult(
            0, int(slots_v.sum()), 0.0, 0, "optimal", "none", 0, rows, 0.0,
            time.perf_counter() - t0, unreachable_visits=unreachable,
            note="no carer can take any visit",
        )  # fmt: skip
    if lp.n_cols > direct_above and columns:
        # Start from each visit's nearest few reachable carers.
        miles = np.asarray(el.home_miles)[pc, pv]
        order = np.lexsort((miles, pv))
        rank = np.empty(len(order), dtype=np.int64)
        first_of = np.searchsorted(pv[order], pv[order], side="left")
        rank[order] = np.arange(len(order)) - first_of
        start = np.flatnonzero(rank < 6)
        status, value, x, duals, slack, backend, note = _solve_by_columns(lp, start, time_limit, method)
    elif lp.n_cols > direct_above:
        status, value, x, duals, slack, backend, note = solve_direct(lp, time_limit, method)
    else:
        status, value, x, duals, slack, backend, note = _solve_pulp(lp, time_limit)
    t2 = time.perf_counter()
    by_duals = dual_bound(lp, duals) if len(duals) == len(lp.row_ub) and len(duals) else math.inf
    if not math.isfinite(by_duals):
        return BoundResult(
            elig_bound, int(slots_v.sum()), None, elig_bound, status, backend, lp.n_cols, rows,
            t2 - t1, t2 - t0, unreachable_visits=unreachable,
            note=(note + "; " if note else "") + f"the LP ended {status} without prices; the eligibility bound is reported",
        )  # fmt: skip
    # The dual bound is valid whatever the solver's tolerance; coverage is whole slots.
    bound = min(elig_bound, int(math.floor(by_duals + 1e-6)))
    if status != "optimal":
        note = (note + "; " if note else "") + f"the LP ended {status}; the bound comes from its prices"
    if value is None:
        value = by_duals
    kinds = np.array(lp.row_kind)
    tight = (np.abs(duals) > 1e-6) & (slack < 1e-6)
    binding = {k: int(np.count_nonzero(tight & (kinds == k))) for k in ("visit", "time", "hours")}
    covered = np.zeros(len(instance.visits))
    np.add.at(covered, pv, x)
    short = [
        (instance.visits[j].visit_id, float(covered[j]))
        for j in np.argsort(covered - slots_v, kind="stable")
        if covered[j] < slots_v[j] - 1e-6
    ]
    hours_idx = np.flatnonzero(tight & (kinds == "hours"))
    carers = sorted(((lp.row_label[i], float(abs(duals[i]))) for i in hours_idx), key=lambda t: -t[1])
    times: dict[str, float] = {}
    for i in np.flatnonzero(tight & (kinds == "time")):
        when = lp.row_label[i].split("@", 1)[1]
        times[when] = times.get(when, 0.0) + float(abs(duals[i]))
    busiest = sorted(times.items(), key=lambda t: -t[1])
    return BoundResult(
        bound=bound,
        slots=int(slots_v.sum()),
        lp_value=float(value),
        eligibility_bound=elig_bound,
        status=status,
        backend=backend,
        pairs=lp.n_cols,
        rows=rows,
        lp_seconds=t2 - t1,
        seconds=time.perf_counter() - t0,
        binding=binding,
        unreachable_visits=unreachable,
        short_visits=tuple(short[:top]),
        binding_carers=tuple(carers[:top]),
        binding_times=tuple(busiest[:top]),
        note=note,
    )


# ---- large weeks: the bound by parts -------------------------------------------------------


_FEEDERS: dict[str, dict[int, np.ndarray]] = {}
"""Per process: each instance's feeders (see ``reachable_pairs``), found once for all blocks."""


def _pair_block(args: tuple[str, Instance, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reachable pairs of carers ``a:b`` (module level: it may run in a worker process)."""
    token, instance, a, b = args
    feeders = _FEEDERS.setdefault(token, {})
    block = instance.carers[a:b]
    ids = {c.carer_id for c in block}
    sub = replace(
        instance,
        carers=block,
        training=tuple(t for t in instance.training if t.carer_id in ids),
        availability=tuple(x for x in instance.availability if x.carer_id in ids),
        absences=tuple(x for x in instance.absences if x.carer_id in ids),
        history=(),
    )
    el = compute_eligibility(sub)
    reach = reachable_pairs(sub, el, feeders)
    c, v = np.nonzero(reach)
    return ((c + a).astype(np.int32), v.astype(np.int32),
            np.asarray(el.home_miles)[c, v].astype(np.float32))


def reachable_pair_list(
    instance: Instance, *, chunk_pairs: int = 20_000_000, pool: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(carer, visit, home miles)`` of every reachable pair, computed a block of carers at a time.

    Eligibility and ``reachable_pairs`` decide a pair from that carer and that visit alone (R9's
    chain tightening looks only at the same carer's other visits), so the instance restricted to
    a block of carers gives exactly those carers' rows. Blocks keep the dense arrays of
    ``compute_eligibility`` to about ``chunk_pairs`` cells: at XL (5,000 carers x 50,000 visits)
    the whole-instance arrays would need several GB. With ``pool`` (an executor) the blocks run
    in its worker processes.
    """
    _FEEDERS.clear()
    n_c, n_v = len(instance.carers), len(instance.visits)
    per = max(1, chunk_pairs // max(1, n_v))
    token = uuid.uuid4().hex
    blocks = [(token, instance, a, min(n_c, a + per)) for a in range(0, n_c, per)]
    done = list(pool.map(_pair_block, blocks)) if pool is not None else [_pair_block(x) for x in blocks]
    _FEEDERS.clear()
    if not done:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
    parts: list[list[np.ndarray]] = [list(x) for x in zip(*done, strict=True)]
    del done
    out = []
    for k in range(3):  # one array at a time, each block's copies dropped once joined
        out.append(np.concatenate(parts[k]))
        parts[k] = []
    return out[0], out[1], out[2]


def visit_parts(instance: Instance, pv: np.ndarray, max_pairs: int, seed: int = 0) -> np.ndarray:
    """A part number for every visit: its date, and past ``max_pairs`` reachable pairs in a day,
    k-means clusters of that day's visit locations. The parts partition the visits."""
    visits = instance.visits
    n_v = len(visits)
    day = np.array([v.date.toordinal() for v in visits], dtype=np.int64).reshape(n_v)
    pairs_per_visit = np.bincount(pv, minlength=n_v)
    part = np.full(n_v, -1, dtype=np.int64)
    nxt = 0
    for d in np.unique(day):
        members = np.flatnonzero(day == d)
        k = max(1, math.ceil(int(pairs_per_visit[members].sum()) / max(1, max_pairs)))
        if k == 1:
            part[members] = nxt
            nxt += 1
            continue
        places = np.array([instance.visit_location(visits[int(j)]) for j in members], dtype=float)
        pts = np.column_stack([places[:, 0], places[:, 1] * math.cos(math.radians(float(places[:, 0].mean())))])
        centres = kmeans(pts, k, seed)
        label = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for g in np.unique(label):
            part[members[label == g]] = nxt
            nxt += 1
    return part


@dataclass(frozen=True)
class _Part:
    index: int
    instance: Instance
    pc: np.ndarray
    pv: np.ndarray
    miles: np.ndarray
    grid_min: int
    time_limit: float | None
    method: str
    deadline: float | None = None
    """Wall-clock (``time.time()``) end shared by all parts, for the ``warm`` method."""


@dataclass(frozen=True)
class _PartOutcome:
    index: int
    visits: int
    pairs: int
    rows: int
    bound: int
    eligibility_bound: int
    lp_value: float | None
    status: str
    seconds: float


def _part_bound(part: _Part) -> _PartOutcome:
    """The LP bound of one part of the visits (module level: it may run in a worker process)."""
    t0 = time.perf_counter()
    inst = part.instance
    slots_v = np.array([v.carers for v in inst.visits], dtype=np.int64)
    used_v = np.unique(part.pv)
    per_visit = np.bincount(part.pv, minlength=len(inst.visits))
    elig = int(np.minimum(slots_v[used_v], per_visit[used_v]).sum())
    if not len(part.pc):
        return _PartOutcome(part.index, 0, 0, 0, 0, 0, 0.0, "optimal", time.perf_counter() - t0)
    lp = build_lp_pairs(inst, part.pc, part.pv, part.grid_min, labels_wanted=False)
    pv = np.asarray(part.pv, dtype=np.int64)
    order = np.lexsort((part.miles, pv))
    rank = np.empty(len(order), dtype=np.int64)
    first_of = np.searchsorted(pv[order], pv[order], side="left")
    rank[order] = np.arange(len(order)) - first_of
    start = np.flatnonzero(rank < 6)
    if part.method == "warm":
        left = None if part.deadline is None else max(1.0, part.deadline - time.time())
        status, value, duals = _solve_by_columns_warm(lp, start, left, ceiling=elig,
                                                      batch=max(1_000, 2 * len(used_v)))
        if status == "optimal" and value is not None and math.floor(value + 1e-6) >= elig:
            return _PartOutcome(part.index, len(used_v), lp.n_cols, len(lp.row_ub), elig, elig,
                                float(value), status, time.perf_counter() - t0)
    elif lp.n_cols <= DIRECT_ABOVE:
        status, value, _x, duals, _s, _b, _n = solve_direct(lp, part.time_limit, part.method)
    else:
        status, value, _x, duals, _s, _b, _n = _solve_by_columns(lp, start, part.time_limit, part.method)
    by_duals = dual_bound(lp, duals) if len(duals) == len(lp.row_ub) and len(duals) else math.inf
    bound = elig if not math.isfinite(by_duals) else min(elig, int(math.floor(by_duals + 1e-6)))
    return _PartOutcome(part.index, len(used_v), lp.n_cols, len(lp.row_ub), bound, elig,
                        None if value is None else float(value), status, time.perf_counter() - t0)


def partitioned_bound(
    instance: Instance,
    *,
    grid_min: int = GRID_MIN,
    time_limit: float | None = None,
    max_pairs_per_part: int = 2_500_000,
    processes: int = 1,
    method: str = "warm",
    chunk_pairs: int = 8_000_000,
    seed: int = 0,
) -> BoundResult:
    """The capacity bound for large weeks: the same LP, split over a partition of the visits.

    Why it is valid. The visits are split into disjoint parts (by date, and a busy date by
    k-means on the visits' locations). Take any valid rota and keep only its rows for the
    visits of one part P. Those rows still satisfy every constraint of the LP written over
    P's visits and *every* carer, with each carer's full weekly limit: a visit row counts only
    P's slots; a carer's time row sums a subset of visits that pairwise overlap, so at most one
    is taken; a carer's hours in P are at most their hours in the week. So the slots the rota
    staffs in P are at most LP(P), and at most ``floor(LP(P))`` since they are whole. The parts
    are disjoint, so the slots staffed in the week are the sum over parts, at most
    ``sum_P floor(LP(P))``. Each ``LP(P)`` is itself bounded from above through its row prices
    (``dual_bound``: valid for any prices, whatever the solver's tolerance or status), or by the
    part's eligibility bound when the LP gave no prices. (Regions that *overlap* — the same
    visit in two parts — would count a slot twice and not be an upper bound; a carer may be in
    every part, which only loosens the bound: each part assumes the carer's whole week.)

    What it loses against the whole LP: a carer's weekly hours are shared between days. On
    generator L (1,000 carers, 9,995 visits) the whole LP and the sum over the 7 days gave the
    same bound, 10,727 slots.

    Pairs are found a block of carers at a time (``reachable_pair_list``), so the dense
    carer x visit arrays never exist for the whole instance. Blocks and parts run in
    ``processes`` local worker processes.
    """
    t0 = time.perf_counter()
    # One pool for both stages, started while this process is small: a worker started later
    # would begin as a copy of the pair arrays (and be measured so).
    pool = (ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context("spawn"))
            if processes > 1 else None)
    try:
        return _partitioned(instance, pool, t0, grid_min, time_limit, max_pairs_per_part,
                            processes, method, chunk_pairs, seed)
    finally:
        if pool is not None:
            pool.shutdown()


def _partitioned(instance: Instance, pool: Any, t0: float, grid_min: int,
                 time_limit: float | None, max_pairs_per_part: int, processes: int, method: str,
                 chunk_pairs: int, seed: int) -> BoundResult:
    pc, pv, miles = reachable_pair_list(instance, chunk_pairs=chunk_pairs, pool=pool)
    n_v = len(instance.visits)
    slots_v = np.array([v.carers for v in instance.visits], dtype=np.int64).reshape(n_v)
    per_visit = np.bincount(pv, minlength=n_v)
    elig_bound = int(np.minimum(slots_v, per_visit).sum())
    unreachable = tuple(instance.visits[j].visit_id for j in np.flatnonzero(per_visit == 0))
    t_pairs = time.perf_counter() - t0
    part_of = visit_parts(instance, pv, max_pairs_per_part, seed)
    n_parts = int(part_of.max()) + 1 if n_v else 0
    pair_part = part_of[pv] if len(pv) else np.zeros(0, np.int64)
    order = np.argsort(pair_part, kind="stable")
    cuts = np.searchsorted(pair_part[order], np.arange(n_parts + 1))
    per_part = deadline = None
    if time_limit is not None and n_parts:
        left = max(1.0, time_limit - t_pairs)
        per_part = max(1.0, left * max(1, processes) / n_parts)
        deadline = time.time() + left
    del pair_part
    pc = pc[order]  # grouped by part, one array at a time: pieces are views
    pv = pv[order]
    miles = miles[order]
    del order
    pieces = [
        _Part(p, instance, pc[cuts[p] : cuts[p + 1]], pv[cuts[p] : cuts[p + 1]],
              miles[cuts[p] : cuts[p + 1]], grid_min, per_part, method, deadline)
        for p in range(n_parts)
    ]
    pieces.sort(key=lambda q: -len(q.pc))  # biggest first, so a pool finishes evenly
    outcomes = list(pool.map(_part_bound, pieces)) if pool is not None else [_part_bound(q) for q in pieces]
    outcomes.sort(key=lambda o: o.index)
    bound = min(elig_bound, sum(o.bound for o in outcomes))
    statuses = [o.status for o in outcomes]
    status = "optimal" if all(st == "optimal" for st in statuses) else "partial"
    not_opt = sum(st != "optimal" for st in statuses)
    lp_value = sum(o.lp_value for o in outcomes if o.lp_value is not None) if not not_opt else None
    note = (f"{n_parts} parts (visits by date{', busy dates by area' if n_parts > 7 else ''}); "
            f"pairs {t_pairs:.0f}s, LPs {time.perf_counter() - t0 - t_pairs:.0f}s")
    if not_opt:
        note += f"; {not_opt} part(s) not solved to optimality, bounded by their row prices"
    return BoundResult(
        bound=bound,
        slots=int(slots_v.sum()),
        lp_value=lp_value,
        eligibility_bound=elig_bound,
        status=status,
        backend=f"highspy (column generation) by parts, {processes} process(es)",
        pairs=sum(o.pairs for o in outcomes),
        rows={"parts": n_parts, "all": sum(o.rows for o in outcomes)},
        lp_seconds=time.perf_counter() - t0 - t_pairs,
        seconds=time.perf_counter() - t0,
        unreachable_visits=unreachable,
        note=note,
    )


__all__ = ["BoundResult", "capacity_bound", "partitioned_bound", "reachable_pair_list", "reachable_pairs"]
