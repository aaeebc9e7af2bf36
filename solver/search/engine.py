"""The local-search engine's Python side: load a rota into the kernel, run it, read it back.

``improve(instance, rota, ...)`` starts from any rota — a greedy draft, the current rota with
locks, last week's rota rolled forward, a repaired rota — and improves it under the solve's
objective (lexicographic by default: coverage, then continuity and changes against the
reference, then known carers, preferences, travel, cost) with the moves of
``solver.search.kernel``. It runs the compiled kernel in chunks of moves; between chunks it
checks the time limit and the stop flag and cools the annealing temperature by the share of the
time used, so a wall-clock limit is kept within one chunk (a few milliseconds). With
``max_moves`` the work is fixed instead and a run with a seed is repeatable.

Rows of the given rota that no longer keep a rule (a kept rota after its week changed) are left
out at load, and named in ``SearchResult.dropped``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from roster.eligibility import compute_eligibility
from roster.model import Assignment, Instance, Rota
from roster.rules import travel_model
from roster.travel import TravelModel
from solver.candidates import candidate_pairs
from solver.params import SolveParams
from solver.rota import decode
from solver.search import kernel as K
from solver.search.data import W_LEX, Data, build_data

DEFAULT_KINDS: tuple[float, ...] = (0.05, 0.20, 0.10, 0.05, 0.10, 0.10, 0.25, 0.15)
"""Share of each move kind (``kernel.MOVE_NAMES`` order: insert, relocate, swap, shift, child,
tail, ruin, eject)."""


CHUNK_SECONDS = 0.25
"""Wall-clock seconds a chunk of moves aims at under a time limit."""


@dataclass(frozen=True)
class SearchParams:
    """How long and how the engine searches."""

    time_limit: float = 10.0
    """Wall-clock seconds for the search (loading and reading back included)."""
    max_moves: int | None = None
    """Stop after this many moves instead (deterministic with a seed)."""
    seed: int = 0
    chunk: int = 2_000
    """Moves per call of the compiled kernel, between time and stop checks (with a move limit;
    under a time limit chunks aim at ``CHUNK_SECONDS`` each, this many moves at most)."""
    t_hot: float = 8.0
    """Annealing temperature at the start, in quality-cost units (about miles)."""
    t_cold: float = 0.05
    kinds: tuple[float, ...] = DEFAULT_KINDS
    max_string: int = 4
    """Longest run of visits one ruin string removes from a route."""
    coverage_share: float = 0.4
    """Share of the search (time or moves) spent on coverage first, in lexicographic mode:
    continuity is then weighed in its own units beside quality (not 20 times), at temperature
    ``t_coverage``, so that moves which cost a carer for a child now may open room for an open
    visit later. The best rota is kept lexicographically throughout."""
    t_coverage: float = 60.0


@dataclass
class SearchResult:
    rota: Rota
    moves: int
    accepted: int
    evaluations: int
    seconds: float
    search_seconds: float
    stats: dict[str, dict[str, int]]
    start_totals: tuple[float, float, float]
    """(uncovered slots, continuity cost, quality cost) of the rota as loaded."""
    best_totals: tuple[float, float, float]
    dropped: list[Assignment] = field(default_factory=list)


@dataclass
class Engine:
    """A loaded week: the data, the kernel's state, and the best state found so far."""

    instance: Instance
    data: Data
    state: K.State
    log: K.Log
    scratch: K.Scratch
    best: K.Best
    stats: np.ndarray
    travel: TravelModel
    dropped: list[Assignment]

    def totals(self, best: bool = False) -> tuple[float, float, float]:
        t = self.best.tot if best else self.state.tot
        return float(self.state.meta[0] - t[0]), float(t[1]), float(t[2])

    def rota(self, current: bool = False) -> Rota:
        """The best rota found (``current``: the search's rota now), with R13 journeys
        (``solver.rota.decode``)."""
        inst = self.instance
        src = self.state if current else self.best
        chosen: dict[str, list[tuple[str, int]]] = {}
        for v in range(len(inst.visits)):
            for j in range(2):
                c = int(src.vcar[v, j])
                if c >= 0:
                    chosen.setdefault(inst.carers[c].carer_id, []).append(
                        (inst.visits[v].visit_id, int(src.vstart[v])))
        return decode(inst, chosen, self.travel)


