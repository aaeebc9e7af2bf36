"""Fixtures for the app's tests: a small generated week, a users file and a scratch store.

The app reads its files from environment variables (``ROSTER_SAMPLE``, ``ROSTER_USERS``,
``ROSTER_DB``), so tests point it at a small caseload that solves in seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from roster import auth
from roster.auth import add_user

APP = Path(__file__).resolve().parents[2] / "app.py"
MANAGER = ("manager1", "manager-pass-1")
COORDINATOR = ("coord1", "coordinator-pass-1")


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt at its lowest cost in tests: the behaviour is the same, the CPU is shared."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture(scope="session")
def app_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from roster.generator import generate
    from roster.io import write_instance

    root = tmp_path_factory.mktemp("app")
    write_instance(generate(carers=8, children=10, seed=3), root / "sample")
    saved, auth.BCRYPT_ROUNDS = auth.BCRYPT_ROUNDS, 4
    add_user(root / "users.json", *MANAGER, "manager")
    add_user(root / "users.json", *COORDINATOR, "coordinator")
    auth.BCRYPT_ROUNDS = saved
    return root


@pytest.fixture
def app_env(app_files: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("ROSTER_SAMPLE", str(app_files / "sample"))
    monkeypatch.setenv("ROSTER_USERS", str(app_files / "users.json"))
    monkeypatch.setenv("ROSTER_DB", str(tmp_path / "roster.sqlite"))
    monkeypatch.setenv("ROSTER_APP_TIME_LIMIT", "2")
    monkeypatch.setenv("ROSTER_APP_WORKERS", "1")
    return app_files


def new_app() -> Any:
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=60)


def sign_in(at: Any, who: tuple[str, str] = MANAGER) -> Any:
    at.run()
    at.text_input[0].input(who[0])
    at.text_input[1].input(who[1])
    button(at, "Sign in").click()
    return at.run()


def button(at: Any, label: str) -> Any:
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def go(at: Any, page: str) -> Any:
    at.sidebar.radio(key="page").set_value(page)
    return at.run()


def load_sample(at: Any) -> Any:
    go(at, "Data")
    button(at, "Load the sample").click()
    return at.run()


HANG = 600.0
"""Seconds after which a background solve is taken to hang: it only catches hangs, since the
CPU may be shared (no test may depend on how fast the machine is)."""


def wait_for(at: Any, key: str, timeout: float = HANG) -> Any:
    """Let the background solve ``key`` finish (its ``done`` event), then rerun the page as the
    browser would."""
    job = at.session_state["jobs"].get(key)
    assert job is not None, f"no solve {key!r} was started"
    assert job.done.wait(timeout), f"solve {key!r} still running after {timeout} s"
    at.run()
    return at.run()


def texts(at: Any) -> str:
    """Every piece of text on the page, for `in` checks."""
    parts = []
    for kind in (
        "markdown",
        "caption",
        "success",
        "info",
        "warning",
        "error",
        "header",
        "subheader",
        "title",
    ):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)
