"""Bad input: one clear sentence per problem, every problem at once, never a traceback."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.cli import main
from roster.errors import InstanceError, UnknownIdError
from roster.io import load_instance

DATA = Path(__file__).resolve().parents[1] / "data"
TINY = DATA / "tiny"
BAD = DATA / "bad"
DEFECTS = sorted(p.name for p in BAD.iterdir() if (p / "EXPECTED").is_file())

sys.path.insert(0, str(BAD))
import make_bad  # noqa: E402  (the script that builds the defect folders)

sys.path.remove(str(BAD))


def test_every_defect_in_the_generator_script_has_its_folder_committed() -> None:
    assert sorted(make_bad.DEFECTS) == DEFECTS
    assert len(DEFECTS) >= 40


def test_committed_defect_folders_match_what_the_script_builds(tmp_path: Path) -> None:
    make_bad.build(tmp_path)
    for name in DEFECTS:
        built, committed = tmp_path / name, BAD / name
        assert sorted(p.name for p in built.iterdir()) == sorted(
            p.name for p in committed.iterdir()
        )
        for path in built.iterdir():
            assert path.read_bytes() == (committed / path.name).read_bytes(), f"{name}/{path.name}"


@pytest.mark.parametrize("defect", DEFECTS)
def test_bad_input_is_reported_as_one_sentence_naming_file_row_field_and_value(defect: str) -> None:
    expected = (BAD / defect / "EXPECTED").read_text(encoding="utf-8").strip()
    with pytest.raises(InstanceError, match=expected) as caught:
        load_instance(BAD / defect)
    # exactly one defect was planted, so exactly one problem is reported
    assert len(caught.value.problems) == 1, str(caught.value)
    sentence = caught.value.problems[0].sentence()
    assert "\n" not in sentence and sentence.endswith((".", ")"))


def test_unknown_ids_raise_a_lookup_error() -> None:
    with pytest.raises(UnknownIdError) as caught:
        load_instance(BAD / "unknown_child_id")
    assert isinstance(caught.value, LookupError)
    assert caught.value.problems[0].kind == "lookup"


def test_a_bad_value_is_a_value_error_not_a_lookup_error() -> None:
    with pytest.raises(InstanceError) as caught:
        load_instance(BAD / "negative_duration")
    assert isinstance(caught.value, ValueError)
    assert not isinstance(caught.value, LookupError)


def _set_cell(path: Path, row: int, column: str, value: str) -> None:
    folder = make_bad.Folder(path.parent)
    folder.set(path.name, row, column, value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    shutil.copytree(TINY, folder)
    _set_cell(folder / "visits.csv", 1, "duration_min", "-30")
    _set_cell(folder / "visits.csv", 2, "child_id", "C9")
    _set_cell(folder / "visits.csv", 3, "start", "9am")
    _set_cell(folder / "carers.csv", 1, "lat", "70.1")
    _set_cell(folder / "carers.csv", 2, "drives", "maybe")
    _set_cell(folder / "children.csv", 1, "spec", "respite")
    _set_cell(folder / "training.csv", 1, "expires", "next year")
    _set_cell(folder / "availability.csv", 1, "day", "Someday")
    _set_cell(folder / "absences.csv", 1, "end", "2026-11-25T08:00")
    _set_cell(folder / "history.csv", 1, "hours", "lots")
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    text = str(caught.value)
    for fragment in (
        "visits.csv row 1 (V1): duration_min is '-30'",
        "visits.csv row 2 (V2): child_id is 'C9'",
        "visits.csv row 3 (V3): start is '9am'",
        "carers.csv row 1 (K1): lat is '70.1'",
        "carers.csv row 2 (K2): drives is 'maybe'",
        "children.csv row 1 (C1): spec is 'respite'",
        "training.csv row 1 (K1): expires is 'next year'",
        "availability.csv row 1 (K1): day is 'Someday'",
        "absences.csv row 1 (K1): end is '2026-11-25T08:00'",
        "history.csv row 1 (C1/K1): hours is 'lots'",
    ):
        assert fragment in text
    assert len(caught.value.problems) == 10


def test_a_row_with_a_problem_does_not_cascade_into_lookups_elsewhere(tmp_path: Path) -> None:
    # K1's row is bad, but K1 still exists: its training, availability and history stand.
    folder = tmp_path / "one"
    shutil.copytree(TINY, folder)
    _set_cell(folder / "carers.csv", 1, "gender", "female")
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    assert [p.field for p in caught.value.problems] == ["gender"]


def test_children_without_any_place_column_is_one_file_level_problem(tmp_path: Path) -> None:
    # Found by hypothesis in CI: a blank header cell swallowed lat, so lon and postcode were gone.
    folder = tmp_path / "noplace"
    shutil.copytree(TINY, folder)
    lines = (folder / "children.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name not in ("lat", "lon", "postcode")]
    (folder / "children.csv").write_text(
        "\n".join(",".join(line.split(",")[i] for i in keep) for line in lines) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InstanceError) as caught:
        load_instance(folder)
    problems = [p for p in caught.value.problems if p.file == "children.csv"]
    assert len(problems) == 1 and problems[0].row is None
    assert "lat" in problems[0].sentence()


def test_validate_command_prints_the_sentence_and_exits_2_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["validate", str(BAD / "negative_duration")])
    out, err = capsys.readouterr()
    assert code == 2
    assert (
        "visits.csv row 1 (V1): duration_min is '-30'; it must be a positive whole number of minutes."
        in err
    )
    assert "Traceback" not in err + out
    assert "OK" not in out


def test_validate_command_on_a_good_folder_says_ok_with_the_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", str(TINY)]) == 0
    out, _ = capsys.readouterr()
    assert out.strip() == "OK: 2 carers, 2 children, 3 visits (week of 2026-11-23)"


def test_validate_command_on_a_missing_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    _, err = capsys.readouterr()
    assert "nowhere" in err and "Traceback" not in err


def test_validate_command_on_a_folder_without_contract_files_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    _, err = capsys.readouterr()
    assert "holds none of the contract's files" in err


# ---- random malformed CSVs -------------------------------------------------------------------

TABLES = ("carers.csv", "training.csv", "availability.csv", "absences.csv", "children.csv",
          "visits.csv", "history.csv", "instance.json")  # fmt: skip
ORIGINAL = {name: (TINY / name).read_text(encoding="utf-8") for name in TABLES}
JUNK = st.one_of(
    st.sampled_from(
        ["", "-1", "0", "1e400", "nan", "inf", "true", "yes", "25:00", "2026-02-30", "K1", "C1",
         "V1", "2", "3", "99.9", "-0", "2026-11-23T08:00", "Mon", ";", ";;K1", "\"", "\n",
         "\x00", "💥", "06:30;22:30", "peg_feeding", "1" * 400, "{", "[]", "null"]
    ),
    st.text(max_size=12),
)  # fmt: skip


@st.composite
def malformed_folder(draw: st.DrawFn) -> dict[str, str]:
    """The tiny instance with random cells replaced, rows cut short and columns dropped."""
    files = dict(ORIGINAL)
    for name in draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=4, unique=True)):
        text = files[name]
        if name == "instance.json":
            lines = text.splitlines()
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = draw(st.sampled_from(['  "week_start": "2026-11-24",', '  "travel": 3,',
                                             '  "core_hours": ["x"],', "", "}", '  "break_min": -1,',
                                             '  "timezone": "Mars/Base",']))  # fmt: skip
            files[name] = "\n".join(lines)
            continue
        lines = text.splitlines()
        rows = [line.split(",") for line in lines]
        for _ in range(draw(st.integers(1, 4))):
            action = draw(st.sampled_from(["cell", "cell", "truncate", "drop_column", "extra"]))
            r = draw(st.integers(0, len(rows) - 1))
            if action == "cell" and rows[r]:
                c = draw(st.integers(0, len(rows[r]) - 1))
                rows[r][c] = draw(JUNK).replace(",", ";")
            elif action == "truncate" and rows[r]:
                rows[r] = rows[r][: draw(st.integers(0, len(rows[r])))]
            elif action == "drop_column" and rows[0]:
                c = draw(st.integers(0, len(rows[0]) - 1))
                rows = [row[:c] + row[c + 1 :] for row in rows]
            elif action == "extra":
                rows[r] = [*rows[r], draw(JUNK).replace(",", ";")]
        files[name] = "\n".join(",".join(row) for row in rows) + "\n"
    return files


@pytest.mark.filterwarnings("ignore::roster.errors.DataWarning")
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=malformed_folder())
def test_random_malformed_csvs_give_an_instance_error_or_load(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, str]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        instance = load_instance(folder)
    except InstanceError as exc:
        assert exc.problems
        for problem in exc.problems:
            sentence = problem.sentence()
            assert sentence and "Traceback" not in sentence
            assert re.match(r"^(instance\.json|\w+\.csv)", sentence)
    else:
        # what loads is usable: the derived tables compute without error
        assert instance.planned_start is not None
        assert instance.windows_by_carer is not None
        assert instance.absences_by_carer is not None


@pytest.mark.filterwarnings("ignore::roster.errors.DataWarning")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=300), name=st.sampled_from(TABLES))
def test_random_bytes_in_a_file_give_an_instance_error_or_load(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, name: str
) -> None:
    folder = tmp_path_factory.mktemp("bytes")
    for other, text in ORIGINAL.items():
        (folder / other).write_text(text, encoding="utf-8")
    (folder / name).write_bytes(data)
    try:
        load_instance(folder)
    except InstanceError as exc:
        assert exc.problems


ROTA_TEXT = (
    "visit_id,carer_id,start,end,travel_from,travel_miles,travel_min\n"
    "V1,K1,2026-11-23T16:00:00+00:00,2026-11-23T18:00:00+00:00,home,1.23,4\n"
    "V2,K1,2026-11-24T09:30:00+00:00,2026-11-24T12:30:00+00:00,V1,0.5,2\n"
)
UNASSIGNED_TEXT = "visit_id,missing,reasons\nV3,1,no carer free\n"
INSTANCE = load_instance(TINY)


@pytest.mark.filterwarnings("ignore::roster.errors.DataWarning")
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["rota", "unassigned"]), st.integers(0, 2), st.integers(0, 6), JUNK
        ),
        min_size=1,
        max_size=5,
    )
)
def test_random_malformed_rotas_give_an_instance_error_or_load(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, int, int, str]]
) -> None:
    from roster.io import load_rota

    tables = {
        "rota": [line.split(",") for line in ROTA_TEXT.splitlines()],
        "unassigned": [line.split(",") for line in UNASSIGNED_TEXT.splitlines()],
    }
    for name, row, column, value in edits:
        rows = tables[name]
        cells = rows[row % len(rows)]
        if cells:
            cells[column % len(cells)] = value.replace(",", ";")
    folder = tmp_path_factory.mktemp("rota")
    for name, rows in tables.items():
        (folder / f"{name}.csv").write_text(
            "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8", errors="surrogatepass"
        )
    try:
        rota = load_rota(INSTANCE, folder)
    except InstanceError as exc:
        assert exc.problems
        assert all(p.file in ("rota.csv", "unassigned.csv") for p in exc.problems)
    else:
        assert all(a.visit_id in INSTANCE.visit_index for a in rota.assignments)
