"""Independent pieces give the same results, in the same order, on every backend."""

from __future__ import annotations

import pytest

from roster.checker import check
from roster.generator import generate
from solver.decompose import DecomposeParams
from solver.distributed import ray_available, resolve_backend, run_pieces
from solver.solve import solve_decomposed  # the pipeline solves each region


def square(x: int) -> int:
    return x * x


def test_local_processes_return_results_in_piece_order() -> None:
    assert run_pieces(square, [3, 1, 2], backend="local", processes=2) == [9, 1, 4]


def test_serial_backend_matches_local_processes() -> None:
    pieces = list(range(5))
    assert run_pieces(square, pieces, backend="serial") == run_pieces(square, pieces, backend="local",
                                                                     processes=2)


def test_unknown_backend_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="auto, serial, local, ray"):
        resolve_backend("spark")


def test_auto_backend_without_an_address_stays_local() -> None:
    assert resolve_backend("auto") == "local"


@pytest.mark.slow
@pytest.mark.skipif(not ray_available(), reason="ray is not installed (optional extra 'distributed': "
                                                "pip install 'roster[distributed]')")
def test_ray_and_local_processes_make_the_same_rota() -> None:
    inst = generate(carers=12, children=22, seed=5)
    params = DecomposeParams(time_limit=30, regions=3, greedy_only=True, deterministic=True,
                             processes=2)
    local = solve_decomposed(inst, DecomposeParams(**{**params.__dict__, "backend": "local"}))
    ray = solve_decomposed(inst, DecomposeParams(**{**params.__dict__, "backend": "ray"}))
    assert check(inst, ray.rota) == []
    assert ray.rota.assignments == local.rota.assignments
    assert ray.rota.unassigned == local.rota.unassigned
