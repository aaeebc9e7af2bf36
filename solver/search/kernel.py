"""The compiled core of the local-search engine: routes in flat arrays, moves, and acceptance.

A carer's week is a *route*: ``State.route[c, :rlen[c]]`` holds the visit numbers in start order
and ``State.vstart[v]`` each visit's one start (a 2:1 visit has one start for both carers, so no
move can split its timing). Every move is a short transaction of three operations —
``op_remove``, ``op_insert``, ``op_set_start`` — applied to the state with an undo log. Each
operation re-checks the one route it touches with the rule homes' route checks
(``solver.rules``: R6/R9/R13 journeys, R10, R11, R12, R14, R15; the pair's start ranges hold R4,
R5, R7 and R1-R3/R8 by construction) and updates the objective's totals by delta: the route's
quality cost (miles, rows' own costs, hours deviation), the child's continuity cost (distinct,
over-target and stranger carers from a child x carer count), and reference rows kept. A move is
then accepted by simulated annealing on the energy ``w_cov * uncovered + w_lex * continuity +
quality`` or rolled back. Choosing where to insert uses pure evaluations (``delta_insert``) that
build the candidate route in scratch arrays without touching the state.

Invariant between moves: each visit has 0 or all of its carers (a 2:1 is never half staffed),
and every route passes its route checks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from solver.rules.breaks import route_breaks
from solver.rules.daily_rest import route_daily_rest
from solver.rules.hours import route_weekly_hours
from solver.rules.journey import route_journeys
from solver.rules.staffing import nearest_in_ranges, start_in_ranges
from solver.rules.weekly_rest import route_weekly_rest
from solver.rules.young import route_young
from solver.search.data import (
    W_CHANGE,
    W_COVERAGE,
    W_DEVIATION,
    W_DISTINCT,
    W_LEX,
    W_MILE,
    W_OVER,
    W_STRANGER,
    Data,
)

MAXR = 96
"""Most visits one carer's week may hold in the engine."""
LOG_ROUTES = 48
LOG_VISITS = 512
LOG_COUNTS = 2048
NOSTART = -(1 << 40)
INF = 1e300

INSERT, RELOCATE, SWAP, SHIFT, CHILD, TAIL, RUIN, EJECT = range(8)
MOVE_NAMES = ("insert", "relocate", "swap", "shift", "child", "tail", "ruin", "eject")
N_KINDS = 8
EJECT_MARGIN = 90
"""Minutes either side of an open visit within which a carer's visits are ejected for it."""
TRIED, EVALS, ACCEPTED, BETTER = range(4)


class State(NamedTuple):
    route: np.ndarray
    rlen: np.ndarray
    vstart: np.ndarray
    vcar: np.ndarray
    vn: np.ndarray
    rcost: np.ndarray
    rkeep: np.ndarray
    rmiles: np.ndarray
    rwork: np.ndarray
    kc: np.ndarray
    kdist: np.ndarray
    kstr: np.ndarray
    lock: np.ndarray
    tot: np.ndarray
    """[rows staffed, continuity cost, quality cost]."""
    meta: np.ndarray
    """[carer slots in the week, 1 if lexicographic]."""


class Log(NamedTuple):
    cnt: np.ndarray
    lc_flag: np.ndarray
    lc_list: np.ndarray
    lc_route: np.ndarray
    lc_len: np.ndarray
    lc_cost: np.ndarray
    lc_keep: np.ndarray
    lc_miles: np.ndarray
    lc_work: np.ndarray
    lv_flag: np.ndarray
    lv_list: np.ndarray
    lv_start: np.ndarray
    lv_car: np.ndarray
    lv_vn: np.ndarray
    lk_k: np.ndarray
    lk_c: np.ndarray
    lk_old: np.ndarray
    lkd_flag: np.ndarray
    lkd_list: np.ndarray
    lkd_dist: np.ndarray
    lkd_str: np.ndarray
    tot0: np.ndarray


class Scratch(NamedTuple):
    vis: np.ndarray
    st: np.ndarray
    tm: np.ndarray
    mi: np.ndarray
    fr: np.ndarray
    ws: np.ndarray
    we: np.ndarray
    starts: np.ndarray
    buf: np.ndarray
    buf2: np.ndarray


class Best(NamedTuple):
    vstart: np.ndarray
    vcar: np.ndarray
    tot: np.ndarray
    found: np.ndarray