def _lock_rows(instance: Instance, locks: Sequence[Any]) -> list[tuple[int, int, int | None]]:
    out: list[tuple[int, int, int | None]] = []
    for lock in locks:
        when: int | None
        if isinstance(lock, Assignment):
            vid, cid, when = lock.visit_id, lock.carer_id, lock.start
        else:
            vid, cid = lock[0], lock[1]
            when = int(lock[2]) if len(lock) == 3 else None
        if vid in instance.visit_index and cid in instance.carer_index:
            out.append((instance.visit_index[vid], instance.carer_index[cid], when))
    return out


def load(
    instance: Instance,
    rota: Rota | None,
    elig: Any,
    pairs: Mapping[tuple[int, int], list[tuple[int, int]]],
    *,
    weights: Any,
    lexicographic: bool = True,
    reference: Rota | None = None,
    locks: Sequence[Any] = (),
    travel: TravelModel | None = None,
    fill: bool = False,
) -> Engine:
    """The engine on ``rota`` (locked rows first; rows that break a rule are dropped); with
    ``fill``, open visits are then staffed where they fit (``fill_open``)."""
    model = travel_model(instance, travel)
    data = build_data(instance, elig, pairs, weights, lexicographic=lexicographic,
                      reference=reference, travel=model)
    state, log, scratch, best = K.new_state(data, len(instance.children))
    eng = Engine(instance, data, state, log, scratch, best,
                 np.zeros((K.N_KINDS, 4), dtype=np.int64), model, [])
    locked = _lock_rows(instance, locks)
    rows: list[tuple[int, int, int, bool]] = []
    for v, c, when in locked:
        start = when if when is not None else _lock_start(data, c, v)
        rows.append((start, v, c, True))
    locked_pairs = {(v, c) for v, c, _ in locked}
    for a in (rota.assignments if rota is not None else ()):
        if a.visit_id in instance.visit_index and a.carer_id in instance.carer_index:
            v, c = instance.visit_index[a.visit_id], instance.carer_index[a.carer_id]
            if (v, c) not in locked_pairs:
                rows.append((a.start, v, c, False))
    locked_rows = sorted(r for r in rows if r[3])
    free_rows = sorted(r for r in rows if not r[3])
    # Every row goes in first, unchecked: a row may only keep a rule together with another
    # (R9/R13: a journey from the previous visit under a cap the journey from home exceeds).
    for start, v, c, is_lock in [*locked_rows, *free_rows]:
        if not _attach(eng, v, c, start):
            if is_lock:
                visit, carer = instance.visits[v], instance.carers[c]
                raise ValueError(
                    f"lock {visit.visit_id} -> {carer.carer_id}: not an eligible pair at that start, "
                    "or its 2:1 partner is locked at another time"
                )
            eng.dropped.append(_row(instance, v, c, start))
        elif is_lock:
            state.lock[v] = 1
    _drop_until_legal(eng)
    if not K.recompute(data, state, scratch):
        raise AssertionError("a loaded route breaks a rule")  # _drop_until_legal checked each
    if fill:
        fill_open(eng)
    K.save_best(state, best)
    return eng


def fill_open(eng: Engine) -> int:
    """Staff each open visit at its cheapest place, 2:1 visits and the earliest first (the
    search's first pass on a kept rota with gaps); returns the slots staffed."""
    s, d = eng.state, eng.data
    before = int(s.tot[0])
    open_visits = [int(v) for v in np.flatnonzero(s.vn == 0)]
    open_visits.sort(key=lambda v: (-int(d.slots[v]), int(d.planned[v]), v))
    for v in open_visits:
        K.begin(s, eng.log)
        if K.staff_fully(d, s, eng.log, eng.scratch, v, 0.0, eng.stats, K.INSERT) and \
                K.halves_kept(s, eng.log, d):
            K.commit(eng.log)
        else:
            K.rollback(s, eng.log)
    return int(s.tot[0]) - before


def _lock_start(data: Data, c: int, v: int) -> int:
    p = int(data.pid[c, v])
    if p < 0:
        return int(data.planned[v])
    return int(K.nearest_in_ranges(int(data.planned[v]), data.rng_lo, data.rng_hi,
                                   int(data.rng_ptr[p]), int(data.rng_ptr[p + 1])))


def _row(instance: Instance, v: int, c: int, start: int) -> Assignment:
    visit = instance.visits[v]
    return Assignment(visit.visit_id, instance.carers[c].carer_id, start, start + visit.duration_min,
                      "home", 0.0, 0)


