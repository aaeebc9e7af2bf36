"""The home health care routing and scheduling problem (HHCRSP) of the public benchmarks.

One day, one route per carer from the depot and back, skills, patient time windows whose end
is soft (lateness counts as tardiness), and patients needing two services that are either
*simultaneous* (a 2:1 visit: both carers start together) or *sequential* (the second starts
between ``min_gap`` and ``max_gap`` after the first). Both the Mankowska et al. (2014) set and
the "Italian" set of Ceschia et al. (2024) are this problem; see
``/work/shared/benchmarks/*/SOURCE.md``.

Objective (minimise), as both papers and both reference validators define it::

    (distance + total tardiness + max tardiness) / 3

This module holds the shared data model, the two loaders, the reader for the reference
solution JSON and the evaluator. The solvers are in ``benchmarks.hhcrsp_solve``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FEASIBILITY_EPS = 1e-3
"""Reference solutions print start times to 3 decimals, so a start may look up to 0.0005 early."""


@dataclass(frozen=True)
class Task:
    """One required (patient, service): one carer's visit."""

    patient: int
    """Node index of the patient (1..P; node 0 is the depot)."""
    service: int
    duration: float


@dataclass(frozen=True)
class Pair:
    """Two tasks at one patient: start(second) - start(first) in [min_gap, max_gap]."""

    first: int
    second: int
    min_gap: float
    max_gap: float

    @property
    def simultaneous(self) -> bool:
        return self.min_gap == 0 and self.max_gap == 0


@dataclass(frozen=True, eq=False)
class HHCInstance:
    name: str
    distances: np.ndarray
    """(P+1) x (P+1): node 0 the depot, node k patient k. Travel time = distance."""
    earliest: np.ndarray
    """Per node: no service starts before it."""
    latest: np.ndarray
    """Per node: a start after it counts as tardiness."""
    tasks: tuple[Task, ...]
    pairs: tuple[Pair, ...]
    skills: tuple[frozenset[int], ...]
    """Per carer: the services it may do."""
    patient_ids: tuple[str, ...]
    """Per node (index 0 = depot): the id used in solution files."""
    service_ids: tuple[str, ...]
    carer_ids: tuple[str, ...]

    @property
    def n_carers(self) -> int:
        return len(self.skills)

    @property
    def n_patients(self) -> int:
        return len(self.patient_ids) - 1

    def qualified(self, carer: int, task: int) -> bool:
        return self.tasks[task].service in self.skills[carer]

    def pair_of(self) -> dict[int, tuple[Pair, int]]:
        """task -> (its pair, the partner task)."""
        table: dict[int, tuple[Pair, int]] = {}
        for pair in self.pairs:
            table[pair.first] = (pair, pair.second)
            table[pair.second] = (pair, pair.first)
        return table


@dataclass(frozen=True)
class Solution:
    """Per carer, the ordered (task, start) of its route."""

    routes: tuple[tuple[tuple[int, float], ...], ...]


