"""Run independent pieces of work (regions, scenarios, seeds) in parallel: Ray or local processes.

``run_pieces(fn, pieces, backend=...)`` calls ``fn(piece)`` for every piece and returns the
results *in the order of the pieces*, whatever order they finish in, so the same inputs give the
same output on every backend:

- ``"serial"``: in this process, one after the other;
- ``"local"``: a pool of local worker processes (``concurrent.futures``);
- ``"ray"``: Ray tasks — a local Ray started on demand, or a running cluster when ``address`` is
  given (``ray://host:10001`` or ``auto``). Ray is an optional extra
  (``pip install 'roster[distributed]'``): it is imported only here, lazily, and when it is
  missing ``backend="auto"`` falls back to local processes.

``fn`` must be a module-level function and pieces and results picklable (they cross process
or machine boundaries). Every piece gets the same ``fn``; determinism is the piece's business
(fixed seed, one CP-SAT worker, deterministic time).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

P = TypeVar("P")
R = TypeVar("R")

BACKENDS = ("auto", "serial", "local", "ray")


def ray_available() -> bool:
    """Whether the optional ``ray`` package can be imported."""
    return importlib.util.find_spec("ray") is not None


def resolve_backend(backend: str, address: str | None = None) -> str:
    """The backend actually used: ``auto`` is Ray when an address is given or Ray is installed
    and asked for, else local processes."""
    if backend not in BACKENDS:
        raise ValueError(f"backend is {backend!r}; it must be one of {', '.join(BACKENDS)}.")
    if backend == "ray" and not ray_available():
        raise RuntimeError(
            "backend 'ray' was asked for but the ray package is not installed; "
            "install the optional extra: pip install 'roster[distributed]'"
        )
    if backend == "auto":
        return "ray" if (address and ray_available()) else "local"
    return backend


def run_pieces(
    fn: Callable[[P], R],
    pieces: Sequence[P],
    backend: str = "auto",
    processes: int | None = None,
    address: str | None = None,
) -> list[R]:
    """``[fn(p) for p in pieces]``, computed in parallel on ``backend``; order is preserved."""
    used = resolve_backend(backend, address)
    if not pieces:
        return []
    if used == "serial" or (used == "local" and (processes or 1) <= 1) or len(pieces) == 1 and used != "ray":
        return [fn(p) for p in pieces]
    if used == "local":
        return _run_local(fn, pieces, processes or os.cpu_count() or 1)
    return _run_ray(fn, pieces, processes, address)


def _run_local(fn: Callable[[P], R], pieces: Sequence[P], processes: int) -> list[R]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # "spawn" keeps workers free of the parent's threads (OR-Tools, a Streamlit server).
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(processes, len(pieces)), mp_context=ctx) as pool:
        return list(pool.map(fn, pieces))


def _run_ray(fn: Callable[[P], R], pieces: Sequence[P], processes: int | None,
             address: str | None) -> list[R]:
    import ray

    started_here = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "ignore_reinit_error": True}
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = processes or os.cpu_count() or 1
        ray.init(**kwargs)
        started_here = True
    try:
        remote = ray.remote(num_cpus=1)(fn)
        refs = [remote.remote(p) for p in pieces]
        return list(ray.get(refs))
    finally:
        if started_here:
            ray.shutdown()
