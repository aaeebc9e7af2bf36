"""``roster solve INSTANCE OUT``: load -> solve -> write rota.csv, unassigned.csv, summary.json.

Thin on purpose: the rules live in ``roster``, the model in ``solver``. The progress bar shows the
best objective and bound of the running CP-SAT stage as they improve.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from roster.errors import InstanceError, Problem


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="[INSTANCE] OUT",
        help="instance folder or .xlsx workbook (left out with --db and --week), then the rota "
        "folder to write (rota.csv, unassigned.csv, summary.json)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="the rota store (SQLite file or database URL): continuity history from its published "
        "weeks, and the rota saved to it as a draft",
    )
    parser.add_argument(
        "--week",
        metavar="YYYY-MM-DD",
        help="with --db: solve the latest instance saved in the store for the week starting then",
    )
    parser.add_argument(
        "--from-scratch",
        action="store_true",
        help="with --db --week: do not start from the latest published rota of an earlier week",
    )
    parser.add_argument(
        "--changes",
        metavar="DIR",
        help="with --db --week: write the changes from last week, with their reasons, to DIR "
        "(family_changes.csv, family_changes.html, carer_changes.csv; names included)",
    )
    parser.add_argument("--time-limit", type=time_limit_arg, default=30.0,
                        help="wall-clock seconds for the whole command (loading, solve, writing "
                        "the rota), above 0 (default 30)")
    parser.add_argument("--workers", type=workers_arg, default=2,
                        help="CP-SAT workers, at least 1 (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--lock",
        metavar="LOCKS.csv",
        help="assignments to keep exactly: a CSV with visit_id, carer_id[, start (ISO)]",
    )
    parser.add_argument(
        "--keep",
        metavar="ROTA",
        help="a rota folder (or .xlsx) of this week to start from and keep as far as possible: "
        "each of its rows the new rota does not keep counts as a change (continuity)",
    )
    parser.add_argument("--greedy", action="store_true", help="the greedy baseline only, no CP-SAT")
    parser.add_argument(
        "--weighted", action="store_true", help="one weighted objective instead of lexicographic"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def time_limit_arg(text: str) -> float:
    """``--time-limit``: a finite number of seconds above 0 (``solver.params.check_time_limit``);
    argparse turns the ``ValueError`` into a one-line usage error naming the option."""
    from solver.params import check_time_limit

    try:
        return check_time_limit(text, "--time-limit")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def workers_arg(text: str) -> int:
    """``--workers``: a whole number of at least 1 (``solver.params.check_workers``)."""
    from solver.params import check_workers

    try:
        value: Any = int(text)
    except ValueError:
        value = text
    try:
        return check_workers(value, "--workers")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


WRITE_SECONDS_PER_VISIT = 0.0005
"""Time kept after the solve for writing the rota folder and the report (a fraction of a
second on M; about 5 s on L's 10,000 visits with both cores busy)."""

MIN_SOLVE_SECONDS = 1.0
"""The least a solve is given, even when loading took the whole limit (then the limit cannot be
kept, and the greedy rota comes back about this much later)."""


def solve_seconds(time_limit: float, started: float | None, visits: int) -> float:
    """The solve's share of the command's ``--time-limit``: what is left since ``started``
    (``time.perf_counter()`` when the command began; None: nothing spent yet), less the time to
    write the rota, and at least ``MIN_SOLVE_SECONDS`` (or the whole limit, if smaller).

    The limit is the user's wait for the command (a promise: limit + 5 s even with both cores
    busy); loading M with the imports took 3-8 s beside busy loops, which came on top before."""
    spent = 0.0 if started is None else max(0.0, time.perf_counter() - started)
    left = time_limit - spent - WRITE_SECONDS_PER_VISIT * visits
    return max(min(time_limit, MIN_SOLVE_SECONDS), left)


STOP_EXIT = {"SIGINT": 130, "SIGTERM": 143}
"""Exit status after a signal stopped the solve early (128 + the signal's number, as a shell
reports a command the signal ended); the best checked rota is written all the same."""


def read_locks(path: str | Path, instance: Any) -> tuple[tuple[str, str] | tuple[str, str, int], ...]:
    """LOCKS.csv -> locks. Errors name the file, row, field and value."""
    source = Path(path)
    problems: list[Problem] = []
    locks: list[Any] = []
    with source.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = [f.strip() for f in (reader.fieldnames or [])]
        for need in ("visit_id", "carer_id"):
            if need not in fields:
                raise InstanceError(
                    [Problem(source.name, None, None, None, None, f"the column {need} is missing.")]
                )
        for n, raw in enumerate(reader, start=1):
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
            vid, cid = row.get("visit_id", ""), row.get("carer_id", "")
            if vid not in instance.visit_index:
                problems.append(Problem(source.name, n, vid, "visit_id", vid,
                                        "it is not a visit of this instance.", "lookup"))
                continue
            if cid not in instance.carer_index:
                problems.append(Problem(source.name, n, vid, "carer_id", cid,
                                        "it is not a carer of this instance.", "lookup"))
                continue
            start = row.get("start", "")
            if start:
                from datetime import datetime

                try:
                    moment = datetime.fromisoformat(start)
                except ValueError:
                    problems.append(Problem(source.name, n, vid, "start", start,
                                            "it must be an ISO date and time, e.g. 2026-11-23T15:30."))
                    continue
                locks.append((vid, cid, instance.clock.minute_of_datetime(moment)))
            else:
                locks.append((vid, cid))
    if problems:
        raise InstanceError(problems)
    return tuple(locks)


def _instance_from(args: argparse.Namespace) -> tuple[Any, int | None] | None:
    """The instance to solve (from a path, or the store's week) and its store id, if any.

    Sets ``args.instance`` and ``args.out``. Prints a one-line error and returns None when the
    paths and store options do not fit together.
    """
    from datetime import date

    from roster.io import load_instance

    wants_week = args.week is not None
    if wants_week and not args.db:
        print("roster solve: --week needs --db (the store to take the week from)", file=sys.stderr)
        return None
    expected = 1 if wants_week else 2
    if len(args.paths) != expected:
        usage = "--db URL --week YYYY-MM-DD OUT" if wants_week else "INSTANCE OUT"
        print(f"roster solve: expected {usage}, got {' '.join(args.paths)}", file=sys.stderr)
        return None
    args.out = args.paths[-1]
    args.instance = None if wants_week else args.paths[0]
    if not args.db:
        return load_instance(args.instance), None
    from roster.store import StoreError, instance_for_week, instance_with_history

    try:
        if wants_week:
            try:
                week = date.fromisoformat(args.week)
            except ValueError:
                print(f"roster solve: --week is {args.week!r}; it must be a date YYYY-MM-DD",
                      file=sys.stderr)
                return None
            instance_id, instance = instance_for_week(args.db, week)
            if not getattr(args, "from_scratch", False):
                from roster.rollforward import carry, latest_published_before

                earlier = latest_published_before(args.db, week)
                if earlier is not None:  # roll forward (issue 23): start from that week's rota
                    args.carried = carry(earlier.instance, earlier.rota, instance)
                    args.earlier = earlier.instance
            return instance, instance_id
        return instance_with_history(load_instance(args.instance), args.db), None
    except StoreError as exc:
        print(f"roster solve: {exc}", file=sys.stderr)
        return None


def run_command(args: argparse.Namespace) -> int:
    from roster.atomic import refuse_foreign_folder
    from roster.io import ROTA_FILES, load_travel, write_rota
    from solver.params import SolveParams
    from solver.progress import run_stoppable
    from solver.solve import solve

    if args.paths:
        # before the solve, not after it: OUT such as "." would otherwise be copied whole
        refuse_foreign_folder(args.paths[-1], ROTA_FILES)
    found = _instance_from(args)
    if found is None:
        return 2
    instance, instance_id = found
    travel = None
    if args.instance and Path(args.instance).is_dir() and (Path(args.instance) / "travel.csv").exists():
        travel = load_travel(args.instance, instance)
    locks = read_locks(args.lock, instance) if args.lock else ()
    kept = None
    if getattr(args, "keep", None):
        from roster.io import load_rota

        kept = load_rota(instance, args.keep)
    params = SolveParams(
        time_limit=solve_seconds(args.time_limit, getattr(args, "started", None),
                                 len(instance.visits)),
        workers=args.workers,
        seed=args.seed,
        locks=locks,
        travel=travel,
        lexicographic=not args.weighted,
        use_greedy_only=args.greedy,
        hint=kept,
        reference=kept,
    )
    bar = None
    progress = None
    if not args.quiet and not args.greedy:
        from tqdm import tqdm

        bar = tqdm(total=100, desc="solving", unit="%", file=sys.stderr, leave=False,
                   bar_format="{desc} {n:.0f}% |{bar}|{postfix}")

        def progress(seconds: float, objective: float, bound: float) -> None:
            assert bar is not None
            done = min(100.0, 100.0 * seconds / max(args.time_limit, 1e-9))
            bar.n = done
            bar.set_postfix_str(f"best {objective:,.1f} bound {bound:,.1f} at {seconds:.1f}s")
            bar.refresh()

    def on_stop(name: str) -> None:
        if bar is not None:
            bar.clear()
        print(f"roster solve: {name} received; stopping and keeping the best rota checked so "
              f"far (send it again to abandon the solve)", file=sys.stderr)

    carried = getattr(args, "carried", None)

    def run(stop: Any) -> Any:
        if carried is None:
            return solve(instance, params, progress=progress, stop=stop)
        from roster.rollforward import describe
        from solver.rollforward import roll_forward

        print(describe(carried), file=sys.stderr)
        rolled = roll_forward(instance, carried, params, stop=stop)
        print(f"kept {100 * rolled.kept_share():.1f} % of last week's rows; "
              f"{len(rolled.released)} released to staff uncovered visits", file=sys.stderr)
        if args.changes:
            from roster.changes import roll_changes, roll_counts, write_roll_changes

            changes = roll_changes(args.earlier, carried, rolled.rota, rolled.released)
            files = write_roll_changes(args.changes, args.earlier, instance, changes)
            counts = roll_counts(changes)
            print(f"{counts['families_changed']} families with a change "
                  f"({counts['forced']} forced, {counts['not_forced']} not); wrote "
                  f"{args.changes}: {', '.join(files)}", file=sys.stderr)
        return rolled.result

    try:
        result, stopped_by = run_stoppable(run, on_stop)
    except ValueError as exc:
        if bar is not None:
            bar.close()
        print(f"roster solve: {exc}", file=sys.stderr)
        return 2
    if bar is not None:
        bar.close()
    rota = replace(result.rota, summary={
        **result.rota.summary, "stopped_early": stopped_by is not None,
        **({"stopped_by": stopped_by} if stopped_by else {}),
    })
    write_rota(instance, rota, args.out)
    s = dict(rota.summary)
    print(
        f"{s['visits_covered']}/{s['visits']} visits, {s['carer_slots_covered']}/{s['carer_slots']} "
        f"carer slots covered ({result.status}, {result.seconds:.1f} s)"
    )
    print(f"objective {result.objective:,.2f}  bound "
          f"{'-' if result.bound is None else f'{result.bound:,.2f}'}  gap "
          f"{'-' if result.gap is None else f'{100 * result.gap:.2f} %'}")
    if result.carer_slots_bound is not None:
        cg = result.coverage_gap
        proven = " - coverage proven optimal" if cg == 0 else (
            "" if cg is None else f" - coverage gap {100 * cg:.2f} %")
        print(f"carer slots: at most {result.carer_slots_bound} can be covered "
              f"(proven bound){proven}")
    for name, value in result.terms.items():
        print(f"  {name:24s} {value:,.2f}")
    print(f"wrote {args.out}: rota.csv, unassigned.csv, summary.json")
    if args.db:
        import getpass

        from roster.store import save_solve

        saved_instance, version = save_solve(
            args.db, instance, result.rota, user=getpass.getuser(), instance_id=instance_id
        )
        print(f"saved to the store as draft rota version {version} (instance {saved_instance})")
    if args.quiet:
        print(json.dumps(s, default=str))
    if stopped_by is not None:
        print(f"roster solve: stopped early by {stopped_by}; {args.out} holds the best rota "
              f"checked by then (summary.json: stopped_early)", file=sys.stderr)
        return STOP_EXIT.get(stopped_by, 130)
    return 0
