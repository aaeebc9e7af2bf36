"""Large caseloads by geography: solve regions apart, merge, then coordinate across borders.

Why: at size L (1,000 carers, ~9,000 visits) the carer x visit eligibility has millions of pairs
and one CP-SAT model over the week does not reach a first solution in the time a coordinator
waits (measured: ``benchmarks/RESULTS.md``). Home care is local — R9 caps every journey at 20
miles — so the week splits into regions that barely interact.

1. **Regions.** k-means on the children's homes (lat/lon, longitude scaled by cos(latitude));
   each child joins its nearest centre and each carer a nearby centre short of staff. Then
   (``continuity``) carers follow the children they know and children their known carers
   (``follow_history``), among nearby regions only, so a child's known carers land in the
   child's region: on generator L that keeps 97 % of the history hours inside one region,
   against 45 % by geography alone. A carer belongs to exactly one region, so every weekly
   rule (R10, R11, R12, R14, R15) and R13's travel chain stay inside one sub-problem; a
   child's visits all sit in one region, so 2:1 visits (R4) and continuity do too.
2. **Regions solved** with the pipeline (``solver.solve``, passed in as
   ``DecomposeParams.solve_region``: this module never imports it) on a sub-instance (``dataclasses.replace`` of the
   instance with the region's carers, children, visits, training, availability, absences and
   history), independently — in parallel on local processes or Ray (``solver.distributed``).
3. **Merge** the regions' rows into one rota.
4. **Coordination** across borders: visits left unstaffed go to one more solve, on a
   sub-instance holding them, the carers nearest to them from *any* region (with the whole of
   each such carer's week, locked as it is), so a carer living just over a border can take them
   without breaking any weekly rule.
5. **Check**: ``roster.checker.check`` on the merged rota over the whole instance; a violation
   raises ``RotaBugError``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from roster.checker import check
from roster.model import Assignment, Instance, Rota, Unassigned
from roster.travel import great_circle_miles_matrix
from solver.distributed import run_pieces
from solver.params import Result, SolveParams
from solver.rota import RotaBugError, rota_of_rows


@dataclass(frozen=True)
class DecomposeParams:
    """How to split and solve. ``time_limit`` is the wall-clock budget of the whole solve."""

    time_limit: float = 120.0
    carers_per_region: int = 60
    """Target region size; the number of regions is ``ceil(carers / carers_per_region)``."""
    regions: int | None = None
    """Force a number of regions (overrides ``carers_per_region``)."""
    seed: int = 0
    workers: int = 1
    """CP-SAT workers per region solve."""
    processes: int = 2
    """Region solves at once."""
    backend: str = "auto"
    """``solver.distributed`` backend: auto, serial, local or ray."""
    ray_address: str | None = None
    greedy_only: bool = False
    """Regions use the greedy only (the scaled coordinator baseline)."""
    deterministic: bool = False
    coordinate: bool = True
    coordination_share: float = 0.2
    """Share of the budget kept for the coordination solve."""
    candidates_per_visit: int = 12
    """Nearest carers offered to each unstaffed visit in the coordination step."""
    max_coordination_carers: int = 60
    """Carers per coordination group (one group per region with unstaffed visits)."""
    max_candidates: int | None = None
    """Passed to ``SolveParams.max_candidates`` for the CP-SAT region solves."""
    check: bool = True
    continuity: bool = True
    """Regions follow the children's known carers (``follow_history``), not geography alone."""
    solve_region: Callable[[Instance, SolveParams], Result] | None = None
    """The pipeline that solves one region's sub-instance: ``solver.solve.solve``, which
    ``solver.solve.solve_decomposed`` fills in (a method never imports the pipeline). A
    module-level function, so that it crosses process boundaries."""


@dataclass(frozen=True)
class RegionOutcome:
    region: int
    carers: int
    children: int
    visits: int
    slots: int
    slots_staffed: int
    status: str
    seconds: float
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]


@dataclass(frozen=True)
class DecomposeResult:
    rota: Rota
    status: str
    seconds: float
    regions: tuple[RegionOutcome, ...]
    coordination: dict[str, Any] = field(default_factory=dict)
    violations: int = 0
    timings: dict[str, float] = field(default_factory=dict)


