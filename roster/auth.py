"""Local users of the app: bcrypt-hashed passwords and two roles, coordinator and manager.

The app shows children's personal data, so it asks for a login before showing anything. Users
live in a small JSON file (``ROSTER_USERS``, default ``users.json`` in the data folder of
``roster.home``: ``$ROSTER_HOME``, else ``~/.local/share/roster``)::

    {"users": [{"name": "sam", "role": "manager", "password_hash": "$2b$12$..."}]}

Only the bcrypt hash is stored, in a file of mode 0600. The file is rewritten atomically under a
lock, so a failed write leaves the earlier list intact and two managers saving at once lose
nothing.

The doors, in the order a visitor meets them:

* **First run.** With no users, nobody can sign in and nobody becomes manager by visiting: the
  first manager account needs a one-time *setup code* (``issue_setup_code``), which the app
  prints on the server's console (stderr), never on the page. ``create_first_manager`` checks it
  and forgets it once used.
* **Signing in.** ``sign_in`` throttles guesses *per user name*, not per browser session, so
  opening a new session per guess gains nothing: after ``FREE_FAILURES`` failures each further
  attempt must wait (2 s, 4 s, ...), and ``LOCKOUT_FAILURES`` failures within
  ``FAILURE_WINDOW_SECONDS`` lock the name for ``LOCKOUT_SECONDS``. An attempt is counted as a
  failure *before* the password is checked (and forgiven if it was right), so parallel guesses
  cannot slip past the count. The record lives beside the users file
  (``users.json.signin.json``), so every session and every server process shares it. Unknown names
  are throttled the same way, so the answers never tell which names exist.
* **Every page.** The app re-reads the user's role with ``lookup`` on each run, so removing or
  demoting someone takes effect at once.

Passwords need ``MIN_PASSWORD_LENGTH`` characters that are not blanks and must not be one of the
30,000 most common passwords (the list shipped with the ``zxcvbn`` package, in the app extra).

Sign-in failures and lockouts are logged (logger ``roster.auth``) with the user name typed, so
an administrator can see who is being guessed at; nothing here logs a password, and nothing
logs a child's or carer's name.

Add a user from Python::

    from roster.auth import add_user
    add_user("users.json", "sam", "a long passphrase", "manager")

or ``python -m roster.auth users.json sam manager`` on the server (the password is asked for, not
echoed): whoever can run that can already read the users file, so it needs no setup code.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

import bcrypt

from roster.atomic import atomic_write_text
from roster.home import data_home, private_dir, private_file

Role = Literal["coordinator", "manager"]
ROLES: tuple[Role, ...] = ("coordinator", "manager")
USERS_ENV = "ROSTER_USERS"
DEFAULT_USERS_FILE = "users.json"
MIN_PASSWORD_LENGTH = 10
"""Characters a password needs, not counting blanks (spaces, tabs)."""
BCRYPT_ROUNDS = 12
"""bcrypt's cost factor for new hashes (2**12 rounds); tests may lower it to run faster."""

FREE_FAILURES = 3
"""Failed sign-ins for one name before each further attempt has to wait."""
LOCKOUT_FAILURES = 5
"""Failed sign-ins for one name, within the window, that lock it."""
LOCKOUT_SECONDS = 15 * 60
"""How long a locked name stays locked after its last failed attempt."""
FAILURE_WINDOW_SECONDS = 60 * 60
"""A name's failures are forgotten once this long has passed since its last one."""
MAX_TRACKED_NAMES = 10_000
"""The sign-in record keeps the most recent names only, so guessing names cannot grow it."""

LOG = logging.getLogger("roster.auth")

# A hash of a random password, checked when the name is unknown so that a wrong name takes as
# long as a wrong password (no telling which names exist by timing).
_DUMMY_HASH = b"$2b$12$INJaWZPCF.qG.a80ZZd8m.qDu4QTqzu5SSmipfgMCKS7QPK6uEqyO"
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a console
_CODE_GROUPS = 4


@dataclass(frozen=True)
class User:
    """A signed-in user: a name and a role. Never holds the password or its hash."""

    name: str
    role: Role

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


