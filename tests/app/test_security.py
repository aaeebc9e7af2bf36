"""The app's doors, tried as an attacker would: stale roles, a fresh install, guessing, uploads.

Each test works on its own copy of the users file (``users``), since the sign-in record beside
it counts failures for every session of the process, as it is meant to.
"""

from __future__ import annotations

import io
import re
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest

from roster import auth
from roster.auth import LOCKOUT_FAILURES, add_user, has_users, list_users, lookup, remove_user
from tests.app.conftest import APP, COORDINATOR, MANAGER, button, go, new_app, sign_in, texts

ROOT = APP.parent


@pytest.fixture
def users(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the users file (manager1 and coord1) that the app reads."""
    path = tmp_path / "team" / "users.json"
    path.parent.mkdir()
    shutil.copy(app_env / "users.json", path)
    monkeypatch.setenv("ROSTER_USERS", str(path))
    return path


def _input(at, label: str):
    found = [t for t in at.text_input if t.label == label]
    assert found, f"no text input {label!r}: {[t.label for t in at.text_input]}"
    return found[0]


# ---- roles are re-read on every page -----------------------------------------------------------


def test_a_manager_demoted_while_signed_in_loses_manager_rights_at_once(users):
    at = go(sign_in(new_app()), "Users")
    assert "Users" in at.sidebar.radio(key="page").options and not at.error
    add_user(users, MANAGER[0], MANAGER[1], "coordinator")  # another manager demotes them
    at.run()
    assert not at.exception
    assert "Users" not in at.sidebar.radio(key="page").options
    assert at.sidebar.radio(key="page").value == "Data"
    assert "Signed in as **manager1** (coordinator)" in [m.value for m in at.sidebar.markdown]
    assert at.session_state["user"].role == "coordinator"


def test_a_demoted_manager_cannot_re_add_himself_as_manager(users):
    at = go(sign_in(new_app()), "Users")
    _input(at, "Login name").input(MANAGER[0])
    _input(at, f"Password (at least {auth.MIN_PASSWORD_LENGTH} characters)").input(
        "a brand new passphrase"
    )
    at.selectbox[0].select("manager")
    add_user(users, MANAGER[0], MANAGER[1], "coordinator")  # demoted with the form still open
    button(at, "Add or update user").click()
    at.run()
    assert not at.exception
    assert lookup(users, MANAGER[0]).role == "coordinator"
    assert auth.authenticate(users, MANAGER[0], "a brand new passphrase") is None
    assert "Users" not in at.sidebar.radio(key="page").options


def test_a_user_removed_while_signed_in_is_signed_out_at_once(users):
    at = go(sign_in(new_app(), COORDINATOR), "Data")
    assert "Signed in as **coord1** (coordinator)" in [m.value for m in at.sidebar.markdown]
    remove_user(users, COORDINATOR[0])
    at.run()
    assert not at.exception
    assert len(at.sidebar.radio) == 0 and [b.label for b in at.button] == ["Sign in"]
    assert "signed out" in texts(at)


# ---- a fresh install: the first manager needs the code from the console -------------------------


def _fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "fresh" / "users.json"
    monkeypatch.setenv("ROSTER_USERS", str(path))
    return path


def _fill_first_manager(at, code: str, name: str = "intruder") -> None:
    _input(at, "Your login name").input(name)
    _input(at, f"Password (at least {auth.MIN_PASSWORD_LENGTH} characters)").input(
        "a long passphrase"
    )
    _input(at, "Password again").input("a long passphrase")
    _input(at, "Setup code (from the server's console)").input(code)
    button(at, "Create manager account").click()
    at.run()


def test_on_a_fresh_install_the_first_visitor_without_the_code_cannot_become_manager(
    app_env, tmp_path, monkeypatch, capsys
):
    path = _fresh(tmp_path, monkeypatch)
    at = new_app().run()
    code = re.search(r"setup code: (\S+)", capsys.readouterr().err).group(1)
    page = texts(at) + "".join(str(t.value) for t in at.text_input)
    assert code not in page and code.replace("-", "") not in page  # console only
    for guess in ("", "AAAA-BBBB-CCCC-DDDD", code[:-1] + ("A" if code[-1] != "A" else "B")):
        _fill_first_manager(at, guess)
        assert not at.exception
        assert any("setup code is wrong" in str(e.value) for e in at.error)
        assert not has_users(path) and len(at.sidebar.radio) == 0
    _fill_first_manager(at, code, name="boss")
    assert [(u.name, u.role) for u in list_users(path)] == [("boss", "manager")]
    assert at.sidebar.radio(key="page").options[-1] == "Users"


def test_a_setup_code_works_once_and_a_later_visitor_only_gets_the_sign_in_form(
    app_env, tmp_path, monkeypatch, capsys
):
    path = _fresh(tmp_path, monkeypatch)
    first = new_app().run()
    code = re.search(r"setup code: (\S+)", capsys.readouterr().err).group(1)
    _fill_first_manager(first, code, name="boss")
    later = new_app().run()
    assert [b.label for b in later.button] == ["Sign in"]
    assert auth.setup_code_matches(path, code) is False


# ---- guessing: throttled per user name, whatever the session -----------------------------------


def _attempt(password: str, who: str = MANAGER[0]):
    """One sign-in from a brand-new browser session."""
    return sign_in(new_app(), (who, password))


def test_a_new_session_per_guess_does_not_reset_the_throttle(users, monkeypatch):
    monkeypatch.setattr(auth, "wall_clock", lambda: 8_000_000.0)  # however slow the machine
    for i in range(auth.FREE_FAILURES):
        at = _attempt("a wrong guess")
        assert len(at.sidebar.radio) == 0
        if i < auth.FREE_FAILURES - 1:
            assert "Wrong login name or password." in [e.value for e in at.error]
    # The next session, at once and even with the right password, is told to wait.
    at = _attempt(MANAGER[1])
    assert len(at.sidebar.radio) == 0
    assert any("try again in" in str(e.value) for e in at.error)
    # Another name is not affected.
    assert len(_attempt(COORDINATOR[1], COORDINATOR[0]).sidebar.radio) == 1


def test_repeated_failures_across_sessions_lock_the_name_for_a_while(users, monkeypatch, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="roster.auth")
    clock = {"now": 7_000_000.0}
    monkeypatch.setattr(auth, "wall_clock", lambda: clock["now"])
    for _ in range(LOCKOUT_FAILURES):
        _attempt("a wrong guess")
        clock["now"] += 60  # past every short wait, inside the lockout window
    at = _attempt(MANAGER[1])
    assert len(at.sidebar.radio) == 0
    assert any("locked" in str(e.value) for e in at.error)
    clock["now"] += auth.LOCKOUT_SECONDS
    assert len(_attempt(MANAGER[1]).sidebar.radio) == 1  # the lockout is temporary
    logged = [r.getMessage() for r in caplog.records if r.name == "roster.auth"]
    assert sum("'manager1'" in line for line in logged) == LOCKOUT_FAILURES + 1
    assert not [line for line in logged if "wrong guess" in line or MANAGER[1] in line]


# ---- uploads: a zip bomb is refused before anything is unpacked ---------------------------------


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """About 1 MB that expands to 1 GiB of zeros (plus a real instance.json)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("week/instance.json", '{"week_start": "2026-11-23"}')
        chunk = bytes(1 << 20)
        with archive.open("week/visits.csv", "w", force_zip64=True) as entry:
            for _ in range(1024):
                entry.write(chunk)
    return buffer.getvalue()


def _upload(at, name: str, data: bytes, mime: str):
    go(at, "Data")
    at.radio(key="source_choice").set_value("Upload an Excel workbook or a zipped folder").run()
    at.get("file_uploader")[0].upload(name, data, mime)
    at.run()
    button(at, "Check and load this file").click()
    return at.run()


def test_a_zip_bomb_upload_is_refused_with_a_clear_message_before_it_is_unpacked(
    users, zip_bomb, monkeypatch
):
    assert len(zip_bomb) < 2 * 1024 * 1024
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(str(getattr(name, "filename", name)))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    at = _upload(sign_in(new_app()), "week.zip", zip_bomb, "application/zip")
    assert not at.exception
    (error,) = at.error
    assert "week.zip has problems; nothing was loaded." in error.value
    assert "expands to 1,024.0 MB, more than the 200.0 MB allowed" in error.value
    assert "Traceback" not in error.value
    assert opened == []  # refused from the zip's directory: not one entry was decompressed
    assert at.session_state["instance"] is None if "instance" in at.session_state else True


def test_a_workbook_that_is_a_zip_bomb_is_refused_too(users, zip_bomb):
    at = _upload(sign_in(new_app()), "week.xlsx", zip_bomb, "application/octet-stream")
    assert not at.exception
    assert "The workbook expands to 1,024.0 MB" in at.error[0].value


def test_a_zip_with_too_many_files_is_refused(users):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(250):
            archive.writestr(f"week/f{i}.csv", "a\n")
    at = _upload(sign_in(new_app()), "week.zip", buffer.getvalue(), "application/zip")
    assert "holds 250 files, more than the 200 allowed" in at.error[0].value


# ---- the server listens on this machine only --------------------------------------------------


def test_the_app_is_bound_to_loopback_unless_configured_otherwise():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none"
    make_app = [
        line
        for line in (ROOT / "Makefile").read_text().splitlines()
        if "streamlit run" in line
    ]
    assert make_app and all(
        "--server.address" not in line or "127.0.0.1" in line for line in make_app
    )  # `make app` runs from the root, where config.toml is read, and does not override it
    readme = (ROOT / "README.md").read_text()
    assert "127.0.0.1" in readme and "TLS" in readme and "reverse proxy" in readme