def _attach(eng: Engine, v: int, c: int, start: int) -> bool:
    """Put a row in carer c's route, unchecked (``_drop_until_legal`` checks the routes)."""
    s, lg, d = eng.state, eng.log, eng.data
    if s.vn[v] > 0 and s.vstart[v] != start:
        return False  # a 2:1 partner at another time (R4)
    K.begin(s, lg)
    if s.vn[v] == 0:
        K.log_visit(s, lg, v)
        s.vstart[v] = start
    if not K.attach(d, s, lg, c, v):
        K.rollback(s, lg)
        return False
    K.commit(lg)
    return True


def _detach(eng: Engine, c: int, v: int) -> None:
    s = eng.state
    K.begin(s, eng.log)
    K.detach(eng.data, s, eng.log, c, v)
    K.commit(eng.log)
    eng.dropped.append(_row(eng.instance, v, c, int(s.vstart[v])))


def _drop_until_legal(eng: Engine) -> None:
    """Leave out the fewest rows a greedy finds so that every route keeps every rule and no
    2:1 is half staffed: in a route that breaks a rule, a row whose removal alone mends it, else
    the latest unlocked row; then the partners of half-staffed 2:1 visits; until nothing
    changes. Locked rows stay; locks that cannot all hold raise ``ValueError``."""
    s, d, sc = eng.state, eng.data, eng.scratch
    inst = eng.instance
    changed = True
    while changed:
        changed = False
        for c in range(len(s.rlen)):
            while not K.route_ok(d, s, sc, c):
                free = [int(v) for v in s.route[c, : s.rlen[c]] if not s.lock[v]]
                if not free:
                    raise ValueError(
                        f"locks of carer {inst.carers[c].carer_id}: the rules forbid them together"
                    )
                pick = free[-1]
                for v in free:
                    K.begin(s, eng.log)
                    K.detach(d, s, eng.log, c, v)
                    mended = K.route_ok(d, s, sc, c)
                    K.rollback(s, eng.log)
                    if mended:
                        pick = v
                        break
                _detach(eng, c, pick)
                changed = True
        for v in range(len(inst.visits)):
            if 0 < s.vn[v] < d.slots[v]:
                if s.lock[v]:
                    K.begin(s, eng.log)
                    placed = K.place_best(d, s, eng.log, sc, v, -1, 0.0, eng.stats, K.INSERT)
                    if placed:
                        K.commit(eng.log)
                        continue
                    K.rollback(s, eng.log)
                    raise ValueError(
                        f"lock on 2:1 visit {inst.visits[v].visit_id}: no second carer can join it"
                    )
                for j in range(2):
                    c = int(s.vcar[v, j])
                    if c >= 0:
                        _detach(eng, c, v)
                        changed = True


def run(
    eng: Engine,
    search: SearchParams,
    stop: Any = None,
    on_chunk: Callable[[Engine, float], Any] | None = None,
    deadline: float | None = None,
) -> tuple[int, int, float]:
    """Run the kernel on ``eng`` until the time limit, ``max_moves`` or ``stop``: (moves,
    accepted, seconds). ``on_chunk(engine, seconds)`` is called after each chunk."""
    t0 = time.perf_counter()
    if deadline is None:
        deadline = t0 + search.time_limit
    K.seed_rng(search.seed)
    p_kind = np.array(search.kinds, dtype=np.float64)
    lex_weight = float(eng.data.weights[W_LEX])
    try:
        moves, accepted = _chunks(eng, search, stop, on_chunk, deadline, t0, p_kind, lex_weight)
    finally:
        eng.data.weights[W_LEX] = lex_weight
    return moves, accepted, time.perf_counter() - t0


