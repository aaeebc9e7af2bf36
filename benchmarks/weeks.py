"""Multi-week benchmark (issue 23): consecutive weeks of one caseload with churn, three ways.

``python -m benchmarks.weeks --size M --weeks 8 --seed 1 --time-limit 30`` (or ``roster bench
weeks --seeds 1 --time-limit 30``; ``roster bench weeks-S`` for S) generates the weeks with ``roster.generator.generate_weeks`` (history
planted from four rostered weeks; sickness, annual leave, training expiring, a carer leaving, a
new starter, a new referral, a package ending, a family refusing a carer) and rosters every week
with each method, each method's history and "last week" being its own rotas:

* ``rollforward``: last week's rota carried onto the week (``roster.rollforward.carry``) and the
  week solved around it (``solver.rollforward.roll_forward``);
* ``scratch``: ``solver.solve`` from scratch, with the history of the method's own weeks only;
* ``coordinator``: last week's rota copied (the rows that still keep every rule) and the gaps
  filled by the generator's first fit (``roster.generator.first_fit(keep=...)``).

Per week and method: coverage (carer slots staffed), the share of visits with the same carers as
last week (of the visits that continue a staffed one), families with any change, changes forced
(a rule, or to staff more slots) and not forced, rows changed without a forcing reason (share of
last week's rows), distinct carers per child, the share of children who see only carers they
know (and of rows by a known carer), and miles. Every rota is checked with ``roster.checker``.
Prints a markdown table and writes a CSV with ``--csv``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from roster.changes import roll_changes, roll_counts
from roster.checker import check
from roster.generator import SIZES, first_fit, generate_weeks, history_from
from roster.model import Instance, Rota
from roster.rollforward import Carry, carry

METHODS: tuple[str, ...] = ("rollforward", "scratch", "coordinator")
COLUMNS: tuple[str, ...] = (
    "week", "method", "slots", "staffed", "coverage_pct", "same_carer_pct", "families_changed",
    "changes_forced", "changes_not_forced", "rows_unforced_pct", "carers_per_child",
    "children_only_known_pct", "rows_known_pct", "miles", "released", "seconds", "violations",
)


def _rotate(
    method: str, instance: Instance, carried: Carry, time_limit: float, seed: int
) -> tuple[Rota, dict[tuple[str, str], str]]:
    """The method's rota of the week and the carried rows it released for coverage."""
    from solver.params import SolveParams

    params = SolveParams(time_limit=time_limit, workers=2, seed=seed)
    if method == "rollforward":
        from solver.rollforward import roll_forward

        rolled = roll_forward(instance, carried, params)
        return rolled.rota, dict(rolled.released)
    if method == "scratch":
        from solver.solve import solve

        return solve(instance, params).rota, {}
    return first_fit(instance, keep=carried.complete_rows()), {}


def _metrics(
    previous: Instance, carried: Carry, rota: Rota, released: dict[tuple[str, str], str],
) -> dict[str, Any]:
    inst = carried.instance
    slots = sum(v.carers for v in inst.visits)
    staffed = len(rota.assignments)
    changes = roll_changes(previous, carried, rota, released)
    counts = roll_counts(changes)
    continuing = [c for c in changes if c.carers_before and c.kind != "gone"]
    same = sum(1 for c in continuing if c.kind == "same")
    unforced_rows = sum(
        1 for c in changes for r in c.reasons if not r.forced
    )
    by_child: dict[str, set[str]] = {}
    for a in rota.assignments:
        by_child.setdefault(inst.visit(a.visit_id).child_id, set()).add(a.carer_id)
    only_known = sum(1 for child, ks in by_child.items() if all(inst.knows(child, k) for k in ks))
    rows_known = sum(1 for a in rota.assignments if inst.knows(inst.visit(a.visit_id).child_id, a.carer_id))
    return {
        "slots": slots,
        "staffed": staffed,
        "coverage_pct": round(100 * staffed / max(1, slots), 2),
        "same_carer_pct": round(100 * same / max(1, len(continuing)), 2),
        "families_changed": counts["families_changed"],
        "changes_forced": counts["forced"],
        "changes_not_forced": counts["not_forced"],
        "rows_unforced_pct": round(100 * unforced_rows / max(1, carried.source_rows), 2),
        "carers_per_child": round(statistics.fmean(len(ks) for ks in by_child.values()), 3)
        if by_child else 0.0,
        "children_only_known_pct": round(100 * only_known / max(1, len(by_child)), 2),
        "rows_known_pct": round(100 * rows_known / max(1, staffed), 2),
        "miles": round(sum(a.travel_miles for a in rota.assignments), 1),
        "released": len(released),
    }


