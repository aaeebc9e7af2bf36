"""Local users: bcrypt hashes, two roles, no password or hash kept in the clear."""

from __future__ import annotations

import json

import pytest

from roster import auth
from roster.auth import (
    FAILURE_WINDOW_SECONDS,
    LOCKOUT_FAILURES,
    LOCKOUT_SECONDS,
    add_user,
    authenticate,
    create_first_manager,
    has_users,
    issue_setup_code,
    list_users,
    lookup,
    remove_user,
    setup_code_path,
    sign_in,
    users_path,
)


def test_added_user_can_sign_in_with_their_password(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    user = authenticate(path, "sam", "correct horse battery")
    assert user is not None and user.role == "manager" and user.is_manager


def test_wrong_password_or_unknown_name_is_refused(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "coordinator")
    assert authenticate(path, "sam", "wrong password") is None
    assert authenticate(path, "alex", "correct horse battery") is None


def test_users_file_holds_only_a_bcrypt_hash(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "coordinator")
    text = path.read_text()
    assert "correct horse battery" not in text
    (row,) = json.loads(text)["users"]
    assert row["password_hash"].startswith("$2")


def test_adding_the_same_name_again_replaces_the_password_and_role(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "first password", "coordinator")
    add_user(path, "Sam", "second password", "manager")
    assert [(u.name, u.role) for u in list_users(path)] == [("Sam", "manager")]
    assert authenticate(path, "sam", "first password") is None
    assert authenticate(path, "sam", "second password") is not None


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("", "long enough pw", "manager", "name is empty"),
        ("sam", "short", "manager", "at least 10"),
        ("sam", " " * 12, "manager", "0 characters that are not blanks"),
        ("sam", "ab  cd  ef  gh", "manager", "8 characters that are not blanks"),
        ("sam", "password123", "manager", "most common passwords"),
        ("sam", "QWERTYUIOP", "manager", "most common passwords"),
        ("sam", "iloveyou 12", "manager", "most common passwords"),
        ("sam.smith.99", "Sam.Smith.99", "manager", "is the login name"),
        ("sam", "long enough pw", "admin", "coordinator or manager"),
    ],
)
def test_bad_user_details_are_refused_with_a_reason(tmp_path, name, password, role, message):
    with pytest.raises(ValueError, match=message):
        add_user(tmp_path / "users.json", name, password, role)


