"""The roll-forward solve: keep last week's carers, solve the rest of the week around them.

``roll_forward(instance, carried, params)`` takes a ``roster.rollforward.Carry`` (last week's rota
carried onto this week, rows that break a rule already dropped with their reasons) and:

1. **Keeps every carried row.** Each carried visit whose every carer is kept is locked with its
   carried start; the carried rota is the solve's ``reference`` (so a 2:1 of which one carer is
   left keeps that carer when a partner is found). The rest of the week — new sessions and the
   visits whose carers could not be kept — is solved around the locks (``AROUND_SHARE`` of the
   time). This is rota R0.
2. **Changes a carried row only when that staffs more slots.** When R0 leaves visits open, the
   week is solved from scratch (``SCRATCH_SHARE``) to learn how many slots it can staff; if that
   is more, the carried rows are put back into the scratch rota wherever that staffs no fewer
   slots (``roster.rollforward.restore``: S seed 1's first week, 106 -> 149 of 192 kept at 231
   slots), and a small model whose candidates are only R0's pairs and that rota's, with R0
   as reference and a change costing ``CHANGE_WEIGHT`` (more than any continuity gain), staffs
   at least as many slots as the scratch rota while keeping all the carried rows it can (its
   continuity stage is proven on S in about a second). Then every carried row still missing is
   put back wherever that staffs no fewer slots (``roster.rollforward.restore``). The result is
   taken only when it staffs more slots than R0; each carried row it changes is recorded with
   the visit it was changed to staff (the carer's own newly staffed visit, else one newly
   staffed on the same day).

The first version released only the carried rows next to each open visit (same day, 3 hours):
on S that found none of the 5 slots a scratch solve staffs, which need chains of moves.

Every rota passes ``roster.checker.check`` (``solver.solve`` raises otherwise). The solve function
is a parameter (``solve_fn``): the local-search engine (issue 19) slots in there later, taking the
kept rota as its reference; this module uses only ``solver.solve``'s public ``solve``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from roster.model import Instance, Rota
from roster.rollforward import Carry
from solver.params import Result, SolveParams, StopFlag

SolveFn = Callable[[Instance, SolveParams], Result]

AROUND_SHARE = 0.2
"""Share of the time limit for the solve around the carried rows (all of it without step 2)."""

SCRATCH_SHARE = 0.55
"""Share of the time left after step 1 for the scratch solve of step 2; the union model gets
the rest: its coverage stage is proven in a second or two on S, its continuity stage (the
changes) sometimes only in 5-8 s on a busy machine."""

CHANGE_WEIGHT = 5_000.0
"""The change weight of the union model's continuity stage: more than any continuity gain of a
change (a carer fewer for a child is 100-560), so it keeps every carried row it can at the
coverage its first stage reached."""


@dataclass(frozen=True)
class RollForward:
    """What ``roll_forward`` returns."""

    result: Result
    """The solve's result (its rota is the week's rota, checked)."""
    carry: Carry
    released: dict[tuple[str, str], str] = field(default_factory=dict)
    """(visit id, carer id) of each carried row changed to staff more slots -> the visit it was
    changed to staff."""
    steps: tuple[dict[str, object], ...] = ()

    @property
    def rota(self) -> Rota:
        return self.result.rota

    def kept_share(self) -> float:
        """Share of the earlier week's rows kept in the new rota (same carer on the matched visit)."""
        now = pairs(self.rota)
        kept = sum(1 for k in self.carry.carried if k in now)
        return kept / max(1, self.carry.source_rows)


