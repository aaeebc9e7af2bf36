"""Build ``tests/data/bad/<defect>/`` from ``tests/data/tiny/``: each a contract folder with one defect.

Run from the repository root: ``python tests/data/bad/make_bad.py``. Each folder gets an
``EXPECTED`` file holding the regular expression its one problem sentence must match
(``tests/roster/test_io_bad_inputs.py`` checks it with ``pytest.raises(match=...)``).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TINY = HERE.parent / "tiny"


class Folder:
    def __init__(self, path: Path):
        self.path = path

    def rows(self, name: str) -> tuple[list[str], list[list[str]]]:
        with (self.path / name).open(encoding="utf-8", newline="") as handle:
            table = list(csv.reader(handle))
        return table[0], table[1:]

    def save(self, name: str, header: list[str], rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        (self.path / name).write_text(buffer.getvalue(), encoding="utf-8")

    def set(self, name: str, row: int, column: str, value: str) -> None:
        """Set a cell; ``row`` is the 1-based data row."""
        header, rows = self.rows(name)
        rows[row - 1][header.index(column)] = value
        self.save(name, header, rows)

    def append_copy(self, file: str, row: int, **changes: str) -> None:
        header, rows = self.rows(file)
        new = list(rows[row - 1])
        for column, value in changes.items():
            new[header.index(column)] = value
        self.save(file, header, [*rows, new])

    def drop_rows(self, name: str, column: str, value: str) -> None:
        header, rows = self.rows(name)
        i = header.index(column)
        self.save(name, header, [r for r in rows if r[i] != value])

    def drop_column(self, name: str, column: str) -> None:
        header, rows = self.rows(name)
        i = header.index(column)
        self.save(name, header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])

    def json(self, **changes: object) -> None:
        data = json.loads((self.path / "instance.json").read_text(encoding="utf-8"))
        data.update(changes)
        (self.path / "instance.json").write_text(
            json.dumps(data, indent=2) + "\n", encoding="utf-8"
        )


def _one_carer(f: Folder) -> None:
    for name in ("carers.csv", "training.csv", "availability.csv", "history.csv"):
        f.drop_rows(name, "carer_id", "K2")
    f.set("visits.csv", 2, "carers", "2")


def _not_utf8(f: Folder) -> None:
    path = f.path / "carers.csv"
    path.write_bytes(path.read_bytes().replace(b"Carer One", b"Carer \xe9ne"))


def _edit_text(f: Folder, name: str, old: str, new: str) -> None:
    """Edit a file's text where a CSV writer could not (it would quote the defect away)."""
    path = f.path / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def _header_only(f: Folder, name: str) -> None:
    path = f.path / name
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def _utf16(f: Folder, name: str) -> None:
    path = f.path / name
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def _history_twice(f: Folder) -> None:
    f.append_copy("history.csv", 1, hours="3")


def _bad_json(f: Folder) -> None:
    path = f.path / "instance.json"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"timezone"', '"timezone" "x",'), encoding="utf-8"
    )