def run(
    size: str, weeks: int, seed: int, time_limit: float, methods: Sequence[str] = METHODS,
    echo: Any = print,
) -> list[dict[str, Any]]:
    """Every (week, method) row of the benchmark."""
    carers, children = SIZES[size]
    caseload, plan = generate_weeks(carers, children, weeks, seed)
    planted = list(caseload.history_weeks)
    rows: list[dict[str, Any]] = []
    for method in methods:
        done: list[tuple[Instance, Rota]] = list(planted)
        for i, week in enumerate(plan):
            instance = replace(week.instance, history=history_from(done, week.instance))
            previous, last_rota = done[-1]
            carried = carry(previous, last_rota, instance)
            began = time.perf_counter()
            rota, released = _rotate(method, instance, carried, time_limit, seed)
            seconds = time.perf_counter() - began
            violations = len(check(instance, rota))
            row = {"week": i + 1, "method": method, **_metrics(previous, carried, rota, released),
                   "seconds": round(seconds, 1), "violations": violations}
            rows.append(row)
            echo(" ".join(f"{k}={row[k]}" for k in COLUMNS))
            done.append((instance, rota))
    return rows


def steady(size: str, seed: int, time_limit: float) -> dict[str, Any]:
    """Demand and supply unchanged: last week solved by ``solver.solve``, the same caseload a
    week later (``roster.generator.steady_week``) rolled forward. Share of last week's rows kept
    and slots staffed, both weeks."""
    from roster.generator import generate_caseload, steady_week
    from solver.params import SolveParams
    from solver.rollforward import roll_forward
    from solver.solve import solve

    caseload = generate_caseload(*SIZES[size], seed=seed)
    params = SolveParams(time_limit=time_limit, workers=2, seed=seed)
    last = solve(caseload.instance, params).rota
    new = steady_week(caseload.instance, caseload.packages)
    carried = carry(caseload.instance, last, new)
    began = time.perf_counter()
    rolled = roll_forward(new, carried, params)
    return {
        "size": size, "seed": seed, "rows_last_week": len(last.assignments),
        "kept_pct": round(100 * rolled.kept_share(), 2), "slots_last_week": len(last.assignments),
        "slots_now": len(rolled.rota.assignments), "violations": len(check(new, rolled.rota)),
        "seconds": round(time.perf_counter() - began, 1),
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    """A markdown table, weeks in order, methods side by side."""
    heads = ("week", "method", "coverage %", "same carer %", "families changed",
             "forced / not", "unforced rows %", "carers / child", "only known %",
             "rows known %", "miles", "s")
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in sorted(rows, key=lambda r: (r["week"], METHODS.index(r["method"]))):
        lines.append(
            f"| {r['week']} | {r['method']} | {r['coverage_pct']:.2f} ({r['staffed']}/{r['slots']}) "
            f"| {r['same_carer_pct']:.1f} | {r['families_changed']} | {r['changes_forced']} / "
            f"{r['changes_not_forced']} | {r['rows_unforced_pct']:.2f} | {r['carers_per_child']:.2f} "
            f"| {r['children_only_known_pct']:.1f} | {r['rows_known_pct']:.1f} | {r['miles']:.0f} "
            f"| {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def summary(rows: Sequence[dict[str, Any]]) -> str:
    """Medians over the weeks, per method."""
    heads = ("method", "coverage %", "same carer %", "families changed", "unforced rows %",
             "carers / child", "only known %", "miles", "violations")
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for m in METHODS:
        mine = [r for r in rows if r["method"] == m]
        if not mine:
            continue

        def med(key: str, mine: list[dict[str, Any]] = mine) -> float:
            return statistics.median(r[key] for r in mine)

        lines.append(
            f"| {m} | {med('coverage_pct'):.2f} | {med('same_carer_pct'):.1f} | "
            f"{med('families_changed'):.0f} | {med('rows_unforced_pct'):.2f} | "
            f"{med('carers_per_child'):.2f} | {med('children_only_known_pct'):.1f} | "
            f"{med('miles'):.0f} | {sum(r['violations'] for r in mine)} |"
        )
    return "\n".join(lines)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", default="M", choices=("S", "M"), help="caseload size (default M)")
    parser.add_argument("--weeks", type=int, default=8, help="consecutive weeks (default 8)")
    parser.add_argument("--seed", type=int, default=1, help="generator and solver seed (default 1)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per solve (default 30)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--csv", type=Path, default=None, help="also write the rows to this CSV")
    parser.add_argument("--steady", action="store_true",
                        help="only the steady-week check: demand and supply unchanged")


def run_command(args: argparse.Namespace) -> int:
    if getattr(args, "steady", False):
        print(steady(args.size, args.seed, args.time_limit))
        return 0
    rows = run(args.size, args.weeks, args.seed, args.time_limit, args.methods,
               echo=lambda line: print(line, file=sys.stderr))
    if args.csv is not None:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with args.csv.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    print(table(rows))
    print()
    print(summary(rows))
    return 0


def run_from_harness(bench: argparse.Namespace, folder: Path) -> int:
    """``roster bench weeks`` (M) or ``roster bench weeks-S``, with the bench options that apply:
    ``--seeds`` (the first), ``--time-limit`` (default 30), ``--methods``; the CSV goes to the
    bench's results folder as ``weeks-<size>.csv``."""
    size = "S" if bench.suites[0] == "weeks-S" else "M"
    args = argparse.Namespace(
        size=size, weeks=8, seed=bench.seeds[0], time_limit=bench.time_limit or 30.0,
        methods=[m for m in (bench.methods or METHODS) if m in METHODS],
        csv=Path(folder) / f"weeks-{size}.csv",
    )
    return run_command(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.weeks", description=__doc__)
    configure_parser(parser)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