def new_state(data: Data, n_children: int) -> tuple[State, Log, Scratch, Best]:
    """Empty state, log, scratch and best-so-far arrays for ``data``."""
    n_c, n_v = data.pid.shape
    state = State(
        route=np.zeros((n_c, MAXR), dtype=np.int64),
        rlen=np.zeros(n_c, dtype=np.int64),
        vstart=np.full(n_v, NOSTART, dtype=np.int64),
        vcar=np.full((n_v, 2), -1, dtype=np.int64),
        vn=np.zeros(n_v, dtype=np.int64),
        rcost=np.zeros(n_c),
        rkeep=np.zeros(n_c, dtype=np.int64),
        rmiles=np.zeros(n_c),
        rwork=np.zeros(n_c, dtype=np.int64),
        kc=np.zeros((n_children, n_c), dtype=np.int64),
        kdist=np.zeros(n_children, dtype=np.int64),
        kstr=np.zeros(n_children, dtype=np.int64),
        lock=np.zeros(n_v, dtype=np.uint8),
        tot=np.zeros(3),
        meta=np.array([int(data.slots.sum()), 1 if data.weights[W_LEX] != 1.0 else 0], dtype=np.int64),
    )
    log = Log(
        cnt=np.zeros(4, dtype=np.int64),
        lc_flag=np.zeros(n_c, dtype=np.uint8),
        lc_list=np.zeros(LOG_ROUTES, dtype=np.int64),
        lc_route=np.zeros((LOG_ROUTES, MAXR), dtype=np.int64),
        lc_len=np.zeros(LOG_ROUTES, dtype=np.int64),
        lc_cost=np.zeros(LOG_ROUTES),
        lc_keep=np.zeros(LOG_ROUTES, dtype=np.int64),
        lc_miles=np.zeros(LOG_ROUTES),
        lc_work=np.zeros(LOG_ROUTES, dtype=np.int64),
        lv_flag=np.zeros(n_v, dtype=np.uint8),
        lv_list=np.zeros(LOG_VISITS, dtype=np.int64),
        lv_start=np.zeros(LOG_VISITS, dtype=np.int64),
        lv_car=np.zeros((LOG_VISITS, 2), dtype=np.int64),
        lv_vn=np.zeros(LOG_VISITS, dtype=np.int64),
        lk_k=np.zeros(LOG_COUNTS, dtype=np.int64),
        lk_c=np.zeros(LOG_COUNTS, dtype=np.int64),
        lk_old=np.zeros(LOG_COUNTS, dtype=np.int64),
        lkd_flag=np.zeros(max(n_children, 1), dtype=np.uint8),
        lkd_list=np.zeros(LOG_COUNTS, dtype=np.int64),
        lkd_dist=np.zeros(LOG_COUNTS, dtype=np.int64),
        lkd_str=np.zeros(LOG_COUNTS, dtype=np.int64),
        tot0=np.zeros(3),
    )
    m = MAXR + 2
    scratch = Scratch(
        vis=np.zeros(m, dtype=np.int64),
        st=np.zeros(m, dtype=np.int64),
        tm=np.zeros(m, dtype=np.int64),
        mi=np.zeros(m),
        fr=np.zeros(m, dtype=np.int64),
        ws=np.zeros(m, dtype=np.int64),
        we=np.zeros(m, dtype=np.int64),
        starts=np.zeros(8, dtype=np.int64),
        buf=np.zeros(4 * MAXR, dtype=np.int64),
        buf2=np.zeros(4 * MAXR, dtype=np.int64),
    )
    best = Best(
        vstart=state.vstart.copy(),
        vcar=state.vcar.copy(),
        tot=np.zeros(3),
        found=np.zeros(1, dtype=np.int64),
    )
    return state, log, scratch, best


# ---- evaluation ---------------------------------------------------------------------------


@njit(cache=True)
def route_eval(d: Data, c: int, vis: np.ndarray, st: np.ndarray, n: int, sc: Scratch) -> tuple[bool, float, int]:
    """Every route check of carer c's route ``vis[:n]`` at starts ``st[:n]`` (start order):
    (rules kept, travel miles, working minutes)."""
    code = route_journeys(vis, st, n, d.dur, d.trip, d.cap, d.tmin, d.tmil, d.hmin[c], d.hmil[c],
                          d.gap, sc.tm, sc.mi, sc.fr)
    if code != 0:
        return False, 0.0, 0
    miles = 0.0
    work = 0
    for k in range(n):
        sc.ws[k] = st[k] - sc.tm[k]
        sc.we[k] = st[k] + d.dur[vis[k]]
        miles += sc.mi[k]
        work += sc.we[k] - sc.ws[k]
    if not route_weekly_hours(sc.ws, sc.we, n, d.maxweek[c]):
        return False, 0.0, 0
    if not route_daily_rest(sc.ws, sc.we, n, d.drest[c]):
        return False, 0.0, 0
    if d.young_any[c] and not route_young(sc.ws, sc.we, vis, n, d.vday, d.young_day[c], d.day_lo, d.ylo, d.yhi):
        return False, 0.0, 0
    if not route_weekly_rest(sc.ws, sc.we, n, d.wrest[c], d.week_minutes):
        return False, 0.0, 0
    if not route_breaks(sc.ws, sc.we, n, d.drest[c], d.brk_after[c], d.brk[c]):
        return False, 0.0, 0
    return True, miles, work


@njit(cache=True)
def route_cost(d: Data, c: int, vis: np.ndarray, n: int, miles: float, work: int) -> tuple[float, int]:
    """(quality cost, reference rows kept) of carer c's route with these miles and minutes."""
    w = d.weights
    q = w[W_MILE] * miles
    keep = 0
    for k in range(n):
        q += d.rowq[c, vis[k]]
        keep += d.refkeep[c, vis[k]]
    if d.contracted[c] >= 0:
        q += w[W_DEVIATION] * abs(work - d.contracted[c]) / 60.0
    return q, keep


@njit(cache=True)
def child_cost(d: Data, k: int, dist: int, strangers: int) -> float:
    w = d.weights
    return w[W_DISTINCT] * dist + w[W_OVER] * max(0, dist - d.target[k]) + w[W_STRANGER] * strangers


@njit(cache=True)
def energy(d: Data, s: State) -> float:
    w = d.weights
    return w[W_COVERAGE] * (s.meta[0] - s.tot[0]) + w[W_LEX] * s.tot[1] + s.tot[2]


