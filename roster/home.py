"""Where roster keeps its own files: one private data folder that does not depend on the cwd.

The store's SQLite database and the app's users file hold children's personal data and password
hashes, so they live in a folder only the server's account can open, wherever the app or the
command line was started from:

* ``$ROSTER_HOME`` when it is set;
* else ``$XDG_DATA_HOME/roster`` when ``XDG_DATA_HOME`` is set;
* else ``~/.local/share/roster``.

``ROSTER_DB`` (the store) and ``ROSTER_USERS`` (the users file) still win when they are set.
A folder made here is made ``0700`` and a file ``0600``, from the start (not chmod-ed after being
written), so there is no moment at which another account could read them. Folders and files that
already exist are left as their owner set them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

HOME_ENV = "ROSTER_HOME"
DIR_MODE = 0o700
FILE_MODE = 0o600


def data_home() -> Path:
    """The data folder (not created): ``$ROSTER_HOME``, ``$XDG_DATA_HOME/roster`` or
    ``~/.local/share/roster``."""
    explicit = os.environ.get(HOME_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "roster"


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Make ``path`` (and any missing parents) a folder; every folder made here is ``0700``."""
    folder = Path(path)
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for made in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            made.mkdir(mode=DIR_MODE)
            os.chmod(made, DIR_MODE)  # mkdir's mode is cut by the umask; 0700 is what we mean
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` empty with mode ``0600`` (its folder ``0700`` if made) unless it exists."""
    target = Path(path)
    private_dir(target.parent)
    with contextlib.suppress(FileExistsError):
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.close(fd)
    return target


__all__ = ["DIR_MODE", "FILE_MODE", "HOME_ENV", "data_home", "private_dir", "private_file"]
