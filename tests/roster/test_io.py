"""Reading and writing contract folders: lossless round trips, rotas, warnings, postcodes, atomicity."""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from roster.atomic import atomic_folder, atomic_write_text
from roster.errors import DataWarning, InstanceError
from roster.io import (
    PLACE_TABLES,
    REQUIRED,
    check_instance,
    load_instance,
    load_rota,
    load_travel,
    write_instance,
    write_rota,
)
from roster.model import Absence, Assignment, Rota, Unassigned
from tests.factory import carer, child, make_instance, visit

DATA = Path(__file__).resolve().parents[1] / "data"
TINY = DATA / "tiny"


def _copy_tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# ---- instances ------------------------------------------------------------------------------


def test_tiny_instance_loads_with_every_field_parsed() -> None:
    instance = load_instance(TINY)
    assert instance.settings.week_start == date(2026, 11, 23)
    assert [c.carer_id for c in instance.carers] == ["K1", "K2"]
    k2 = instance.carer("K2")
    assert k2.languages == ("English", "Polish") and k2.agency and k2.max_week_hours == 40.0
    assert instance.carer("K1").max_week_hours is None
    c2 = instance.child("C2")
    assert (
        c2.excluded_carers == ("K1",) and c2.mileage_cap_miles == 25.0 and c2.max_carers_week == 2
    )
    v2 = instance.visit("V2")
    assert (v2.carers, v2.kind, v2.needs_driver, v2.trip_miles) == (2, "community", True, 6.5)
    assert v2.competencies == ("peg_feeding",) and (v2.lat, v2.lon) == (50.716, -2.442)
    assert instance.visit("V1").lat is None
    assert instance.absences == (
        Absence("K1", datetime(2026, 11, 26, 8), datetime(2026, 11, 26, 13)),
    )
    assert instance.history_hours[("C2", "K2")] == 7.5


def test_load_write_load_is_lossless_and_byte_stable(tmp_path: Path) -> None:
    first = load_instance(TINY)
    write_instance(first, tmp_path / "out")
    second = load_instance(tmp_path / "out")
    assert second == first
    for path in TINY.iterdir():
        assert (tmp_path / "out" / path.name).read_bytes() == path.read_bytes(), path.name


def test_factory_instance_round_trips_through_a_folder(tmp_path: Path) -> None:
    instance = make_instance(
        carers=[carer("K1"), carer("K2", gender="M", dbs_issued=None, dbs_update_service=True)],
        children=[child("C1", gender_required="F", excluded_carers=("K2",))],
        visits=[visit("V1", flex_min=30), visit("V2", start="21:30", duration_min=600, carers=2)],
        bank_holidays=(date(2026, 11, 25),),
        mileage_cap_miles=15.5,
    )
    write_instance(instance, tmp_path / "out")
    assert load_instance(tmp_path / "out") == instance