@njit(cache=True)
def better(s: State, tot: np.ndarray, d: Data) -> bool:
    """Whether the state's totals beat ``tot``: (uncovered, continuity, quality) in order when
    lexicographic, else the weighted energy."""
    if s.meta[1] == 1:
        if s.tot[0] != tot[0]:
            return s.tot[0] > tot[0]
        if abs(s.tot[1] - tot[1]) > 1e-6:
            return s.tot[1] < tot[1]
        return s.tot[2] < tot[2] - 1e-6
    w = d.weights
    e1 = w[W_COVERAGE] * (s.meta[0] - s.tot[0]) + s.tot[1] + s.tot[2]
    e0 = w[W_COVERAGE] * (s.meta[0] - tot[0]) + tot[1] + tot[2]
    return e1 < e0 - 1e-6


@njit(cache=True)
def fill_starts(s: State, vis: np.ndarray, n: int, st: np.ndarray) -> None:
    for k in range(n):
        st[k] = s.vstart[vis[k]]


@njit(cache=True)
def delta_insert(d: Data, s: State, sc: Scratch, c: int, v: int, t: int) -> float:
    """Energy change if carer c took visit v starting at t (``INF`` when a rule forbids it);
    the state is not changed."""
    p = d.pid[c, v]
    if p < 0 or s.vcar[v, 0] == c or s.vcar[v, 1] == c:
        return INF
    n = s.rlen[c]
    if n >= MAXR:
        return INF
    if not start_in_ranges(t, d.rng_lo, d.rng_hi, d.rng_ptr[p], d.rng_ptr[p + 1]):
        return INF
    j = 0
    placed = False
    for k in range(n):
        u = s.route[c, k]
        su = s.vstart[u]
        if not placed and (t < su or (t == su and v < u)):
            sc.vis[j] = v
            sc.st[j] = t
            j += 1
            placed = True
        sc.vis[j] = u
        sc.st[j] = su
        j += 1
    if not placed:
        sc.vis[j] = v
        sc.st[j] = t
        j += 1
    ok, miles, work = route_eval(d, c, sc.vis, sc.st, j, sc)
    if not ok:
        return INF
    q, keep = route_cost(d, c, sc.vis, j, miles, work)
    w = d.weights
    k = d.child[v]
    dcont = w[W_CHANGE] * (s.rkeep[c] - keep)
    if s.kc[k, c] == 0:
        strange = 0 if d.known[k, c] else 1
        dcont += child_cost(d, k, s.kdist[k] + 1, s.kstr[k] + strange) - child_cost(d, k, s.kdist[k], s.kstr[k])
    return -w[W_COVERAGE] + w[W_LEX] * dcont + (q - s.rcost[c])


@njit(cache=True)
def starts_for(d: Data, s: State, sc: Scratch, c: int, v: int) -> int:
    """Starts worth trying for visit v in carer c's route, into ``sc.starts``: the current one
    (the family's time), the allowed start nearest the planned one, the earliest after the
    carer's previous visit and the latest before the next. A 2:1 already half placed keeps its
    start."""
    p = d.pid[c, v]
    if p < 0:
        return 0
    a, b = d.rng_ptr[p], d.rng_ptr[p + 1]
    if s.vn[v] > 0:
        sc.starts[0] = s.vstart[v]
        return 1
    m = 0
    if s.vstart[v] != NOSTART and start_in_ranges(s.vstart[v], d.rng_lo, d.rng_hi, a, b):
        sc.starts[m] = s.vstart[v]
        m += 1
    if b <= a:
        return m
    s0 = nearest_in_ranges(d.planned[v], d.rng_lo, d.rng_hi, a, b)
    if m == 0 or sc.starts[0] != s0:
        sc.starts[m] = s0
        m += 1
    n = s.rlen[c]
    pos = 0
    while pos < n and s.vstart[s.route[c, pos]] <= s0:
        pos += 1
    if pos > 0:
        u = s.route[c, pos - 1]
        e = s.vstart[u] + d.dur[u] + d.tmin[u, v]
        m = add_start(sc, m, nearest_in_ranges(e, d.rng_lo, d.rng_hi, a, b))
    if pos < n:
        u = s.route[c, pos]
        e = s.vstart[u] - d.tmin[v, u] - d.dur[v]
        m = add_start(sc, m, nearest_in_ranges(e, d.rng_lo, d.rng_hi, a, b))
    return m


@njit(cache=True)
def add_start(sc: Scratch, m: int, t: int) -> int:
    """Add start t to the first m of ``sc.starts`` unless it is there; the new count."""
    for i in range(m):
        if sc.starts[i] == t:
            return m
    sc.starts[m] = t
    return m + 1


# ---- the undo log and the three operations -------------------------------------------------


@njit(cache=True)
def begin(s: State, lg: Log) -> None:
    lg.tot0[:] = s.tot
    lg.cnt[:] = 0


@njit(cache=True)
def commit(lg: Log) -> None:
    for i in range(lg.cnt[0]):
        lg.lc_flag[lg.lc_list[i]] = 0
    for i in range(lg.cnt[1]):
        lg.lv_flag[lg.lv_list[i]] = 0
    for i in range(lg.cnt[3]):
        lg.lkd_flag[lg.lkd_list[i]] = 0
    lg.cnt[:] = 0


