"""The reader under fuzzing: a few hundred mutants of the sample week (fixed seeds, so every run
judges the same mutants; the CSV folder and, for ``excel_cell``, the same week as a workbook),
each with one planted defect, judged by ``benchmarks.fuzz_inputs``:
no traceback, no hang, no silent drop, and every defect that must be refused refused with a
problem naming its file and row (or column). ``python -m benchmarks.fuzz_inputs`` runs 1,000+.

Also the issue's own reproductions on the sample (issue 21, "Input that loses data silently").
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.fuzz_inputs import (
    KNOCK_ON_LIMIT,
    OPERATORS,
    SAMPLE,
    Mutant,
    Sample,
    every_column_removed,
    judge,
    mutants,
    physical_rows,
    run,
    unaccounted_lines,
    write_mutant,
)
from roster.errors import InstanceError
from roster.io import check_instance

HANG_SECONDS = 120.0
"""Only a hang trips this: a mutant loads in milliseconds, also on a loaded machine."""


@pytest.fixture(scope="module")
def sample() -> Sample:
    return Sample.read()


@pytest.mark.parametrize("seed", [1, 2])
def test_mutants_of_the_sample_never_trace_back_hang_or_drop_a_row(
    sample: Sample, tmp_path: Path, seed: int
) -> None:
    outcomes = run(sample, mutants(sample, seed, 7 * len(OPERATORS)), tmp_path, HANG_SECONDS)
    broken = [(o.mutant.index, o.mutant.operator, o.failures) for o in outcomes if o.failures]
    assert broken == []
    # every operator ran, several times, and both outcomes happened
    assert Counter(o.mutant.operator for o in outcomes) == {name: 7 for name in OPERATORS}
    results = Counter(o.result for o in outcomes)
    assert set(results) == {"loaded", "refused"}
    assert sum(o.mutant.must_refuse for o in outcomes) > 80
    assert max(o.knock_ons for o in outcomes) <= KNOCK_ON_LIMIT


def _what(m: Mutant) -> tuple[object, ...]:
    # a workbook's bytes carry the time it was saved: compare the cell planted instead
    planted = (m.column, m.note) if m.workbook else m.files
    return m.operator, m.file, m.row, planted


def test_mutants_are_the_same_on_every_run(sample: Sample) -> None:
    first = [_what(m) for m in mutants(sample, 1, 46)]
    again = [_what(m) for m in mutants(sample, 1, 46)]
    assert first == again
    assert len({w[0] for w in first}) == len(OPERATORS)
    one = next(mutants(sample, 1, 1, start=17))
    assert _what(one) == first[17]


def test_every_hard_rule_column_of_the_sample_is_refused_when_removed(
    sample: Sample, tmp_path: Path
) -> None:
    outcomes = run(sample, every_column_removed(sample), tmp_path, HANG_SECONDS)
    assert [o.failures for o in outcomes if o.failures] == []
    hard = [o for o in outcomes if o.mutant.must_refuse]
    assert len(hard) >= 40 and all(o.result == "refused" and o.problems == 1 for o in hard)
    removed = {(o.mutant.file, o.mutant.column) for o in hard}
    for column in ("carers", "needs_driver", "competencies", "trip_miles", "flex_min"):
        assert ("visits.csv", column) in removed
    for file, column in (("children.csv", "excluded_carers"), ("children.csv", "gender_required"),
                         ("training.csv", "expires"), ("carers.csv", "max_week_hours"),
                         ("carers.csv", "dbs_issued")):  # fmt: skip
        assert (file, column) in removed
    # and the soft ones load, with every row
    soft = [o for o in outcomes if not o.mutant.must_refuse]
    assert soft and all(o.result == "loaded" for o in soft)


def test_the_judge_catches_a_silent_drop(sample: Sample, tmp_path: Path) -> None:
    # A reader that lost a row must be caught: count a visits.csv with an extra row that the
    # loaded instance (the sample's) does not hold.
    header, rows = sample.tables["visits.csv"]
    fake = Mutant(0, "drop_row", "visits.csv", {})
    write_mutant(sample, fake, tmp_path / "m")
    assert judge(sample, fake, tmp_path / "m").failures == []
    extra = "\n".join(",".join(r) for r in [header, *rows, rows[0]]).encode() + b"\n"
    lying = Mutant(1, "drop_row", "visits.csv", {"visits.csv": extra})
    assert physical_rows(extra) == len(rows) + 1
    outcome = judge(sample, lying, tmp_path / "m")  # the folder still holds the sample's file
    assert outcome.result == "loaded"
    assert outcome.failures == [f"silent drop: visits.csv has {len(rows) + 1} rows, {len(rows)} loaded"]


def test_the_judge_catches_a_refused_file_whose_lines_were_neither_read_nor_named(
    sample: Sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import roster.io

    mutant = next(m for m in mutants(sample, 1, 44) if m.operator == "cut_row_short")
    write_mutant(sample, mutant, tmp_path / "m")
    assert unaccounted_lines(tmp_path / "m", mutant.file) == []
    real = roster.io.read_csv_table
    lost: list[int] = []

    def lossy(path: Path, label: str, sink: roster.io.Sink) -> roster.io.Table | None:
        table = real(path, label, sink)
        assert table is not None
        lost.append(table.numbers[2] + 1)  # the physical line of the third row read
        del table.rows[2], table.numbers[2]  # ... lost without a word
        return table

    monkeypatch.setattr(roster.io, "read_csv_table", lossy)
    assert unaccounted_lines(tmp_path / "m", mutant.file) == lost


# ---- the reproductions, on the sample ----------------------------------------------


def _sample_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(InstanceError) as caught:
        check_instance(folder)
    return [p.sentence() for p in caught.value.problems]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_sample_still_loads_its_41_visits() -> None:
    instance, found = check_instance(SAMPLE)
    assert (len(instance.carers), len(instance.children), len(instance.visits)) == (14, 10, 41)
    assert found == []


def test_a_stray_quote_in_visits_no_longer_merges_two_rows(tmp_path: Path) -> None:
    folder = _sample_copy(tmp_path)
    lines = (folder / "visits.csv").read_text(encoding="utf-8").splitlines()
    cells = lines[7].split(",")  # data row 7, physical line 8
    cells[9] = '"' + cells[9]  # trip_miles
    lines[7] = ",".join(cells)
    lines[12] = lines[12].replace(",home,", ',"home,', 1)  # a second stray quote closes it
    (folder / "visits.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _problems(folder) == [
        f"visits.csv row 7 ({cells[0]}): its trip_miles cell starts with a quote (\") on line 8 "
        "and runs on to line 13, so 6 lines would be read as one row; remove the stray quote."
    ]


def test_a_stray_quote_in_carers_gives_one_problem_not_dozens_elsewhere(tmp_path: Path) -> None:
    folder = _sample_copy(tmp_path)
    _edit(folder / "carers.csv", "K03,", 'K03,"')
    problems = _problems(folder)
    assert len(problems) == 1 and problems[0].startswith("carers.csv row 3 (K03): its name cell")


def test_carers_csv_that_lost_its_last_rows_is_a_few_sentences_each_naming_it(
    tmp_path: Path,
) -> None:
    folder = _sample_copy(tmp_path)
    lines = (folder / "carers.csv").read_text(encoding="utf-8").splitlines()
    (folder / "carers.csv").write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")
    problems = _problems(folder)
    assert len(problems) <= 7
    assert all("no carer has this id in carers.csv" in p for p in problems)
    assert any("so carers.csv may be incomplete" in p for p in problems)


def test_a_nul_in_a_competency_is_refused_not_a_lost_qualification(tmp_path: Path) -> None:
    folder = _sample_copy(tmp_path)
    _edit(folder / "training.csv", "safeguarding_children", "safeguar\x00ding_children")
    assert _problems(folder) == [
        "training.csv row 1 (K01): competency is 'safeguar\\x00ding_children'; it holds a "
        "control character (\\x00), which no cell may; retype the cell."
    ]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("carers.csv", ",13.5,false", ",1e300,false",
         "hourly_cost is '1e300'; it must be an amount of money per hour (pounds) from 0 to 500."),
        ("visits.csv", ",false,0,", ",false,1e300,",
         "trip_miles is '1e300'; it must be a number of miles from 0 to 500."),
        ("instance.json", '"speed_mph": 20.0', '"speed_mph": 1e-9',
         "instance.json: travel.speed_mph is '1e-09'; it must be a speed in miles per hour from 1 to 80."),
    ],
)  # fmt: skip
def test_an_implausible_number_is_refused_with_its_range(
    tmp_path: Path, file: str, old: str, new: str, expected: str
) -> None:
    folder = _sample_copy(tmp_path)
    _edit(folder / file, old, new)
    problems = _problems(folder)
    assert len(problems) == 1 and problems[0].endswith(expected)


def test_duplicated_history_rows_are_refused_not_counted_twice(tmp_path: Path) -> None:
    folder = _sample_copy(tmp_path)
    path = folder / "history.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    child, carer, _ = lines[1].split(",")
    assert _problems(folder) == [
        f"history.csv row {len(lines)} ({child}/{carer}): it repeats the child and carer of row 1; "
        "give one row per pair, with the hours of the four weeks added up."
    ]


def test_a_header_only_visits_csv_is_refused_not_ok_with_0_visits(tmp_path: Path) -> None:
    folder = _sample_copy(tmp_path)
    path = folder / "visits.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert _problems(folder) == [
        "visits.csv: it lists no visits (only its header row), so there is nothing to roster "
        "(was the file cut short?)."
    ]


def test_a_utf16_training_csv_is_one_problem_without_knock_ons(tmp_path: Path) -> None:
    folder = _sample_copy(tmp_path)
    path = folder / "training.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    assert _problems(folder) == [
        "training.csv: it is UTF-16 text (Excel's 'Unicode Text'), not UTF-8; save it as CSV UTF-8."
    ]