def test_settings_extras_survive_a_round_trip(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    data = json.loads((folder / "instance.json").read_text())
    data["provider"] = {"name": "Acme Care", "region": ["Dorset"]}
    (folder / "instance.json").write_text(json.dumps(data))
    instance = load_instance(folder)
    assert instance.settings.extra == {"provider": {"name": "Acme Care", "region": ["Dorset"]}}
    write_instance(instance, tmp_path / "again")
    assert load_instance(tmp_path / "again") == instance


def test_defaults_apply_when_optional_columns_and_files_are_absent(tmp_path: Path) -> None:
    # kind is no hard rule's: its column may be left out; flex_min and trip_miles may be blank
    folder = _copy_tiny(tmp_path)
    (folder / "absences.csv").unlink()
    (folder / "history.csv").unlink()
    (folder / "instance.json").write_text('{"week_start": "2026-11-23"}')
    (folder / "visits.csv").write_text(
        "visit_id,child_id,date,start,duration_min,flex_min,carers,needs_driver,trip_miles,"
        "competencies,lat,lon\nV1,C1,2026-11-23,16:00,120,,1,false,,,,\n"
    )
    instance = load_instance(folder)
    assert instance.settings.mileage_cap_miles == 20.0
    assert instance.settings.mandatory_training == ("safeguarding_children",)
    assert (instance.visits[0].flex_min, instance.visits[0].carers, instance.visits[0].kind) == (
        0,
        1,
        "home",
    )
    assert instance.absences == () and instance.history == ()


@pytest.mark.parametrize(
    ("column", "expected"),
    [("carers", "carers is ''; it must be 1 or 2 (a 2:1 visit)."),
     ("needs_driver", "needs_driver is ''; it must be true or false.")],
)  # fmt: skip
def test_a_blank_cell_that_would_relax_a_rule_is_refused_not_defaulted(
    tmp_path: Path, column: str, expected: str
) -> None:
    # the contract gives these no blank default: read as 1 / false, a 2:1 visit would be
    # staffed 1:1 (R4) and a visit needing a driver given to a carer without a car (R8)
    folder = _copy_tiny(tmp_path)
    lines = (folder / "visits.csv").read_text(encoding="utf-8").splitlines()
    at = lines[0].split(",").index(column)
    cells = lines[2].split(",")
    cells[at] = ""
    lines[2] = ",".join(cells)
    (folder / "visits.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    assert [str(p) for p in caught.value.problems] == [f"visits.csv row 2 (V2): {expected}"]


HARD_RULE_COLUMNS = [
    (table, column)
    for table, columns in REQUIRED.items()
    if table in ("carers", "training", "availability", "absences", "children", "visits", "history")
    for column in columns
] + [(table, column) for table in sorted(PLACE_TABLES) for column in ("lat", "lon")]


@pytest.mark.parametrize(("table", "column"), HARD_RULE_COLUMNS)
def test_a_column_a_hard_rule_reads_is_refused_when_absent_not_defaulted(
    tmp_path: Path, table: str, column: str
) -> None:
    # e.g. without visits.carers every 2:1 visit would silently become 1:1
    folder = _copy_tiny(tmp_path)
    path = folder / f"{table}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    drop = lines[0].split(",").index(column)
    path.write_text(
        "".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop) + "\n" for line in lines),
        encoding="utf-8",
    )
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{table}.csv: the column ") and column in problems[0]
    assert "is missing" in problems[0]


def test_the_contract_columns_no_hard_rule_reads_may_be_left_out(tmp_path: Path) -> None:
    soft = {
        "carers": ("name", "languages", "culture", "contracted_hours", "hourly_cost", "agency"),
        "children": ("name", "commissioner", "gender_preferred", "language", "culture",
                     "max_carers_week"),
        "visits": ("kind",),
    }  # fmt: skip
    folder = _copy_tiny(tmp_path)
    for table, columns in soft.items():
        path = folder / f"{table}.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        drop = {i for i, c in enumerate(lines[0].split(",")) if c in columns}
        path.write_text(
            "".join(
                ",".join(c for i, c in enumerate(line.split(",")) if i not in drop) + "\n"
                for line in lines
            ),
            encoding="utf-8",
        )
    instance = load_instance(folder)
    assert [v.visit_id for v in instance.visits] == ["V1", "V2", "V3"]
    assert instance.carers[1].hourly_cost == 0.0 and instance.children[1].max_carers_week is None


