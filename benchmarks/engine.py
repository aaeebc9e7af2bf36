"""The local-search engine at M: move evaluations a second, the 60 s solve against the older
CP-SAT move search in the same run, and keeping a rota (keep + a lock, a relaxation with keep).

    python -m benchmarks.engine --seeds 1 --runs 3 [--out DIR]

prints the tables and writes ``DIR/ENGINE.md`` (default ``benchmarks/results``). Every rota is
checked with ``roster.checker``; a violation stops the run. Medians of ``--runs`` runs; the
machine's load average is printed beside each table, since helpers may share the cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from roster.atomic import atomic_write_text
from roster.checker import check
from roster.generator import SIZES, generate
from roster.model import Instance, Rota
from solver import SolveParams, solve
from solver.greedy import greedy
from solver.params import Weights
from solver.search import SearchParams, improve

HERE = Path(__file__).resolve().parent
WEEK = date(2026, 11, 23)


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _checked(instance: Instance, rota: Rota) -> Rota:
    bad = [v for v in check(instance, rota) if v.rule != "structure" or rota.unassigned]
    if bad:
        raise SystemExit(f"rule broken: {bad[0]}")
    return rota


def _known_share(instance: Instance, rota: Rota) -> float:
    rows = rota.assignments
    known = sum(1 for a in rows if instance.knows(instance.visit(a.visit_id).child_id, a.carer_id))
    return known / max(len(rows), 1)


def _carers_per_child(instance: Instance, rota: Rota) -> float:
    seen: dict[str, set[str]] = {}
    for a in rota.assignments:
        seen.setdefault(instance.visit(a.visit_id).child_id, set()).add(a.carer_id)
    return sum(len(s) for s in seen.values()) / max(len(seen), 1)


def speed(instance: Instance, runs: int, moves: int) -> list[dict[str, Any]]:
    """The engine alone from the greedy rota: a fixed number of moves, timed."""
    start = greedy(instance)
    out = []
    for run in range(runs):
        t0 = time.process_time()
        r = improve(instance, start, weights=Weights(), search=SearchParams(max_moves=moves, seed=run))
        cpu = time.process_time() - t0
        _checked(instance, r.rota)
        out.append({"run": run, "seconds": r.search_seconds, "cpu": cpu, "moves": r.moves,
                    "evaluations": r.evaluations, "stats": r.stats,
                    "start": r.start_totals, "best": r.best_totals})
    return out


def solve_row(instance: Instance, params: SolveParams, kept: Rota | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    result = solve(instance, params)
    wall = time.perf_counter() - t0
    rota = _checked(instance, result.rota)
    row: dict[str, Any] = {
        "wall": wall,
        "slots": len(rota.assignments),
        "bound": result.carer_slots_bound,
        "carers_per_child": _carers_per_child(instance, rota),
        "known": _known_share(instance, rota),
        "miles": result.terms["travel_miles"],
        "search": next((s for s in result.stages if s["stage"] in ("search", "lns")), {}),
    }
    if kept is not None:
        pairs = {(a.visit_id, a.carer_id) for a in rota.assignments}
        row["changed"] = sum(1 for a in kept.assignments if (a.visit_id, a.carer_id) not in pairs) / max(
            len(kept.assignments), 1)
        row["kept_slots"] = len(kept.assignments)
    return row


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--moves", type=int, default=100_000)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--keep-limit", type=float, default=30.0)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--skip", nargs="*", default=[], choices=["speed", "solve", "keep"])
    args = ap.parse_args(argv)
    command = "python -m benchmarks.engine " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"## The local-search engine at M (`{command}`)", ""]
    carers, children = SIZES["M"]
    for seed in args.seeds:
        instance = generate(carers=carers, children=children, seed=seed, week_start=WEEK)
        lines.append(f"### M seed {seed}: {len(instance.carers)} carers, {len(instance.visits)} visits, "
                     f"{sum(v.carers for v in instance.visits)} carer slots")
        if "speed" not in args.skip:
            load = _load()
            rows = speed(instance, args.runs, args.moves)
            lines += ["", f"Engine alone from the greedy rota, {args.moves:,} moves a run, {args.runs} runs "
                      f"(load average before: {load}; after: {_load()}).", "",
                      "| move | tried | evaluations | accepted | better | share of evaluations |",
                      "|---|---|---|---|---|---|"]
            for kind in rows[0]["stats"]:
                per = [r["stats"][kind] for r in rows]
                share = per[0]["evaluations"] / max(rows[0]["evaluations"], 1)
                lines.append(f"| {kind} | {per[0]['tried']:,} | {per[0]['evaluations']:,} | {per[0]['accepted']:,} "
                             f"| {per[0]['better']:,} | {100 * share:.1f} % |")
            ev = statistics.median(r["evaluations"] / r["seconds"] for r in rows)
            cpu = statistics.median(r["cpu"] / r["seconds"] for r in rows)
            mv = statistics.median(r["moves"] / r["seconds"] for r in rows)
            lines += [f"| **all** (run 0) | | | | | **{ev:,.0f} evaluations a second** (median of runs) |", "",
                      f"The process had {100 * cpu:.0f} % of a core over the run (CPU time / wall time, median; "
                      "loading included in the CPU time).", "",
                      f"Moves a second (median): {mv:,.0f}. Totals (uncovered, continuity, quality): "
                      f"greedy {tuple(round(x) for x in rows[0]['start'])} -> "
                      f"{tuple(round(x) for x in rows[0]['best'])} (run 0).", ""]
            print("\n".join(lines[-16:]))
        if "solve" not in args.skip:
            load = _load()
            table: dict[str, list[dict[str, Any]]] = {"engine": [], "lns": []}
            for run in range(args.runs):
                for name, engine in (("engine", True), ("lns", False)):
                    p = SolveParams(time_limit=args.time_limit, seed=run, engine=engine)
                    table[name].append(solve_row(instance, p))
            lines += [f"`solve` with {args.time_limit:g} s, the engine against the CP-SAT move search "
                      f"(`SolveParams(engine=False)`), alternating in one run (load before: {load}; after: {_load()}).", "",
                      "| method | slots (median) | bound | coverage gap | carers per child | known-carer rows | miles | wall s |",
                      "|---|---|---|---|---|---|---|---|"]
            for name, rows2 in table.items():
                slots = _median(rows2, "slots")
                bound = rows2[0]["bound"]
                gap = (bound - slots) / bound if bound else float("nan")
                lines.append(f"| {name} | {slots:,.0f} ({', '.join(str(r['slots']) for r in rows2)}) | {bound} | "
                             f"{100 * gap:.2f} % | {_median(rows2, 'carers_per_child'):.2f} | "
                             f"{100 * _median(rows2, 'known'):.1f} % | {_median(rows2, 'miles'):,.0f} | "
                             f"{_median(rows2, 'wall'):.1f} |")
            lines.append("")
            print("\n".join(lines[-6:]))
        if "keep" not in args.skip:
            load = _load()
            current = solve(instance, SolveParams(time_limit=args.time_limit, seed=0)).rota
            _checked(instance, current)
            lock = current.assignments[len(current.assignments) // 2]
            wider = replace(instance, settings=replace(instance.settings, mileage_cap_miles=25.0))
            cases = {
                "keep + lock one row": (instance, SolveParams(time_limit=args.keep_limit, hint=current,
                                                              reference=current, locks=(lock,))),
                "mileage cap 20 -> 25, keep": (wider, SolveParams(time_limit=args.keep_limit, hint=current,
                                                                  reference=current)),
                "keep, older path (engine=False)": (instance, SolveParams(
                    time_limit=args.keep_limit, hint=current, reference=current, locks=(lock,), engine=False)),
            }
            lines += [f"Keeping the current rota ({len(current.assignments):,} slots, solved with "
                      f"{args.time_limit:g} s), {args.keep_limit:g} s each (load before: {load}).", "",
                      "| case | slots (median) | kept rota's slots | rows changed | wall s |", "|---|---|---|---|---|"]
            for name, (inst, p) in cases.items():
                rows3 = [solve_row(inst, replace(p, seed=run), kept=current) for run in range(args.runs)]
                lines.append(f"| {name} | {_median(rows3, 'slots'):,.0f} | {rows3[0]['kept_slots']:,} | "
                             f"{100 * _median(rows3, 'changed'):.2f} % | {_median(rows3, 'wall'):.1f} |")
            lines.append("")
            print("\n".join(lines[-7:]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "ENGINE.md", "\n".join(lines) + "\n")
    print(f"wrote {out / 'ENGINE.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
