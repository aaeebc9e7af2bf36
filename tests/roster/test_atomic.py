"""Atomic outputs: stale temporary folders of dead writers are removed, folders follow the umask,
and a folder that is not an output of ours is refused rather than copied."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from roster.atomic import (
    STALE_SECONDS,
    ForeignFolderError,
    atomic_folder,
    atomic_write_text,
    refuse_foreign_folder,
)


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_folders_of_a_writer_that_died_are_removed_on_the_next_write(
    tmp_path: Path,
) -> None:
    dead = _dead_pid()
    stale = tmp_path / f".out.tmp-{dead}-deadbeef"
    stale.mkdir()
    (stale / "rota.csv").write_text("half")
    stale_file = tmp_path / f".summary.json.{dead}-abc.tmp"
    stale_file.write_text("half")
    mine = tmp_path / f".out.tmp-{os.getpid()}-cafecafe"  # this process: maybe being written
    mine.mkdir()
    with atomic_folder(tmp_path / "out") as tmp:
        (tmp / "rota.csv").write_text("new")
    atomic_write_text(tmp_path / "summary.json", "{}")
    assert not stale.exists() and not stale_file.exists()
    assert mine.exists()
    assert (tmp_path / "out" / "rota.csv").read_text() == "new"


def test_an_old_temporary_folder_without_a_process_id_is_removed_a_fresh_one_kept(
    tmp_path: Path,
) -> None:
    old, fresh = tmp_path / ".out.tmp-k2j4x9", tmp_path / ".out.tmp-a8b7c6"
    old.mkdir()
    fresh.mkdir()
    long_ago = os.stat(old).st_mtime - 2 * STALE_SECONDS
    os.utime(old, (long_ago, long_ago))
    with atomic_folder(tmp_path / "out"):
        pass
    assert not old.exists() and fresh.exists()


def test_an_output_folder_follows_the_umask_not_0700(tmp_path: Path) -> None:
    saved = os.umask(0o022)
    try:
        with atomic_folder(tmp_path / "out") as tmp:
            (tmp / "rota.csv").write_text("x")
    finally:
        os.umask(saved)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755


def test_a_folder_holding_other_files_is_refused_as_an_output(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ForeignFolderError, match=r"holds other files and is not a rota folder"):
        refuse_foreign_folder(tmp_path, ("rota.csv", "summary.json"))
    refuse_foreign_folder(tmp_path / "missing", ("rota.csv",))  # a new folder may be written
    (tmp_path / "empty").mkdir()
    refuse_foreign_folder(tmp_path / "empty", ("rota.csv",))
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / "summary.json").write_text("{}")
    (tmp_path / "earlier" / "export.pdf").write_text("%PDF")
    refuse_foreign_folder(tmp_path / "earlier", ("rota.csv", "summary.json"))