# defect name -> (edit, regular expression the single problem sentence must match)
DEFECTS: dict[str, tuple[Callable[[Folder], None], str]] = {
    "negative_duration": (
        lambda f: f.set("visits.csv", 1, "duration_min", "-30"),
        r"visits\.csv row 1 \(V1\): duration_min is '-30'; it must be a positive whole number of minutes\.",
    ),
    "zero_duration": (
        lambda f: f.set("visits.csv", 2, "duration_min", "0"),
        r"visits\.csv row 2 \(V2\): duration_min is '0'; it must be a positive whole number",
    ),
    "fractional_duration": (
        lambda f: f.set("visits.csv", 1, "duration_min", "90.5"),
        r"visits\.csv row 1 \(V1\): duration_min is '90\.5'; it must be a positive whole number",
    ),
    "duplicate_carer_id": (
        lambda f: f.append_copy("carers.csv", 1, name="Another Carer"),
        r"carers\.csv row 3 \(K1\): carer_id is 'K1'; it must be unique, but row 1 has it too\.",
    ),
    "duplicate_child_id": (
        lambda f: f.append_copy("children.csv", 2),
        r"children\.csv row 3 \(C2\): child_id is 'C2'; it must be unique, but row 2 has it too\.",
    ),
    "duplicate_visit_id": (
        lambda f: f.append_copy("visits.csv", 1, start="18:30"),
        r"visits\.csv row 4 \(V1\): visit_id is 'V1'; it must be unique, but row 1 has it too\.",
    ),
    "blank_visit_id": (
        lambda f: f.set("visits.csv", 3, "visit_id", ""),
        r"visits\.csv row 3: visit_id is ''; every visit needs an id\.",
    ),
    "unknown_child_id": (
        lambda f: f.set("visits.csv", 1, "child_id", "C9"),
        r"visits\.csv row 1 \(V1\): child_id is 'C9'; no child has this id in children\.csv\.",
    ),
    "unknown_carer_in_training": (
        lambda f: f.set("training.csv", 2, "carer_id", "K7"),
        r"training\.csv row 2 \(K7\): carer_id is 'K7'; no carer has this id in carers\.csv\.",
    ),
    "unknown_carer_in_availability": (
        lambda f: f.set("availability.csv", 1, "carer_id", "k1"),
        r"availability\.csv row 1 \(k1\): carer_id is 'k1'; no carer has this id in carers",
    ),
    "unknown_excluded_carer": (
        lambda f: f.set("children.csv", 2, "excluded_carers", "K1;K5"),
        r"children\.csv row 2 \(C2\): excluded_carers is 'K5'; no carer has this id in carers\.csv\.",
    ),
    "unknown_carer_in_history": (
        lambda f: f.set("history.csv", 1, "carer_id", "K3"),
        r"history\.csv row 1 \(C1/K3\): carer_id is 'K3'; no carer has this id in carers\.csv\.",
    ),
    "flex_larger_than_visit": (
        lambda f: f.set("visits.csv", 1, "flex_min", "150"),
        r"visits\.csv row 1 \(V1\): flex_min is '150'; it must not be larger than the visit's duration_min \(120\)\.",
    ),
    "negative_flex": (
        lambda f: f.set("visits.csv", 1, "flex_min", "-5"),
        r"visits\.csv row 1 \(V1\): flex_min is '-5'; it must be a whole number of minutes from 0 to 1440\.",
    ),
    "bad_date": (
        lambda f: f.set("visits.csv", 2, "date", "2026-11-31"),
        r"visits\.csv row 2 \(V2\): date is '2026-11-31'; it must be a real date written YYYY-MM-DD\.",
    ),
    "date_not_iso": (
        lambda f: f.set("carers.csv", 2, "date_of_birth", "14/09/2001"),
        r"carers\.csv row 2 \(K2\): date_of_birth is '14/09/2001'; it must be a real date written YYYY-MM-DD\.",
    ),
    "bad_time": (
        lambda f: f.set("visits.csv", 1, "start", "25:00"),
        r"visits\.csv row 1 \(V1\): start is '25:00'; it must be a time of day written HH:MM",
    ),
    "bad_availability_time": (
        lambda f: f.set("availability.csv", 3, "end", "6pm"),
        r"availability\.csv row 3 \(K2\): end is '6pm'; it must be a time of day written HH:MM",
    ),
    "bad_availability_day": (
        lambda f: f.set("availability.csv", 2, "day", "Tues"),
        r"availability\.csv row 2 \(K1\): day is 'Tues'; it must be Mon, Tue, Wed, Thu, Fri, Sat, Sun or a date",
    ),
    "bad_boolean": (
        lambda f: f.set("carers.csv", 1, "drives", "yes"),
        r"carers\.csv row 1 \(K1\): drives is 'yes'; it must be true or false\.",
    ),
    "bad_number": (
        lambda f: f.set("visits.csv", 2, "trip_miles", "six"),
        r"visits\.csv row 2 \(V2\): trip_miles is 'six'; it must be a number of miles from 0 to 500\.",
    ),
    "negative_trip_miles": (
        lambda f: f.set("visits.csv", 2, "trip_miles", "-1"),
        r"visits\.csv row 2 \(V2\): trip_miles is '-1'; it must be a number of miles from 0 to 500\.",
    ),
    "coordinates_outside_uk": (
        lambda f: f.set("children.csv", 1, "lat", "48.85"),
        r"children\.csv row 1 \(C1\): lat is '48\.85'; it must be a latitude inside the UK \(49\.8 to 60\.9\)\.",
    ),
    "longitude_outside_uk": (
        lambda f: f.set("carers.csv", 2, "lon", "2.35"),
        r"carers\.csv row 2 \(K2\): lon is '2\.35'; it must be a longitude inside the UK",
    ),
    "lat_without_lon": (
        lambda f: f.set("visits.csv", 2, "lon", ""),
        r"visits\.csv row 2 \(V2\): lon is ''; lat and lon must both be given, or both be blank\.",
    ),
    "two_to_one_with_one_carer": (
        _one_carer,
        r"visits\.csv row 2 \(V2\): carers is '2'; the visit needs 2 carers \(a 2:1 visit\) but carers\.csv lists only 1 carer\.",
    ),
    "three_carers_on_a_visit": (
        lambda f: f.set("visits.csv", 2, "carers", "3"),
        r"visits\.csv row 2 \(V2\): carers is '3'; it must be 1 or 2 \(a 2:1 visit\)\.",
    ),
    "unknown_competency": (
        lambda f: f.set("visits.csv", 3, "competencies", "peg_feedng"),
        r"visits\.csv row 3 \(V3\): competencies is 'peg_feedng'; no row of training\.csv and no "
        r"mandatory_training mentions 'peg_feedng' \(did you mean 'peg_feeding'\?\)",
    ),
    "bad_gender": (
        lambda f: f.set("carers.csv", 1, "gender", "Q"),
        r"carers\.csv row 1 \(K1\): gender is 'Q'; it must be one of F, M, X\.",
    ),
    "bad_gender_required": (
        lambda f: f.set("children.csv", 2, "gender_required", "X"),
        r"children\.csv row 2 \(C2\): gender_required is 'X'; it must be one of F, M, blank\.",
    ),
    "bad_dbs_check": (
        lambda f: f.set("carers.csv", 2, "dbs_check", "enhanced_plus"),
        r"carers\.csv row 2 \(K2\): dbs_check is 'enhanced_plus'; it must be one of enhanced_barred_children, ",
    ),
    "bad_spec": (
        lambda f: f.set("children.csv", 1, "spec", "respite"),
        r"children\.csv row 1 \(C1\): spec is 'respite'; it must be one of generic_home_care, complex_home_care, community_support\.",
    ),
    "bad_kind": (
        lambda f: f.set("visits.csv", 1, "kind", "outing"),
        r"visits\.csv row 1 \(V1\): kind is 'outing'; it must be one of home, community\.",
    ),
    "visit_outside_week": (
        lambda f: f.set("visits.csv", 3, "date", "2026-11-30"),
        r"visits\.csv row 3 \(V3\): date is '2026-11-30'; it must be a date in the week of 2026-11-23 \(2026-11-23 to 2026-11-29\)\.",
    ),
    "absence_end_before_start": (
        lambda f: f.set("absences.csv", 1, "end", "2026-11-26T07:00"),
        r"absences\.csv row 1 \(K1\): end is '2026-11-26T07:00'; it is before the absence's start \(2026-11-26T08:00\)\.",
    ),
    "bad_absence_datetime": (
        lambda f: f.set("absences.csv", 1, "start", "Thursday morning"),
        r"absences\.csv row 1 \(K1\): start is 'Thursday morning'; it must be a date and time",
    ),
    "carer_under_16": (
        lambda f: f.set("carers.csv", 1, "date_of_birth", "2012-01-01"),
        r"carers\.csv row 1 \(K1\): date_of_birth is '2012-01-01'; it makes the carer 14; a carer must be at least 16\.",
    ),
    "missing_required_column": (
        lambda f: f.drop_column("visits.csv", "duration_min"),
        r"visits\.csv: the column duration_min is missing; the header row has visit_id, child_id, date",
    ),
    "missing_visits_file": (
        lambda f: (f.path / "visits.csv").unlink(),
        r"visits\.csv: the file is missing from the instance folder\.",
    ),
    "not_utf8": (
        _not_utf8,
        r"carers\.csv: it is not UTF-8 text \(a bad byte on line 2\); save it as CSV UTF-8\.",
    ),
    "week_start_not_monday": (
        lambda f: f.json(week_start="2026-11-24"),
        r"instance\.json: week_start is '2026-11-24'; it must be a Monday \(it is a Tuesday\)\.",
    ),
    "week_start_missing": (
        lambda f: (f.json(), _drop_key(f, "week_start")),
        r"instance\.json: week_start is missing; it must be the Monday the rota starts on",
    ),
    "instance_json_malformed": (
        _bad_json,
        r"instance\.json: it is not valid JSON \(Expecting ':' delimiter at line 4 column 14\)\.",
    ),
    "bad_timezone": (
        lambda f: f.json(timezone="Europe/Londres"),
        r"instance\.json: timezone is 'Europe/Londres'; it must be an IANA time zone name",
    ),
    "bad_core_hours": (
        lambda f: f.json(core_hours=["22:30", "06:30"]),
        r"instance\.json: core_hours is '\[\"22:30\", \"06:30\"\]'; its start must be before its end\.",
    ),
    # ---- input that would otherwise lose data silently (issue 21)
    "stray_quote_merges_visit_rows": (
        lambda f: _edit_text(f, "visits.csv", ",true,6.5,", ',true,"6.5,'),
        r"visits\.csv row 2 \(V2\): its trip_miles cell starts with a quote \(\"\) on line 3 and "
        r"runs on to line 4, so 2 lines would be read as one row; remove the stray quote\.",
    ),
    "stray_quote_in_carers_gives_no_knock_ons": (
        lambda f: _edit_text(f, "carers.csv", "K1,Carer One", 'K1,"Carer One'),
        r"carers\.csv row 1 \(K1\): its name cell starts with a quote \(\"\) on line 2 and runs "
        r"on to line 3, so 2 lines would be read as one row; remove the stray quote\.",
    ),
    "line_break_inside_a_quoted_cell": (
        lambda f: _edit_text(f, "children.csv", "C1,Child One,", 'C1,"Child\nOne",'),
        r"children\.csv row 1 \(C1\): its name cell starts with a quote \(\"\) on line 2 and runs "
        r"on to line 3: it holds a line break, and a cell must fit on one line; remove it\.",
    ),
    "misspelt_hard_rule_column": (
        lambda f: _edit_text(f, "visits.csv", ",carers,", ",carer,"),
        r"visits\.csv: the column carers is missing \(is 'carer' meant to be carers\?\); the header row has "
        r"visit_id, child_id, date, start, duration_min, flex_min, carer, kind,",
    ),
    "row_with_a_cell_missing": (
        lambda f: _edit_text(f, "visits.csv", "V3,C2,2026-11-27,21:00,600,30,1,home,false,0,peg_feeding,,\n",
                             "V3,C2,2026-11-27,21:00,600,30,1,home,false,0\n"),
        r"visits\.csv row 3 \(V3\): it has 10 cells but the header has 13, so competencies, lat, lon "
        r"would be read as blank; a cell or a comma is missing\.",
    ),
    "unquoted_comma_in_a_cell": (
        lambda f: _edit_text(f, "carers.csv", "K2,Carer Two,", "K2,Two, Carer,"),
        r"carers\.csv row 2 \(K2\): it has 18 cells but the header has 17; a comma inside a cell "
        r"must be quoted, or the values after it shift\.",
    ),
    "nul_inside_a_competency": (
        lambda f: f.set("training.csv", 1, "competency", "safeguar\x00ding_children"),
        r"training\.csv row 1 \(K1\): competency is 'safeguar\\x00ding_children'; it holds a "
        r"control character \(\\x00\), which no cell may; retype the cell\.",
    ),
    "nul_inside_a_header": (
        lambda f: _edit_text(f, "carers.csv", ",dbs_check,", ",dbs_\x00check,"),
        r"carers\.csv: its header cell 8 \('dbs_\\x00check'\) holds a control character "
        r"\(\\x00\); retype the header\.",
    ),
    "control_character_in_a_name_is_not_repeated": (
        lambda f: f.set("children.csv", 1, "name", "Child\x07One"),
        r"children\.csv row 1 \(C1\): its name cell holds a control character \(\\x07\), which "
        r"no cell may; retype the cell\.$",
    ),
    "zero_width_space_in_an_id": (
        lambda f: f.set("visits.csv", 3, "competencies", "peg\u200bfeeding"),
        r"visits\.csv row 3 \(V3\): competencies is 'peg\\u200bfeeding'; it holds an invisible "
        r"character \(U\+200B ZERO WIDTH SPACE\), which no cell may; retype the cell\.",
    ),
    **{
        f"missing_{column}_column": (
            lambda f, file=file, column=column: f.drop_column(file, column),
            rf"{file.replace('.', '[.]')}: the column {column} is missing; the header row has ",
        )
        for file, column in (
            ("visits.csv", "carers"), ("visits.csv", "needs_driver"),
            ("visits.csv", "competencies"), ("visits.csv", "flex_min"),
            ("children.csv", "excluded_carers"), ("children.csv", "gender_required"),
            ("training.csv", "expires"), ("carers.csv", "max_week_hours"),
            ("carers.csv", "dbs_issued"), ("carers.csv", "drives"),
        )
    },  # fmt: skip
    "implausible_hourly_cost": (
        lambda f: f.set("carers.csv", 2, "hourly_cost", "1e300"),
        r"carers\.csv row 2 \(K2\): hourly_cost is '1e300'; it must be an amount of money per "
        r"hour \(pounds\) from 0 to 500\.",
    ),
    "implausible_trip_miles": (
        lambda f: f.set("visits.csv", 2, "trip_miles", "1e300"),
        r"visits\.csv row 2 \(V2\): trip_miles is '1e300'; it must be a number of miles from 0 to 500\.",
    ),
    "implausible_speed_mph": (
        lambda f: f.json(travel={"road_factor": 1.3, "speed_mph": 1e-9}),
        r"instance\.json: travel\.speed_mph is '1e-09'; it must be a speed in miles per hour from 1 to 80\.",
    ),
    "implausible_child_mileage_cap": (
        lambda f: f.set("children.csv", 2, "mileage_cap_miles", "99999"),
        r"children\.csv row 2 \(C2\): mileage_cap_miles is '99999'; it must be a number of miles "
        r"greater than 0 and at most 500\.",
    ),
    "duplicated_history_row": (
        _history_twice,
        r"history\.csv row 3 \(C1/K1\): it repeats the child and carer of row 1; give one row per "
        r"pair, with the hours of the four weeks added up\.",
    ),
    "header_only_visits": (
        lambda f: _header_only(f, "visits.csv"),
        r"visits\.csv: it lists no visits \(only its header row\), so there is nothing to roster",
    ),
    "header_only_carers_named_elsewhere": (
        lambda f: _header_only(f, "carers.csv"),
        r"carers\.csv: it lists no carers \(only its header row\), but training\.csv, "
        r"availability\.csv, absences\.csv, history\.csv and children\.csv name 2 carers \(was the "
        r"file cut short\?\)\.",
    ),
    "header_only_training": (
        lambda f: _header_only(f, "training.csv"),
        r"training\.csv: it lists no training \(only its header row\), so no carer holds peg_feeding, "
        r"safeguarding_children, which the visits need \(was the file cut short\?\)\.",
    ),
    "training_saved_as_utf16": (
        lambda f: _utf16(f, "training.csv"),
        r"training\.csv: it is UTF-16 text \(Excel's 'Unicode Text'\), not UTF-8; save it as CSV UTF-8\.",
    ),
    "one_unknown_carer_on_two_rows": (
        lambda f: (f.set("availability.csv", 1, "carer_id", "K7"), f.set("availability.csv", 2, "carer_id", "K7")),
        r"availability\.csv row 1 \(K7\): carer_id is 'K7'; no carer has this id in carers\.csv "
        r"\(also row 2\)\.",
    ),
    "negative_mileage_cap": (
        lambda f: f.json(mileage_cap_miles=-5),
        r"instance\.json: mileage_cap_miles is '-5'; it must be a number of miles greater than 0 and at most 500\.",
    ),
}


def _drop_key(f: Folder, key: str) -> None:
    data = json.loads((f.path / "instance.json").read_text(encoding="utf-8"))
    data.pop(key)
    (f.path / "instance.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def build(root: Path = HERE) -> list[str]:
    """(Re)build every defect folder under ``root``; returns their names."""
    for name, (edit, expected) in DEFECTS.items():
        target = root / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(TINY, target)
        edit(Folder(target))
        (target / "EXPECTED").write_text(expected + "\n", encoding="utf-8")
    return list(DEFECTS)


if __name__ == "__main__":
    names = build()
    print(f"built {len(names)} defect folders under {HERE}")
