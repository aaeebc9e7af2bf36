"""The app's main flows in Streamlit's AppTest: sign in, load, solve, look, what-if, download."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest

from tests.app.conftest import (
    COORDINATOR,
    HANG,
    MANAGER,
    button,
    go,
    load_sample,
    new_app,
    sign_in,
    texts,
    wait_for,
)


def _solver_installed() -> bool:
    try:
        import solver

        return hasattr(solver, "solve")
    except ImportError:
        return False


needs_solver = pytest.mark.skipif(
    not _solver_installed(), reason="solver.solve is not installed yet"
)


def test_nothing_but_the_sign_in_form_is_shown_before_login(app_env):
    at = new_app().run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert len(at.sidebar.radio) == 0 and len(at.dataframe) == 0


def test_sign_in_with_a_wrong_password_is_refused(app_env):
    at = sign_in(new_app(), (MANAGER[0], "not the password"))
    assert "Wrong login name or password." in [e.value for e in at.error]
    assert len(at.sidebar.radio) == 0
    assert at.session_state["user"] is None if "user" in at.session_state else True


def test_manager_signs_in_and_sees_the_pages_including_users(app_env):
    at = sign_in(new_app())
    assert not at.exception
    assert at.sidebar.radio(key="page").options == ["Data", "Rota", "What-if", "Downloads", "Users"]
    assert "Signed in as **manager1** (manager)" in [m.value for m in at.sidebar.markdown]


def test_coordinator_has_no_users_page(app_env):
    at = sign_in(new_app(), COORDINATOR)
    assert "Users" not in at.sidebar.radio(key="page").options


def test_first_run_without_users_asks_for_a_manager_account(
    app_env, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("ROSTER_USERS", str(tmp_path / "nobody.json"))
    at = new_app().run()
    assert "Create manager account" in [b.label for b in at.button]
    at.text_input[0].input("boss")
    at.text_input[1].input("a long password")
    at.text_input[2].input("a long password")
    at.text_input[3].input(capsys.readouterr().err.split("setup code: ")[1].split()[0])
    button(at, "Create manager account").click()
    at.run()
    assert at.sidebar.radio(key="page").options[-1] == "Users"
    assert (tmp_path / "nobody.json").exists()


def test_loading_the_sample_shows_the_size_of_the_week(app_env):
    at = load_sample(sign_in(new_app()))
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Carers"] == "8" and metrics["Children"] == "10"
    assert int(metrics["Visits"]) > 0


def _zip_folder(folder, **replace_files) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            text = replace_files.get(path.name, path.read_text())
            archive.writestr(f"week/{path.name}", text)
    return buffer.getvalue()


def test_uploaded_zip_with_bad_rows_is_listed_as_sentences_not_a_traceback(app_env):
    sample = app_env / "sample"
    lines = (sample / "visits.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("duration_min")] = "-30"
    row[header.index("child_id")] = "NOBODY"
    bad = "\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n"
    at = sign_in(new_app())
    go(at, "Data")
    at.radio(key="source_choice").set_value("Upload an Excel workbook or a zipped folder").run()
    at.get("file_uploader")[0].upload(
        "week.zip", _zip_folder(sample, **{"visits.csv": bad}), "application/zip"
    )
    at.run()
    button(at, "Check and load this file").click()
    at.run()
    assert not at.exception
    (error,) = at.error
    assert "week.zip has problems; nothing was loaded." in error.value
    assert "visits.csv row 1" in error.value and "duration_min" in error.value
    assert "NOBODY" in error.value
    assert "Traceback" not in error.value
    assert "instance" not in at.session_state or at.session_state["instance"] is None


def test_uploaded_good_zip_is_loaded(app_env):
    at = sign_in(new_app())
    go(at, "Data")
    at.radio(key="source_choice").set_value("Upload an Excel workbook or a zipped folder").run()
    at.get("file_uploader")[0].upload(
        "week.zip", _zip_folder(app_env / "sample"), "application/zip"
    )
    at.run()
    button(at, "Check and load this file").click()
    at.run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Carers"] == "8"


def test_a_file_that_is_not_a_zip_is_refused_plainly(app_env):
    at = sign_in(new_app())
    go(at, "Data")
    at.radio(key="source_choice").set_value("Upload an Excel workbook or a zipped folder").run()
    at.get("file_uploader")[0].upload("week.zip", b"this is not a zip", "application/zip")
    at.run()
    button(at, "Check and load this file").click()
    at.run()
    assert "not a valid zip archive" in at.error[0].value


# ---- with the solver ---------------------------------------------------------------------------


def _solved(who=MANAGER):
    at = load_sample(sign_in(new_app(), who))
    go(at, "Rota")
    button(at, "Solve").click()
    at.run()
    return wait_for(at, "base")


@needs_solver
def test_solve_shows_kpis_the_gantt_and_the_unassigned_list(app_env):
    from roster.checker import check

    at = _solved()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "Checked: this rota breaks none of the rules (R1-R15)." in texts(at)
    labels = [m.label for m in at.metric]
    assert "Visits covered" in labels or "Carer slots covered" in labels
    assert len(at.get("plotly_chart")) == 2  # the carers' Gantt and hours against contract
    job = at.session_state["jobs"]["base"]
    rota = job.result.rota
    assert check(job.instance, rota) == []
    if rota.unassigned:
        assert any("visit(s) not fully covered" in w.value for w in at.warning)
    else:
        assert "Every visit is covered." in texts(at)


@needs_solver
def test_coordinator_sees_no_cost_or_margin(app_env):
    at = _solved(COORDINATOR)
    labels = [m.label for m in at.metric]
    assert "Cost" not in labels and "Margin" not in labels
    go(at, "Downloads")
    assert "Invoices are for managers." in texts(at)


@needs_solver
def test_sickness_scenario_takes_the_carer_off_their_visits(app_env):
    from roster.checker import check

    at = _solved()
    base = at.session_state["jobs"]["base"]
    busiest = max(base.result.rota.by_carer().items(), key=lambda kv: len(kv[1]))[0]
    go(at, "What-if")
    at.radio(key="whatif-kind").set_value("A carer is off sick").run()
    next(s for s in at.selectbox if s.label == "Carer").set_value(busiest)
    week = base.instance.settings.week_start
    next(s for s in at.selectbox if s.label == "Off sick from").set_value(week)
    until = next(s for s in at.selectbox if s.label == "Until the end of")
    until.set_value(until.options and week + timedelta(days=6))
    button(at, "Run this scenario").click()
    at.run()
    at = wait_for(at, "scenario-1")
    assert not at.exception, at.exception
    job = at.session_state["jobs"]["scenario-1"]
    rota = job.result.rota if hasattr(job.result, "rota") else job.result
    assert busiest not in rota.by_carer()
    assert check(job.instance, rota) == []
    assert any("visit(s) change" in m.value for m in at.markdown)
    (compare,) = [d.value for d in at.dataframe if "Current rota" in d.value.columns]
    assert len(compare.columns) >= 3 and "visits covered pct" in set(compare["measure"])


@needs_solver
def test_downloads_are_offered_and_match_the_exports(app_env):
    from roster import exports

    at = _solved()
    go(at, "Downloads")
    assert not at.exception
    keys = {b.key for b in at.get("download_button")}
    assert {"dl-csv", "dl-timesheets", "dl-sheet", "dl-ics", "dl-invoices"} <= keys
    job = at.session_state["jobs"]["base"]
    rota = job.result.rota
    with zipfile.ZipFile(io.BytesIO(exports.rota_csv_zip(job.instance, rota))) as archive:
        rows = archive.read("rota.csv").decode().strip().splitlines()
    assert len(rows) == 1 + len(rota.assignments)
    sheet = exports.timesheets_csv(job.instance, rota).strip().splitlines()
    assert len(sheet) == 1 + len(rota.assignments)


@needs_solver
def test_two_sessions_solve_at_once_without_waiting_for_each_other(app_env, monkeypatch):
    monkeypatch.setenv("ROSTER_APP_TIME_LIMIT", "8")
    first = load_sample(sign_in(new_app()))
    second = load_sample(sign_in(new_app(), COORDINATOR))
    go(first, "Rota")
    go(second, "Rota")
    button(first, "Solve").click()
    first.run()
    job_a = first.session_state["jobs"]["base"]
    # The second session starts its own solve while the first is still working.
    button(second, "Solve").click()
    second.run()
    job_b = second.session_state["jobs"]["base"]
    assert job_a is not job_b
    assert job_a.running and job_b.running
    assert job_a.thread.is_alive() and job_b.thread.is_alive()
    wait_for(first, "base")
    wait_for(second, "base")
    assert job_a.result is not None and job_b.result is not None


@needs_solver
def test_cancel_keeps_the_best_checked_rota_of_a_long_solve(app_env, monkeypatch):
    from roster.checker import check

    # a limit beyond the hang timeout (the form's largest): the solve ends before it only
    # because of Cancel
    assert HANG < 3600
    monkeypatch.setenv("ROSTER_APP_TIME_LIMIT", "3600")
    at = load_sample(sign_in(new_app()))
    go(at, "Rota")
    button(at, "Solve").click()
    at.run()
    job = at.session_state["jobs"]["base"]
    assert job.running
    button(at, "Cancel").click()
    at.run()
    assert job.stop.is_set()
    assert job.running  # still shown as stopping until the solver hands back its rota
    wait_for(at, "base")  # the solver sets done, however busy the machine: no grace period
    assert not job.abandoned and job.error is None
    shown = texts(at)
    # The solver honours the stop flag: it returns its best rota so far rather than nothing.
    assert "You stopped it early" in shown
    assert "this rota breaks none of the rules" in shown
    assert check(job.instance, job.result.rota) == []


def _scenario(at, kind: str, number: int):
    go(at, "What-if")
    at.radio(key="whatif-kind").set_value(kind).run()
    return at


def _run_scenario(at, key: str):
    button(at, "Run this scenario").click()
    at.run()
    return wait_for(at, key)


@needs_solver
def test_referral_and_recruit_scenarios_add_people_and_are_compared(app_env):
    from roster.checker import check

    at = _solved()
    _scenario(at, "A new referral", 1)
    at = _run_scenario(at, "scenario-1")
    assert not at.exception, at.exception
    referral = at.session_state["jobs"]["scenario-1"]
    assert "REF1" in referral.instance.child_index
    shown = texts(at)
    decided = getattr(referral.result, "rationale", None)
    if decided:  # solver.referral's decision: accept or decline with the reason
        assert decided.split(":")[0] in ("Accept", "Decline") and decided in shown
    rota = referral.result.rota
    assert check(referral.instance, rota) == []

    _scenario(at, "A new recruit", 2)
    at = _run_scenario(at, "scenario-2")
    recruit = at.session_state["jobs"]["scenario-2"]
    assert "NEW1" in recruit.instance.carer_index
    assert check(recruit.instance, recruit.result.rota) == []
    (compare,) = [d.value for d in at.dataframe if "Current rota" in d.value.columns]
    assert {"Referral New referral", "Recruit New recruit"} <= set(compare.columns)


@needs_solver
def test_locked_visits_are_kept_when_re_solving(app_env):
    from roster.checker import check

    at = _solved()
    base = at.session_state["jobs"]["base"].result.rota
    _scenario(at, "Lock visits and re-solve", 1)
    chosen = sorted(base.by_visit())[:2]
    at.multiselect[0].set_value(chosen)
    button(at, "Re-solve with these locked").click()
    at.run()
    at = wait_for(at, "scenario-1")
    job = at.session_state["jobs"]["scenario-1"]
    kept = {(a.visit_id, a.carer_id, a.start) for a in job.result.rota.assignments}
    assert {(a.visit_id, a.carer_id, a.start) for v in chosen for a in base.by_visit()[v]} <= kept
    assert check(job.instance, job.result.rota) == []


@needs_solver
def test_a_wider_mileage_cap_is_solved_as_a_scenario(app_env):
    at = _solved()
    _scenario(at, "Change the mileage cap", 1)
    cap = next(n for n in at.number_input if n.label == "New mileage cap per visit (miles)")
    cap.set_value(40.0)
    at = _run_scenario(at, "scenario-1")
    job = at.session_state["jobs"]["scenario-1"]
    assert job.instance.settings.mileage_cap_miles == 40.0
    assert "Mileage cap 40 miles" in [s["name"] for s in at.session_state["scenarios"]]


@needs_solver
def test_the_app_logs_no_names(app_env, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="roster.app")
    at = _solved()
    _scenario(at, "A carer is off sick", 1)
    _run_scenario(at, "scenario-1")
    instance = at.session_state["jobs"]["base"].instance
    names = {c.name for c in instance.carers} | {c.name for c in instance.children} | {MANAGER[0]}
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("roster"))
    assert "solve" in logged  # the app does log what it does...
    assert not [n for n in names if n in logged]  # ...but never who


@needs_solver
def test_a_saved_scenario_can_be_loaded_back_with_its_rota(app_env):
    pytest.importorskip("roster.store")
    at = _solved()
    _scenario(at, "A carer is off sick", 1)
    at = _run_scenario(at, "scenario-1")
    saved = at.session_state["jobs"]["scenario-1"]
    button(at, "Save this scenario").click()
    at.run()
    assert any(s.value.startswith("Saved as scenario") for s in at.success)
    go(at, "Data")
    at.radio(key="source_choice").set_value("A saved scenario").run()
    button(at, "Load this scenario").click()
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["instance"] == saved.instance
    go(at, "Rota")
    assert "Showing the rota saved with this scenario." in texts(at)
    assert at.session_state["loaded_rota"].assignments == saved.result.rota.assignments
