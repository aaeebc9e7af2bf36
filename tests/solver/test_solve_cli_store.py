"""`roster solve --db URL --week YYYY-MM-DD`: the week comes from the store and goes back into it."""

from __future__ import annotations

from pathlib import Path

from roster.checker import check
from roster.cli import main
from roster.io import load_rota
from roster.store import Store
from tests.factory import WEEK, carer, child, make_instance, visit


def _week():
    return make_instance(
        carers=[carer("K1"), carer("K2")],
        children=[child("C1")],
        visits=[visit("V1", start="16:00"), visit("V2", start="10:00", date=WEEK.replace(day=24))],
    )


def test_solve_takes_the_week_from_the_store_and_saves_its_rota_as_a_draft(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'roster.sqlite'}"
    instance = _week()
    with Store.open(db) as store:
        instance_id = store.save_instance(instance, user="coordinator1")
    out = tmp_path / "rota"
    code = main(["solve", "--db", db, "--week", WEEK.isoformat(), str(out),
                 "--time-limit", "5", "--workers", "1", "--quiet"])
    assert code == 0
    rota = load_rota(instance, out)
    assert check(instance, rota) == []
    assert {a.visit_id for a in rota.assignments} == {"V1", "V2"}
    with Store.open(db) as store:
        drafts = store.versions(week_start=WEEK, status="draft")
        assert [v.instance_id for v in drafts] == [instance_id]
        saved = store.load_rota(drafts[0].id)
    assert {(a.visit_id, a.carer_id) for a in saved.assignments} == {
        (a.visit_id, a.carer_id) for a in rota.assignments
    }


def test_a_week_the_store_does_not_hold_is_one_clear_line(tmp_path: Path, capsys):
    db = f"sqlite:///{tmp_path / 'roster.sqlite'}"
    code = main(["solve", "--db", db, "--week", "2026-11-30", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no instance saved for the week of 2026-11-30" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_week_without_a_store_is_refused(tmp_path: Path, capsys):
    code = main(["solve", "--week", "2026-11-23", str(tmp_path / "out")])
    assert code == 2
    assert "--week needs --db" in capsys.readouterr().err
