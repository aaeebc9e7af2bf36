"""Atomic outputs: a file or a whole folder appears complete or not at all.

The team's rule is that a failed or interrupted run never leaves a half-written output behind
and never destroys the earlier good one (STYLE.md: outputs written atomically).

* ``atomic_write_text(path, text)`` writes a temporary file in the same directory, fsyncs it and
  ``os.replace``-s it over the target (atomic on POSIX and Windows).
* ``atomic_folder(path)`` yields a temporary sibling folder to fill; only when the ``with`` block
  succeeds is it swapped into place. POSIX cannot exchange two directories in one step, so the
  swap is two renames (old aside, new in); a crash between them leaves the earlier folder under
  a hidden ``.NAME.old-*`` name, which the next ``atomic_folder`` call on the same path puts
  back. Either way there is never a half-filled folder at ``path``.

Temporary names carry the writing process's id (``.NAME.tmp-PID-XXXXXXXX``): a run killed
mid-write (SIGKILL, a power cut) leaves one behind, and the next ``atomic_folder`` or
``atomic_write_bytes`` on the same name removes those whose process is gone (older names
without an id once they are an hour old), so they no longer pile up.

Folders are made with ``os.mkdir``'s mode 0o777 less the umask (0755 with the usual 022), as any
folder a user makes; ``tempfile.mkdtemp`` made every output folder 0700. Files written by
``atomic_write_bytes`` stay 0600 (``mkstemp``): it also writes ``users.json``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from pathlib import Path

STALE_SECONDS = 3600.0
"""A temporary name without a process id (made before ids were added) is removed once it is
this old: no write takes an hour, so its writer is gone."""


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same directory + fsync + replace)."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target.parent, f".{target.name}.", suffix=".tmp")
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically; a crash leaves the old file or the new, never half."""
    atomic_write_bytes(path, text.encode(encoding))


def _writer_gone(pid_and_rest: str, entry: Path) -> bool:
    """Whether the process that made the temporary ``entry`` is gone: its id leads
    ``pid_and_rest`` (``PID-XXXX``); a name without one is gone when ``STALE_SECONDS`` old."""
    head = pid_and_rest.split("-", 1)[0]
    if not head.isdigit() or "-" not in pid_and_rest:
        try:
            return time.time() - entry.lstat().st_mtime > STALE_SECONDS
        except OSError:
            return False
    pid = int(head)
    if pid == os.getpid():
        return False  # another thread of this process may be writing it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. EPERM: the process exists, as another user
        return False
    return False


def _remove_stale(parent: Path, prefix: str, suffix: str = "") -> None:
    """Remove the entries of ``parent`` named ``prefix`` + ``PID-...`` + ``suffix`` whose
    writing process is gone (killed mid-write)."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or not name.endswith(suffix):
            continue
        rest = name[len(prefix):len(name) - len(suffix)]
        if not _writer_gone(rest, entry):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()


def _sibling_name(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _new_folder(target: Path, kind: str) -> Path:
    """A new empty sibling folder of ``target``, mode 0o777 less the umask."""
    while True:
        candidate = _sibling_name(target, kind)
        try:
            os.mkdir(candidate, 0o777)
        except FileExistsError:
            continue
        return candidate


class ForeignFolderError(FileExistsError):
    """The output folder exists and holds files, none of them an output of this kind: writing
    there would carry all of them into the new folder (``roster solve INSTANCE .`` copied the
    whole working directory), so it is refused."""

    def __init__(self, path: Path, what: str, names: Collection[str]) -> None:
        super().__init__(errno.EEXIST, "not an output folder", str(path))
        self.what, self.names = what, tuple(names)

    def __str__(self) -> str:
        return (f"{self.filename} is a folder that holds other files and is not a {self.what} "
                f"folder (it has none of {', '.join(sorted(self.names))}); write to a new or "
                f"empty folder, or to an earlier {self.what} folder.")


def refuse_foreign_folder(
    path: str | os.PathLike[str], names: Collection[str], what: str = "rota"
) -> None:
    """Raise ``ForeignFolderError`` when ``path`` is a folder with entries but none of
    ``names`` (the files an output of this kind holds); a missing or empty folder, or an
    earlier output, may be written."""
    target = Path(path).resolve()
    if not target.is_dir():
        return
    entries = {entry.name for entry in target.iterdir()}
    if entries and not entries & set(names):
        raise ForeignFolderError(target, what, names)


def _restore_abandoned(target: Path) -> None:
    """Put back an earlier folder left aside by a crash between the two renames of a swap."""
    if target.exists():
        return
    aside = sorted(target.parent.glob(f".{target.name}.old-*"))
    if len(aside) == 1 and aside[0].is_dir():
        os.replace(aside[0], target)


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError), open(os.path.join(root, name), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(root))


@contextlib.contextmanager
def atomic_folder(
    path: str | os.PathLike[str], keep_others_except: Collection[str] | None = None
) -> Iterator[Path]:
    """Yield an empty temporary sibling of ``path``; swap it into place when the block succeeds.

    Parameters
    ----------
    path:
        The folder to (re)create. Its parent is created if missing.
    keep_others_except:
        ``None`` (default): the new folder replaces the old one wholesale. A collection of names:
        entries of the old folder *not* named here are carried over into the new one (so writing
        a rota into a folder keeps unrelated files such as exports), while the named ones are
        whatever the block wrote, or gone.

    If the block raises, the temporary folder is removed and ``path`` is untouched.
    """
    target = Path(path).resolve()  # "." or "out/" or a symlink: the real folder is replaced
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(20, "Not a directory", str(target))
    _restore_abandoned(target)
    _remove_stale(parent, f".{target.name}.tmp-")
    if target.exists():  # a crash after the swap, before the old folder was removed
        _remove_stale(parent, f".{target.name}.old-")
    tmp = _new_folder(target, "tmp")
    try:
        yield tmp
        if keep_others_except is not None and target.is_dir():
            owned = set(keep_others_except)
            for entry in target.iterdir():
                if entry.name in owned or (tmp / entry.name).exists():
                    continue
                if entry.is_dir():
                    shutil.copytree(entry, tmp / entry.name, symlinks=True)
                else:
                    shutil.copy2(entry, tmp / entry.name, follow_symlinks=False)
        _fsync_tree(tmp)
        if target.exists():
            aside = _sibling_name(target, "old")
            os.replace(target, aside)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(aside, target)
                raise
            _fsync_dir(parent)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(tmp, target)
            _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