def _chunks(eng: Engine, search: SearchParams, stop: Any, on_chunk: Any, deadline: float,
            t0: float, p_kind: np.ndarray, lex_weight: float) -> tuple[int, int]:
    moves = accepted = 0
    limit = search.max_moves
    chunk = min(search.chunk, 200)  # the first chunk is small: its rate sets the next ones
    rate = float(chunk)
    while True:
        now = time.perf_counter()
        if limit is None and now >= deadline:
            break
        if limit is not None and moves >= limit:
            break
        if stop is not None and stop.is_set():
            break
        if limit is not None:
            frac0, frac1 = moves / limit, min(1.0, (moves + search.chunk) / limit)
        else:
            span = max(deadline - t0, 1e-9)
            frac0 = (now - t0) / span
            frac1 = min(1.0, frac0 + 0.01)
        share = search.coverage_share if lex_weight != 1.0 else 0.0
        if frac0 < share:
            eng.data.weights[W_LEX] = 1.0
            hot = cold = search.t_coverage
        else:
            eng.data.weights[W_LEX] = lex_weight
            f0 = (frac0 - share) / (1 - share)
            f1 = (frac1 - share) / (1 - share)
            ratio = search.t_cold / search.t_hot
            hot = search.t_hot * ratio ** f0
            cold = search.t_hot * ratio ** f1
        if limit is None:
            # a chunk of about CHUNK_SECONDS at the rate so far: the time limit and a Cancel
            # are then kept within a fraction of a second, however busy the cores
            n = max(20, min(chunk, int((deadline - now) * rate) + 1))
        else:
            n = min(search.chunk, limit - moves)
        open_list = np.flatnonzero(eng.state.vn == 0).astype(np.int64)
        began = time.perf_counter()
        accepted += int(K.run(eng.data, eng.state, eng.log, eng.scratch, eng.best, eng.stats,
                              open_list, len(open_list), n, hot, cold, p_kind, search.max_string))
        moves += n
        spent = time.perf_counter() - began
        if limit is None and spent > 0:
            rate = n / spent
            chunk = max(20, int(rate * CHUNK_SECONDS))
        if on_chunk is not None:
            on_chunk(eng, time.perf_counter() - t0)
    return moves, accepted


def stats_table(stats: np.ndarray) -> dict[str, dict[str, int]]:
    return {
        name: {"tried": int(stats[i, K.TRIED]), "evaluations": int(stats[i, K.EVALS]),
               "accepted": int(stats[i, K.ACCEPTED]), "better": int(stats[i, K.BETTER])}
        for i, name in enumerate(K.MOVE_NAMES)
    }


def improve(
    instance: Instance,
    rota: Rota | None,
    *,
    weights: Any,
    search: SearchParams | None = None,
    lexicographic: bool = True,
    reference: Rota | None = None,
    locks: Sequence[Any] = (),
    travel: TravelModel | None = None,
    elig: Any = None,
    pairs: Mapping[tuple[int, int], list[tuple[int, int]]] | None = None,
    max_candidates: int | None = 12,
    stop: Any = None,
    on_better: Callable[[Rota], Any] | None = None,
    fill: bool = True,
    deadline: float | None = None,
) -> SearchResult:
    """Improve ``rota`` (``None``: from an empty week) by local search; see the module docstring.

    ``pairs`` are the candidate (carer, visit) pairs with their start ranges
    (``solver.cpsat.candidate_pairs``); by default every eligible pair up to
    ``max_candidates`` carers a visit, plus the rota's, the reference's and the locks' pairs.
    """
    search = search or SearchParams()
    t0 = time.perf_counter()
    deadline = min(deadline or np.inf, t0 + search.time_limit)
    if elig is None:
        elig = compute_eligibility(instance, travel)
    if pairs is None:
        pairs = candidate_pairs_for(instance, elig, rota, reference, locks, max_candidates)
    eng = load(instance, rota, elig, pairs, weights=weights, lexicographic=lexicographic,
               reference=reference, locks=locks, travel=travel, fill=False)
    start = eng.totals()
    if fill:
        fill_open(eng)
        K.save_best(eng.state, eng.best)
    found = [int(eng.best.found[0])]

    def chunk(e: Engine, _: float) -> None:
        if on_better is not None and int(e.best.found[0]) != found[0]:
            found[0] = int(e.best.found[0])
            on_better(e.rota())

    moves, accepted, seconds = run(eng, search, stop=stop, on_chunk=chunk, deadline=deadline)
    rota_out = eng.rota()
    return SearchResult(
        rota=rota_out,
        moves=moves,
        accepted=accepted,
        evaluations=int(eng.stats[:, K.EVALS].sum()),
        seconds=time.perf_counter() - t0,
        search_seconds=seconds,
        stats=stats_table(eng.stats),
        start_totals=start,
        best_totals=eng.totals(best=True),
        dropped=eng.dropped,
    )


def candidate_pairs_for(
    instance: Instance,
    elig: Any,
    rota: Rota | None,
    reference: Rota | None,
    locks: Sequence[Any],
    max_candidates: int | None,
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """The candidate pairs: ``solver.cpsat.candidate_pairs`` keeping the rota's own pairs."""
    keep = []
    if rota is not None:
        for a in rota.assignments:
            if a.visit_id in instance.visit_index and a.carer_id in instance.carer_index:
                keep.append((instance.carer_index[a.carer_id], instance.visit_index[a.visit_id]))
    params = SolveParams(locks=tuple(locks), reference=reference, max_candidates=max_candidates)
    return candidate_pairs(instance, elig, params, keep=keep)