# ---- regions ---------------------------------------------------------------------------


def _xy(lat: np.ndarray, lon: np.ndarray, lat0: float) -> np.ndarray:
    return np.column_stack([lat, lon * math.cos(math.radians(lat0))])


def kmeans(points: np.ndarray, k: int, seed: int = 0, iterations: int = 25) -> np.ndarray:
    """Deterministic k-means (k-means++ start); returns the (k, 2) centres."""
    rng = np.random.default_rng(seed)
    n = len(points)
    k = max(1, min(k, n))
    centres = [points[int(rng.integers(n))]]
    d2 = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        pick = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres.append(points[pick])
        d2 = np.minimum(d2, ((points - points[pick]) ** 2).sum(axis=1))
    c = np.array(centres, dtype=float)
    for _ in range(iterations):
        label = _nearest(points, c)
        moved = np.array([points[label == j].mean(axis=0) if np.any(label == j) else c[j]
                          for j in range(k)])
        if np.allclose(moved, c):
            break
        c = moved
    return c


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(d.argmin(axis=1))


def assign_regions(instance: Instance, k: int, seed: int = 0, target: int | None = None,
                   continuity: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(region of each carer, region of each child), by k-means on the children's homes.

    With ``target`` (carers per region), a region with more than 1.5x that many carers is split
    again by k-means on its own children, and a region with under a quarter of it is folded into
    its nearest neighbour, so the sub-problems come out of similar size.
    """
    lat = np.array([c.lat for c in instance.children])
    lon = np.array([c.lon for c in instance.children])
    lat0 = float(lat.mean()) if len(lat) else 52.0
    pts = _xy(lat, lon, lat0)
    carer_pts = _xy(np.array([c.lat for c in instance.carers]),
                    np.array([c.lon for c in instance.carers]), lat0)
    centres = kmeans(pts, k, seed)
    if target:
        for _ in range(6):
            carer_region = _nearest(carer_pts, centres)
            counts = np.bincount(carer_region, minlength=len(centres))
            big = [j for j in range(len(centres)) if counts[j] > 1.5 * target]
            if not big:
                break
            child_region = _nearest(pts, centres)
            keep = [centres[j] for j in range(len(centres)) if j not in big]
            for j in big:
                members = pts[child_region == j]
                parts = max(2, math.ceil(counts[j] / target))
                if len(members) >= parts:
                    keep.extend(kmeans(members, parts, seed))
                else:
                    keep.append(centres[j])
            centres = np.array(keep)
        for _ in range(len(centres)):
            carer_region = _nearest(carer_pts, centres)
            counts = np.bincount(carer_region, minlength=len(centres))
            small = int(np.argmin(counts))
            if counts[small] >= target / 4 or len(centres) == 1:
                break
            centres = np.delete(centres, small, axis=0)
    child_region = _nearest(pts, centres)
    carer_region = _balance_carers(instance, carer_pts, centres, child_region)
    if continuity:
        carer_region, child_region = follow_history(instance, carer_pts, pts, centres,
                                                    carer_region, child_region)
    return carer_region, child_region


def follow_history(instance: Instance, carer_pts: np.ndarray, child_pts: np.ndarray,
                   centres: np.ndarray, carer_region: np.ndarray, child_region: np.ndarray,
                   slack_miles: float = 6.0, rounds: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Move carers to their known children's region, and children to their known carers'.

    Continuity (known carers, ``history.csv``) is decided inside a region: a child whose
    known carers were placed in another region can only be given strangers. Geography alone
    kept 45 % of the history hours of generator L inside one region. Here, in turns, each
    carer moves to the region holding most of the hours they worked with its children, and
    each child to the region holding most of its known carers' hours — only among regions
    whose centre is within ``slack_miles`` of the one nearest to them, so regions stay local
    (a known carer lives near the child anyway) and a move must strictly gain hours.
    """
    if not instance.history or len(centres) < 2:
        return carer_region, child_region
    carer_region = np.array(carer_region, copy=True)
    child_region = np.array(child_region, copy=True)
    ci = instance.carer_index
    ki = {c.child_id: i for i, c in enumerate(instance.children)}
    rows = [(ci[h.carer_id], ki[h.child_id], h.hours) for h in instance.history
            if h.carer_id in ci and h.child_id in ki and h.hours > 0]
    if not rows:
        return carer_region, child_region
    hc = np.array([r[0] for r in rows], dtype=np.int64)
    hk = np.array([r[1] for r in rows], dtype=np.int64)
    hw = np.array([r[2] for r in rows], dtype=float)
    k = len(centres)

    def near(points: np.ndarray) -> np.ndarray:
        d = np.sqrt(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)) * 69.0
        return np.asarray(d <= d.min(axis=1, keepdims=True) + slack_miles)

    near_c, near_k = near(carer_pts), near(child_pts)

    def move(region: np.ndarray, own: np.ndarray, other: np.ndarray, allowed: np.ndarray) -> int:
        score = np.zeros((len(region), k))
        np.add.at(score, (own, other), hw)
        score[~allowed] = -1.0
        best = score.argmax(axis=1)
        idx = np.arange(len(region))
        gain = score[idx, best] > score[idx, region] + 1e-9
        region[gain] = best[gain]
        return int(gain.sum())

    for _ in range(rounds):
        moved = move(carer_region, hc, child_region[hk], near_c)
        moved += move(child_region, hk, carer_region[hc], near_k)
        if not moved:
            break
    return carer_region, child_region


