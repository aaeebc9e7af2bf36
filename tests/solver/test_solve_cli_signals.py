"""Ctrl-C (SIGINT) and SIGTERM during ``roster solve`` keep the work done so far.

The solve runs in a real subprocess on a week that takes its whole (long) limit; once its
progress line on stderr shows a best rota, the signal is sent. The rota folder must then be
complete, pass roster's own checker and say ``stopped_early`` in summary.json. Nothing here
waits on the clock: the test waits for the progress line, and the timeouts only catch a hang.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from roster.checker import check
from roster.generator import generate
from roster.io import load_instance, load_rota, write_instance
from tests.factory import WEEK

ROOT = Path(__file__).resolve().parents[2]
HANG = 600.0
"""Seconds after which a step is taken to hang (never reached by a working solve)."""


class _Stderr:
    """Collects a child's stderr in a thread; ``seen`` is set once ``marker`` has appeared."""

    def __init__(self, proc: subprocess.Popen[bytes], marker: bytes) -> None:
        self.data = bytearray()
        self.seen = threading.Event()
        self._proc, self._marker = proc, marker
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stderr is not None
        while chunk := os.read(self._proc.stderr.fileno(), 4096):
            self.data += chunk
            if self._marker in self.data:
                self.seen.set()
        self.seen.set()  # the child ended: stop waiting either way

    def text(self) -> str:
        self._thread.join(HANG)
        return self.data.decode("utf-8", "replace")


def _start_solve(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    src, out = tmp_path / "week", tmp_path / "rota"
    write_instance(generate(carers=12, children=20, seed=3, week_start=WEEK), src)
    proc = subprocess.Popen(
        [sys.executable, "-m", "roster.cli", "solve", str(src), str(out),
         "--time-limit", "3000", "--workers", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    return proc, src, out


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_solve_writes_the_best_checked_rota_with_stopped_early(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    proc, src, out = _start_solve(tmp_path)
    err = _Stderr(proc, b"best ")  # the progress bar shows a best rota: there is work to keep
    try:
        assert err.seen.wait(HANG), "no progress line"
        assert proc.poll() is None, err.text()
        proc.send_signal(signum)
        stdout, _ = proc.communicate(timeout=HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
    shown = err.text()
    assert proc.returncode == code, shown
    assert "Traceback" not in shown
    assert f"stopped early by {signum.name}" in shown
    assert sorted(p.name for p in out.iterdir()) == ["rota.csv", "summary.json", "unassigned.csv"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_early"] is True and summary["stopped_by"] == signum.name
    instance = load_instance(src)
    rota = load_rota(instance, out)
    assert check(instance, rota) == []
    staffed = {a.visit_id for a in rota.assignments}
    listed = {u.visit_id for u in rota.unassigned}
    assert staffed | listed == {v.visit_id for v in instance.visits}
    assert summary["visits_covered"] > 0
    assert b"visits" in stdout  # the usual report, for the rota that was kept
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rota.")]  # no temp left


def test_a_solve_without_a_signal_says_it_was_not_stopped_early(tmp_path: Path) -> None:
    from roster.cli import main
    from tests.factory import carer, make_instance, visit

    src, out = tmp_path / "inst", tmp_path / "out"
    write_instance(make_instance([carer("K1")], visits=[visit("V1")]), src)
    assert main(["solve", str(src), str(out), "--time-limit", "5", "--workers", "1",
                 "--quiet"]) == 0
    assert json.loads((out / "summary.json").read_text())["stopped_early"] is False
