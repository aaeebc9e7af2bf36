"""Clean streams and honest limits on the command line: stdout carries only the requested
output, a closed pipe ends a command quietly, warnings are sentences, bad limits are refused,
and ``roster solve`` refuses an OUT that is not a rota folder before solving."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from roster.cli import BROKEN_PIPE_EXIT, main
from roster.io import write_instance, write_rota
from roster.model import Rota
from solver.params import SolveParams
from tests.factory import carer, everyday, make_instance, visit

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
HANG = 600.0


def _roster(*args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "roster.cli", *args], cwd=ROOT,
                          capture_output=True, timeout=HANG, **kw)  # type: ignore[call-overload]


def test_capacity_json_on_stdout_is_json_alone_whatever_highs_prints() -> None:
    done = _roster("capacity", str(SAMPLE), "--json")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # no banner or other native output mixed in
    assert b"Traceback" not in done.stderr


def test_a_reader_closing_the_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    inst = make_instance([carer("K1")], visits=[visit("V1")])
    write_instance(inst, tmp_path / "inst")
    write_rota(inst, Rota(()), tmp_path / "rota")
    read, write = os.pipe()
    os.close(read)  # like `| head -1` once it has its line: every write now fails
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "roster.cli", "kpis", str(tmp_path / "inst"),
             str(tmp_path / "rota")],
            cwd=ROOT, stdout=write, stderr=subprocess.PIPE, timeout=HANG,
        )  # fmt: skip
    finally:
        os.close(write)
    assert proc.returncode == BROKEN_PIPE_EXIT
    assert b"Traceback" not in proc.stderr and b"Exception ignored" not in proc.stderr


def test_check_prints_data_warnings_as_sentences_not_raw_python_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inst = make_instance([carer("K1"), carer("K2")], visits=[visit("V1")],
                         availability=tuple(everyday("K1")))
    write_instance(inst, tmp_path / "inst")
    write_rota(inst, Rota(()), tmp_path / "rota")
    main(["check", str(tmp_path / "inst"), str(tmp_path / "rota")])
    err = capsys.readouterr().err
    assert "warning: carers.csv row 2 (K2): the carer has no rows in availability.csv" in err
    assert "DataWarning" not in err and "warnings.warn" not in err


@pytest.mark.parametrize("limit", ["-5", "0", "nan", "inf", "soon"])
def test_a_time_limit_that_cannot_be_kept_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["solve", str(SAMPLE), str(tmp_path / "out"), "--time-limit", limit])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"--time-limit is {limit}; it must be a" in err and "seconds above 0" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_a_worker_count_below_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    with pytest.raises(SystemExit):
        main(["solve", str(SAMPLE), str(tmp_path / "out"), "--workers", workers])
    assert f"--workers is {workers}; it must be a whole number of at least 1" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("limit", [-5.0, 0.0, math.nan, math.inf])
def test_solve_params_refuse_a_time_limit_that_cannot_be_kept(limit: float) -> None:
    with pytest.raises(ValueError, match=r"time_limit is .*; it must be a finite number"):
        SolveParams(time_limit=limit)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_solve_params_refuse_a_worker_count_below_one(workers: object) -> None:
    with pytest.raises(ValueError, match=r"workers is .*; it must be a whole number"):
        SolveParams(workers=workers)  # type: ignore[arg-type]


def test_solve_into_a_folder_that_is_not_a_rota_folder_is_refused_before_solving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inst = make_instance([carer("K1")], visits=[visit("V1")])
    write_instance(inst, tmp_path / "inst")
    here = tmp_path / "work"
    here.mkdir()
    (here / "notes.txt").write_text("mine")
    assert main(["solve", str(tmp_path / "inst"), str(here), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is a folder that holds other files and is not a rota folder" in err
    assert sorted(p.name for p in here.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst", "work"]  # nothing beside it


@pytest.mark.parametrize("command", ["repair", "referral"])
def test_repair_and_referral_refuse_a_time_limit_that_cannot_be_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    extra = (["--rota", str(tmp_path), "--absence", "K1,2026-11-23T08:00,2026-11-23T20:00"]
             if command == "repair" else [str(tmp_path / "referral")])
    with pytest.raises(SystemExit) as exit_:
        main([command, str(SAMPLE), *extra, "--out", str(tmp_path / "out"),
              "--time-limit", "-5"])
    assert exit_.value.code == 2
    assert "--time-limit is -5; it must be a finite number of seconds above 0" in (
        capsys.readouterr().err)


def test_the_command_s_limit_covers_loading_and_writing_so_the_solve_gets_what_is_left() -> None:
    import time

    from solver.cli import MIN_SOLVE_SECONDS, WRITE_SECONDS_PER_VISIT, solve_seconds

    assert solve_seconds(60.0, None, 1000) == 60.0 - 1000 * WRITE_SECONDS_PER_VISIT
    # a command that began long ago (loading took the whole limit): the least a solve is given
    assert solve_seconds(60.0, time.perf_counter() - 1000.0, 1000) == MIN_SOLVE_SECONDS
    assert solve_seconds(0.5, time.perf_counter() - 1000.0, 10) == 0.5  # never above the limit
    assert solve_seconds(60.0, time.perf_counter() + 1000.0, 0) == 60.0  # (a clock ahead)


def test_a_command_s_clock_starts_with_its_process_before_the_imports() -> None:
    script = ("import time; first = time.perf_counter(); from roster.cli import _process_started;"
              " print(_process_started() <= first)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=HANG)
    assert done.stdout.strip() == "True", done.stderr