@dataclass(frozen=True)
class Evaluation:
    cost: float
    distance: float
    tardiness: float
    max_tardiness: float
    violations: tuple[str, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        return not self.violations


# ---- loaders ------------------------------------------------------------------------------


def _sections(path: Path) -> dict[str, list[str]]:
    names = ("nbNodes", "nbVehi", "nbServi", "r", "DS", "a", "x", "y", "d", "p",
             "mind", "maxd", "e", "l")
    table: dict[str, list[str]] = {}
    current: str | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line in names:
            current = line
            table[current] = []
        elif line and current is not None:
            table[current].append(line)
    missing = [n for n in names if n not in table]
    if missing:
        raise ValueError(f"{path}: section(s) {', '.join(missing)} missing; "
                         "expected the Kummer mirror format of the Mankowska instances.")
    return table


def load_mankowska(path: str | Path) -> HHCInstance:
    """Read one Mankowska et al. (2014) instance in the format of its SOURCE.md.

    Node N-1 (the copy of the depot where routes end) is folded into node 0.
    """
    path = Path(path)
    sec = _sections(path)
    n_nodes = int(sec["nbNodes"][0])
    n_carers = int(sec["nbVehi"][0])
    n_services = int(sec["nbServi"][0])
    required = [[int(v) for v in row.split()] for row in sec["r"]]
    double = {int(v) - 1 for v in " ".join(sec["DS"]).split()}
    ability = [[int(v) for v in row.split()] for row in sec["a"]]
    d = np.array([[float(v) for v in row.split()] for row in sec["d"]])
    p_rows = [[float(v) for v in row.split()] for row in sec["p"]]
    mind = [float(v) for v in " ".join(sec["mind"]).split()]
    maxd = [float(v) for v in " ".join(sec["maxd"]).split()]
    e = [float(v) for v in " ".join(sec["e"]).split()]
    latest = [float(v) for v in " ".join(sec["l"]).split()]
    if d.shape != (n_nodes, n_nodes):
        raise ValueError(f"{path}: section d is {d.shape}, expected {n_nodes}x{n_nodes}.")
    last = n_nodes - 1
    tasks: list[Task] = []
    pairs: list[Pair] = []
    for node in range(1, last):
        services = [s for s in range(n_services) if required[node][s]]
        want = 2 if node in double else 1
        if len(services) != want:
            raise ValueError(f"{path}: patient node {node} needs {len(services)} services; "
                             f"expected {want}.")
        ids = []
        for s in services:
            ids.append(len(tasks))
            tasks.append(Task(node, s, p_rows[node * n_carers][s]))
        if want == 2:
            gap_min = 0.0 if mind[node] <= 0.001 else mind[node]
            gap_max = 0.0 if mind[node] <= 0.001 else maxd[node]
            pairs.append(Pair(ids[0], ids[1], gap_min, gap_max))
    return HHCInstance(
        name=path.stem,
        distances=d[:last, :last].copy(),
        earliest=np.array(e[:last]),
        latest=np.array(latest[:last]),
        tasks=tuple(tasks),
        pairs=tuple(pairs),
        skills=tuple(frozenset(s for s in range(n_services) if row[s]) for row in ability),
        patient_ids=tuple(["depot"] + [f"p{k}" for k in range(1, last)]),
        service_ids=tuple(f"s{s + 1}" for s in range(n_services)),
        carer_ids=tuple(f"c{k + 1}" for k in range(n_carers)),
    )


def load_italian(path: str | Path) -> HHCInstance:
    """Read one Ceschia et al. (2024) "Italian" instance (JSON).

    Window bounds are truncated with ``int()`` as that SOURCE.md advises (float noise such as
    401.99999999999994 stands for 401 in the best solutions).
    """
    path = Path(path)
    raw = json.loads(path.read_text())
    services = [s["id"] for s in raw["services"]]
    default = {s["id"]: float(s.get("default_duration", 0)) for s in raw["services"]}
    s_index = {s: i for i, s in enumerate(services)}
    patients = raw["patients"]
    earliest = [0.0] + [float(int(p["time_window"][0])) for p in patients]
    latest = [math.inf] + [float(int(p["time_window"][1])) for p in patients]
    tasks: list[Task] = []
    pairs: list[Pair] = []
    for k, p in enumerate(patients, start=1):
        ids = []
        for req in p["required_caregivers"]:
            ids.append(len(tasks))
            dur = float(req.get("duration", default[req["service"]]))
            tasks.append(Task(k, s_index[req["service"]], dur))
        if len(ids) == 2:
            sync = p.get("synchronization", {"type": "simultaneous"})
            if sync["type"] == "simultaneous":
                pairs.append(Pair(ids[0], ids[1], 0.0, 0.0))
            else:
                lo, hi = sync["distance"]
                pairs.append(Pair(ids[0], ids[1], float(lo), float(hi)))
        elif len(ids) != 1:
            raise ValueError(f"{path}: patient {p['id']} needs {len(ids)} services; expected 1 or 2.")
    return HHCInstance(
        name=path.stem,
        distances=np.array(raw["distances"], dtype=float),
        earliest=np.array(earliest),
        latest=np.array(latest),
        tasks=tuple(tasks),
        pairs=tuple(pairs),
        skills=tuple(frozenset(s_index[a] for a in c["abilities"]) for c in raw["caregivers"]),
        patient_ids=tuple(["depot"] + [p["id"] for p in patients]),
        service_ids=tuple(services),
        carer_ids=tuple(c["id"] for c in raw["caregivers"]),
    )


def load_solution(instance: HHCInstance, path: str | Path) -> Solution:
    """Read a reference solution JSON (``routes`` of ``{patient, service, arrival_time}``)."""
    raw = json.loads(Path(path).read_text())
    p_index = {pid: k for k, pid in enumerate(instance.patient_ids)}
    s_index = {sid: s for s, sid in enumerate(instance.service_ids)}
    c_index = {cid: k for k, cid in enumerate(instance.carer_ids)}
    task_of = {(t.patient, t.service): i for i, t in enumerate(instance.tasks)}
    routes: list[list[tuple[int, float]]] = [[] for _ in instance.carer_ids]
    for route in raw["routes"]:
        k = c_index[route["caregiver_id"]]
        for loc in route.get("locations", []):
            key = (p_index[loc["patient"]], s_index[loc["service"]])
            if key not in task_of:
                raise ValueError(f"{path}: carer {route['caregiver_id']} does "
                                 f"{loc['service']} at {loc['patient']}, which is not required.")
            routes[k].append((task_of[key], float(loc["arrival_time"])))
    return Solution(tuple(tuple(r) for r in routes))


# ---- evaluator ----------------------------------------------------------------------------


def evaluate(instance: HHCInstance, solution: Solution, eps: float = FEASIBILITY_EPS) -> Evaluation:
    """Cost and every broken hard rule of a solution, as the papers define them."""
    d = instance.distances
    problems: list[str] = []
    start_of: dict[int, float] = {}
    carer_of: dict[int, int] = {}
    distance = 0.0
    for k, route in enumerate(solution.routes):
        at, ready = 0, 0.0
        for task_id, start in route:
            task = instance.tasks[task_id]
            if task_id in start_of:
                problems.append(f"task {task_id} served twice")
            start_of[task_id], carer_of[task_id] = start, k
            if not instance.qualified(k, task_id):
                problems.append(f"carer {instance.carer_ids[k]} lacks {instance.service_ids[task.service]}")
            arrive = ready + d[at, task.patient]
            if start < arrive - eps:
                problems.append(f"carer {instance.carer_ids[k]} starts task {task_id} at {start:.3f} "
                                f"before arriving at {arrive:.3f}")
            if start < instance.earliest[task.patient] - eps:
                problems.append(f"task {task_id} starts {start:.3f} before its window opens")
            distance += d[at, task.patient]
            at, ready = task.patient, start + task.duration
        distance += d[at, 0]
    missing = [t for t in range(len(instance.tasks)) if t not in start_of]
    if missing:
        problems.append(f"{len(missing)} task(s) not served: {missing[:5]}")
    for pair in instance.pairs:
        if pair.first in start_of and pair.second in start_of:
            gap = start_of[pair.second] - start_of[pair.first]
            if gap < pair.min_gap - eps or gap > pair.max_gap + eps:
                problems.append(f"pair {pair.first}/{pair.second}: gap {gap:.3f} outside "
                                f"[{pair.min_gap}, {pair.max_gap}]")
            if carer_of[pair.first] == carer_of[pair.second]:
                problems.append(f"pair {pair.first}/{pair.second} done by one carer")
    tard = [max(0.0, s - instance.latest[instance.tasks[t].patient]) for t, s in start_of.items()]
    total, worst = float(sum(tard)), float(max(tard, default=0.0))
    return Evaluation((distance + total + worst) / 3, distance, total, worst, tuple(problems))
