"""The ``roster`` command line: a thin dispatcher over the domain and solver modules.

Each subcommand lives with the code it drives, in a module exposing
``configure_parser(parser: argparse.ArgumentParser) -> None`` and
``run_command(args: argparse.Namespace) -> int``. Those modules import heavy dependencies
(ortools, pandas, pulp) inside ``run_command`` so that ``roster --help`` stays fast.

Bad input never shows a traceback: ``InstanceError`` is printed as one sentence per problem and
the exit status is 2. A checker violation exits 1.

Clean streams: stdout carries the command's own output and nothing else. Native libraries that
print to the process's stdout (HiGHS's banner, a solver's log) write to stderr instead
(``_native_stdout_to_stderr``), so ``roster capacity --json | python -m json.tool`` works; a
reader that closes the pipe early (``| head -1``) ends the command quietly with status 141, as
for any Unix tool killed by SIGPIPE; warnings are printed as one line, never raw.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import NoReturn

from roster.atomic import ForeignFolderError
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


BROKEN_PIPE_EXIT = 141
"""Exit status when the reader of stdout went away (128 + SIGPIPE, as a shell reports it)."""


@contextlib.contextmanager
def _native_stdout_to_stderr() -> Iterator[None]:
    """While the command runs, the process's file descriptor 1 points at stderr and Python's
    ``sys.stdout`` at a copy of the real stdout: C and C++ libraries (HiGHS prints a banner when
    its first solver is made, CBC and CP-SAT may log) then write to stderr, and only what the
    command prints reaches stdout. Does nothing when ``sys.stdout`` is not descriptor 1 (a test's
    capture, an embedding program): native output is not mixed into it then."""
    try:
        real = sys.stdout is not None and sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        real = False
    if not real:
        yield
        return
    old = sys.stdout
    old.flush()
    saved = os.dup(1)
    line = bool(getattr(old, "line_buffering", False))
    ours = os.fdopen(os.dup(1), "w", buffering=1 if line else -1,
                     encoding=getattr(old, "encoding", None) or "utf-8",
                     errors=getattr(old, "errors", None) or "strict")
    os.dup2(2, 1)
    sys.stdout = ours
    broken = False
    try:
        yield
    finally:
        try:
            ours.flush()
        except BrokenPipeError:
            broken = True
            _silence(ours)
        sys.stdout = old
        os.dup2(saved, 1)
        os.close(saved)
        with contextlib.suppress(OSError):
            ours.close()
    if broken:  # the last of the output did not get through: the reader went away
        raise BrokenPipeError(errno.EPIPE, "the reader of stdout went away")


def _silence(stream: object) -> None:
    """Point a stream whose reader went away at /dev/null, so that Python's last flush at exit
    does not print 'Exception ignored ... BrokenPipeError'."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: object = None, line: str | None = None,
) -> None:
    """A warning as one line on stderr (``roster: warning: ...``), not Python's raw two lines
    with the source file and code."""
    text = str(message).strip().replace("\n", " ")
    print(f"roster: warning: {text}", file=sys.stderr)


def _process_started() -> float:
    """When this process began, on ``time.perf_counter()``'s clock: a command's ``--time-limit``
    counts from there, since Python's start and ``import roster`` (geopy, numpy: 2-4 s beside
    busy loops) come before ``main``. Linux's /proc/self/stat gives the start; elsewhere, now."""
    now = time.perf_counter()
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        age = uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
    except (OSError, ValueError, IndexError):
        return now
    return now - age if 0.0 <= age < 3600.0 else now


def _hard_exit(code: int) -> NoReturn:
    """End the process now, with ``code``, after flushing its streams and logs: the interpreter's
    own teardown (freeing the solver's models and numpy / OR-Tools / numba modules object by
    object) took 1.8 s after an S solve beside busy loops, on top of the command's time limit.
    Nothing of ours needs it: outputs are written (atomically) and closed before this. Not used
    when Ray was started (its workers are shut down by its own exit hook)."""
    import logging

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    logging.shutdown()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; with ``argv`` None (the console script, ``python -m roster.cli``) this
    is the program: its clock starts with the process and it ends the process itself."""
    if argv is None:
        code = _main(None)
        if "ray" in sys.modules:
            return code
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence(sys.stdout)
            code = BROKEN_PIPE_EXIT
        _hard_exit(code)
    return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    # a command's --time-limit counts from the process's start when this is the program (the
    # console script, python -m), else (a caller passing argv, such as a test) from here
    started = _process_started() if argv is None else time.perf_counter()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected_command(argv))
    args = parser.parse_args(argv)
    args.started = started
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    shown = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        with _native_stdout_to_stderr():
            return _run(args)
    except BrokenPipeError:
        _silence(sys.stdout)
        return BROKEN_PIPE_EXIT
    finally:
        warnings.showwarning = shown


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args._run(args))
    except BrokenPipeError:
        raise
    except ForeignFolderError as exc:
        print(f"roster {args.command}: {exc}", file=sys.stderr)
        return 2
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
