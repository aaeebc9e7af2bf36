"""Keep numba's on-disk cache of the kernel honest.

numba keys a cached function by its own source file only: when a rule home's route check
(``solver/rules/*.py``) changes, the cached kernel (``solver/search/kernel.py``), which compiled
the old check into itself, would still be loaded. Before the kernel is imported, a digest of
every source the kernel is built from is compared with the one stored beside the cache; when it
differs, the cached machine code of the engine and the rules is removed, so it is compiled anew.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_SOLVER = Path(__file__).resolve().parent.parent
_SOURCES = ("rules", "search")


def _compiled_sources() -> list[Path]:
    """The files numba compiles the kernel from: the rule homes, the kernel and its data."""
    return [*sorted((_SOLVER / "rules").glob("*.py")),
            _SOLVER / "search" / "kernel.py", _SOLVER / "search" / "data.py"]


def _digest() -> str:
    h = hashlib.sha256()
    for path in _compiled_sources():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def refresh() -> None:
    """Drop stale compiled code (a no-op when the sources are unchanged or read-only)."""
    stamp = _SOLVER / "search" / "__pycache__" / "kernel-sources.sha256"
    digest = _digest()
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for folder in _SOURCES:
            cache = _SOLVER / folder / "__pycache__"
            if cache.is_dir():
                for path in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
                    path.unlink(missing_ok=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass  # a read-only install: numba then compiles in memory