def _balance_carers(instance: Instance, carer_pts: np.ndarray, centres: np.ndarray,
                    child_region: np.ndarray, slack_miles: float = 6.0) -> np.ndarray:
    """Each carer to a region near home, the one shortest of staff among those near enough.

    A region's demand is its children's visit hours x carers; a carer's supply is their
    available hours in the week (capped at the working-time limit). Carers with one obvious
    region (far from the second) are placed first; the rest go, among the regions whose centre
    is within ``slack_miles`` of their nearest, to the one with the least supply per demand.
    """
    k = len(centres)
    d = np.sqrt(((carer_pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)) * 69.0
    region_of_child = {c.child_id: int(g) for c, g in zip(instance.children, child_region, strict=True)}
    demand = np.zeros(k)
    for v in instance.visits:
        demand[region_of_child[v.child_id]] += v.duration_min * v.carers / 60.0
    cap = instance.settings.max_week_hours
    supply_c = np.array([min(cap if c.max_week_hours is None else c.max_week_hours,
                             sum(w.end - w.start for w in instance.windows_by_carer.get(c.carer_id, ())) / 60.0)
                         for c in instance.carers])
    nearest = d.argmin(axis=1)
    if k == 1:
        return nearest
    part = np.partition(d, 1, axis=1)
    flexibility = part[:, 1] - part[:, 0]
    supply = np.zeros(k)
    out = np.zeros(len(instance.carers), dtype=int)
    for c in np.argsort(flexibility, kind="stable"):
        near = np.flatnonzero(d[c] <= d[c, nearest[c]] + slack_miles)
        ratio = supply[near] / np.maximum(demand[near], 1e-9)
        r = int(near[int(np.argmin(ratio))])
        out[c] = r
        supply[r] += supply_c[c]
    return out


def sub_instance(instance: Instance, carer_ids: Sequence[str], child_ids: Sequence[str],
                 visit_ids: Sequence[str] | None = None) -> Instance:
    """The instance restricted to some carers, children and (default: all their) visits."""
    carers_set, children_set = set(carer_ids), set(child_ids)
    visits = tuple(v for v in instance.visits if v.child_id in children_set)
    if visit_ids is not None:
        keep = set(visit_ids)
        visits = tuple(v for v in visits if v.visit_id in keep)
    return replace(
        instance,
        carers=tuple(c for c in instance.carers if c.carer_id in carers_set),
        children=tuple(c for c in instance.children if c.child_id in children_set),
        visits=visits,
        training=tuple(t for t in instance.training if t.carer_id in carers_set),
        availability=tuple(a for a in instance.availability if a.carer_id in carers_set),
        absences=tuple(a for a in instance.absences if a.carer_id in carers_set),
        history=tuple(h for h in instance.history
                      if h.carer_id in carers_set and h.child_id in children_set),
    )


# ---- one piece of work (module level: it crosses process boundaries) ---------------------


@dataclass(frozen=True)
class RegionPiece:
    region: int
    instance: Instance
    time_limit: float
    seed: int
    workers: int
    greedy_only: bool
    deterministic: bool
    locks: tuple[Assignment, ...] = ()
    max_candidates: int | None = None
    solve: Callable[[Instance, SolveParams], Result] | None = None
    """``DecomposeParams.solve_region``."""


def solve_piece(piece: RegionPiece) -> RegionOutcome:
    """Solve one sub-instance with the pipeline (``piece.solve``); its rota is checked there."""
    solve = piece.solve
    assert solve is not None  # solve_regions refuses params without one
    t0 = time.perf_counter()
    inst = piece.instance
    slots = sum(v.carers for v in inst.visits)
    if not inst.visits or not inst.carers:
        unassigned = tuple(Unassigned(v.visit_id, v.carers, "no carer in this region")
                           for v in inst.visits)
        return RegionOutcome(piece.region, len(inst.carers), len(inst.children), len(inst.visits),
                             slots, 0, "EMPTY", time.perf_counter() - t0, (), unassigned)
    # Candidate trimming could drop a locked pair, so pieces with locks keep every candidate.
    trim = None if piece.greedy_only or piece.locks else piece.max_candidates
    params = SolveParams(time_limit=piece.time_limit, workers=piece.workers, seed=piece.seed,
                         use_greedy_only=piece.greedy_only, deterministic=piece.deterministic,
                         locks=piece.locks, max_candidates=trim)
    if trim is not None:
        # max_candidates trims the greedy too; warm-start CP-SAT from the untrimmed greedy so
        # the region never staffs fewer slots than the greedy would.
        base = solve(inst, SolveParams(use_greedy_only=True, seed=piece.seed, locks=piece.locks))
        params = replace(params, hint=base.rota)
    result = solve(inst, params)
    rota = result.rota
    return RegionOutcome(piece.region, len(inst.carers), len(inst.children), len(inst.visits),
                         slots, len(rota.assignments), result.status, time.perf_counter() - t0,
                         rota.assignments, rota.unassigned)


def _coordination_piece(piece: RegionPiece) -> RegionOutcome:
    """A coordination group: an improvement step, so a failure leaves its carers as they were."""
    try:
        return solve_piece(piece)
    except ValueError as exc:
        inst = piece.instance
        return RegionOutcome(piece.region, len(inst.carers), len(inst.children), len(inst.visits),
                             0, 0, f"FAILED: {exc}", 0.0, (), ())


# ---- the whole ---------------------------------------------------------------------------


def solve_regions(instance: Instance, params: DecomposeParams) -> DecomposeResult:
    """A checked rota for a large instance by regions + coordination (see the module doc), each
    region solved by ``params.solve_region`` (``solver.solve.solve_decomposed`` is the entry
    point that passes the pipeline)."""
    if params.solve_region is None:
        raise ValueError("DecomposeParams.solve_region is None: call solver.solve.solve_decomposed,"
                         " which passes the pipeline that solves each region.")
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    k = params.regions or max(1, math.ceil(len(instance.carers) / params.carers_per_region))
    carer_region, child_region = assign_regions(
        instance, k, params.seed, None if params.regions else params.carers_per_region,
        continuity=params.continuity)
    regions_ids = sorted(set(child_region.tolist()) | set(carer_region.tolist()))
    pieces: list[RegionPiece] = []
    parallel = max(1, params.processes)
    share = params.coordination_share if params.coordinate else 0.0
    rounds = math.ceil(len(regions_ids) / parallel)
    per_region = max(1.0, params.time_limit * (1 - share) * 0.85 / max(1, rounds) - 1.0)
    for r in regions_ids:
        carers = [c.carer_id for c, g in zip(instance.carers, carer_region, strict=True) if g == r]
        children = [c.child_id for c, g in zip(instance.children, child_region, strict=True) if g == r]
        sub = sub_instance(instance, carers, children)
        pieces.append(RegionPiece(int(r), sub, per_region, params.seed, params.workers,
                                  params.greedy_only, params.deterministic, (),
                                  params.max_candidates, params.solve_region))
    # Biggest first so a pool finishes evenly; results come back in piece order.
    pieces.sort(key=lambda p: -len(p.instance.visits))
    timings["split"] = time.perf_counter() - t0
    outcomes = run_pieces(solve_piece, pieces, backend=params.backend, processes=parallel,
                          address=params.ray_address)
    outcomes.sort(key=lambda o: o.region)
    timings["regions"] = time.perf_counter() - t0 - timings["split"]
    rows = [a for o in outcomes for a in o.assignments]
    reasons = {u.visit_id: u.reasons for o in outcomes for u in o.unassigned}
    coordination: dict[str, Any] = {}
    if params.coordinate and reasons:
        t1 = time.perf_counter()
        remaining = params.time_limit - (t1 - t0)
        child_of = {c.child_id: int(g) for c, g in zip(instance.children, child_region, strict=True)}
        # Seconds per visit the region solves took: what a coordination group will cost.
        rate = sum(o.seconds for o in outcomes) / max(1, sum(o.visits for o in outcomes))
        rows, coordination = _coordinate(instance, rows, reasons, params, max(5.0, remaining * 0.8),
                                         child_of, rate)
        timings["coordination"] = time.perf_counter() - t1
    rota = rota_of_rows(instance, rows, reasons)
    violations = 0
    if params.check:
        t2 = time.perf_counter()
        found = check(instance, rota)
        timings["check"] = time.perf_counter() - t2
        violations = len(found)
        if found:
            listing = "\n".join(f"  {v}" for v in found[:50])
            raise RotaBugError(f"the decomposed rota breaks {len(found)} hard rule(s); "
                               f"this is a bug:\n{listing}")
    statuses = {o.status for o in outcomes}
    status = "DECOMPOSED:" + "/".join(sorted(statuses))
    return DecomposeResult(rota, status, time.perf_counter() - t0, tuple(outcomes), coordination,
                           violations, timings)


def _coordinate(instance: Instance, rows: list[Assignment], reasons: dict[str, str],
                params: DecomposeParams, budget: float, child_region: dict[str, int],
                rate: float = 0.0) -> tuple[list[Assignment], dict[str, Any]]:
    """Offer unstaffed visits to their nearest carers from any region, whole weeks locked.

    Open visits are grouped by region; each group gets the carers living nearest to its visits
    (any region), no carer in two groups, so the groups are solved independently and in
    parallel. A carer who shares a 2:1 visit with someone outside the group brings that carer
    along if there is room, else stays out, so no locked 2:1 visit is ever half in a group.
    Groups are formed, most open visits first, while their estimated cost (``rate`` seconds per
    visit, measured on the regions) fits the budget; the rest stay as the regions left them.
    """
    open_ids = list(reasons)
    if not open_ids:
        return rows, {}
    groups: dict[int, list[str]] = {}
    for vid in open_ids:
        groups.setdefault(child_region.get(instance.visit(vid).child_id, 0), []).append(vid)
    if params.continuity and len(groups) > 1:
        # Regions that follow history are less compact, so group the open visits by place
        # (k-means, as many groups as regions with open visits): each group's nearest carers
        # are then near all of its visits.
        locs = np.array([instance.visit_location(instance.visit(v)) for v in open_ids], dtype=float)
        pts = _xy(locs[:, 0], locs[:, 1], float(locs[:, 0].mean()))
        label = _nearest(pts, kmeans(pts, len(groups), params.seed))
        groups = {}
        for vid, g in zip(open_ids, label, strict=True):
            groups.setdefault(int(g), []).append(vid)
    homes = np.array([(c.lat, c.lon) for c in instance.carers])
    rows_by_carer: dict[str, list[Assignment]] = {}
    carers_of_visit: dict[str, set[str]] = {}
    for a in rows:
        rows_by_carer.setdefault(a.carer_id, []).append(a)
        carers_of_visit.setdefault(a.visit_id, set()).add(a.carer_id)
    cap = params.max_coordination_carers
    used: set[str] = set()
    pieces: list[RegionPiece] = []
    spent = 0.0
    skipped = 0
    n_groups = len(groups)
    rounds = math.ceil(n_groups / max(1, params.processes))
    per_piece = max(1.0, budget * 0.8 / max(1, rounds) - 1.0)
    for r, vids in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        locs = np.array([instance.visit_location(instance.visit(v)) for v in vids])
        miles = great_circle_miles_matrix(homes[:, 0], homes[:, 1], locs[:, 0], locs[:, 1])
        take = min(params.candidates_per_visit, len(instance.carers))
        nearest = np.argsort(miles, axis=0)[:take]
        chosen: list[str] = []
        # Nearest carers only: with continuity-aware regions the known carers are already in
        # the child's region. Offering them first here (up to half of each group) was measured
        # on L: coordination then recovered 73 open visits instead of 268.
        for rank in range(take):
            for j in range(len(vids)):
                cid = instance.carers[int(nearest[rank, j])].carer_id
                if cid not in used and cid not in chosen and len(chosen) < cap:
                    chosen.append(cid)
        group = set(chosen)
        for _ in range(20):  # 2:1 closure: add partners while there is room, else drop the carer
            changed = False
            for cid in sorted(group):
                partners = {p for a in rows_by_carer.get(cid, ()) for p in carers_of_visit[a.visit_id]} - group
                if not partners:
                    continue
                changed = True
                if not (partners & used) and len(group) + len(partners) <= int(cap * 1.5):
                    group |= partners
                else:
                    group.discard(cid)
            if not changed:
                break
        while True:  # what is left unresolved: drop the carer (removal always converges)
            loose = {cid for cid in group
                     if {p for a in rows_by_carer.get(cid, ()) for p in carers_of_visit[a.visit_id]} - group}
            if not loose:
                break
            group -= loose
        if not group:
            continue
        n_visits = len({a.visit_id for cid in group for a in rows_by_carer.get(cid, ())}) + len(vids)
        cost = rate * n_visits / max(1, params.processes)
        if rate and pieces and spent + cost > budget and not params.deterministic:
            skipped += 1
            continue
        spent += cost
        used |= group
        locked = tuple(a for cid in sorted(group) for a in rows_by_carer.get(cid, ()))
        visit_ids = {a.visit_id for a in locked} | set(vids)
        child_ids = {instance.visit(v).child_id for v in visit_ids}
        sub = sub_instance(instance, sorted(group), sorted(child_ids), sorted(visit_ids))
        pieces.append(RegionPiece(-1 - r, sub, per_piece, params.seed, params.workers,
                                  params.greedy_only, params.deterministic, locked,
                                  params.max_candidates, params.solve_region))
    outcomes = run_pieces(_coordination_piece, pieces, backend=params.backend,
                          processes=params.processes, address=params.ray_address)
    failed = [o for o in outcomes if o.status.startswith("FAILED")]
    outcomes = [o for o in outcomes if not o.status.startswith("FAILED")]
    kept_pieces = {o.region for o in outcomes}
    pieces = [p for p in pieces if p.region in kept_pieces]
    touched = {c.carer_id for p in pieces for c in p.instance.carers}
    new_rows = [a for a in rows if a.carer_id not in touched]
    for o in outcomes:
        new_rows.extend(o.assignments)
        for u in o.unassigned:
            reasons[u.visit_id] = u.reasons
    for a in new_rows:
        reasons.pop(a.visit_id, None)
    info = {"open_before": len(open_ids), "groups": len(pieces), "carers": len(touched),
            "visits": sum(len(p.instance.visits) for p in pieces),
            "open_after": len(reasons), "groups_skipped_for_time": skipped,
            "groups_failed": [o.status for o in failed],
            "seconds": round(max((o.seconds for o in outcomes), default=0.0), 2)}
    return new_rows, info