@njit(cache=True)
def rollback(s: State, lg: Log) -> None:
    for i in range(lg.cnt[2] - 1, -1, -1):
        s.kc[lg.lk_k[i], lg.lk_c[i]] = lg.lk_old[i]
    for i in range(lg.cnt[3]):
        k = lg.lkd_list[i]
        s.kdist[k] = lg.lkd_dist[i]
        s.kstr[k] = lg.lkd_str[i]
        lg.lkd_flag[k] = 0
    for i in range(lg.cnt[1]):
        v = lg.lv_list[i]
        s.vstart[v] = lg.lv_start[i]
        s.vcar[v, 0] = lg.lv_car[i, 0]
        s.vcar[v, 1] = lg.lv_car[i, 1]
        s.vn[v] = lg.lv_vn[i]
        lg.lv_flag[v] = 0
    for i in range(lg.cnt[0]):
        c = lg.lc_list[i]
        n = lg.lc_len[i]
        s.route[c, :n] = lg.lc_route[i, :n]
        s.rlen[c] = n
        s.rcost[c] = lg.lc_cost[i]
        s.rkeep[c] = lg.lc_keep[i]
        s.rmiles[c] = lg.lc_miles[i]
        s.rwork[c] = lg.lc_work[i]
        lg.lc_flag[c] = 0
    s.tot[:] = lg.tot0
    lg.cnt[:] = 0


@njit(cache=True)
def log_route(s: State, lg: Log, c: int) -> bool:
    if lg.lc_flag[c]:
        return True
    i = lg.cnt[0]
    if i >= LOG_ROUTES:
        return False
    lg.lc_flag[c] = 1
    lg.lc_list[i] = c
    n = s.rlen[c]
    lg.lc_route[i, :n] = s.route[c, :n]
    lg.lc_len[i] = n
    lg.lc_cost[i] = s.rcost[c]
    lg.lc_keep[i] = s.rkeep[c]
    lg.lc_miles[i] = s.rmiles[c]
    lg.lc_work[i] = s.rwork[c]
    lg.cnt[0] = i + 1
    return True


@njit(cache=True)
def log_visit(s: State, lg: Log, v: int) -> bool:
    if lg.lv_flag[v]:
        return True
    i = lg.cnt[1]
    if i >= LOG_VISITS:
        return False
    lg.lv_flag[v] = 1
    lg.lv_list[i] = v
    lg.lv_start[i] = s.vstart[v]
    lg.lv_car[i, 0] = s.vcar[v, 0]
    lg.lv_car[i, 1] = s.vcar[v, 1]
    lg.lv_vn[i] = s.vn[v]
    lg.cnt[1] = i + 1
    return True


@njit(cache=True)
def count_child(d: Data, s: State, lg: Log, k: int, c: int, delta: int) -> bool:
    """Carer c's visits to child k change by ``delta``; the continuity cost follows."""
    i = lg.cnt[2]
    if i >= LOG_COUNTS:
        return False
    if not lg.lkd_flag[k]:
        j = lg.cnt[3]
        if j >= LOG_COUNTS:
            return False
        lg.lkd_flag[k] = 1
        lg.lkd_list[j] = k
        lg.lkd_dist[j] = s.kdist[k]
        lg.lkd_str[j] = s.kstr[k]
        lg.cnt[3] = j + 1
    lg.lk_k[i] = k
    lg.lk_c[i] = c
    lg.lk_old[i] = s.kc[k, c]
    lg.cnt[2] = i + 1
    old = s.kc[k, c]
    new = old + delta
    s.kc[k, c] = new
    if (old == 0) != (new == 0):
        before = child_cost(d, k, s.kdist[k], s.kstr[k])
        step = 1 if new > 0 else -1
        s.kdist[k] += step
        if not d.known[k, c]:
            s.kstr[k] += step
        s.tot[1] += child_cost(d, k, s.kdist[k], s.kstr[k]) - before
    return True


@njit(cache=True)
def reeval(d: Data, s: State, sc: Scratch, c: int) -> bool:
    """Re-check carer c's route as it now stands and bring the totals up to date."""
    n = s.rlen[c]
    vis = s.route[c]
    fill_starts(s, vis, n, sc.st)
    ok, miles, work = route_eval(d, c, vis, sc.st, n, sc)
    if not ok:
        return False
    q, keep = route_cost(d, c, vis, n, miles, work)
    s.tot[2] += q - s.rcost[c]
    s.tot[1] += d.weights[W_CHANGE] * (s.rkeep[c] - keep)
    s.rcost[c] = q
    s.rkeep[c] = keep
    s.rmiles[c] = miles
    s.rwork[c] = work
    return True


@njit(cache=True)
def detach(d: Data, s: State, lg: Log, c: int, v: int) -> bool:
    """Take visit v out of carer c's route without re-checking it (``op_remove`` does)."""
    if not log_route(s, lg, c) or not log_visit(s, lg, v):
        return False
    n = s.rlen[c]
    pos = -1
    for k in range(n):
        if s.route[c, k] == v:
            pos = k
            break
    if pos < 0:
        return False
    for k in range(pos, n - 1):
        s.route[c, k] = s.route[c, k + 1]
    s.rlen[c] = n - 1
    for j in range(2):
        if s.vcar[v, j] == c:
            s.vcar[v, j] = -1
            s.vn[v] -= 1
    s.tot[0] -= 1
    return count_child(d, s, lg, d.child[v], c, -1)


@njit(cache=True)
def op_remove(d: Data, s: State, lg: Log, sc: Scratch, c: int, v: int) -> bool:
    """Carer c no longer takes visit v."""
    return detach(d, s, lg, c, v) and reeval(d, s, sc, c)


