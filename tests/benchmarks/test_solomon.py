"""Solomon VRPTW: the evaluator catches broken windows, and PyVRP's routes pass it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmarks.solomon import evaluate, load_solomon

ROOT = Path("/work/shared/benchmarks/solomon1987-vrptw")
pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason=f"{ROOT} is not present")


def test_loader_reads_depot_and_hundred_customers() -> None:
    inst = load_solomon(ROOT / "instances" / "C101.txt")
    assert inst.xy.shape == (101, 2)
    assert (inst.vehicles, inst.capacity) == (25, 200)
    assert inst.service[1] == 90


def test_one_route_per_customer_breaks_no_window_but_a_reversed_tour_does() -> None:
    inst = load_solomon(ROOT / "instances" / "R101.txt")
    singles = [[c] for c in range(1, 101)]
    _, problems = evaluate(inst, singles)
    assert problems == []
    late_first = sorted(range(1, 101), key=lambda c: -inst.due[c])
    _, problems = evaluate(inst, [late_first])
    assert any("after due" in p for p in problems)


def test_pyvrp_routes_are_feasible_and_never_beat_the_best_known_distance() -> None:
    pytest.importorskip("pyvrp")
    from benchmarks.solomon import solve_pyvrp

    with open(ROOT / "bks.csv", newline="") as fh:
        bks = {r["instance"]: float(r["objective_distance_only"]) for r in csv.DictReader(fh)}
    inst = load_solomon(ROOT / "instances" / "C101.txt")
    dist, problems = evaluate(inst, solve_pyvrp(inst, seconds=2))
    assert problems == []
    assert dist >= bks["C101"] - 0.01
