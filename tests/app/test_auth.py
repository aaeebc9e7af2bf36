"""Local users: bcrypt hashes, two roles, no password or hash kept in the clear."""

from __future__ import annotations

import json

import pytest

from roster.auth import add_user, authenticate, has_users, list_users, remove_user, users_path


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
        ("sam", "short", "manager", "at least 8"),
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


def test_malformed_users_file_is_reported_not_trusted(tmp_path):
    path = tmp_path / "users.json"
    path.write_text('{"users": [{"name": "sam", "role": "boss", "password_hash": "x"}]}')
    with pytest.raises(ValueError, match="coordinator or manager"):
        authenticate(path, "sam", "anything")
