"""Peer solvers on our synthetic weeks, one day at a time: VROOM (pyvroom) and PyVRP.

Both are vehicle-routing engines. What each can and cannot express of our contract:

| rule / objective | VROOM | PyVRP |
|---|---|---|
| static eligibility: vetting R1, training R2, family wishes R3, driving R8, R9 from home | yes, as *skills* (one skill per visit, held by the carers ``roster.eligibility`` allows) | yes, as a per-carer *routing profile* where a visit the carer may not take is unreachable |
| visit time window (R4 flex) | yes (hard) | yes (hard) |
| availability (R5) | one vehicle per free availability piece of the day (absences cut out) | same |
| travel time between visits (R6) | yes, duration matrix (contract travel model) | yes |
| core hours / overnight (R7), young workers' hours (R12) | only through eligibility | only through eligibility |
| 2:1 visits, both carers starting together (R4) | **no**: two separate jobs, not synchronised | **no**: two separate clients |
| R9 on the real journey from the previous visit; R13 travel origin | **no** | **no** |
| weekly hours R10, daily and weekly rest R11/R14, breaks R15 | **no** (one day at a time) | **no** |
| continuity, known carers, preferences, agency last, contracted hours | **no** | **no** |
| objective | max visits (priority), then travel cost (miles) | prize per visit, minus miles |

Their routes are mapped to our ``Rota`` (start = service start, R13 travel recomputed with
``roster.rules.journey_into``), then scored with our KPIs and checked with ``roster.checker``:
the violations say what their rota would break if a coordinator used it as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from roster.eligibility import Eligibility, compute_eligibility, free_pieces
from roster.model import Instance, Rota, Unassigned
from roster.rules import travel_model

BIG = 10**7


@dataclass(frozen=True)
class DaySlice:
    day: date
    visits: list[int]
    """Visit indices starting on this day."""
    vehicles: list[tuple[int, int, int]]
    """(carer index, piece start, piece end): one vehicle per free availability piece."""


def day_slices(instance: Instance, elig: Eligibility) -> list[DaySlice]:
    """The week cut into days: visits by their date, carers' free pieces by their start day."""
    by_day: dict[date, list[int]] = {}
    for j, v in enumerate(instance.visits):
        by_day.setdefault(v.date, []).append(j)
    out = []
    for day in sorted(by_day):
        lo = instance.clock.minute_of(day, 0)
        hi = lo + 24 * 60
        vehicles = []
        for c, carer in enumerate(instance.carers):
            pieces = free_pieces(instance.windows_by_carer.get(carer.carer_id, ()),
                                 instance.absences_by_carer.get(carer.carer_id, ()))
            for s, e in pieces:
                if lo <= s < hi or (s < lo < e):
                    vehicles.append((c, int(max(s, lo - 12 * 60)), int(e)))
        out.append(DaySlice(day, by_day[day], vehicles))
    return out


def _to_rota(instance: Instance, chosen: dict[str, list[tuple[str, int]]]) -> Rota:
    """Peer routes -> our rota: R13 travel recomputed; visits not fully staffed are unassigned."""
    from solver.solve import decode

    rota = decode(instance, chosen)
    staffed: dict[str, int] = {}
    for a in rota.assignments:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    unassigned = tuple(
        Unassigned(v.visit_id, v.carers - staffed.get(v.visit_id, 0), "left out by the peer solver")
        for v in instance.visits if staffed.get(v.visit_id, 0) < v.carers)
    return Rota(assignments=rota.assignments, unassigned=unassigned)