@njit(cache=True)
def insert_sorted(s: State, c: int, n: int, v: int, t: int) -> None:
    """Put visit v starting at t into ``route[c, :n]`` (in (start, visit) order) at its place."""
    pos = n
    while pos > 0:
        u = s.route[c, pos - 1]
        if s.vstart[u] > t or (s.vstart[u] == t and u > v):
            s.route[c, pos] = u
            pos -= 1
        else:
            break
    s.route[c, pos] = v


@njit(cache=True)
def attach(d: Data, s: State, lg: Log, c: int, v: int) -> bool:
    """Put visit v (at ``vstart[v]``) into carer c's route without re-checking it."""
    n = s.rlen[c]
    p = d.pid[c, v]
    if n >= MAXR or p < 0 or s.vn[v] >= d.slots[v] or s.vcar[v, 0] == c or s.vcar[v, 1] == c:
        return False
    t = s.vstart[v]
    if not start_in_ranges(t, d.rng_lo, d.rng_hi, d.rng_ptr[p], d.rng_ptr[p + 1]):
        return False
    if not log_route(s, lg, c) or not log_visit(s, lg, v):
        return False
    insert_sorted(s, c, n, v, t)
    s.rlen[c] = n + 1
    if s.vcar[v, 0] < 0:
        s.vcar[v, 0] = c
    else:
        s.vcar[v, 1] = c
    s.vn[v] += 1
    s.tot[0] += 1
    return count_child(d, s, lg, d.child[v], c, 1)


@njit(cache=True)
def op_insert(d: Data, s: State, lg: Log, sc: Scratch, c: int, v: int) -> bool:
    """Carer c takes visit v at its start ``vstart[v]``."""
    return attach(d, s, lg, c, v) and reeval(d, s, sc, c)


@njit(cache=True)
def op_set_start(d: Data, s: State, lg: Log, sc: Scratch, v: int, t: int) -> bool:
    """Visit v starts at t, for every carer on it."""
    if not log_visit(s, lg, v):
        return False
    s.vstart[v] = t
    for j in range(2):
        c = s.vcar[v, j]
        if c < 0:
            continue
        p = d.pid[c, v]
        if not start_in_ranges(t, d.rng_lo, d.rng_hi, d.rng_ptr[p], d.rng_ptr[p + 1]):
            return False
        if not log_route(s, lg, c):
            return False
        n = s.rlen[c]
        pos = 0
        for k in range(n):
            if s.route[c, k] == v:
                pos = k
        for k in range(pos, n - 1):
            s.route[c, k] = s.route[c, k + 1]
        insert_sorted(s, c, n - 1, v, t)
        if not reeval(d, s, sc, c):
            return False
    return True


# ---- placing a visit ------------------------------------------------------------------------


@njit(cache=True)
def place_best(d: Data, s: State, lg: Log, sc: Scratch, v: int, avoid: int, blink: float,
               stats: np.ndarray, kind: int) -> bool:
    """Give one more carer to visit v: the cheapest candidate carer and start (skipping each
    candidate with probability ``blink``, and carer ``avoid``)."""
    best_e = INF
    best_c = -1
    best_t = 0
    for i in range(d.cand_ptr[v], d.cand_ptr[v + 1]):
        c = d.cand[i]
        if c == avoid or (blink > 0.0 and np.random.random() < blink):
            continue
        m = starts_for(d, s, sc, c, v)
        for q in range(m):
            t = sc.starts[q]
            e = delta_insert(d, s, sc, c, v, t)
            stats[kind, EVALS] += 1
            if e < best_e:
                best_e = e
                best_c = c
                best_t = t
    if best_c < 0:
        return False
    if s.vstart[v] != best_t and not op_set_start(d, s, lg, sc, v, best_t):
        return False
    return op_insert(d, s, lg, sc, best_c, v)


@njit(cache=True)
def place_on(d: Data, s: State, lg: Log, sc: Scratch, c: int, v: int, stats: np.ndarray, kind: int) -> bool:
    """Carer c takes visit v at the best of its starts (its own start when half placed)."""
    m = starts_for(d, s, sc, c, v)
    best_e = INF
    best_t = 0
    for q in range(m):
        t = sc.starts[q]
        e = delta_insert(d, s, sc, c, v, t)
        stats[kind, EVALS] += 1
        if e < best_e:
            best_e = e
            best_t = t
    if best_e >= INF:
        return False
    if s.vstart[v] != best_t and not op_set_start(d, s, lg, sc, v, best_t):
        return False
    return op_insert(d, s, lg, sc, c, v)


@njit(cache=True)
def staff_fully(d: Data, s: State, lg: Log, sc: Scratch, v: int, blink: float, stats: np.ndarray, kind: int) -> bool:
    """Give visit v all its carers; on failure leave it with none (never half a 2:1)."""
    while s.vn[v] < d.slots[v]:
        if not place_best(d, s, lg, sc, v, -1, blink, stats, kind):
            while s.vn[v] > 0:
                c = a_carer(s, v)
                if not op_remove(d, s, lg, sc, c, v):
                    return False
            return True
    return True


# ---- moves ---------------------------------------------------------------------------------


@njit(cache=True)
def random_row(d: Data, s: State) -> tuple[int, int]:
    """A random (visit, carer) row that may move, or (-1, -1)."""
    n_v = len(s.vn)
    for _ in range(32):
        v = np.random.randint(n_v)
        if s.vn[v] > 0 and not s.lock[v]:
            j = np.random.randint(2)
            if s.vcar[v, j] < 0:
                j = 1 - j
            return v, s.vcar[v, j]
    return -1, -1