def test_unknown_extra_columns_are_ignored_and_headers_are_forgiving(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    _rewrite(folder / "visits.csv", "visit_id,child_id", "Visit_ID ,child_id")
    _rewrite(folder / "visits.csv", ",lat,lon\n", ",lat,lon,notes\n")
    assert load_instance(folder) == load_instance(TINY)


def test_cells_are_normalised_friendly_forms(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    _rewrite(folder / "availability.csv", "K1,Mon,07:00,22:00", "K1,monday, 7:00 ,24:00")
    _rewrite(folder / "carers.csv", "English,,false,,30", "English,,FALSE,,30")
    instance = load_instance(folder)
    assert instance.availability[0] == replace(
        instance.availability[0], day="Mon", start="07:00", end="00:00"
    )


def test_a_csv_saved_by_excel_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    path = folder / "carers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert load_instance(folder) == load_instance(TINY)


def test_a_carer_with_no_availability_is_a_warning_not_an_error(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "availability.csv").write_text("carer_id,day,start,end\nK1,Mon,07:00,22:00\n")
    with pytest.warns(
        DataWarning, match=r"carers\.csv row 2 \(K2\): the carer has no rows in availability\.csv"
    ):
        instance = load_instance(folder)
    assert len(instance.carers) == 2
    _, found = check_instance(folder)
    assert [p.kind for p in found] == ["warning"]


def test_validate_prints_warnings_and_still_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from roster.cli import main

    folder = _copy_tiny(tmp_path)
    (folder / "availability.csv").write_text("carer_id,day,start,end\nK1,Mon,07:00,22:00\n")
    assert main(["validate", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("OK: 2 carers, 2 children, 3 visits (week of 2026-11-23)")
    assert "warning: carers.csv row 2 (K2): the carer has no rows" in err


def test_an_absence_given_as_bare_dates_covers_the_whole_last_day(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "absences.csv").write_text("carer_id,start,end\nK2,2026-11-24,2026-11-24\n")
    instance = load_instance(folder)
    assert instance.absences[0] == Absence("K2", datetime(2026, 11, 24), datetime(2026, 11, 25))


def test_a_travel_matrix_is_loaded_as_a_travel_model(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "travel.csv").write_text("from,to,miles,minutes\nK1,V1,3.2,11\nV1,V2,1.5,6\n")
    instance = load_instance(folder)
    model = load_travel(folder, instance)
    assert model.journey((0, 0), (0, 0), "K1", "V1") == (3.2, 11)
    assert model.travel == instance.settings.travel
    write_instance(instance, tmp_path / "out", travel=model.matrix)
    assert load_travel(tmp_path / "out", instance).matrix == model.matrix


def test_a_travel_matrix_with_unknown_places_is_reported(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "travel.csv").write_text("from,to,miles,minutes\nK1,V9,3.2,11\nV1,V2,-1,6\n")
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    text = str(caught.value)
    assert "travel.csv row 1 (K1->V9): to is 'V9'; no carer, child or visit has this id" in text
    assert "travel.csv row 2 (V1->V2): miles is '-1'" in text


def test_without_travel_csv_the_default_model_applies() -> None:
    model = load_travel(TINY, load_instance(TINY))
    assert model.matrix == {}


def test_write_instance_keeps_unrelated_files_but_drops_stale_contract_files(
    tmp_path: Path,
) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "packages.csv").write_text("child_id,day\n")
    instance = replace(load_instance(folder), absences=())
    (folder / "travel.csv").write_text("from,to,miles,minutes\n")
    write_instance(instance, folder)
    assert (folder / "packages.csv").exists()
    assert not (folder / "travel.csv").exists()
    assert load_instance(folder).absences == ()


# ---- postcodes -------------------------------------------------------------------------------


def _postcode_folder(tmp_path: Path) -> Path:
    folder = _copy_tiny(tmp_path)
    _rewrite(
        folder / "children.csv",
        "child_id,name,date_of_birth,lat,lon,",
        "child_id,name,date_of_birth,lat,lon,postcode,",
    )
    _rewrite(folder / "children.csv", "2014-05-05,50.721,-2.445,", "2014-05-05,,,dt1 2ab,")
    _rewrite(folder / "children.csv", "2009-01-20,50.708,-2.46,", "2009-01-20,50.708,-2.46,,")
    return folder


def test_a_postcode_stands_in_for_lat_lon_via_the_offline_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "outward.csv"
    table.write_text("outward,lat,lon\nDT1,50.7150,-2.4370\n")
    monkeypatch.setenv("ROSTER_POSTCODE_TABLE", str(table))
    instance = load_instance(_postcode_folder(tmp_path))
    assert (instance.child("C1").lat, instance.child("C1").lon) == (50.715, -2.437)


def test_a_postcode_outside_the_offline_table_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "outward.csv"
    table.write_text("outward,lat,lon\nDT2,50.7,-2.5\n")
    monkeypatch.setenv("ROSTER_POSTCODE_TABLE", str(table))
    with pytest.raises(
        InstanceError,
        match=r"children\.csv row 1 \(C1\): postcode is 'dt1 2ab'; its outward code DT1 is not in the offline postcode table",
    ):
        load_instance(_postcode_folder(tmp_path))


def test_a_malformed_postcode_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSTER_POSTCODE_TABLE", str(tmp_path / "none.csv"))
    folder = _postcode_folder(tmp_path)
    _rewrite(folder / "children.csv", "dt1 2ab", "Dorchester")
    with pytest.raises(
        InstanceError,
        match=r"children\.csv row 1 \(C1\): postcode is 'Dorchester'; it is not a UK postcode",
    ):
        load_instance(folder, geocode="offline")


def test_with_geocoding_off_a_postcode_without_lat_lon_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        InstanceError,
        match=r"children\.csv row 1 \(C1\): postcode is 'dt1 2ab'; lat and lon are blank and postcodes cannot be resolved here \(geocoding is off\)",
    ):
        load_instance(_postcode_folder(tmp_path), geocode="off")


def test_online_geocoding_is_used_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import roster.geocode as geocode

    asked: list[str] = []

    def fake_call(self: geocode.OnlineGeocoder, postcode: str) -> tuple[float, float]:
        asked.append(geocode.normalise_postcode(postcode))
        return 50.72, -2.44

    monkeypatch.setattr(geocode.OnlineGeocoder, "__call__", fake_call)
    monkeypatch.setenv("ROSTER_POSTCODE_TABLE", str(tmp_path / "none.csv"))
    folder = _postcode_folder(tmp_path)
    with pytest.raises(InstanceError):
        load_instance(folder)  # offline by default: never goes online
    assert asked == []
    instance = load_instance(folder, geocode="online")
    assert asked == ["DT1 2AB"] and instance.child("C1").lat == 50.72


# ---- rotas -----------------------------------------------------------------------------------


def _rota() -> Rota:
    return Rota(
        assignments=(
            Assignment("V1", "K1", 960, 1080, "home", 1.23, 4),
            Assignment("V2", "K1", 1440 + 570, 1440 + 750, "home", 0.5, 2),
            Assignment("V2", "K2", 1440 + 570, 1440 + 750, "home", 0.75, 3),
        ),
        unassigned=(Unassigned("V3", 1, "no carer with peg_feeding free Fri 21:00-07:00"),),
        summary={"objective": 12.5, "bound": 14.0, "solve_seconds": 0.4},
    )


def test_rota_round_trips_through_a_folder(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    write_rota(instance, _rota(), tmp_path / "rota")
    back = load_rota(instance, tmp_path / "rota")
    assert back.assignments == _rota().assignments
    assert back.unassigned == _rota().unassigned
    assert back.summary["objective"] == 12.5
    assert (tmp_path / "rota" / "rota.csv").read_text().splitlines()[1] == (
        "V1,K1,2026-11-23T16:00:00+00:00,2026-11-23T18:00:00+00:00,home,1.23,4"
    )


def test_summary_holds_the_contract_keys(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    write_rota(instance, _rota(), tmp_path / "rota")
    summary = json.loads((tmp_path / "rota" / "summary.json").read_text())
    assert summary["visits"] == 3 and summary["visits_covered"] == 2
    assert summary["carer_slots"] == 4 and summary["carer_slots_covered"] == 3
    assert summary["travel_miles"] == 2.48 and summary["mean_carers_per_child"] == 1.5
    assert summary["bound"] == 14.0 and summary["solve_seconds"] == 0.4


def test_summary_counts_come_from_the_rows_written_not_a_carried_summary(tmp_path: Path) -> None:
    # A summary carried over from another rota (repair, referral) must not contradict rota.csv.
    instance = load_instance(TINY)
    stale = replace(_rota(), summary={"visits_covered": 99, "travel_miles": 0.0, "objective": 1.0})
    write_rota(instance, stale, tmp_path / "rota")
    summary = json.loads((tmp_path / "rota" / "summary.json").read_text())
    assert summary["visits_covered"] == 2 and summary["travel_miles"] == 2.48
    assert summary["objective"] == 1.0


def test_a_visit_the_rota_forgot_to_list_is_written_as_unassigned(tmp_path: Path) -> None:
    # Contract §2: no visit may be silently dropped. V3 unlisted, V2 half staffed listed with
    # a wrong count: both come out right.
    instance = load_instance(TINY)
    rows = _rota().assignments
    rota = Rota(assignments=rows[:2], unassigned=(Unassigned("V2", 2, "only one carer free"),))
    write_rota(instance, rota, tmp_path / "rota")
    lines = (tmp_path / "rota" / "unassigned.csv").read_text().splitlines()
    assert lines[0] == "visit_id,missing,reasons"
    assert lines[1] == "V2,1,only one carer free"
    assert lines[2].startswith("V3,1,") and "no reason recorded" in lines[2]


def test_rota_times_carry_the_summer_offset_and_read_back_exactly(tmp_path: Path) -> None:
    # Week of the October clock change: Monday 2026-10-19 is BST (+01:00).
    instance = make_instance(
        week_start=date(2026, 10, 19), visits=[visit("V1", date=date(2026, 10, 19))]
    )
    rota = Rota((Assignment("V1", "K1", 960, 1080),))
    write_rota(instance, rota, tmp_path / "rota")
    line = (tmp_path / "rota" / "rota.csv").read_text().splitlines()[1]
    assert "2026-10-19T16:00:00+01:00" in line
    assert load_rota(instance, tmp_path / "rota").assignments == rota.assignments


def test_rota_with_bad_cells_reports_every_problem(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    folder = tmp_path / "rota"
    folder.mkdir()
    (folder / "rota.csv").write_text(
        "visit_id,carer_id,start,end,travel_from,travel_miles,travel_min\n"
        "V1,K1,2026-11-23T16:00:00,2026-11-23T18:00:00+00:00,home,1,4\n"
        "V9,K1,2026-11-23T16:00:00+00:00,2026-11-23T18:00:00+00:00,V7,x,4\n"
    )
    (folder / "unassigned.csv").write_text("visit_id,missing,reasons\nV3,one,none free\n")
    with pytest.raises(InstanceError) as caught:
        load_rota(instance, folder)
    text = str(caught.value)
    assert (
        "rota.csv row 1 (V1): start is '2026-11-23T16:00:00'; it must be an ISO 8601 date and time with its UTC offset"
        in text
    )
    assert "rota.csv row 2 (V9): visit_id is 'V9'; no visit has this id" in text
    assert "rota.csv row 2 (V9): travel_from is 'V7'" in text
    assert "rota.csv row 2 (V9): travel_miles is 'x'" in text
    assert "unassigned.csv row 1 (V3): missing is 'one'" in text


def test_a_rota_is_never_written_into_an_instance_folder(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    instance = load_instance(folder)
    with pytest.raises(InstanceError, match="it is an instance folder"):
        write_rota(instance, _rota(), folder)
    assert load_instance(folder) == instance


def test_write_rota_replaces_the_earlier_rota_but_keeps_other_files(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    folder = tmp_path / "rota"
    write_rota(instance, _rota(), folder)
    (folder / "run_sheets.pdf").write_bytes(b"%PDF")
    smaller = Rota(_rota().assignments[:1], (Unassigned("V2", 2, "x"), Unassigned("V3", 1, "y")))
    write_rota(instance, smaller, folder)
    assert load_rota(instance, folder).assignments == smaller.assignments
    assert (folder / "run_sheets.pdf").read_bytes() == b"%PDF"


# ---- atomic outputs --------------------------------------------------------------------------


def test_a_failure_inside_atomic_folder_leaves_the_earlier_folder_intact(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "rota.csv").write_text("old\n")
    with pytest.raises(RuntimeError), atomic_folder(target) as tmp:
        (tmp / "rota.csv").write_text("half")
        raise RuntimeError("solver crashed")
    assert (target / "rota.csv").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp folder left behind


def test_a_failed_write_rota_leaves_the_earlier_rota_intact(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    folder = tmp_path / "rota"
    write_rota(instance, _rota(), folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    broken = Rota((Assignment("V1", "K1", 960, 1080),), summary={"objective": object()})
    with pytest.raises(TypeError):
        write_rota(instance, broken, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_atomic_folder_swaps_in_the_new_content_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "stale.csv").write_text("x")
    with atomic_folder(target) as tmp:
        (tmp / "new.csv").write_text("y")
        assert not (target / "new.csv").exists()  # not visible until the block succeeds
    assert sorted(p.name for p in target.iterdir()) == ["new.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_left_aside_by_a_crash_mid_swap_is_put_back(tmp_path: Path) -> None:
    aside = tmp_path / ".out.old-abc123"
    aside.mkdir()
    (aside / "rota.csv").write_text("good\n")
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "out"):
        raise RuntimeError
    assert (tmp_path / "out" / "rota.csv").read_text() == "good\n"


def test_atomic_write_text_replaces_whole_files(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "summary.json"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["summary.json"]


def test_no_warning_is_raised_for_the_good_tiny_instance() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_instance(TINY)


def test_validate_takes_a_postcode_table_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from roster.cli import main

    monkeypatch.delenv("ROSTER_POSTCODE_TABLE", raising=False)
    table = tmp_path / "outward.csv"
    table.write_text("# outward-code centroids\noutward,lat,lon\nDT1,50.7150,-2.4370\n")
    folder = _postcode_folder(tmp_path)
    assert main(["validate", str(folder), "--postcode-table", str(table)]) == 0
    assert main(["validate", str(folder), "--postcode-table", str(tmp_path / "missing.csv")]) == 2
    _, err = capsys.readouterr()
    assert "missing.csv" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "outward", "normal"),
    [("DT1 1AA", "DT1", "DT1 1AA"), ("dt11aa", "DT1", "DT1 1AA"), (" pe1 ", "PE1", "PE1"),
     ("MK10 9AB", "MK10", "MK10 9AB"), ("SW1A 1AA", "SW1A", "SW1A 1AA"), ("cb23 7ab", "CB23", "CB23 7AB")],
)  # fmt: skip
def test_postcodes_are_split_into_their_outward_code(text: str, outward: str, normal: str) -> None:
    from roster.geocode import normalise_postcode, outward_code

    assert outward_code(text) == outward
    assert normalise_postcode(text) == normal


@pytest.mark.parametrize("text", ["", "Dorchester", "12345", "DT1 1A", "ZZZ1 1AA"])
def test_things_that_are_not_postcodes_are_refused(text: str) -> None:
    from roster.geocode import GeocodeError, outward_code

    with pytest.raises(GeocodeError, match="it is not a UK postcode"):
        outward_code(text)


def test_a_visit_starting_in_the_spring_clock_change_gap_is_a_warning(tmp_path: Path) -> None:
    # Sunday 2026-03-29 01:30 does not exist in Europe/London (clocks go 01:00 -> 02:00).
    instance = make_instance(
        week_start=date(2026, 3, 23), visits=[visit("V1", date=date(2026, 3, 29), start="01:30")]
    )
    write_instance(instance, tmp_path / "spring")
    with pytest.warns(
        DataWarning,
        match=r"visits\.csv row 1 \(V1\): start is '01:30'; that wall-clock time does not exist on 2026-03-29 \(the clocks go forward\), so it is read as 02:30\.",
    ):
        load_instance(tmp_path / "spring")


def test_mandatory_training_nobody_holds_is_a_warning(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    data = json.loads((folder / "instance.json").read_text())
    data["mandatory_training"] = ["safeguarding_children", "first_aid"]
    (folder / "instance.json").write_text(json.dumps(data))
    with pytest.warns(
        DataWarning, match=r"instance\.json: mandatory_training is 'first_aid'; no carer holds it"
    ):
        load_instance(folder)


def test_an_instance_without_carers_is_a_warning(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "carers.csv").write_text((TINY / "carers.csv").read_text().splitlines()[0] + "\n")
    for name in ("training.csv", "availability.csv", "absences.csv", "history.csv"):
        (folder / name).write_text((TINY / name).read_text().splitlines()[0] + "\n")
    _rewrite(folder / "children.csv", ",K1,", ",,")
    _rewrite(
        folder / "visits.csv", "V2,C2,2026-11-24,09:30,180,0,2", "V2,C2,2026-11-24,09:30,180,0,1"
    )
    _rewrite(folder / "visits.csv", "peg_feeding", "")  # replaces both visits' competency
    with pytest.warns(
        DataWarning, match=r"carers\.csv: it lists no carers, so no visit can be staffed\."
    ):
        instance = load_instance(folder)
    assert instance.carers == () and len(instance.visits) == 3


def test_a_semicolon_separated_csv_is_named_as_such(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    path = folder / "history.csv"
    path.write_text(path.read_text().replace(",", ";"))
    with pytest.raises(
        InstanceError,
        match=r"history\.csv: its header row 'child_id;carer_id;hours' is not separated by commas; save it as CSV UTF-8 \(comma delimited\)\.",
    ):
        load_instance(folder)


def test_a_repeated_column_is_a_warning_and_the_first_is_used(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    _rewrite(folder / "history.csv", "child_id,carer_id,hours\n", "child_id,carer_id,hours,hours\n")
    _rewrite(folder / "history.csv", "C1,K1,12\n", "C1,K1,12,99\n")
    with pytest.warns(
        DataWarning, match=r"history\.csv: the column hours appears 2 times; the first is used\."
    ):
        instance = load_instance(folder)
    assert instance.history_hours[("C1", "K1")] == 12.0


def test_a_failure_between_the_two_renames_puts_the_earlier_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import roster.atomic

    target = tmp_path / "out"
    target.mkdir()
    (target / "rota.csv").write_text("old\n")
    real_replace = os.replace
    calls: list[str] = []

    def flaky_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(Path(src).name)
        if Path(dst) == target and ".tmp-" in Path(src).name:
            raise OSError("disk full")  # the new folder cannot be moved in
        real_replace(src, dst)

    monkeypatch.setattr(roster.atomic.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="disk full"), atomic_folder(target) as tmp:
        (tmp / "rota.csv").write_text("new\n")
    assert (target / "rota.csv").read_text() == "old\n"
    assert len(calls) == 3  # old aside, new in (failed), old back


def test_a_writer_killed_mid_write_leaves_the_earlier_folder_and_no_half_folder(
    tmp_path: Path,
) -> None:
    import signal
    import subprocess
    import sys

    target = tmp_path / "out"
    target.mkdir()
    (target / "rota.csv").write_text("old\n")
    script = (
        "import sys, time\n"
        "from roster.atomic import atomic_folder\n"
        f"with atomic_folder({str(target)!r}) as tmp:\n"
        "    (tmp / 'rota.csv').write_text('half')\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert (target / "rota.csv").read_text() == "old\n"
    assert sorted(p.name for p in target.iterdir()) == ["rota.csv"]


def test_the_online_geocoder_asks_once_per_postcode_and_explains_failures() -> None:
    from types import SimpleNamespace

    from roster.geocode import GeocodeError, OnlineGeocoder

    queries: list[object] = []

    def fake_nominatim(query: dict[str, str], **kw: object) -> object:
        queries.append(query)
        if query["postalcode"] == "ZZ9 9ZZ":
            return None
        if query["postalcode"] == "PE1 1AA":
            raise TimeoutError("no answer")
        return SimpleNamespace(latitude=52.04, longitude=-0.76)

    geocoder = OnlineGeocoder(_geocode=fake_nominatim)
    assert geocoder("mk9 3ej") == (52.04, -0.76)
    assert geocoder("MK9 3EJ") == (52.04, -0.76)
    assert queries == [{"postalcode": "MK9 3EJ", "country": "United Kingdom"}]
    with pytest.raises(GeocodeError, match="the online geocoder does not know it"):
        geocoder("ZZ9 9ZZ")
    with pytest.raises(
        GeocodeError, match=r"the online geocoder failed \(TimeoutError: no answer\)"
    ):
        geocoder("PE1 1AA")


def test_a_rota_folder_without_rota_csv_or_with_broken_summary_is_reported(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    folder = tmp_path / "rota"
    folder.mkdir()
    (folder / "summary.json").write_text("{ not json")
    with pytest.raises(InstanceError) as caught:
        load_rota(instance, folder)
    text = str(caught.value)
    assert "rota.csv: the file is missing from the rota folder." in text
    assert "summary.json: it is not valid JSON" in text


def test_write_instance_into_the_current_folder_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = load_instance(TINY)
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    write_instance(instance, ".")
    assert load_instance(tmp_path / "here") == instance


def test_load_rota_accepts_the_rota_csv_itself(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    write_rota(instance, _rota(), tmp_path / "rota")
    back = load_rota(instance, tmp_path / "rota" / "rota.csv")
    assert back.assignments == _rota().assignments and back.unassigned == _rota().unassigned


def test_an_offline_table_is_built_by_averaging_a_postcode_directory(tmp_path: Path) -> None:
    from roster.geocode import main, read_centroid_table

    source = tmp_path / "onspd.csv"
    source.write_text(
        "pcd,pcds,lat,long,other\n"
        "DT1 1AA,DT1 1AA,50.7100,-2.4400,x\n"
        "DT1 2BB,DT1 2BB,50.7200,-2.4300,x\n"
        "DT11 0AA,DT11 0AA,50.8600,-2.1600,x\n"
        "ZZ99 3WZ,ZZ99 3WZ,99.999999,0.000000,x\n"
        "PE1 1XX,PE1 1XX,,,x\n"
    )
    assert main(["build-table", str(source), str(tmp_path / "outward.csv")]) == 0
    table = read_centroid_table(tmp_path / "outward.csv")
    assert table.centroids == {"DT1": (50.715, -2.435), "DT11": (50.86, -2.16)}
    assert table.lookup("dt1 9zz") == (50.715, -2.435)
