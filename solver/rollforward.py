"""The roll-forward solve: keep last week's carers, solve the rest of the week around them.

``roll_forward(instance, carried, params)`` takes a ``roster.rollforward.Carry`` (last week's rota
carried onto this week, rows that break a rule already dropped with their reasons) and:

1. **Keeps every carried row.** Each carried visit whose every carer is kept is locked with its
   carried start; the carried rota is the solve's ``reference`` (so a 2:1 of which one carer is
   left keeps that carer when a partner is found). The rest of the week — new sessions and the
   visits whose carers could not be kept — is solved around the locks.
2. **Releases a carried row only when that staffs more slots.** For the visits still uncovered,
   the carried rows next to them (carers eligible for the uncovered visit, on the same day, within
   ``RELEASE_HOURS`` of it) are unlocked, every other row of the rota is locked, and the week is
   solved again in one weighted objective where a change costs ``RELEASE_CHANGE_WEIGHT`` (a
   slot staffed pays for at most three, no continuity gain pays for one); released rows may
   also move their start within the flex. The new rota is taken only when it staffs more
   slots; each carried row it changes is recorded with the uncovered visit it was released for.

Every rota passes ``roster.checker.check`` (``solver.solve`` raises otherwise). The solve function
is a parameter (``solve_fn``): the local-search engine (issue 19) slots in there later, taking the
kept rota as its reference; this module uses only ``solver.solve``'s public ``solve``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from roster.model import Assignment, Instance, Rota
from roster.rollforward import Carry
from solver.params import Result, SolveParams, StopFlag

SolveFn = Callable[[Instance, SolveParams], Result]

RELEASE_HOURS = 3.0
"""A carried row is next to an uncovered visit when it is on the same day and starts or ends
within this many hours of it."""

RELEASE_SHARE = 0.35
"""Share of the time limit kept for the release step."""

RELEASE_CHANGE_WEIGHT = 3_000.0
"""The change weight of the release solve, which weighs every term in one objective (not the
stages in order): a slot staffed (10,000) pays for at most three carried rows changed, and a
change costs more than anything continuity or quality could gain by it (a carer fewer for a
child is 100-560), so that a carried row moves only to staff more slots. In lexicographic mode
the coverage stage changed a third of S's rows for 12 more slots and left the change stage no
time to undo the needless ones."""


@dataclass(frozen=True)
class RollForward:
    """What ``roll_forward`` returns."""

    result: Result
    """The solve's result (its rota is the week's rota, checked)."""
    carry: Carry
    released: dict[tuple[str, str], str] = field(default_factory=dict)
    """(visit id, carer id) of each carried row changed to staff more slots -> the uncovered
    visit it was released for."""
    steps: tuple[dict[str, object], ...] = ()

    @property
    def rota(self) -> Rota:
        return self.result.rota

    def kept_share(self) -> float:
        """Share of the earlier week's rows kept in the new rota (same carer on the matched visit)."""
        now = {(a.visit_id, a.carer_id) for a in self.rota.assignments}
        kept = sum(1 for k in self.carry.carried if k in now)
        return kept / max(1, self.carry.source_rows)


def out_pairs(rota: Rota) -> set[tuple[str, str]]:
    return {(a.visit_id, a.carer_id) for a in rota.assignments}


def staffed_slots(rota: Rota) -> int:
    return len(rota.assignments)


def _solve_with(stop: StopFlag | None) -> SolveFn:
    def run(instance: Instance, params: SolveParams) -> Result:
        from solver.solve import solve

        return solve(instance, params, stop=stop)

    return run


def roll_forward(
    instance: Instance,
    carried: Carry,
    params: SolveParams | None = None,
    solve_fn: SolveFn | None = None,
    release: bool = True,
    stop: StopFlag | None = None,
) -> RollForward:
    """Week ``instance`` solved around ``carried`` (see the module docstring)."""
    params = params or SolveParams()
    run = solve_fn or _solve_with(stop)
    t0 = time.perf_counter()
    locks = carried.complete_rows()
    kept_rota = carried.rota
    first_limit = params.time_limit * ((1 - RELEASE_SHARE) if release else 1.0)
    first = run(instance, replace(
        params, locks=tuple(params.locks) + locks, reference=kept_rota,
        time_limit=first_limit,
    ))
    steps: list[dict[str, object]] = [{
        "step": "around the carried rows", "locked": len(locks),
        "slots": staffed_slots(first.rota), "seconds": round(time.perf_counter() - t0, 3),
    }]
    out = RollForward(first, carried, {}, tuple(steps))
    if not release:
        return out
    left = params.time_limit - (time.perf_counter() - t0)
    if left < 1.0 or not first.rota.unassigned:
        return out
    return _release(instance, carried, params, run, out, left, steps)


def _neighbours(instance: Instance, rota: Rota, carried: Carry) -> dict[tuple[str, str], str]:
    """Carried rows of ``rota`` next to an uncovered visit -> that visit (the first one)."""
    from roster.eligibility import compute_eligibility

    elig = compute_eligibility(instance)
    carried_pairs = set(carried.carried)
    gap = int(RELEASE_HOURS * 60)
    rows_by_carer: dict[str, list[Assignment]] = {}
    for a in rota.assignments:
        if (a.visit_id, a.carer_id) in carried_pairs:
            rows_by_carer.setdefault(a.carer_id, []).append(a)
    out: dict[tuple[str, str], str] = {}
    for u in rota.unassigned:
        v = instance.visit_index[u.visit_id]
        visit = instance.visits[v]
        lo = instance.planned_start[v] - visit.flex_min
        hi = instance.planned_start[v] + visit.flex_min + visit.duration_min
        for c in elig.eligible_carers(v):
            carer_id = instance.carers[int(c)].carer_id
            for a in rows_by_carer.get(carer_id, ()):
                same_day = instance.visit(a.visit_id).date == visit.date
                if same_day and a.start < hi + gap and lo - gap < a.end:
                    out.setdefault((a.visit_id, a.carer_id), u.visit_id)
    return out


def _release(
    instance: Instance, carried: Carry, params: SolveParams, run: SolveFn, out: RollForward,
    left: float, steps: list[dict[str, object]],
) -> RollForward:
    """Step 2 of the module docstring: release the carried rows next to uncovered visits."""
    began = time.perf_counter()
    current = out.rota
    near = _neighbours(instance, current, carried)
    if not near:
        return out
    freed_visits = {vid for vid, _ in near}
    locks = tuple(a for a in current.assignments if a.visit_id not in freed_visits)
    weights = replace(params.weights, change=RELEASE_CHANGE_WEIGHT)
    try:
        second = run(instance, replace(
            params, locks=tuple(params.locks) + locks, reference=current, hint=current,
            weights=weights, lexicographic=False, time_limit=left,
        ))
    except ValueError:
        return out
    have, now = staffed_slots(current), staffed_slots(second.rota)
    steps.append({"step": "release", "released": len(near), "slots": now,
                  "seconds": round(time.perf_counter() - began, 3), "kept": now > have})
    if now <= have:
        return replace(out, steps=tuple(steps))
    after = {(a.visit_id, a.carer_id) for a in second.rota.assignments}
    why = {vid: u for (vid, _), u in near.items()}
    released = {k: why[k[0]] for k in carried.carried
                if k[0] in why and k not in after and k in out_pairs(current)}
    # the result's terms count changes against the carried rota, as the first solve's did
    return RollForward(second, carried, released, tuple(steps))