@njit(cache=True)
def random_candidate(d: Data, s: State, v: int) -> int:
    """A random candidate carer for v who is not already on it, or -1."""
    a, b = d.cand_ptr[v], d.cand_ptr[v + 1]
    if b <= a:
        return -1
    for _ in range(8):
        c = d.cand[a + np.random.randint(b - a)]
        if s.vcar[v, 0] != c and s.vcar[v, 1] != c:
            return c
    return -1


@njit(cache=True)
def a_carer(s: State, v: int) -> int:
    """One of the carers on visit v (-1 if none)."""
    return s.vcar[v, 0] if s.vcar[v, 0] >= 0 else s.vcar[v, 1]


@njit(cache=True)
def may_move_to(d: Data, s: State, u: int, c: int) -> bool:
    """Visit u may be given to carer c: not locked, a candidate pair, c not already on it."""
    return not s.lock[u] and d.pid[c, u] >= 0 and s.vcar[u, 0] != c and s.vcar[u, 1] != c


@njit(cache=True)
def row_and_other_carer(d: Data, s: State) -> tuple[int, int, int]:
    """A random movable row (visit v, carer a) and a candidate carer b for v who is not on it,
    or (-1, -1, -1)."""
    v, a = random_row(d, s)
    if v < 0:
        return -1, -1, -1
    b = random_candidate(d, s, v)
    if b < 0 or b == a:
        return -1, -1, -1
    return v, a, b


@njit(cache=True)
def mv_insert(d: Data, s: State, lg: Log, sc: Scratch, open_list: np.ndarray, n_open: int, stats: np.ndarray) -> bool:
    if n_open == 0:
        return False
    for _ in range(8):
        v = open_list[np.random.randint(n_open)]
        if s.vn[v] == 0:
            staff_fully(d, s, lg, sc, v, 0.0, stats, INSERT)
            return s.vn[v] == d.slots[v]
    return False


@njit(cache=True)
def mv_relocate(d: Data, s: State, lg: Log, sc: Scratch, stats: np.ndarray) -> bool:
    v, a = random_row(d, s)
    if v < 0:
        return False
    if not op_remove(d, s, lg, sc, a, v):
        return False
    return place_best(d, s, lg, sc, v, a, 0.5, stats, RELOCATE)


@njit(cache=True)
def nearest_in_route(d: Data, s: State, c: int, t: int) -> int:
    best = -1
    best_d = 1 << 60
    for k in range(s.rlen[c]):
        u = s.route[c, k]
        dd = abs(s.vstart[u] - t)
        if dd < best_d:
            best_d = dd
            best = u
    return best


@njit(cache=True)
def mv_swap(d: Data, s: State, lg: Log, sc: Scratch, stats: np.ndarray) -> bool:
    v, a, b = row_and_other_carer(d, s)
    if v < 0:
        return False
    w = nearest_in_route(d, s, b, s.vstart[v])
    if w < 0 or not may_move_to(d, s, w, a):
        return False
    if not detach(d, s, lg, a, v) or not detach(d, s, lg, b, w):
        return False
    if not place_on(d, s, lg, sc, a, w, stats, SWAP):
        return False
    return place_on(d, s, lg, sc, b, v, stats, SWAP) and reeval(d, s, sc, a) and reeval(d, s, sc, b)


@njit(cache=True)
def mv_shift(d: Data, s: State, lg: Log, sc: Scratch, stats: np.ndarray) -> bool:
    v, c = random_row(d, s)
    if v < 0:
        return False
    p = d.pid[c, v]
    a, b = d.rng_ptr[p], d.rng_ptr[p + 1]
    if np.random.random() < 0.5:
        t = nearest_in_ranges(d.planned[v], d.rng_lo, d.rng_hi, a, b)
    else:
        i = a + np.random.randint(b - a)
        t = d.rng_lo[i] + np.random.randint(d.rng_hi[i] - d.rng_lo[i] + 1)
    if t == s.vstart[v]:
        return False
    stats[SHIFT, EVALS] += 1
    return op_set_start(d, s, lg, sc, v, t)


@njit(cache=True)
def mv_child(d: Data, s: State, lg: Log, sc: Scratch, stats: np.ndarray) -> bool:
    """Move every visit of one child from carer a to carer b (continuity)."""
    v, a, b = row_and_other_carer(d, s)
    if v < 0:
        return False
    k = d.child[v]
    m = 0
    for i in range(s.rlen[a]):
        u = s.route[a, i]
        if d.child[u] == k and may_move_to(d, s, u, b):
            sc.buf[m] = u
            m += 1
    for i in range(m):
        if not detach(d, s, lg, a, sc.buf[i]):
            return False
    if not reeval(d, s, sc, a):
        return False
    for i in range(m):  # noqa: SIM110 - numba compiles loops, not generators
        if not place_on(d, s, lg, sc, b, sc.buf[i], stats, CHILD):
            return False
    return True


@njit(cache=True)
def day_end(d: Data, t: int) -> int:
    for i in range(len(d.day_lo) - 1):
        if d.day_lo[i] <= t < d.day_lo[i + 1]:
            return d.day_lo[i + 1]
    return t + 24 * 60


