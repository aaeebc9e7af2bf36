"""Local users of the app: bcrypt-hashed passwords and two roles, coordinator and manager.

The app shows children's personal data, so it asks for a login before showing anything. Users
live in a small JSON file (``ROSTER_USERS``, default ``users.json`` in the working directory)::

    {"users": [{"name": "sam", "role": "manager", "password_hash": "$2b$12$..."}]}

Only the bcrypt hash is stored. Nothing here logs a user name or a password. The file is
rewritten atomically, so a failed write leaves the earlier list intact.

Add a user from Python (no command line needed)::

    from roster.auth import add_user
    add_user("users.json", "sam", "a long passphrase", "manager")

or ``python -m roster.auth users.json sam manager`` (the password is asked for, not echoed).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import bcrypt

from roster.atomic import atomic_write_text

Role = Literal["coordinator", "manager"]
ROLES: tuple[Role, ...] = ("coordinator", "manager")
USERS_ENV = "ROSTER_USERS"
DEFAULT_USERS_FILE = "users.json"
MIN_PASSWORD_LENGTH = 8
BCRYPT_ROUNDS = 12
"""bcrypt's cost factor for new hashes (2**12 rounds); tests may lower it to run faster."""

# A hash of a random password, checked when the name is unknown so that a wrong name takes as
# long as a wrong password (no telling which names exist by timing).
_DUMMY_HASH = b"$2b$12$INJaWZPCF.qG.a80ZZd8m.qDu4QTqzu5SSmipfgMCKS7QPK6uEqyO"


@dataclass(frozen=True)
class User:
    """A signed-in user: a name and a role. Never holds the password or its hash."""

    name: str
    role: Role

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


def users_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The users file: ``path`` if given, else ``$ROSTER_USERS``, else ``./users.json``."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(USERS_ENV) or DEFAULT_USERS_FILE)


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: the users file is not valid JSON (line {exc.lineno}); fix or remove it."
        ) from exc
    users = data.get("users", []) if isinstance(data, dict) else None
    if not isinstance(users, list):
        raise ValueError(f'{path}: the users file must hold {{"users": [...]}}.')
    for i, row in enumerate(users, start=1):
        if not isinstance(row, dict) or not {"name", "role", "password_hash"} <= set(row):
            raise ValueError(f"{path}: user {i} must have name, role and password_hash.")
        if row["role"] not in ROLES:
            raise ValueError(
                f"{path}: user {i} role is {row['role']!r}; it must be coordinator or manager."
            )
    return users


def _write(path: Path, users: list[dict[str, str]]) -> None:
    atomic_write_text(path, json.dumps({"users": users}, indent=2) + "\n")
    with contextlib.suppress(OSError):  # hashes are still worth keeping private
        os.chmod(path, 0o600)


def has_users(path: str | os.PathLike[str] | None = None) -> bool:
    """Whether the users file holds at least one user."""
    return bool(_read(users_path(path)))


def list_users(path: str | os.PathLike[str] | None = None) -> list[User]:
    """Every user (name and role only)."""
    return [User(row["name"], cast(Role, row["role"])) for row in _read(users_path(path))]


def add_user(path: str | os.PathLike[str] | None, name: str, password: str, role: str) -> User:
    """Add a user, or replace the password and role of one with the same name.

    Raises ``ValueError`` for an empty name, a password shorter than 8 characters, or a role
    other than ``coordinator`` or ``manager``.
    """
    name = name.strip()
    if not name:
        raise ValueError("user name is empty; give the person's login name.")
    if role not in ROLES:
        raise ValueError(f"role is {role!r}; it must be coordinator or manager.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"the password is {len(password)} characters; it must be at least "
            f"{MIN_PASSWORD_LENGTH}."
        )
    target = users_path(path)
    users = [u for u in _read(target) if u["name"].casefold() != name.casefold()]
    digest = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")
    users.append({"name": name, "role": role, "password_hash": digest})
    _write(target, users)
    return User(name, cast(Role, role))


def remove_user(path: str | os.PathLike[str] | None, name: str) -> bool:
    """Remove a user by name; ``True`` if one was removed."""
    target = users_path(path)
    users = _read(target)
    kept = [u for u in users if u["name"].casefold() != name.strip().casefold()]
    if len(kept) == len(users):
        return False
    _write(target, kept)
    return True


def authenticate(path: str | os.PathLike[str] | None, name: str, password: str) -> User | None:
    """The user if ``name`` and ``password`` match a stored user, else ``None``.

    Names match without regard to case; passwords exactly. An unknown name costs as much time
    as a wrong password.
    """
    wanted = name.strip().casefold()
    for row in _read(users_path(path)):
        if row["name"].casefold() == wanted:
            try:
                ok = bcrypt.checkpw(password.encode("utf-8"), row["password_hash"].encode("ascii"))
            except ValueError:  # a malformed stored hash never lets anyone in
                ok = False
            return User(row["name"], cast(Role, row["role"])) if ok else None
    bcrypt.checkpw(password.encode("utf-8"), _DUMMY_HASH)
    return None


def _main(argv: list[str] | None = None) -> int:
    import getpass
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m roster.auth USERS_FILE NAME ROLE", file=sys.stderr)
        return 2
    path, name, role = args
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Again: "):
        print("the two passwords differ; nothing changed", file=sys.stderr)
        return 2
    try:
        add_user(path, name, password, role)
    except ValueError as exc:
        print(f"roster.auth: {exc}", file=sys.stderr)
        return 2
    print(f"saved a {role} to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
