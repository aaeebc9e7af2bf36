"""Solomon (1987) VRPTW: loader, evaluator, and PyVRP on it as a sanity check of the routing
core. Time windows and capacity are hard; the objective compared is total Euclidean distance
against ``objective_distance_only`` of ``bks.csv`` (distance only, any number of vehicles).
See ``/work/shared/benchmarks/solomon1987-vrptw/SOURCE.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PRECISION = 100
"""Distances are scaled by this and rounded for PyVRP; evaluation uses exact floats."""


@dataclass(frozen=True, eq=False)
class Solomon:
    name: str
    capacity: int
    vehicles: int
    xy: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    @property
    def distances(self) -> np.ndarray:
        d = self.xy[:, None, :] - self.xy[None, :, :]
        return np.asarray(np.sqrt((d**2).sum(axis=2)))


def load_solomon(path: str | Path) -> Solomon:
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines()]
    vehicles = capacity = 0
    data: list[list[float]] = []
    for i, parts in enumerate(lines):
        if parts[:1] == ["VEHICLE"]:
            vehicles, capacity = int(lines[i + 2][0]), int(lines[i + 2][1])
        if len(parts) == 7 and all(p.replace(".", "", 1).isdigit() for p in parts):
            data.append([float(p) for p in parts])
    arr = np.array(data)
    if arr.shape[1:] != (7,) or int(arr[0, 0]) != 0:
        raise ValueError(f"{path}: expected the depot row 0 then customer rows of 7 numbers.")
    return Solomon(path.stem, capacity, vehicles, arr[:, 1:3], arr[:, 3], arr[:, 4], arr[:, 5], arr[:, 6])


def evaluate(inst: Solomon, routes: list[list[int]]) -> tuple[float, list[str]]:
    """(total distance, violations) of routes given as customer numbers, depot excluded."""
    d = inst.distances
    problems: list[str] = []
    seen: list[int] = []
    total = 0.0
    for k, route in enumerate(routes):
        t, at, load = 0.0, 0, 0.0
        for c in route:
            t = max(t + d[at, c], inst.ready[c])
            if t > inst.due[c] + 1e-6:
                problems.append(f"route {k}: customer {c} starts {t:.2f} after due {inst.due[c]:.0f}")
            total += d[at, c]
            load += inst.demand[c]
            t += inst.service[c]
            at = c
            seen.append(c)
        total += d[at, 0]
        if t + d[at, 0] > inst.due[0] + 1e-6:
            problems.append(f"route {k}: back at the depot at {t + d[at, 0]:.2f}")
        if load > inst.capacity:
            problems.append(f"route {k}: load {load:.0f} over capacity {inst.capacity}")
    if sorted(seen) != list(range(1, len(inst.xy))):
        problems.append("customers missing or repeated")
    return total, problems


def solve_pyvrp(inst: Solomon, seconds: float = 10.0, seed: int = 0) -> list[list[int]]:
    """PyVRP's hybrid genetic search, distance only."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    m = Model()
    locs = [m.add_location(x=float(x), y=float(y)) for x, y in inst.xy]
    depot = m.add_depot(locs[0], tw_early=int(inst.ready[0] * PRECISION),
                        tw_late=int(inst.due[0] * PRECISION))
    m.add_vehicle_type(num_available=inst.vehicles, capacity=int(inst.capacity), start_depot=depot,
                       end_depot=depot, tw_early=int(inst.ready[0] * PRECISION),
                       tw_late=int(inst.due[0] * PRECISION))
    for i in range(1, len(inst.xy)):
        m.add_client(locs[i], delivery=int(inst.demand[i]),
                     service_duration=int(inst.service[i] * PRECISION),
                     tw_early=int(inst.ready[i] * PRECISION), tw_late=int(inst.due[i] * PRECISION))
    d = inst.distances
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            if i != j:
                # Round travel *up* so PyVRP's schedule is feasible in exact arithmetic.
                w = int(math.ceil(d[i, j] * PRECISION - 1e-9))
                m.add_edge(a, b, distance=w, duration=w)
    res = m.solve(stop=MaxRuntime(seconds), seed=seed, display=False)
    # A client activity's idx is its index among the clients (customer number - 1).
    return [[int(a.idx) + 1 for a in r.schedule() if a.is_client()] for r in res.best.routes()]