@njit(cache=True)
def mv_tail(d: Data, s: State, lg: Log, sc: Scratch, stats: np.ndarray) -> bool:
    """2-opt*: carers a and b exchange the rest of their day from one of a's visits on."""
    v, a, b = row_and_other_carer(d, s)
    if v < 0:
        return False
    t = s.vstart[v]
    end = day_end(d, t)
    na = 0
    for i in range(s.rlen[a]):
        u = s.route[a, i]
        su = s.vstart[u]
        if t <= su < end:
            if not may_move_to(d, s, u, b):
                return False
            sc.buf[na] = u
            na += 1
    nb = 0
    for i in range(s.rlen[b]):
        u = s.route[b, i]
        su = s.vstart[u]
        if t <= su < end:
            if not may_move_to(d, s, u, a):
                return False
            sc.buf2[nb] = u
            nb += 1
    for i in range(na):
        if not detach(d, s, lg, a, sc.buf[i]):
            return False
    for i in range(nb):
        if not detach(d, s, lg, b, sc.buf2[i]):
            return False
    for i in range(na):
        if not attach(d, s, lg, b, sc.buf[i]):
            return False
    for i in range(nb):
        if not attach(d, s, lg, a, sc.buf2[i]):
            return False
    stats[TAIL, EVALS] += 1
    return reeval(d, s, sc, a) and reeval(d, s, sc, b)


@njit(cache=True)
def mv_ruin(d: Data, s: State, lg: Log, sc: Scratch, stats: np.ndarray, max_string: int) -> bool:
    """Ruin and recreate (string removals after SISR, Christiaens & Vanden Berghe 2020): remove
    short runs of visits from the routes of a visit's neighbours, then put them and the open
    neighbours back one by one at their cheapest place, with blinks."""
    n_v = len(s.vn)
    seed = np.random.randint(n_v)
    strings = 1 + np.random.randint(3)
    removed = sc.buf
    nr = 0
    ruined = sc.buf2
    n_ruined = 0
    done = 0
    nn = d.neigh.shape[1]
    for q in range(-1, nn):
        if done >= strings:
            break
        w = seed if q < 0 else d.neigh[seed, q]
        if s.vn[w] == 0 or s.lock[w]:
            continue
        c = a_carer(s, w)
        seen = False
        for i in range(n_ruined):
            if ruined[i] == c:
                seen = True
        if seen:
            continue
        ruined[n_ruined] = c
        n_ruined += 1
        done += 1
        n = s.rlen[c]
        pos = 0
        for k in range(n):
            if s.route[c, k] == w:
                pos = k
        length = 1 + np.random.randint(max_string)
        first = max(0, pos - np.random.randint(length))
        last = min(n, first + length)
        take = np.empty(last - first, dtype=np.int64)
        for k in range(first, last):
            take[k - first] = s.route[c, k]
        for u in take:
            if s.lock[u] or nr >= len(removed) - 2:
                continue
            while s.vn[u] > 0:
                r = a_carer(s, u)
                if not detach(d, s, lg, r, u):
                    return False
                found = False
                for i in range(n_ruined):
                    if ruined[i] == r:
                        found = True
                if not found and n_ruined < len(ruined) - 1:
                    ruined[n_ruined] = r
                    n_ruined += 1
            removed[nr] = u
            nr += 1
    for i in range(n_ruined):
        if not reeval(d, s, sc, ruined[i]):
            return False
    for q in range(-1, nn):
        w = seed if q < 0 else d.neigh[seed, q]
        if s.vn[w] == 0 and not s.lock[w] and nr < len(removed) - 2:
            dup = False
            for i in range(nr):
                if removed[i] == w:
                    dup = True
            if not dup:
                removed[nr] = w
                nr += 1
    # recreate in a random order, or by planned start, or hardest (2:1, fewest candidates) first
    order = np.empty(nr, dtype=np.int64)
    key = np.empty(nr)
    how = np.random.randint(3)
    for i in range(nr):
        u = removed[i]
        order[i] = u
        if how == 0:
            key[i] = np.random.random()
        elif how == 1:
            key[i] = d.planned[u]
        else:
            key[i] = -10000.0 * d.slots[u] + (d.cand_ptr[u + 1] - d.cand_ptr[u])
    order = order[np.argsort(key)]
    for u in order:
        if s.vn[u] == 0 and not staff_fully(d, s, lg, sc, int(u), 0.05, stats, RUIN):
            return False
    return True


@njit(cache=True)
def mv_eject(d: Data, s: State, lg: Log, sc: Scratch, open_list: np.ndarray, n_open: int,
             stats: np.ndarray) -> bool:
    """Insertion with ejection: an open visit goes to a candidate carer at its planned time,
    the carer's visits around that time are taken out and each put back at its cheapest place."""
    if n_open == 0:
        return False
    v = open_list[np.random.randint(n_open)]
    if s.vn[v] != 0 or s.lock[v]:
        return False
    c = random_candidate(d, s, v)
    if c < 0:
        return False
    m = starts_for(d, s, sc, c, v)
    if m == 0:
        return False
    t = sc.starts[np.random.randint(m)]
    lo = t - EJECT_MARGIN
    hi = t + d.dur[v] + EJECT_MARGIN
    ne = 0
    for i in range(s.rlen[c]):
        u = s.route[c, i]
        if s.vstart[u] < hi and s.vstart[u] + d.dur[u] > lo:
            if s.lock[u]:
                return False
            sc.buf[ne] = u
            ne += 1
    for i in range(ne):
        u = sc.buf[i]
        while s.vn[u] > 0:
            r = a_carer(s, u)
            if not op_remove(d, s, lg, sc, r, u) and r != c:
                return False
    if not op_set_start(d, s, lg, sc, v, t) or not op_insert(d, s, lg, sc, c, v):
        return False
    stats[EJECT, EVALS] += 1
    if s.vn[v] < d.slots[v] and not staff_fully(d, s, lg, sc, v, 0.0, stats, EJECT):
        return False
    if s.vn[v] < d.slots[v]:
        return False
    for i in range(ne):
        u = sc.buf[i]
        if s.vn[u] == 0 and not staff_fully(d, s, lg, sc, u, 0.05, stats, EJECT):
            return False
    return True


