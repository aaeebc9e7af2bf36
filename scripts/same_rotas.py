"""Behaviour unchanged: the same rotas before and after a refactor, compared row for row.

    .venv/bin/python scripts/same_rotas.py snapshot   # at the starting commit
    .venv/bin/python scripts/same_rotas.py compare    # after the change: exit 1 on any difference

The instances are generated **once** (S seeds 1-3, ``roster.generator.generate_instance_folder``)
into ``--root`` (default ``/tmp/same_rotas``) and kept there with the sample ``data/sample``
copied beside them, so that a later change to the generator does not change what is compared.
Each is solved in two repeatable modes, in a fresh interpreter per solve:

``greedy``  ``SolveParams(use_greedy_only=True)``: eligibility, greedy, decode, explanations,
            checker, terms, summary.
``cpsat``   ``SolveParams(lns=False, deterministic=True, workers=1, seed=0, time_limit=4)``:
            greedy, coverage master (with its polishes), the rota from its answer, and the
            whole model's three lexicographic stages. ``deterministic`` alone is not repeatable:
            each stage's deterministic budget is a share of the *wall-clock* time left, the
            master and the build stop on wall-clock deadlines, and CP-SAT's wall-clock cap can
            end a stage first on busy cores. So this script runs the solve with
            ``time.perf_counter`` frozen (every share is then a share of the whole limit, and no
            wall-clock gate ever closes) and CP-SAT's wall-clock cap lifted to an hour (each
            stage stops on its deterministic budget alone). LNS is not used: it is a loop on
            the wall clock.

``PYTHONHASHSEED=0`` fixes set and dict orders of strings. For each (instance, mode) the
snapshot keeps rota.csv, unassigned.csv and summary.json's terms and objective; ``compare``
prints each difference (first rows that differ) and a line per case.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = (1, 2, 3)
MODES = ("greedy", "cpsat")
CPSAT_LIMIT = 4.0


def _instances(root: Path) -> list[Path]:
    """Generate the saved instance folders once; later runs reuse them."""
    base = root / "instances"
    base.mkdir(parents=True, exist_ok=True)
    sample = base / "sample"
    if not sample.exists():
        shutil.copytree(REPO / "data" / "sample", sample)
    folders = [sample]
    for seed in SEEDS:
        folder = base / f"S-{seed}"
        if not folder.exists():
            from roster.generator import generate_instance_folder, size

            carers, children = size("S")
            tmp = base / f".S-{seed}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            generate_instance_folder(tmp, carers, children, seed=seed)
            tmp.rename(folder)
        folders.append(folder)
    return folders


def _solve_one(instance_dir: str, mode: str, out_dir: str) -> None:
    """Solve one saved instance in one repeatable mode and write its rota (in this process)."""
    import time
    import warnings

    from ortools.sat.python import cp_model

    warnings.simplefilter("ignore")
    from roster.io import load_instance, write_rota
    from solver.params import SolveParams

    instance = load_instance(instance_dir)
    if mode == "greedy":
        params = SolveParams(use_greedy_only=True)
    else:
        params = SolveParams(lns=False, deterministic=True, workers=1, seed=0,
                             time_limit=CPSAT_LIMIT)
        frozen = time.perf_counter()
        time.perf_counter = lambda: frozen  # type: ignore[assignment]
        solve_cp = cp_model.CpSolver.solve

        def solve_on_budget(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.parameters.max_time_in_seconds = 3600.0
            return solve_cp(self, *args, **kwargs)

        cp_model.CpSolver.solve = solve_on_budget  # type: ignore[method-assign]
    import solver

    result = solver.solve(instance, params)
    write_rota(instance, result.rota, out_dir)


def _keep(case_dir: Path) -> dict[str, object]:
    summary = json.loads((case_dir / "summary.json").read_text(encoding="utf-8"))
    return {
        "rota.csv": (case_dir / "rota.csv").read_text(encoding="utf-8").splitlines(),
        "unassigned.csv": (case_dir / "unassigned.csv").read_text(encoding="utf-8").splitlines(),
        "summary": {k: summary.get(k) for k in ("terms", "objective", "status", "visits_covered",
                                                "carer_slots_covered", "carer_slots_bound")},
    }


def _run_all(root: Path) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    env = dict(os.environ, PYTHONHASHSEED="0")
    for folder in _instances(root):
        for mode in MODES:
            case = f"{folder.name}/{mode}"
            target = root / "runs" / folder.name / mode
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, __file__, "_one", str(folder), mode, str(target)],
                check=True, env=env, cwd=REPO,
            )
            out[case] = _keep(target)
            print(f"solved {case}: {len(out[case]['rota.csv']) - 1} rows", flush=True)
    return out


def _diff(name: str, before: list[str], after: list[str]) -> list[str]:
    if before == after:
        return []
    lines = [f"  {name}: {len(before) - 1} rows before, {len(after) - 1} after"]
    shown = 0
    for i, (b, a) in enumerate(zip(before, after, strict=False)):
        if b != a and shown < 5:
            lines.append(f"    row {i}: {b!r}\n        -> {a!r}")
            shown += 1
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_one":
        _solve_one(*argv[1:4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("snapshot", "compare"))
    parser.add_argument("--root", default="/tmp/same_rotas")
    args = parser.parse_args(argv)
    root = Path(args.root)
    snapshot = root / "snapshot.json"
    got = _run_all(root)
    if args.action == "snapshot":
        snapshot.write_text(json.dumps(got, indent=1), encoding="utf-8")
        print(f"snapshot of {len(got)} cases written to {snapshot}")
        return 0
    before = json.loads(snapshot.read_text(encoding="utf-8"))
    failures = 0
    for case in before:
        lines: list[str] = []
        for name in ("rota.csv", "unassigned.csv"):
            lines += _diff(name, before[case][name], got[case][name])
        if before[case]["summary"] != got[case]["summary"]:
            lines.append(f"  summary: {before[case]['summary']} -> {got[case]['summary']}")
        rows = len(got[case]["rota.csv"]) - 1
        print(f"{case}: {'SAME' if not lines else 'DIFFERENT'} ({rows} rota rows,"
              f" objective {got[case]['summary']['objective']})")
        for line in lines:
            print(line)
        failures += bool(lines)
    print(f"{len(before) - failures} of {len(before)} cases the same row for row")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