@dataclass(frozen=True)
class SignIn:
    """The outcome of ``sign_in``: the user, or why not and how long to wait before trying again."""

    user: User | None
    locked: bool = False
    retry_after: int = 0
    """Whole seconds before this name may try again (0: now)."""

    @property
    def message(self) -> str:
        """What to tell the person at the keyboard (the same whether or not the name exists)."""
        if self.user is not None:
            return "Signed in."
        if self.retry_after > 0:
            wait = _wait_words(self.retry_after)
            if self.locked:
                return f"Too many failed sign-ins for this name; it is locked. Try again in {wait}."
            return f"Too many failed sign-ins for this name; try again in {wait}."
        return "Wrong login name or password."


def users_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The users file: ``path`` if given, else ``$ROSTER_USERS``, else the data folder's
    ``users.json`` (``roster.home.data_home``)."""
    if path is not None:
        return Path(path)
    explicit = os.environ.get(USERS_ENV)
    return Path(explicit) if explicit else data_home() / DEFAULT_USERS_FILE


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the users file's ``.lock`` sibling (threads and processes)."""
    lock = private_file(_sibling(path, ".lock"))
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the atomic rewrite still keeps the file whole
        yield
        return
    with open(lock, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically; the temporary file is 0600 from the start (``mkstemp``)."""
    private_dir(path.parent)
    atomic_write_text(path, text)
    with contextlib.suppress(OSError):  # mkstemp made it 0600; keep it so if it was replaced
        os.chmod(path, 0o600)


def _write(path: Path, users: list[dict[str, str]]) -> None:
    _write_private(path, json.dumps({"users": users}, indent=2) + "\n")


def has_users(path: str | os.PathLike[str] | None = None) -> bool:
    """Whether the users file holds at least one user."""
    return bool(_read(users_path(path)))


def list_users(path: str | os.PathLike[str] | None = None) -> list[User]:
    """Every user (name and role only)."""
    return [User(row["name"], cast(Role, row["role"])) for row in _read(users_path(path))]


def lookup(path: str | os.PathLike[str] | None, name: str) -> User | None:
    """The user called ``name`` as the users file has them *now* (role included), or ``None``
    when there is no such user any more. The app calls this on every page."""
    wanted = name.strip().casefold()
    for row in _read(users_path(path)):
        if row["name"].casefold() == wanted:
            return User(row["name"], cast(Role, row["role"]))
    return None


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, lower-case, from the ``zxcvbn`` package's list."""
    try:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS
    except ImportError as exc:  # pragma: no cover - zxcvbn is in the app extra
        raise RuntimeError(
            "the list of common passwords comes with the zxcvbn package; "
            "install the app extra (pip install -e '.[app]')."
        ) from exc
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def check_password(password: str, name: str = "") -> None:
    """Raise ``ValueError`` (one sentence) unless ``password`` is good enough for the app.

    It needs ``MIN_PASSWORD_LENGTH`` characters that are not blanks, must not be one of the
    common passwords (compared without case and without blanks), and must not be the user name.
    """
    solid = "".join(password.split())
    if len(solid) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"the password has {len(solid)} characters that are not blanks; it must have at "
            f"least {MIN_PASSWORD_LENGTH}."
        )
    folded = password.strip().casefold()
    if folded in common_passwords() or solid.casefold() in common_passwords():
        raise ValueError(
            "the password is one of the 30,000 most common passwords; choose another "
            "(a few unrelated words make a good one)."
        )
    if name and solid.casefold() == "".join(name.split()).casefold():
        raise ValueError("the password is the login name; choose another.")


