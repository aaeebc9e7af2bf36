"""The instance and the rota as Excel workbooks: round trips, typed cells, errors naming the sheet."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from roster.cli import main
from roster.errors import InstanceError
from roster.excel import load_rota_xlsx, write_instance_xlsx, write_rota_xlsx
from roster.io import load_instance, load_rota, load_travel, write_instance
from roster.model import Assignment, Rota, Unassigned

DATA = Path(__file__).resolve().parents[1] / "data"
TINY = DATA / "tiny"


def test_csv_to_model_to_excel_to_model_to_csv_is_lossless(tmp_path: Path) -> None:
    from_csv = load_instance(TINY)
    write_instance(from_csv, tmp_path / "tiny.xlsx")
    from_excel = load_instance(tmp_path / "tiny.xlsx")
    assert from_excel == from_csv
    write_instance(from_excel, tmp_path / "back")
    for path in TINY.iterdir():
        assert (tmp_path / "back" / path.name).read_bytes() == path.read_bytes(), path.name


def test_workbook_has_a_sheet_per_contract_file_with_typed_cells(tmp_path: Path) -> None:
    write_instance_xlsx(load_instance(TINY), tmp_path / "tiny.xlsx")
    book = load_workbook(tmp_path / "tiny.xlsx")
    assert book.sheetnames == [
        "instance", "carers", "training", "availability", "absences", "children", "visits", "history",
    ]  # fmt: skip
    settings = {row[0]: row[1] for row in book["instance"].iter_rows(min_row=2, values_only=True)}
    assert settings["week_start"] == datetime(2026, 11, 23)
    assert settings["core_hours"] == "06:30;22:30" and settings["travel.speed_mph"] == 20
    visits = list(book["visits"].iter_rows(values_only=True))
    assert visits[0][:5] == ("visit_id", "child_id", "date", "start", "duration_min")
    assert visits[1][2] == datetime(2026, 11, 23) and visits[1][4] == 120
    assert visits[2][8] is True  # needs_driver as an Excel TRUE


def _tiny_book(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.xlsx"
    write_instance_xlsx(load_instance(TINY), path)
    return path


def test_errors_in_a_workbook_name_the_sheet_and_the_excel_row(tmp_path: Path) -> None:
    path = _tiny_book(tmp_path)
    book = load_workbook(path)
    book["visits"]["E2"] = -30  # V1's duration_min; Excel row 2 is the first data row
    book["carers"]["G3"] = "yes"  # K2's drives
    book["instance"]["B3"] = "2026-11-24"  # week_start
    book.save(path)
    with pytest.raises(InstanceError) as caught:
        load_instance(path)
    text = str(caught.value)
    assert (
        "visits sheet row 2 (V1): duration_min is '-30'; it must be a positive whole number of minutes."
        in text
    )
    assert "carers sheet row 3 (K2): drives is 'yes'; it must be true or false." in text
    assert (
        "instance sheet: week_start is '2026-11-24'; it must be a Monday (it is a Tuesday)." in text
    )


def test_a_missing_sheet_is_reported(tmp_path: Path) -> None:
    path = _tiny_book(tmp_path)
    book = load_workbook(path)
    del book["children"]
    book.save(path)
    with pytest.raises(
        InstanceError, match=r"children sheet: the sheet is missing from the workbook\."
    ):
        load_instance(path)


def test_a_file_that_is_not_a_workbook_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("carer_id,name\n")
    with pytest.raises(
        InstanceError, match=r"fake\.xlsx: it cannot be read as an Excel \.xlsx workbook"
    ):
        load_instance(path)


def test_cells_typed_by_a_coordinator_are_understood(tmp_path: Path) -> None:
    """Excel times, real dates, numbers typed as text and extra blank rows all read as the contract."""
    path = _tiny_book(tmp_path)
    book = load_workbook(path)
    visits = book["visits"]
    visits["D2"] = time(16, 0)  # start as an Excel time
    visits["C2"] = date(2026, 11, 23)
    visits["E2"] = "120"  # a number typed as text
    availability = book["availability"]
    availability["C2"] = time(7, 0)
    availability["D2"] = time(22, 0)
    book["absences"]["B2"] = datetime(2026, 11, 26, 8, 0)
    book["absences"]["C2"] = datetime(2026, 11, 26, 13, 0)
    visits.append([None] * 13)  # a formatted but empty row at the end
    book.save(path)
    assert load_instance(path) == load_instance(TINY)


def test_an_absence_ending_at_midnight_in_a_datetime_cell_stays_midnight(tmp_path: Path) -> None:
    path = _tiny_book(tmp_path)
    book = load_workbook(path)
    book["absences"]["C2"] = datetime(2026, 11, 27, 0, 0)
    book.save(path)
    assert load_instance(path).absences[0].end == datetime(2026, 11, 27, 0, 0)


def test_a_hand_made_workbook_with_only_the_required_columns_loads(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Instance"
    sheet.append(["key", "value"])
    sheet.append(["week_start", date(2026, 11, 23)])
    # the columns a hard rule reads must be there (roster.io.REQUIRED); their cells may be blank
    rows = {
        "carers": [["carer_id", "gender", "date_of_birth", "lat", "lon", "dbs_check", "drives",
                    "dbs_issued", "dbs_update_service", "overnight_ok", "max_week_hours"],
                   ["K1", "F", date(1990, 1, 1), 50.71, -2.43, "enhanced_barred_children"]],
        "training": [["carer_id", "competency", "expires"], ["K1", "safeguarding_children"]],
        "availability": [["carer_id", "day", "start", "end"], ["K1", "Mon", "07:00", "22:00"]],
        "children": [["child_id", "date_of_birth", "lat", "lon", "spec", "gender_required",
                      "excluded_carers", "mileage_cap_miles"],
                     ["C1", date(2015, 1, 1), 50.72, -2.44, "generic_home_care"]],
        "visits": [["visit_id", "child_id", "date", "start", "duration_min", "flex_min", "carers",
                    "needs_driver", "trip_miles", "competencies", "lat", "lon"],
                   ["V1", "C1", date(2026, 11, 23), time(16, 0), 120, None, 1, False]],
    }  # fmt: skip
    for name, table in rows.items():
        sheet = book.create_sheet(name)
        for row in table:
            sheet.append(row)
    book.save(tmp_path / "hand.xlsx")
    instance = load_instance(tmp_path / "hand.xlsx")
    assert instance.visits[0].start == "16:00" and instance.carers[0].drives is False


def test_a_travel_matrix_rides_along_in_the_workbook(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "travel.csv").write_text("from,to,miles,minutes\nK1,V1,3.2,11\n")
    instance = load_instance(folder)
    matrix = load_travel(folder, instance).matrix
    write_instance(instance, tmp_path / "t.xlsx", travel=matrix)
    assert load_travel(tmp_path / "t.xlsx", instance).matrix == matrix == {("K1", "V1"): (3.2, 11)}


def test_rota_round_trips_through_a_workbook(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    rota = Rota(
        (Assignment("V1", "K1", 960, 1080, "home", 1.23, 4), Assignment("V2", "K2", 2010, 2190)),
        (Unassigned("V3", 1, "no carer free"),),
        {"objective": 3.0},
    )
    write_rota_xlsx(instance, rota, tmp_path / "rota.xlsx")
    back = load_rota_xlsx(instance, tmp_path / "rota.xlsx")
    assert back.assignments == rota.assignments and back.unassigned == rota.unassigned
    assert load_rota(instance, tmp_path / "rota.xlsx").assignments == rota.assignments
    sheet = load_workbook(tmp_path / "rota.xlsx")["rota"]
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert first["start"] == "2026-11-23T16:00:00+00:00"
    assert (first["child_id"], first["day"], first["local_start"], first["local_end"]) == (
        "C1",
        "Mon",
        "16:00",
        "18:00",
    )


def test_convert_command_goes_folder_to_workbook_and_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", str(TINY), str(tmp_path / "tiny.xlsx")]) == 0
    assert main(["convert", str(tmp_path / "tiny.xlsx"), str(tmp_path / "back")]) == 0
    out, _ = capsys.readouterr()
    assert "wrote" in out
    assert load_instance(tmp_path / "back") == load_instance(TINY)


def test_convert_command_on_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", str(DATA / "bad" / "negative_duration"), str(tmp_path / "x.xlsx")]) == 2
    _, err = capsys.readouterr()
    assert "duration_min is '-30'" in err and "Traceback" not in err
    assert not (tmp_path / "x.xlsx").exists()


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path: Path) -> None:
    from dataclasses import replace

    instance = load_instance(TINY)
    sneaky = replace(
        instance, carers=(replace(instance.carers[0], name='=HYPERLINK("x")'), *instance.carers[1:])
    )
    write_instance(sneaky, tmp_path / "s.xlsx")
    assert load_instance(tmp_path / "s.xlsx") == sneaky
    cell = load_workbook(tmp_path / "s.xlsx")["carers"]["B2"]
    assert cell.data_type == "s"


# ---- random typed cells ----------------------------------------------------------------------

from datetime import timedelta  # noqa: E402
from io import BytesIO  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CELL_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.dates(min_value=date(1900, 1, 2), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 1, 1)),
    st.times(),
    st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2)),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=10),
    st.sampled_from(["K1", "C1", "V1", "Mon", "16:00", "2026-11-23", "peg_feeding", "true"]),
)
SHEETS = (
    "instance",
    "carers",
    "training",
    "availability",
    "absences",
    "children",
    "visits",
    "history",
)


_TINY_BOOK: dict[str, bytes] = {}


def _tiny_workbook_bytes(factory: pytest.TempPathFactory) -> BytesIO:
    """The tiny instance as workbook bytes, written once per test session."""
    if "book" not in _TINY_BOOK:
        path = factory.mktemp("xlsx") / "tiny.xlsx"
        write_instance_xlsx(load_instance(TINY), path)
        _TINY_BOOK["book"] = path.read_bytes()
    return BytesIO(_TINY_BOOK["book"])


@pytest.mark.filterwarnings("ignore::roster.errors.DataWarning")
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(SHEETS), st.integers(1, 4), st.integers(1, 14), CELL_VALUES),
        min_size=1,
        max_size=6,
    )
)
def test_random_typed_cells_in_a_workbook_give_an_instance_error_or_load(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, int, int, object]]
) -> None:
    path = tmp_path_factory.mktemp("xlsx") / "fuzz.xlsx"
    book = load_workbook(_tiny_workbook_bytes(tmp_path_factory))
    for sheet, row, column, value in edits:
        book[sheet].cell(row=row, column=column, value=value)
    book.save(path)
    try:
        instance = load_instance(path)
    except InstanceError as exc:
        assert exc.problems
        assert all(p.file.endswith(" sheet") for p in exc.problems)
    else:
        assert instance.planned_start is not None and instance.windows_by_carer is not None


def test_convert_command_turns_a_rota_folder_into_a_workbook_and_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from roster.io import write_rota

    instance = load_instance(TINY)
    rota = Rota(
        (Assignment("V1", "K1", 960, 1080, "home", 1.23, 4),),
        (Unassigned("V2", 2, "y"), Unassigned("V3", 1, "x")),  # every unstaffed visit listed
    )
    write_rota(instance, rota, tmp_path / "rota")
    args = ["--rota-of", str(TINY)]
    assert main(["convert", str(tmp_path / "rota"), str(tmp_path / "rota.xlsx"), *args]) == 0
    assert main(["convert", str(tmp_path / "rota.xlsx"), str(tmp_path / "back"), *args]) == 0
    back = load_rota(instance, tmp_path / "back")
    assert back.assignments == rota.assignments and back.unassigned == rota.unassigned
    assert "1 rota rows, 2 unassigned visits" in capsys.readouterr().out


SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.mark.skipif(not (SAMPLE / "instance.json").exists(), reason="no bundled sample")
def test_the_bundled_sample_goes_through_a_workbook_byte_for_byte(tmp_path: Path) -> None:
    instance = load_instance(SAMPLE)
    write_instance(instance, tmp_path / "sample.xlsx")
    write_instance(load_instance(tmp_path / "sample.xlsx"), tmp_path / "back")
    for name in ("instance.json", "carers.csv", "training.csv", "availability.csv",
                 "absences.csv", "children.csv", "visits.csv", "history.csv"):  # fmt: skip
        assert (tmp_path / "back" / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_a_generated_caseload_round_trips_through_folder_and_workbook(tmp_path: Path) -> None:
    from roster.generator import generate

    instance = generate(12, 15, seed=7)
    write_instance(instance, tmp_path / "gen")
    from_csv = load_instance(tmp_path / "gen")
    assert from_csv == instance
    write_instance(from_csv, tmp_path / "gen.xlsx")
    assert load_instance(tmp_path / "gen.xlsx") == instance


def test_a_blank_setting_takes_the_default_and_empty_lists_survive(tmp_path: Path) -> None:
    from dataclasses import replace

    instance = load_instance(TINY)
    bare = replace(instance, settings=replace(instance.settings, mandatory_training=()))
    write_instance(bare, tmp_path / "bare.xlsx")
    assert load_instance(tmp_path / "bare.xlsx") == bare
    book = load_workbook(tmp_path / "bare.xlsx")
    for row in book["instance"].iter_rows(min_row=2):
        if row[0].value == "mileage_cap_miles":
            row[1].value = None
    book.save(tmp_path / "bare.xlsx")
    assert load_instance(tmp_path / "bare.xlsx").settings.mileage_cap_miles == 20.0


def test_validate_command_reads_a_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _tiny_book(tmp_path)
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith(
        "OK: 2 carers, 2 children, 3 visits (week of 2026-11-23)"
    )
    book = load_workbook(path)
    book["visits"]["F2"] = 500  # V1's flex_min, longer than its 120 minutes
    book.save(path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        "visits sheet row 2 (V1): flex_min is '500'; it must not be larger than the visit's duration_min (120)."
        in err
    )
    assert "Traceback" not in err
