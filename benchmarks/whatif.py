"""Interactive what-if timings on an M caseload: sickness repair (issue 7) and a referral (issue 5).

Both are answered while a coordinator or manager waits, so the targets are seconds: repair <= 5 s
and a referral answer within 5 s on M. Each case runs ``--runs`` times in one warm process (as the
app calls it); the table gives the median, the spread, and what the answer was, and every rota is
checked with ``roster.checker``.

    python -m benchmarks.whatif --runs 3

writes ``benchmarks/results/WHATIF.md``, which ``roster bench`` includes in RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from roster.atomic import atomic_write_text
from roster.checker import check
from roster.generator import SIZES, generate
from roster.model import Absence, Child, Instance, Rota, Visit

HERE = Path(__file__).resolve().parent
WEEK = date(2026, 11, 23)


def _timed(runs: int, work: Callable[[], Any]) -> tuple[list[float], Any]:
    times, last = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        last = work()
        times.append(time.perf_counter() - t0)
    return times, last


def _busiest_carer(rota: Rota) -> str:
    counts: dict[str, int] = {}
    for a in rota.assignments:
        counts[a.carer_id] = counts.get(a.carer_id, 0) + 1
    return max(sorted(counts), key=lambda k: counts[k])


def _referral(
    instance: Instance,
    name: str,
    east_degrees: float,
    days: tuple[int, ...] = (0, 2, 4),
    carers: int = 1,
    competencies: tuple[str, ...] = (),
) -> Any:
    """A new child ``east_degrees`` of longitude east of an existing one (0.002 is next door,
    0.45 about 20 miles), with after-school sessions on ``days`` (0 = Monday)."""
    from solver.referral import Referral

    near = instance.children[0]
    new = Child(
        child_id=name, name="Referral", date_of_birth=date(2016, 3, 1),
        lat=near.lat + 0.002, lon=near.lon + east_degrees, commissioner=near.commissioner,
        spec="generic_home_care",
    )  # fmt: skip
    visits = tuple(
        Visit(visit_id=f"{name}-{d}", child_id=name, date=WEEK + timedelta(days=d),
              start="16:00", duration_min=90, flex_min=30, carers=carers, competencies=competencies)
        for d in days
    )  # fmt: skip
    return Referral(name, (new,), visits)


def measure(runs: int, seed: int) -> list[dict[str, Any]]:
    from solver.params import SolveParams
    from solver.referral import Decision, Referral, ReferralParams, evaluate_referral, merge
    from solver.repair import RepairParams, RepairResult, repair
    from solver.solve import solve

    carers, children = SIZES["M"]
    instance = generate(carers=carers, children=children, seed=seed, week_start=WEEK)
    current = solve(instance, SolveParams(use_greedy_only=True)).rota  # greedy + explanations
    assert check(instance, current) == [], "the current rota must be valid"
    absent = _busiest_carer(current)
    rows: list[dict[str, Any]] = []
    for label, days in (("repair: busiest carer off one day", 1), ("repair: busiest carer off all week", 7)):
        absence = Absence(absent, datetime(2026, 11, 23, 0, 0), datetime(2026, 11, 23, 0, 0) + timedelta(days=days))

        def repair_once(a: Absence = absence) -> RepairResult:
            return repair(instance, current, a, RepairParams())

        times, res = _timed(runs, repair_once)
        ok = check(res.instance, res.rota) == []
        rows.append({
            "case": label, "times": times, "checked": ok,
            "answer": f"{len(res.broken)} visits broken, {len(res.uncovered)} left uncovered, "
                      f"{len({c.child_id for c in res.changes})} families' carers changed",
        })  # fmt: skip
    cases = (
        ("referral that fits (3 sessions)", _referral(instance, "REF1", 0.002), False),
        ("referral next door, 2:1 with peg_feeding every weekday at 16:00",
         _referral(instance, "REF3", 0.002, days=(0, 1, 2, 3, 4), carers=2, competencies=("peg_feeding",)), False),
        ("referral 40 miles out: the decline and its reasons", _referral(instance, "REF2", 0.9), False),
        ("referral 40 miles out, with verified alternatives", _referral(instance, "REF2", 0.9), True),
    )
    for label, referral, alternatives in cases:
        params = ReferralParams(time_limit=5.0, alternatives=alternatives, alternatives_time=20.0)

        def evaluate_once(p: ReferralParams = params, r: Referral = referral) -> Decision:
            return evaluate_referral(instance, r, current, None, p)

        times, decision = _timed(runs, evaluate_once)
        merged = merge(instance, referral)
        ok = decision.rota is None or check(merged, decision.rota) == []
        rows.append({
            "case": label, "times": times, "checked": ok,
            "answer": f"accept={decision.accept}, {decision.sessions_staffed}/{decision.sessions_total} "
                      f"sessions, {len(decision.changed_assignments)} existing assignments changed"
                      + (f"; alternatives: {'; '.join(a['summary'] for a in decision.alternatives)}"
                         if decision.alternatives else "")
                      + (f"; first reason: {decision.rationale.split('. ')[1][:120]}"
                         if not decision.accept and ". " in decision.rationale else ""),
        })  # fmt: skip
    for r in rows:
        r["instance"] = f"M-seed{seed} ({len(instance.carers)} carers, {len(instance.visits)} visits)"
    return rows


def report(rows: list[dict[str, Any]], command: str) -> str:
    lines = [
        "## What-if answers on M (repair and referral)", "",
        f"Command: `{command}`. Times are in one warm process (as the app calls them), median of "
        "the runs; the current rota is the greedy's. Targets: repair <= 5 s, referral <= 5 s.", "",
        "| instance | case | median s | runs (s) | answer | checker |",
        "|---|---|---|---|---|---|",
    ]  # fmt: skip
    for r in rows:
        runs = " / ".join(f"{t:.2f}" for t in r["times"])
        lines.append(
            f"| {r['instance']} | {r['case']} | {statistics.median(r['times']):.2f} | {runs} | "
            f"{r['answer']} | {'clean' if r['checked'] else 'VIOLATIONS'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "WHATIF.md")
    args = parser.parse_args(argv)
    rows = measure(args.runs, args.seed)
    text = report(rows, f"python -m benchmarks.whatif --runs {args.runs} --seed {args.seed}")
    print(text)
    atomic_write_text(args.out, text)
    return 0 if all(r["checked"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