# ---- the search loop -----------------------------------------------------------------------


@njit(cache=True)
def halves_kept(s: State, lg: Log, d: Data) -> bool:
    """No visit the move touched is half staffed."""
    for i in range(lg.cnt[1]):
        v = lg.lv_list[i]
        if s.vn[v] != 0 and s.vn[v] != d.slots[v]:
            return False
    return True


@njit(cache=True)
def save_best(s: State, b: Best) -> None:
    b.vstart[:] = s.vstart
    b.vcar[:] = s.vcar
    b.tot[:] = s.tot
    b.found[0] += 1


@njit(cache=True)
def seed_rng(seed: int) -> None:
    np.random.seed(seed)


@njit(cache=True)
def run(d: Data, s: State, lg: Log, sc: Scratch, b: Best, stats: np.ndarray, open_list: np.ndarray,
        n_open: int, n_moves: int, t_hot: float, t_cold: float, p_kind: np.ndarray, max_string: int) -> int:
    """``n_moves`` moves with simulated annealing cooling from ``t_hot`` to ``t_cold``; the best
    state is saved in ``b``. Returns how many moves were accepted."""
    accepted = 0
    cum = np.cumsum(p_kind)
    ratio = t_cold / t_hot if t_hot > 0 else 1.0
    for it in range(n_moves):
        temp = t_hot * ratio ** (it / max(n_moves, 1))
        r = np.random.random() * cum[-1]
        kind = 0
        while kind < N_KINDS - 1 and r >= cum[kind]:
            kind += 1
        stats[kind, TRIED] += 1
        e0 = energy(d, s)
        begin(s, lg)
        if kind == INSERT:
            ok = mv_insert(d, s, lg, sc, open_list, n_open, stats)
        elif kind == RELOCATE:
            ok = mv_relocate(d, s, lg, sc, stats)
        elif kind == SWAP:
            ok = mv_swap(d, s, lg, sc, stats)
        elif kind == SHIFT:
            ok = mv_shift(d, s, lg, sc, stats)
        elif kind == CHILD:
            ok = mv_child(d, s, lg, sc, stats)
        elif kind == TAIL:
            ok = mv_tail(d, s, lg, sc, stats)
        elif kind == RUIN:
            ok = mv_ruin(d, s, lg, sc, stats, max_string)
        else:
            ok = mv_eject(d, s, lg, sc, open_list, n_open, stats)
        if not ok or lg.cnt[0] == 0 or not halves_kept(s, lg, d):
            rollback(s, lg)
            continue
        delta = energy(d, s) - e0
        if delta <= 1e-9 or (temp > 0 and np.random.random() < np.exp(-delta / temp)):
            commit(lg)
            accepted += 1
            stats[kind, ACCEPTED] += 1
            if better(s, b.tot, d):
                save_best(s, b)
                stats[kind, BETTER] += 1
        else:
            rollback(s, lg)
    return accepted


# ---- loading a rota and reading the totals -------------------------------------------------


@njit(cache=True)
def recompute(d: Data, s: State, sc: Scratch) -> bool:
    """Totals from scratch (after loading); False if some route breaks a rule."""
    n_c = len(s.rlen)
    rows = 0
    q_total = 0.0
    keep_total = 0
    ok_all = True
    for c in range(n_c):
        n = s.rlen[c]
        vis = s.route[c]
        fill_starts(s, vis, n, sc.st)
        ok, miles, work = route_eval(d, c, vis, sc.st, n, sc)
        if not ok:
            ok_all = False
        q, keep = route_cost(d, c, vis, n, miles, work)
        s.rcost[c] = q
        s.rkeep[c] = keep
        s.rmiles[c] = miles
        s.rwork[c] = work
        rows += n
        q_total += q
        keep_total += keep
    s.kc[:, :] = 0
    for c in range(n_c):
        for i in range(s.rlen[c]):
            s.kc[d.child[s.route[c, i]], c] += 1
    cont = d.weights[W_CHANGE] * (d.ref_total - keep_total)
    for k in range(s.kc.shape[0]):
        dist = 0
        strange = 0
        for c in range(n_c):
            if s.kc[k, c] > 0:
                dist += 1
                if not d.known[k, c]:
                    strange += 1
        s.kdist[k] = dist
        s.kstr[k] = strange
        cont += child_cost(d, k, dist, strange)
    s.tot[0] = rows
    s.tot[1] = cont
    s.tot[2] = q_total
    return ok_all


@njit(cache=True)
def route_ok(d: Data, s: State, sc: Scratch, c: int) -> bool:
    n = s.rlen[c]
    fill_starts(s, s.route[c], n, sc.st)
    ok, _, _ = route_eval(d, c, s.route[c], sc.st, n, sc)
    return ok