def _checked_name_and_role(name: str, role: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("user name is empty; give the person's login name.")
    if role not in ROLES:
        raise ValueError(f"role is {role!r}; it must be coordinator or manager.")
    return name


def _add(target: Path, name: str, password: str, role: str) -> User:
    """``add_user`` with the lock already held."""
    users = [u for u in _read(target) if u["name"].casefold() != name.casefold()]
    digest = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")
    users.append({"name": name, "role": role, "password_hash": digest})
    _write(target, users)
    return User(name, cast(Role, role))


def add_user(path: str | os.PathLike[str] | None, name: str, password: str, role: str) -> User:
    """Add a user, or replace the password and role of one with the same name.

    Raises ``ValueError`` for an empty name, a role other than ``coordinator`` or ``manager``, or
    a password ``check_password`` refuses.
    """
    name = _checked_name_and_role(name, role)
    check_password(password, name)
    target = users_path(path)
    with _locked(target):
        return _add(target, name, password, role)


def remove_user(path: str | os.PathLike[str] | None, name: str) -> bool:
    """Remove a user by name; ``True`` if one was removed."""
    target = users_path(path)
    with _locked(target):
        users = _read(target)
        kept = [u for u in users if u["name"].casefold() != name.strip().casefold()]
        if len(kept) == len(users):
            return False
        _write(target, kept)
        return True


def authenticate(path: str | os.PathLike[str] | None, name: str, password: str) -> User | None:
    """The user if ``name`` and ``password`` match a stored user, else ``None``.

    Names match without regard to case; passwords exactly. An unknown name costs as much time
    as a wrong password. No throttling: the app signs in with ``sign_in``.
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


# ---- throttling and lockout, per user name --------------------------------------------------


def _wait_words(seconds: int) -> str:
    if seconds >= 90:
        minutes = -(-seconds // 60)
        return f"{minutes} minutes"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def logged_name(name: str) -> str:
    """A typed user name as it may appear in a log line: printable, at most 64 characters."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in name.strip())[:64]
    return repr(shown)


def attempts_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Where the failed sign-ins are counted: beside the users file."""
    return _sibling(users_path(path), ".signin.json")


def _read_attempts(target: Path) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(target.read_text(encoding="utf-8") or "{}")
    except (OSError, json.JSONDecodeError):
        return {}  # a lost or damaged record forgets failures; it never blocks everyone
    if not isinstance(data, dict):
        return {}
    return {
        k: {"failures": float(v.get("failures", 0)), "last": float(v.get("last", 0))}
        for k, v in data.items()
        if isinstance(v, dict)
    }


def _write_attempts(target: Path, record: dict[str, dict[str, float]], now: float) -> None:
    fresh = {k: v for k, v in record.items() if now - v["last"] < FAILURE_WINDOW_SECONDS}
    if len(fresh) > MAX_TRACKED_NAMES:
        # Forget the names that are not being held back first, oldest first: guessing many
        # junk names must not push a throttled or locked name out of the record.
        ranked = sorted(
            fresh.items(), key=lambda kv: (kv[1]["failures"] >= FREE_FAILURES, kv[1]["last"])
        )
        fresh = dict(ranked[-MAX_TRACKED_NAMES:])
    _write_private(target, json.dumps(fresh, sort_keys=True) + "\n")


def _wait(failures: int, last: float, now: float) -> float:
    """Seconds before a name with ``failures`` failures, the last at ``last``, may try again."""
    if now - last >= FAILURE_WINDOW_SECONDS or failures < FREE_FAILURES:
        return 0.0
    if failures >= LOCKOUT_FAILURES:
        return max(0.0, last + LOCKOUT_SECONDS - now)
    return max(0.0, last + 2.0 ** (failures - FREE_FAILURES + 1) - now)


def wall_clock() -> float:
    """Seconds since the epoch: the throttle's clock when ``sign_in`` gets no ``now``."""
    return time.time()


def sign_in(
    path: str | os.PathLike[str] | None,
    name: str,
    password: str,
    *,
    now: float | None = None,
) -> SignIn:
    """Check ``name`` and ``password`` under the per-name throttle and lockout.

    Returns a ``SignIn`` with the user, or with ``retry_after`` seconds to wait (``locked``
    once ``LOCKOUT_FAILURES`` failures have been counted). ``now`` (seconds since the epoch) is
    for tests; the default is the wall clock.
    """
    target = users_path(path)
    record_path = attempts_path(target)
    key = name.strip().casefold()
    clock = wall_clock() if now is None else now
    with _locked(target):
        record = _read_attempts(record_path)
        entry = record.get(key, {"failures": 0.0, "last": 0.0})
        if clock - entry["last"] >= FAILURE_WINDOW_SECONDS:
            entry = {"failures": 0.0, "last": 0.0}
        failures = int(entry["failures"])
        wait = _wait(failures, entry["last"], clock)
        if wait > 0:
            locked = failures >= LOCKOUT_FAILURES
            LOG.warning(
                "sign-in refused without a check for user %s: %s after %d failures",
                logged_name(name), "locked" if locked else "too soon", failures,
            )  # fmt: skip
            return SignIn(None, locked=locked, retry_after=int(-(-wait // 1)))
        # Count the attempt as failed before checking it: parallel guesses see the count.
        record[key] = {"failures": failures + 1.0, "last": clock}
        _write_attempts(record_path, record, clock)
    found = authenticate(target, name, password)
    with _locked(target):
        record = _read_attempts(record_path)
        if found is not None:
            record.pop(key, None)
            _write_attempts(record_path, record, clock)
            return SignIn(found)
    failures += 1
    wait = _wait(failures, clock, clock)
    locked = failures >= LOCKOUT_FAILURES
    if locked:
        LOG.warning(
            "sign-in refused for user %s: %d failures, locked for %d minutes",
            logged_name(name), failures, LOCKOUT_SECONDS // 60,
        )  # fmt: skip
    else:
        LOG.warning("sign-in refused for user %s: %d failures", logged_name(name), failures)
    return SignIn(None, locked=locked, retry_after=int(-(-wait // 1)))


# ---- the first manager: a one-time setup code from the server's console ---------------------


def setup_code_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Where the hash of the current setup code is kept: beside the users file."""
    return _sibling(users_path(path), ".setup")


def _code_digest(code: str) -> str:
    plain = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(plain.encode("ascii", "replace")).hexdigest()


def issue_setup_code(path: str | os.PathLike[str] | None = None) -> str:
    """A new one-time setup code for the first manager account (replacing any earlier one).

    Only its SHA-256 is stored (``users.json.setup``, mode 0600); the caller shows the code on
    the server's console. Raises ``ValueError`` when the users file already has users.
    """
    target = users_path(path)
    with _locked(target):
        if _read(target):
            raise ValueError("the users file already has users; no setup code is needed.")
        groups = [
            "".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(_CODE_GROUPS)
        ]
        code = "-".join(groups)
        _write_private(setup_code_path(target), _code_digest(code) + "\n")
    return code


def setup_code_matches(path: str | os.PathLike[str] | None, code: str) -> bool:
    """Whether ``code`` is the setup code issued last (and not used yet)."""
    try:
        stored = setup_code_path(path).read_text(encoding="ascii").strip()
    except OSError:
        return False
    return bool(stored) and hmac.compare_digest(stored, _code_digest(code))


def create_first_manager(
    path: str | os.PathLike[str] | None, code: str, name: str, password: str
) -> User:
    """Create the first manager account, if ``code`` is the setup code issued last.

    The code is forgotten once used. Raises ``ValueError`` (one sentence) when users exist
    already, when no code was issued, when the code is wrong, or for a bad name or password.
    """
    target = users_path(path)
    name = _checked_name_and_role(name, "manager")
    with _locked(target):
        if _read(target):
            raise ValueError("a manager account exists already; sign in instead.")
        if not setup_code_path(target).exists():
            raise ValueError(
                "no setup code has been issued; restart the app and use the code it prints on "
                "the server's console."
            )
        if not setup_code_matches(target, code):
            LOG.warning("first manager account refused: wrong setup code")
            raise ValueError(
                "the setup code is wrong; use the code printed on the server's console when the "
                "app started."
            )
        check_password(password, name)
        user = _add(target, name, password, "manager")
        with contextlib.suppress(FileNotFoundError):
            setup_code_path(target).unlink()
    LOG.warning("first manager account created with the setup code")
    return user


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
