"""`roster solve INSTANCE OUT` writes a checked rota folder atomically."""

from __future__ import annotations

import json

from roster.checker import check
from roster.cli import main
from roster.io import load_instance, load_rota, write_instance
from tests.factory import carer, make_instance, visit


def test_roster_solve_writes_rota_unassigned_and_summary(tmp_path, capsys):
    inst = make_instance([carer("K1")], visits=[visit("V1"), visit("V2", start="16:30")])
    src = tmp_path / "inst"
    write_instance(inst, src)
    out = tmp_path / "out"
    assert main(["solve", str(src), str(out), "--time-limit", "5", "--workers", "1", "--quiet"]) == 0
    for name in ("rota.csv", "unassigned.csv", "summary.json"):
        assert (out / name).exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["visits"] == 2 and summary["visits_covered"] == 1
    loaded = load_instance(src)
    assert check(loaded, load_rota(loaded, out)) == []
    assert "1/2 visits" in capsys.readouterr().out


def test_roster_solve_lock_file_with_unknown_carer_is_a_clear_error(tmp_path, capsys):
    inst = make_instance([carer("K1")], visits=[visit("V1")])
    src = tmp_path / "inst"
    write_instance(inst, src)
    locks = tmp_path / "locks.csv"
    locks.write_text("visit_id,carer_id\nV1,K9\n")
    code = main(["solve", str(src), str(tmp_path / "out"), "--lock", str(locks), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "locks.csv row 1" in err and "K9" in err


def test_roster_solve_lock_file_is_kept(tmp_path):
    inst = make_instance([carer("K1"), carer("K2")], visits=[visit("V1")])
    src = tmp_path / "inst"
    write_instance(inst, src)
    locks = tmp_path / "locks.csv"
    locks.write_text("visit_id,carer_id\nV1,K2\n")
    out = tmp_path / "out"
    assert main(["solve", str(src), str(out), "--lock", str(locks), "--workers", "1", "--quiet"]) == 0
    loaded = load_instance(src)
    assert [a.carer_id for a in load_rota(loaded, out).assignments] == ["K2"]
