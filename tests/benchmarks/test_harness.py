"""The CI smoke benchmark: every row well-formed, every rota of ours checker-clean.

No timing is asserted (STYLE.md: timings live in benchmarks/, never in a unit test)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

import pytest

from benchmarks import harness


@pytest.mark.slow
def test_smoke_suite_rows_are_well_formed_and_checker_clean(tmp_path: Path) -> None:
    args = argparse.Namespace(seeds=[1], time_limit=3.0, runs=1, out=tmp_path)
    path = harness.run_suite("smoke", args, echo=lambda _line: None)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    methods = {r["method"] for r in rows}
    assert {"lp_bound", "greedy", "cpsat", "decomposed_greedy"} <= methods
    bound = int(next(r for r in rows if r["method"] == "lp_bound")["lp_bound"])
    for row in rows:
        assert set(harness.FIELDS) == set(row)
        assert row["command"].startswith("roster bench smoke")
        assert not row["status"].startswith(("ERROR", "TIMEOUT")), row["status"]
        assert float(row["peak_rss_mb"]) > 0
        if row["method"] == "lp_bound":
            continue
        assert row["violations"] == "0", row["violation_rules"]
        assert 0 <= int(row["slots_covered"]) <= min(int(row["slots"]), bound)
        assert float(row["cov_ratio_vs_greedy"]) > 0
    with open(tmp_path / "smoke-public.csv", newline="") as fh:
        public = list(csv.DictReader(fh))
    if public:
        assert public[0]["violations"] == "0"
        assert float(public[0]["cost"]) >= float(public[0]["bks"]) - 0.01
    md = tmp_path / "RESULTS.md"
    harness.write_report(tmp_path, md)
    text = md.read_text()
    assert "nproc" in text and "roster bench smoke" in text


def test_unknown_suite_is_refused_with_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(suites=["huge"], out=Path("unused"), results_md=Path("unused.md"),
                              no_report=True)
    assert harness.run_command(args) == 2
    assert "smoke, S, M, L, XL, peers, public" in capsys.readouterr().err


def _row(method: str, note: str = "") -> dict[str, object]:
    return {"instance": "M-seed1", "method": method, "slots": 10, "slots_covered": 8,
            "travel_miles": 100.0, "time_s": 2.0, "note": note}


def test_baseline_is_noted_once_however_often_rows_are_derived() -> None:
    rows = [_row("greedy"), _row("cpsat")]
    for _ in range(5):  # once per measured row of a suite, as run_suite does
        harness._derive(rows)
    assert rows[0]["note"] == "(baseline)"
    assert rows[1]["note"] == ""


def test_a_repeated_baseline_read_back_from_an_old_csv_is_written_once() -> None:
    rows = [_row("greedy", "3 regions (baseline) (baseline) (baseline)"),
            _row("cpsat", "(baseline)")]  # a row that is no longer the baseline
    harness._derive(rows)
    assert rows[0]["note"] == "3 regions (baseline)"
    assert rows[1]["note"] == ""


def test_report_shows_an_old_csvs_repeated_baseline_once(tmp_path: Path) -> None:
    fields = list(harness.FIELDS)
    with open(tmp_path / "M.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerow({**{k: "" for k in fields}, "suite": "M", "instance": "M-seed1", "size": "M",
                    "method": "greedy", "slots": "10", "slots_covered": "8", "visits": "9",
                    "note": "(baseline) (baseline) (baseline)", "command": "roster bench M"})
    md = tmp_path / "RESULTS.md"
    harness.write_report(tmp_path, md)
    text = md.read_text()
    assert "(baseline)" in text and "(baseline) (baseline)" not in text


# ---- the frontier suite -----------------------------------------------------------------


def test_frontier_plan_runs_cpsat_at_10s_on_every_size_times_every_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[str, int, int, int]] = []

    def fake_prepare(out: Path, name: str, carers: int, children: int,
                     seed: int) -> tuple[Path, dict[str, int]]:
        made.append((name, carers, children, seed))
        return out / f"{name}-s{seed}.pickle", {"carers": carers, "children": children,
                                                 "visits": 3 * carers, "slots": 4 * carers}

    monkeypatch.setattr(harness, "_prepare", fake_prepare)
    args = argparse.Namespace(seeds=[1, 2, 3, 4, 5], time_limit=None, runs=3, out=tmp_path)
    plan = harness._plan("frontier", args)
    sizes = [(4, 7), (6, 11), (8, 15), (10, 19), (12, 22), (16, 30), (20, 37), (30, 56)]
    assert "frontier" in harness.SUITES
    assert sorted((p["carers"], p["children"], p["seed"]) for p in plan) == sorted(
        (c, k, s) for c, k in sizes for s in (1, 2, 3, 4, 5))
    assert {p["method"] for p in plan} == {"cpsat"}
    assert {p["time_limit"] for p in plan} == {10}
    assert all(p.get("max_candidates") is None and p.get("workers") is None for p in plan)
    assert len({p["instance"] for p in plan}) == len(plan) == 40
    assert len(made) == 40


def test_proven_stages_lists_only_stages_that_ended_optimal() -> None:
    stages = [
        {"stage": "coverage_bound", "status": "BOUND", "seconds": 0.2},
        {"stage": "build", "status": "built", "seconds": 0.1},
        {"stage": "coverage", "status": "OPTIMAL", "seconds": 0.5, "objective": 0, "bound": 0},
        {"stage": "continuity", "status": "FEASIBLE", "seconds": 4.0, "objective": 9, "bound": 7},
        {"stage": "quality", "status": "OPTIMAL", "seconds": 4.0, "objective": 5, "bound": 5},
    ]
    assert harness.proven_stages(stages) == "coverage+quality"


def test_a_skipped_or_feasible_stage_is_not_proven() -> None:
    stages = [
        {"stage": "coverage_bound", "status": "BOUND"},
        {"stage": "coverage", "status": "FEASIBLE"},
        {"stage": "continuity", "status": "SKIPPED"},
        {"stage": "quality", "status": "UNKNOWN"},
    ]
    assert harness.proven_stages(stages) == ""
    assert harness.proven_stages(stages, coverage_gap=0.01) == ""


def test_coverage_is_proven_by_the_master_or_by_meeting_the_slot_bound() -> None:
    master = [{"stage": "coverage_bound", "status": "OPTIMAL"}, {"stage": "lns", "status": "12 rounds"}]
    assert harness.proven_stages(master) == "coverage"
    assert harness.proven_stages([{"stage": "lns", "status": "x"}], coverage_gap=0.0) == "coverage"


def test_one_optimal_weighted_stage_proves_every_stage() -> None:
    assert harness.proven_stages([{"stage": "weighted", "status": "OPTIMAL"}]) == (
        "coverage+continuity+quality")
    assert harness.proven_stages([{"stage": "weighted", "status": "FEASIBLE"}]) == ""


def test_a_stage_proven_in_only_one_run_of_three_is_not_counted() -> None:
    runs = [
        {"status": "OPTIMAL", "proven_stages": "coverage+continuity+quality", "gap": 0.0,
         "stages": "a"},
        {"status": "FEASIBLE", "proven_stages": "coverage+continuity", "gap": 0.02, "stages": "b"},
        {"status": "FEASIBLE", "proven_stages": "coverage", "gap": 0.04, "stages": "c"},
    ]
    out = harness.over_runs(runs)
    assert out["status"] == "FEASIBLE"
    assert out["proven_runs"] == "1/3"
    assert out["proven_stages"] == "coverage+continuity"
    assert out["gap"] == 0.02
    assert out["stages"] == "c"
    assert harness.over_runs([{"status": "GREEDY"}]) == {}


def _frontier_csv(path: Path, rows: list[dict[str, str]]) -> None:
    fields = list(harness.FIELDS)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({**{k: "" for k in fields}, "suite": "frontier", "method": "cpsat",
                        "command": "roster bench frontier --seeds 1 2 3 --runs 1", **r})


def _fr(carers: int, children: int, seed: int, status: str, stages: str, gap: str,
        visits: int) -> dict[str, str]:
    return {"instance": f"{carers}x{children}-seed{seed}", "size": f"{carers}x{children}",
            "carers": str(carers), "children": str(children), "seed": str(seed),
            "visits": str(visits), "slots": str(visits + 1), "time_s": str(seed),
            "status": status, "proven_stages": stages, "gap": gap}


def test_proof_frontier_counts_only_optimal_seeds_as_proven(tmp_path: Path) -> None:
    _frontier_csv(tmp_path / "frontier.csv", [
        _fr(4, 7, 1, "OPTIMAL", "coverage+continuity+quality", "0.0", 20),
        _fr(4, 7, 2, "OPTIMAL", "coverage+continuity+quality", "0.0", 22),
        _fr(4, 7, 3, "OPTIMAL", "coverage+continuity+quality", "0.0", 24),
        # FEASIBLE with every stage's name listed still is not a proof of the whole objective
        _fr(8, 15, 1, "FEASIBLE", "coverage+continuity", "0.01", 40),
        _fr(8, 15, 2, "OPTIMAL", "coverage+continuity+quality", "0.0", 41),
        _fr(8, 15, 3, "FEASIBLE", "coverage", "0.05", 42),
        _fr(12, 22, 1, "FEASIBLE", "coverage", "0.1", 60),
        _fr(12, 22, 2, "FEASIBLE", "", "0.2", 61),
        _fr(12, 22, 3, "TIMEOUT after 600s", "", "", 62),
    ])
    lines = harness.frontier_section(harness._read(tmp_path / "frontier.csv"))
    table = {ln.split("|")[1].strip(): [c.strip() for c in ln.split("|")[1:-1]]
             for ln in lines if ln.startswith("| ") and ln.split("|")[1].strip().isdigit()}
    # carers | children | visits | slots | whole | coverage | continuity | quality | time | gap
    assert table["4"][2:8] == ["22", "23", "3 of 3", "3 of 3", "3 of 3", "3 of 3"]
    assert table["8"][4:8] == ["1 of 3", "3 of 3", "2 of 3", "1 of 3"]
    assert table["12"][4:8] == ["0 of 3", "1 of 3", "0 of 3", "0 of 3"]
    assert table["8"][9] == "1.00"  # median gap, %
    text = "\n".join(lines)
    assert "Largest size with the whole objective proven on every seed: 4 carers / 7 children" in text
    assert "First size with no seed proven: 12 carers / 22 children" in text
    assert "roster bench frontier --seeds 1 2 3 --runs 1" in text


def test_report_has_the_proof_frontier_beside_the_existing_suites(tmp_path: Path) -> None:
    _frontier_csv(tmp_path / "frontier.csv", [_fr(4, 7, 1, "OPTIMAL", "coverage", "0.0", 20)])
    fields = list(harness.FIELDS)
    with open(tmp_path / "smoke.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerow({**{k: "" for k in fields}, "suite": "smoke", "instance": "tiny-seed1", "size": "tiny",
                    "method": "greedy", "slots": "10", "slots_covered": "8", "visits": "9",
                    "command": "roster bench smoke"})
    md = tmp_path / "RESULTS.md"
    harness.write_report(tmp_path, md)
    text = md.read_text()
    assert "## Suite `smoke`" in text and "## Proof frontier" in text
    assert "## Suite `frontier`" not in text


def test_stage_summary_names_each_stage_its_status_and_seconds() -> None:
    stages: list[dict[str, Any]] = [{"stage": "coverage_bound", "status": "OPTIMAL", "seconds": 0.123},
              {"stage": "insert", "status": "NO GAIN", "seconds": 0.05},
              {"stage": "build", "status": "skipped: the model took 6 s"},
              {"stage": "lns", "status": "12 moves, 3 kept (1 of one day)", "seconds": 3.0}]
    assert harness.stage_summary(stages) == (
        "coverage_bound:OPTIMAL@0.1 insert:NO_GAIN@0.1 build:skipped lns:12_moves@3.0")


def test_frontier_bounds_continuity_after_the_solve_up_to_the_size_it_converges_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "_prepare", lambda out, name, c, k, seed: (
        out / f"{name}-s{seed}.pickle",
        {"carers": c, "children": k, "visits": 3 * c, "slots": 4 * c}))
    args = argparse.Namespace(seeds=[1], time_limit=None, runs=1, out=tmp_path)
    plan = harness._plan("frontier", args)
    marked = {p["carers"] for p in plan if p.get("continuity_bound")}
    assert marked == {c for c, _ in harness.FRONTIER_SIZES
                      if c <= harness.CONTINUITY_BOUND_MAX_CARERS}
    assert 30 not in marked
    assert {p["continuity_bound"] for p in plan if p.get("continuity_bound")} == {
        harness.CONTINUITY_BOUND_SECONDS}


def test_proof_frontier_counts_rotas_at_their_continuity_bound(tmp_path: Path) -> None:
    def with_bound(seed: int, cost: str, bound: str, gap: str) -> dict[str, str]:
        return {**_fr(8, 15, seed, "FEASIBLE", "coverage", "0.01", 40),
                "continuity_cost": cost, "continuity_bound": bound, "continuity_gap_pct": gap}

    _frontier_csv(tmp_path / "frontier.csv", [
        with_bound(1, "2680.0", "2660.0", "0.75"),
        with_bound(2, "2800.0", "2800.0", "0.0"),
        with_bound(3, "3060.0", "2900.0", "5.23"),
        _fr(30, 56, 1, "FEASIBLE", "coverage", "0.3", 231),  # no bound at S
    ])
    lines = harness.frontier_section(harness._read(tmp_path / "frontier.csv"))
    table = {ln.split("|")[1].strip(): [c.strip() for c in ln.split("|")[1:-1]]
             for ln in lines if ln.startswith("| ") and ln.split("|")[1].strip().isdigit()}
    assert table["8"][11:13] == ["1 of 3", "0.75"]
    assert table["30"][11:13] == ["", ""]


def test_a_frontier_run_reports_its_continuity_and_a_bound_no_higher(tmp_path: Path) -> None:
    import pickle

    from roster.generator import generate

    path = tmp_path / "4x7.pickle"
    with open(path, "wb") as fh:
        pickle.dump(generate(carers=4, children=7, seed=2), fh)
    out = harness._method({"method": "cpsat", "pickle": str(path), "time_limit": 5, "seed": 2,
                           "continuity_bound": 10.0})
    assert out["violations"] == 0
    assert out["status"] == "OPTIMAL"  # so its continuity is the optimum, which bounds the bound
    assert 0 < out["continuity_bound"] <= out["continuity_cost"]
    assert out["continuity_gap_pct"] == pytest.approx(
        100 * (out["continuity_cost"] - out["continuity_bound"]) / out["continuity_cost"])


def test_a_section_lists_every_command_that_made_its_rows_and_a_row_names_its_methods() -> None:
    import argparse

    from benchmarks.harness import _command, _command_lines

    args = argparse.Namespace(seeds=[1, 2], runs=3, time_limit=None, methods=["cpsat", "greedy"])
    assert _command("S", args) == "roster bench S --seeds 1 2 --runs 3 --methods cpsat greedy"
    one = {"method": "decomposed", "command": "roster bench S --seeds 1 --runs 3"}
    two = [{"method": m, "command": _command("S", args)} for m in ("cpsat", "greedy")]
    assert _command_lines([one]) == ["Command: `roster bench S --seeds 1 --runs 3`", ""]
    lines = _command_lines([one, *two])
    assert "- `roster bench S --seeds 1 --runs 3`: decomposed" in lines
    assert "- `roster bench S --seeds 1 2 --runs 3 --methods cpsat greedy`: cpsat, greedy" in lines


def test_a_bench_run_writes_outside_the_tracked_tree_unless_asked_to_record() -> None:
    parser = argparse.ArgumentParser()
    harness.configure_parser(parser)
    out, md = harness.results_paths(parser.parse_args(["smoke"]))
    assert out == Path("out") / "bench" and md == out / "RESULTS.md"  # out/ is git-ignored
    out, md = harness.results_paths(parser.parse_args(["smoke", "--out", "/tmp/b"]))
    assert out == Path("/tmp/b") and md == Path("/tmp/b/RESULTS.md")
    out, md = harness.results_paths(parser.parse_args(["smoke", "--record"]))
    assert out == harness.RECORD_OUT and md == harness.RESULTS_MD
    assert md.parent == Path(harness.__file__).resolve().parent