def _matrices(instance: Instance, carer_rows: list[int], visit_rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(miles, minutes) between [carer homes..., visit places...]."""
    model = travel_model(instance)
    pts = [(instance.carers[c].lat, instance.carers[c].lon) for c in carer_rows]
    pts += [instance.visit_location(instance.visits[j]) for j in visit_rows]
    arr = np.array(pts, dtype=float).reshape(-1, 2)
    miles, minutes = model.journey_matrix(arr[:, 0], arr[:, 1], arr[:, 0], arr[:, 1])
    return miles, minutes


# ---- VROOM ----------------------------------------------------------------------------


def vroom_rota(instance: Instance, elig: Eligibility | None = None, exploration: int = 1,
               threads: int = 1) -> Rota:
    """VROOM per day: a vehicle per carer availability piece, a job per carer slot."""
    import vroom

    elig = elig if elig is not None else compute_eligibility(instance)
    chosen: dict[str, list[tuple[str, int]]] = {}
    for sl in day_slices(instance, elig):
        jobs = [(j, k) for j in sl.visits for k in range(instance.visits[j].carers)]
        if not jobs or not sl.vehicles:
            continue
        carers = sorted({c for c, _, _ in sl.vehicles})
        home_loc = {c: i for i, c in enumerate(carers)}
        visit_loc = {j: len(carers) + i for i, j in enumerate(sl.visits)}
        miles, minutes = _matrices(instance, carers, sl.visits)
        problem = vroom.Input()
        problem.set_durations_matrix(profile="car", matrix_input=minutes.astype(np.uint32))
        problem.set_costs_matrix(profile="car", matrix_input=np.round(miles * 100).astype(np.uint32))
        base = int(min(s for _, s, _ in sl.vehicles))
        for vid, (c, s, e) in enumerate(sl.vehicles):
            skills = {1 + sl.visits.index(j) for j in sl.visits if elig.ok[c, j]} or {0}
            problem.add_vehicle(vroom.Vehicle(
                id=vid, start=home_loc[c], end=home_loc[c], skills=skills,
                time_window=vroom.TimeWindow(s - base, e - base)))
        for jid, (j, _k) in enumerate(jobs):
            v = instance.visits[j]
            lo, hi = int(elig.start_lo[j]) - base, int(elig.start_hi[j]) - base
            problem.add_job(vroom.Job(
                id=jid, location=visit_loc[j], default_service=v.duration_min,
                skills={1 + sl.visits.index(j)},
                time_windows=[vroom.TimeWindow(max(0, lo), max(0, hi))]))
        sol = problem.solve(exploration_level=exploration, nb_threads=threads)
        routes = sol.routes
        for row in routes.itertuples():
            if str(row.type) != "job":
                continue
            c = sl.vehicles[int(row.vehicle_id)][0]
            j = jobs[int(row.id)][0]
            start = int(row.arrival) + int(row.waiting_time) + int(getattr(row, "setup", 0)) + base
            chosen.setdefault(instance.carers[c].carer_id, []).append((instance.visits[j].visit_id, start))
    return _to_rota(instance, chosen)


# ---- PyVRP ----------------------------------------------------------------------------


def pyvrp_rota(instance: Instance, elig: Eligibility | None = None, seconds_per_day: float = 2.0,
               seed: int = 0) -> Rota:
    """PyVRP per day: a vehicle type per carer piece, with that carer's own routing profile in
    which the visits it may not take cannot be reached; every carer slot an optional client with
    a prize far above any travel cost."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    elig = elig if elig is not None else compute_eligibility(instance)
    chosen: dict[str, list[tuple[str, int]]] = {}
    for sl in day_slices(instance, elig):
        jobs = [(j, k) for j in sl.visits for k in range(instance.visits[j].carers)]
        if not jobs or not sl.vehicles:
            continue
        carers = sorted({c for c, _, _ in sl.vehicles})
        n_home = len(carers)
        home_loc = {c: i for i, c in enumerate(carers)}
        miles, minutes = _matrices(instance, carers, sl.visits)
        # Locations: homes, then one per job (a 2:1 visit's two slots share a place).
        loc_of_job = [n_home + sl.visits.index(j) for j, _ in jobs]
        index = np.array(list(range(n_home)) + loc_of_job)
        dist = np.round(miles[np.ix_(index, index)] * 100).astype(np.int64)
        dur = minutes[np.ix_(index, index)].astype(np.int64)
        base = int(min(s for _, s, _ in sl.vehicles))
        locations = [pyvrp.Location(0, 0) for _ in range(len(index))]
        depots = [pyvrp.Depot(location=i) for i in range(n_home)]
        clients = []
        for i, (j, _k) in enumerate(jobs):
            v = instance.visits[j]
            lo, hi = int(elig.start_lo[j]) - base, int(elig.start_hi[j]) - base
            clients.append(pyvrp.Client(location=n_home + i, service_duration=v.duration_min,
                                        tw_early=max(0, lo), tw_late=max(0, hi), prize=BIG // 10,
                                        required=False))
        # pyvrp's stubs type a matrix as ndarray[int, ...], which no numpy array matches
        profiles_d: list[Any] = []
        profiles_t: list[Any] = []
        vtypes = []
        profile_of: dict[int, int] = {}
        for c in carers:
            blocked = np.array([not elig.ok[c, j] for j, _ in jobs])
            d_c, t_c = dist.copy(), dur.copy()
            cols = n_home + np.flatnonzero(blocked)
            d_c[:, cols] = BIG
            t_c[:, cols] = BIG
            np.fill_diagonal(d_c, 0)
            np.fill_diagonal(t_c, 0)
            profile_of[c] = len(profiles_d)
            profiles_d.append(d_c)
            profiles_t.append(t_c)
        for c, s, e in sl.vehicles:
            vtypes.append(pyvrp.VehicleType(num_available=1, start_depot=home_loc[c],
                                            end_depot=home_loc[c], tw_early=s - base,
                                            tw_late=e - base, profile=profile_of[c]))
        data = pyvrp.ProblemData(locations, clients, depots, vtypes, profiles_d, profiles_t)
        res = pyvrp.solve(data, stop=MaxRuntime(seconds_per_day), seed=seed, collect_stats=False,
                          display=False)
        for vt_route in res.best.routes():
            if vt_route.has_time_warp():
                continue  # an infeasible route: leave its visits out rather than invent times
            c = sl.vehicles[vt_route.vehicle_type()][0]
            for act in vt_route.schedule():
                if not act.is_client():
                    continue
                j = jobs[act.idx][0]
                if not elig.ok[c, j]:
                    continue
                chosen.setdefault(instance.carers[c].carer_id, []).append(
                    (instance.visits[j].visit_id, int(act.start_time) + base))
    return _to_rota(instance, chosen)


PEERS: dict[str, Callable[..., Rota]] = {"vroom": vroom_rota, "pyvrp": pyvrp_rota}


def run_peer(name: str, instance: Instance, **kw: Any) -> tuple[Rota, float]:
    """(rota, seconds) of one peer on the instance."""
    t0 = time.perf_counter()
    rota = PEERS[name](instance, **kw)
    return rota, time.perf_counter() - t0
