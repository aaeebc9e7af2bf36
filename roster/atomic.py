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
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path


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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
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
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.rmdir(aside)
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
