"""The CI smoke benchmark: every row well-formed, every rota of ours checker-clean.

No timing is asserted (STYLE.md: timings live in benchmarks/, never in a unit test)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

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
