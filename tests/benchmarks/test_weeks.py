"""The multi-week benchmark: every method's rotas check, and its numbers add up."""

from __future__ import annotations

import csv
from pathlib import Path

from benchmarks.weeks import COLUMNS, run, summary, table


def test_two_weeks_of_each_method_check_and_the_roll_forward_keeps_at_least_the_copy():
    rows = run("S", 2, seed=3, time_limit=6, methods=("rollforward", "coordinator"),
               echo=lambda _line: None)
    assert [(r["week"], r["method"]) for r in rows] == [
        (1, "rollforward"), (2, "rollforward"), (1, "coordinator"), (2, "coordinator")]
    for r in rows:
        assert r["violations"] == 0
        assert 0 < r["staffed"] <= r["slots"]
        assert 0 <= r["same_carer_pct"] <= 100 and 0 <= r["children_only_known_pct"] <= 100
        assert r["changes_not_forced"] == 0  # both keep every carried row they do not release
    first = {r["method"]: r for r in rows if r["week"] == 1}
    # the roll forward staffs at least what copying last week and a first fit staff
    assert first["rollforward"]["staffed"] >= first["coordinator"]["staffed"]
    assert "| 1 | rollforward |" in table(rows)
    assert "| coordinator |" in summary(rows)


def test_roster_bench_weeks_writes_its_csv(tmp_path: Path, capsys):
    from roster.cli import main

    code = main(["bench", "weeks-S", "--seeds", "2", "--methods", "coordinator",
                 "--out", str(tmp_path)])
    assert code == 0
    rows = list(csv.DictReader((tmp_path / "weeks-S.csv").open()))
    assert [int(r["week"]) for r in rows] == list(range(1, 9))
    assert set(rows[0]) == set(COLUMNS)
    assert all(r["violations"] == "0" for r in rows)
    assert "| 8 | coordinator |" in capsys.readouterr().out