def test_removed_user_can_no_longer_sign_in(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    assert remove_user(path, "sam")
    assert not has_users(path)
    assert authenticate(path, "sam", "correct horse battery") is None


def test_users_file_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ROSTER_USERS", str(tmp_path / "team.json"))
    assert users_path() == tmp_path / "team.json"
    monkeypatch.delenv("ROSTER_USERS")
    assert users_path().name == "users.json"


def test_the_default_users_file_is_in_the_data_folder_not_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("ROSTER_USERS", raising=False)
    monkeypatch.setenv("ROSTER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert users_path() == tmp_path / "home" / "users.json"
    monkeypatch.delenv("ROSTER_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert users_path() == tmp_path / "xdg" / "roster" / "users.json"


def test_malformed_users_file_is_reported_not_trusted(tmp_path):
    path = tmp_path / "users.json"
    path.write_text('{"users": [{"name": "sam", "role": "boss", "password_hash": "x"}]}')
    with pytest.raises(ValueError, match="coordinator or manager"):
        authenticate(path, "sam", "anything")


# ---- file modes -------------------------------------------------------------------------------


def test_users_file_and_its_new_folder_are_private_from_the_start(tmp_path, monkeypatch):
    monkeypatch.delenv("ROSTER_USERS", raising=False)
    monkeypatch.setenv("ROSTER_HOME", str(tmp_path / "data" / "roster"))
    add_user(None, "sam", "correct horse battery", "manager")
    sign_in(None, "sam", "a wrong password")
    home = tmp_path / "data" / "roster"
    assert (home.stat().st_mode & 0o777) == 0o700
    assert ((tmp_path / "data").stat().st_mode & 0o777) == 0o700
    for made in home.iterdir():
        assert (made.stat().st_mode & 0o777) == 0o600, made.name


# ---- roles are read from the file, not remembered ---------------------------------------------


def test_lookup_gives_the_role_the_file_holds_now(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    assert lookup(path, "SAM").role == "manager"
    add_user(path, "sam", "correct horse battery", "coordinator")
    assert lookup(path, "sam").role == "coordinator"
    remove_user(path, "sam")
    assert lookup(path, "sam") is None


# ---- throttling and lockout per user name -----------------------------------------------------


def _guess(path, name, password, at):
    return sign_in(path, name, password, now=at)


def test_repeated_failures_lock_the_name_even_the_right_password_is_then_refused(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    t = 1_000_000.0
    outcomes = [_guess(path, "sam", "a wrong guess", t)]
    for _ in range(LOCKOUT_FAILURES - 1):
        t += outcomes[-1].retry_after  # wait exactly as long as told to
        outcomes.append(_guess(path, "sam", "a wrong guess", t))
    assert [o.user for o in outcomes] == [None] * LOCKOUT_FAILURES
    assert outcomes[-1].locked and outcomes[-1].retry_after == LOCKOUT_SECONDS
    assert "locked" in outcomes[-1].message
    # The right password is not even checked while the name is locked...
    locked = _guess(path, "sam", "correct horse battery", t + 1)
    assert locked.user is None and locked.locked and 0 < locked.retry_after <= LOCKOUT_SECONDS
    # ...and works again once the lockout has run out.
    later = _guess(path, "sam", "correct horse battery", t + LOCKOUT_SECONDS + 1)
    assert later.user is not None and later.user.name == "sam"
    assert _guess(path, "sam", "a wrong guess", t + LOCKOUT_SECONDS + 2).retry_after == 0


def test_after_the_free_failures_each_attempt_must_wait_longer(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    t = 2_000_000.0
    waits = []
    for _ in range(auth.FREE_FAILURES + 1):
        waits.append(_guess(path, "sam", "a wrong guess", t).retry_after)
        t += waits[-1]
    assert waits[: auth.FREE_FAILURES - 1] == [0] * (auth.FREE_FAILURES - 1)
    assert 0 < waits[auth.FREE_FAILURES - 1] < waits[auth.FREE_FAILURES]
    too_soon = _guess(path, "sam", "correct horse battery", t - 0.5)
    assert too_soon.user is None and not too_soon.locked and "try again" in too_soon.message


def test_the_count_is_per_name_shared_by_every_caller_and_forgotten_after_the_window(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    add_user(path, "alex", "another long passphrase", "coordinator")
    t = 3_000_000.0
    wait = 0
    for _ in range(LOCKOUT_FAILURES):  # each call is a fresh caller: nothing held in memory
        t += wait
        wait = _guess(path, "Sam ", "a wrong guess", t).retry_after
    assert _guess(path, "sam", "correct horse battery", t + 1).locked
    assert _guess(path, "alex", "another long passphrase", t + 1).user is not None
    assert (
        _guess(path, "sam", "correct horse battery", t + FAILURE_WINDOW_SECONDS + 1).user
        is not None
    )


def test_an_unknown_name_is_throttled_like_a_real_one(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    t = 4_000_000.0
    real, ghost = [], []
    for _ in range(LOCKOUT_FAILURES + 1):
        real.append(_guess(path, "sam", "a wrong guess", t))
        ghost.append(_guess(path, "nobody", "a wrong guess", t))
        t += real[-1].retry_after if len(real) < LOCKOUT_FAILURES else 1
    assert [(o.locked, o.retry_after, o.message) for o in real] == [
        (o.locked, o.retry_after, o.message) for o in ghost
    ]


def test_a_success_forgives_the_earlier_failures(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    t = 5_000_000.0
    for _ in range(auth.FREE_FAILURES - 1):
        _guess(path, "sam", "a wrong guess", t)
    assert _guess(path, "sam", "correct horse battery", t).user is not None
    for _ in range(auth.FREE_FAILURES - 1):
        assert _guess(path, "sam", "a wrong guess", t).retry_after == 0


def test_failures_and_lockouts_are_logged_with_the_user_name_never_the_password(
    tmp_path, caplog
):
    import logging

    caplog.set_level(logging.INFO, logger="roster.auth")
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    t = 6_000_000.0
    wait = 0
    for _ in range(LOCKOUT_FAILURES + 1):
        t += wait
        wait = _guess(path, "sam", "a secret wrong guess", t).retry_after
        wait = 1 if wait == LOCKOUT_SECONDS else wait  # the last guess falls in the lockout
    lines = [r.getMessage() for r in caplog.records if r.name == "roster.auth"]
    assert len(lines) == LOCKOUT_FAILURES + 1
    assert all("'sam'" in line for line in lines)
    assert "locked" in lines[LOCKOUT_FAILURES - 1]
    assert not [line for line in lines if "secret" in line]


# ---- the first manager needs the setup code ---------------------------------------------------


def test_the_first_manager_needs_the_setup_code_which_works_once(tmp_path):
    path = tmp_path / "users.json"
    with pytest.raises(ValueError, match="no setup code has been issued"):
        create_first_manager(path, "", "boss", "a long passphrase")
    code = issue_setup_code(path)
    assert code not in setup_code_path(path).read_text()  # only its hash is kept
    with pytest.raises(ValueError, match="setup code is wrong"):
        create_first_manager(path, "AAAA-BBBB-CCCC-DDDD", "boss", "a long passphrase")
    assert not has_users(path)
    user = create_first_manager(path, code.lower().replace("-", " "), "boss", "a long passphrase")
    assert user.is_manager and authenticate(path, "boss", "a long passphrase") == user
    assert not setup_code_path(path).exists()
    with pytest.raises(ValueError, match="exists already"):
        create_first_manager(path, code, "intruder", "another long passphrase")
    with pytest.raises(ValueError, match="already has users"):
        issue_setup_code(path)
    assert [u.name for u in list_users(path)] == ["boss"]


def test_a_new_setup_code_replaces_the_earlier_one(tmp_path):
    path = tmp_path / "users.json"
    first, second = issue_setup_code(path), issue_setup_code(path)
    assert first != second
    with pytest.raises(ValueError, match="setup code is wrong"):
        create_first_manager(path, first, "boss", "a long passphrase")
    assert create_first_manager(path, second, "boss", "a long passphrase").is_manager


def test_guessing_many_other_names_does_not_push_a_locked_name_out_of_the_record(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(auth, "MAX_TRACKED_NAMES", 4)
    path = tmp_path / "users.json"
    add_user(path, "sam", "correct horse battery", "manager")
    t = 9_000_000.0
    wait = 0
    for _ in range(LOCKOUT_FAILURES):
        t += wait
        wait = _guess(path, "sam", "a wrong guess", t).retry_after
    for i in range(20):
        _guess(path, f"junk{i}", "a wrong guess", t + 1)
    assert _guess(path, "sam", "correct horse battery", t + 2).locked