def pairs(rota: Rota) -> set[tuple[str, str]]:
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
    """Week ``instance`` solved around ``carried`` (see the module docstring). ``release=False``
    stops after step 1."""
    params = params or SolveParams()
    run = solve_fn or _solve_with(stop)
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit
    locks = carried.complete_rows()
    limit = params.time_limit * (AROUND_SHARE if release else 1.0)
    # The search engine has refused carried rows as locks although roster's checker passes the
    # carried rota (M seed 1, week 3 of the weeks benchmark: "lock C0057-20261211-1300 -> K0014:
    # the rules forbid it ...") and then failed to load the same rota as its warm start ("a
    # loaded route breaks a rule"): fall back to the carried rota as reference and warm start,
    # then to the greedy around the locks, so that the week is always solved.
    first = _first_of(run, instance, (
        replace(params, locks=tuple(params.locks) + locks, reference=carried.rota,
                time_limit=limit),
        replace(params, reference=carried.rota, hint=carried.rota, time_limit=limit),
        replace(params, locks=tuple(params.locks) + locks, reference=carried.rota,
                use_greedy_only=True, time_limit=limit),
    ))
    steps: list[dict[str, object]] = [{
        "step": "around the carried rows", "locked": len(locks),
        "slots": staffed_slots(first.rota), "seconds": round(time.perf_counter() - t0, 3),
    }]
    out = RollForward(first, carried, {}, tuple(steps))
    if not release or not first.rota.unassigned or (stop is not None and stop.is_set()):
        return out
    began = time.perf_counter()
    # (warm-started from R0 instead, S seed 1's first week got no slot more than R0's 226)
    scratch = run(instance, replace(params, time_limit=max(1.0, SCRATCH_SHARE * (deadline - began))))
    steps.append({"step": "scratch", "slots": staffed_slots(scratch.rota),
                  "seconds": round(time.perf_counter() - began, 3)})
    if staffed_slots(scratch.rota) <= staffed_slots(first.rota):
        return replace(out, steps=tuple(steps))
    began = time.perf_counter()
    from roster.rollforward import restore

    warm = Rota(tuple(restore(instance, carried, scratch.rota.assignments)))
    steps.append({"step": "restore scratch", "slots": staffed_slots(warm),
                  "kept": len(carried.kept_pairs() & pairs(warm)),
                  "seconds": round(time.perf_counter() - began, 3)})
    # the visits R0 and that rota staff alike are fixed: only the others are decided
    both = pairs(first.rota) & pairs(warm)
    same = {v for v, _ in both}
    same = {v for v in same
            if {k for x, k in pairs(first.rota) if x == v} == {k for x, k in pairs(warm) if x == v}}
    fixed = tuple((v, k) for v, k in sorted(both) if v in same)
    union_params = replace(
        params, locks=tuple(params.locks) + fixed, reference=first.rota, hint=warm,
        max_candidates=0, weights=replace(params.weights, change=CHANGE_WEIGHT),
        time_limit=max(1.0, deadline - time.perf_counter()),
    )
    try:
        # when the engine refuses the fixed pairs (see step 1): the same without them, the
        # engine starting from the restored rota with R0 as the reference it keeps
        union = _first_of(run, instance, (union_params, replace(
            union_params, locks=params.locks, max_candidates=params.max_candidates)))
    except (ValueError, AssertionError):
        return replace(out, steps=tuple(steps))
    steps.append({"step": "union", "slots": staffed_slots(union.rota),
                  "seconds": round(time.perf_counter() - began, 3)})
    if staffed_slots(union.rota) <= staffed_slots(first.rota):
        return replace(out, steps=tuple(steps))
    final = _restored(instance, carried, params, run, union)
    steps.append({"step": "restore", "slots": staffed_slots(final.rota),
                  "kept": len(carried.kept_pairs() & pairs(final.rota))})
    return RollForward(final, carried, _why(instance, carried, first.rota, final.rota),
                       tuple(steps))


def _first_of(run: SolveFn, instance: Instance, attempts: tuple[SolveParams, ...]) -> Result:
    """The first of ``attempts`` that solves; the last one's error if none does."""
    for params in attempts[:-1]:
        try:
            return run(instance, params)
        except (ValueError, AssertionError):
            continue
    return run(instance, attempts[-1])


def _restored(
    instance: Instance, carried: Carry, params: SolveParams, run: SolveFn, result: Result
) -> Result:
    """``result`` with every missing carried row put back where that staffs no fewer slots,
    re-checked through the solver (every row locked, no other candidate)."""
    from roster.rollforward import restore

    rows = restore(instance, carried, result.rota.assignments)
    if pairs(Rota(tuple(rows))) == pairs(result.rota) or len(rows) < staffed_slots(result.rota):
        return result
    try:
        return run(instance, replace(
            params, locks=tuple(rows), reference=carried.rota, hint=None, max_candidates=0,
            time_limit=max(1.0, min(5.0, params.time_limit * 0.1)),
        ))
    except (ValueError, AssertionError):
        return result


def _why(
    instance: Instance, carried: Carry, before: Rota, after: Rota
) -> dict[tuple[str, str], str]:
    """Each carried row of ``before`` not in ``after`` -> a visit it was changed to staff: one
    the carer took that ``before`` left open, else one newly staffed that day, else any."""
    open_before = {u.visit_id for u in before.unassigned}
    staffed_after = {a.visit_id for a in after.assignments}
    newly = [v.visit_id for v in instance.visits
             if v.visit_id in open_before and v.visit_id in staffed_after]
    if not newly:
        return {}
    now = pairs(after)
    out: dict[tuple[str, str], str] = {}
    for visit_id, carer_id in sorted(carried.kept_pairs()):
        if (visit_id, carer_id) in now:
            continue
        own = [v for v in newly if (v, carer_id) in now]
        day = instance.visit(visit_id).date
        same_day = [v for v in newly if instance.visit(v).date == day]
        out[(visit_id, carer_id)] = (own or same_day or newly)[0]
    return out
