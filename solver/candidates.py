"""What every solving method starts from: the candidate (carer, visit) pairs with their allowed
starts, the journeys between visits, and the forms a lock takes.

Below every method (greedy, CP-SAT model, coverage master, bounds, search): plain numpy and
``roster``, no solver library.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from roster.eligibility import Eligibility
from roster.model import Assignment, Instance
from roster.rules import journey_between, travel_model
from roster.travel import TravelModel
from solver.params import Lock, SolveParams

Pairs = dict[tuple[int, int], list[tuple[int, int]]]
"""(carer, visit) -> allowed start ranges (``candidate_pairs``)."""


def candidate_pairs(
    instance: Instance,
    elig: Eligibility,
    params: SolveParams,
    keep: Iterable[tuple[int, int]] = (),
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(carer, visit) -> allowed start ranges, for every pair the model may use.

    ``params.max_candidates`` keeps, per visit, the carers the child knows first, then the
    nearest; locked and reference pairs, and the pairs in ``keep`` (the warm start's), are
    always kept.
    """
    keep_always: set[tuple[int, int]] = set()
    for lock in params.locks:
        vid, cid = lock_ids(lock)
        if vid in instance.visit_index and cid in instance.carer_index:
            keep_always.add((instance.carer_index[cid], instance.visit_index[vid]))
    if params.reference is not None:
        for a in params.reference.assignments:
            if a.visit_id in instance.visit_index and a.carer_id in instance.carer_index:
                keep_always.add((instance.carer_index[a.carer_id], instance.visit_index[a.visit_id]))
    locked_carers: dict[int, set[int]] = {}
    for c, v in keep_always - reference_only(instance, params):
        locked_carers.setdefault(v, set()).add(c)
    keep_always |= set(keep)
    history = instance.history_hours
    pairs: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for v, visit in enumerate(instance.visits):
        eligible = [int(c) for c in elig.eligible_carers(v)]
        if len(locked_carers.get(v, ())) >= visit.carers:
            # a fully locked visit needs no other candidate: a much smaller model for repairs,
            # referrals and large-neighbourhood search, which lock most of the week
            eligible = [c for c in eligible if c in locked_carers[v]]
        if params.max_candidates is not None and len(eligible) > params.max_candidates:
            def rank(c: int, v: int = v, child: str = visit.child_id) -> tuple[float, float, int]:
                known = history.get((child, instance.carers[c].carer_id), 0.0)
                return (-known, float(elig.home_miles[c, v]), c)

            eligible.sort(key=rank)
            chosen = set(eligible[: params.max_candidates])
            eligible = [c for c in sorted(eligible) if c in chosen or (c, v) in keep_always]
        for c in eligible:
            ranges = elig.allowed_starts(c, v)
            if ranges:
                pairs[(c, v)] = ranges
    return pairs


def reference_only(instance: Instance, params: SolveParams) -> set[tuple[int, int]]:
    """Pairs kept for the reference rota that are not locked."""
    locked = set()
    for lock in params.locks:
        vid, cid = lock_ids(lock)
        if vid in instance.visit_index and cid in instance.carer_index:
            locked.add((instance.carer_index[cid], instance.visit_index[vid]))
    out = set()
    if params.reference is not None:
        for a in params.reference.assignments:
            if a.visit_id in instance.visit_index and a.carer_id in instance.carer_index:
                key = (instance.carer_index[a.carer_id], instance.visit_index[a.visit_id])
                if key not in locked:
                    out.add(key)
    return out


def lock_ids(lock: Lock) -> tuple[str, str]:
    """(visit_id, carer_id) of a lock, whichever form it takes."""
    if isinstance(lock, Assignment):
        return lock.visit_id, lock.carer_id
    return lock[0], lock[1]


class Travel:
    """Journeys between visits: vectorised default model, exact lookups with a travel matrix."""

    def __init__(self, instance: Instance, model: TravelModel | None = None):
        self.instance = instance
        self.model = travel_model(instance, model)
        self.cache: dict[tuple[int, int], tuple[float, int]] = {}
        places = [instance.visit_location(v) for v in instance.visits]
        self.lat = np.array([p[0] for p in places], dtype=float)
        self.lon = np.array([p[1] for p in places], dtype=float)

    def block(self, rows: Sequence[int], cols: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        if not self.model.matrix:
            r, c = np.asarray(rows), np.asarray(cols)
            return self.model.journey_matrix(self.lat[r], self.lon[r], self.lat[c], self.lon[c])
        miles = np.zeros((len(rows), len(cols)))
        minutes = np.zeros((len(rows), len(cols)), dtype=np.int64)
        for a, i in enumerate(rows):
            for b, j in enumerate(cols):
                miles[a, b], minutes[a, b] = self.pair(i, j)
        return miles, minutes

    def pair(self, i: int, j: int) -> tuple[float, int]:
        key = (i, j)
        if key not in self.cache:
            v = self.instance.visits
            self.cache[key] = journey_between(self.instance, v[i], v[j], self.model)
        return self.cache[key]


def merge_ranges(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping ranges covering the same minutes (touching ranges joined)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def start_range(
    ranges: Pairs, c: int, visits: list[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """Carer c's earliest and latest start of each visit."""
    return ({v: ranges[(c, v)][0][0] for v in visits},
            {v: ranges[(c, v)][-1][1] for v in visits})
