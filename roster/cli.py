"""The ``roster`` command line: a thin dispatcher over the domain and solver modules.

Each subcommand lives with the code it drives, in a module exposing
``configure_parser(parser: argparse.ArgumentParser) -> None`` and
``run_command(args: argparse.Namespace) -> int``. Those modules import heavy dependencies
(ortools, pandas, pulp) inside ``run_command`` so that ``roster --help`` stays fast.

Bad input never shows a traceback: ``InstanceError`` is printed as one sentence per problem and
the exit status is 2. A checker violation exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from roster.errors import InstanceError

# (subcommand, module, one-line help). Order is the order shown in --help.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("validate", "roster.io", "check an instance folder or workbook and report every problem"),
    ("convert", "roster.excel", "convert an instance between a contract folder and an Excel workbook"),
    ("generate", "roster.generator", "generate a realistic synthetic caseload"),
    ("expand", "roster.packages", "expand weekly package patterns into a week's dated visits"),
    ("check", "roster.checker", "check a rota against every hard rule of the contract"),
    ("kpis", "roster.kpis", "report the KPIs of a rota"),
    ("solve", "solver.cli", "make the week's rota with the CP-SAT solver"),
    ("repair", "solver.repair", "re-roster what a carer's absence breaks, changing as little as possible"),
    ("referral", "solver.referral", "can we take this referral? decision, rota, rationale, alternatives"),
    ("capacity", "solver.capacity", "supply against demand by competency, area and day-part"),
    ("store", "roster.store", "save, list and load instances, rota versions and the audit trail"),
    ("bench", "benchmarks.harness", "run a named benchmark suite and write benchmarks/RESULTS.md"),
)


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the ``selected`` subcommand's module is imported and configured.

    Importing every module (ortools, pandas, SQLAlchemy...) would cost seconds on each call.
    """
    parser = argparse.ArgumentParser(
        prog="roster",
        description="Rostering and allocation for home care and community support for "
        "disabled children and young people.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in COMMANDS:
        command = sub.add_parser(name, help=help_text, description=help_text)
        if name != selected:
            continue
        module = importlib.import_module(module_name)
        module.configure_parser(command)
        command.set_defaults(_run=module.run_command)
    return parser


def _selected_command(argv: Sequence[str]) -> str | None:
    names = {name for name, _, _ in COMMANDS}
    return next((arg for arg in argv if arg in names), None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected_command(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args))
    except InstanceError as exc:
        print(f"roster {args.command}: the input has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem.sentence()}", file=sys.stderr)
        return 2
    except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(f"roster {args.command}: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"roster {args.command}: interrupted; earlier results are intact", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
