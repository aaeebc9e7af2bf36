"""End to end in headless Chromium (Playwright): the app as a coordinator or manager uses it.

Starts ``streamlit run app.py`` on a free port with a scratch users file and store, then drives
Debian's Chromium: sign in, load the bundled sample, solve, look at the Gantt and the visits not
covered, run a sickness scenario, download the Excel rota and read it back with openpyxl.
Screenshots of the main pages go to ``tests/artifacts/``.

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``); skipped with a message without it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from roster import auth
from roster.auth import add_user

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("ROSTER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
USER = ("manager1", "manager-pass-1")
OTHER = ("coord1", "coordinator-pass-1")
WAIT_MS = 120_000
"""How long to wait for the page: generous, since the test machine's CPU may be shared."""
HANG_MS = 600_000
"""How long to wait for a solve to end (or stop after Cancel): only catches hangs, since a
busy machine may take minutes; no test depends on how fast it is."""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) "
        "to run the end-to-end browser tests",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser")
    saved, auth.BCRYPT_ROUNDS = auth.BCRYPT_ROUNDS, 4  # cheap hashes: the CPU is shared
    add_user(tmp / "users.json", *USER, "manager")
    add_user(tmp / "users.json", *OTHER, "coordinator")
    auth.BCRYPT_ROUNDS = saved
    port = _free_port()
    env = {
        **os.environ,
        "ROSTER_USERS": str(tmp / "users.json"),
        "ROSTER_DB": str(tmp / "roster.sqlite"),
        "ROSTER_SAMPLE": str(ROOT / "data" / "sample"),
        "ROSTER_APP_TIME_LIMIT": "8",
        "ROSTER_APP_WORKERS": "1",
    }
    streamlit = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    log = open(tmp / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [streamlit, "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not start: {(tmp / 'streamlit.log').read_text()[-2000:]}"
                )
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _shot(page, name: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its main pane, so the window is
    made as tall as that pane first."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 600)"
    )
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 80, 5000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def _sign_in(page, url: str, who: tuple[str, str]) -> None:
    page.goto(url)
    page.get_by_label("Login name").fill(who[0])
    page.get_by_label("Password", exact=True).fill(who[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {who[0]}").wait_for()


def _settled(page) -> None:
    """Wait until Streamlit has finished running the script for the last interaction."""
    page.wait_for_timeout(300)
    page.get_by_test_id("stStatusWidget").wait_for(state="detached")


def _go(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_text(name, exact=True).click()
    page.get_by_role(
        "heading", name={"Rota": "Rota", "Data": "Data in"}.get(name, name)
    ).first.wait_for()


def _load_sample(page) -> None:
    _go(page, "Data")
    page.get_by_role("button", name="Load the sample").click()
    page.get_by_text("Loaded:").wait_for()


def _solve(page) -> None:
    _go(page, "Rota")
    page.get_by_role("button", name="Solve", exact=True).click()
    page.get_by_text("this rota breaks none of the rules").wait_for(timeout=180_000)


def test_sign_in_load_solve_look_what_if_and_download(server, browser, tmp_path):
    from openpyxl import load_workbook

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(server)
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.get_by_text("Go to").count() == 0  # nothing but the form before signing in
    _shot(page, "01-sign-in")

    page.get_by_label("Login name").fill(USER[0])
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong login name or password.").wait_for()

    _sign_in(page, server, USER)
    _load_sample(page)
    _shot(page, "02-data")

    _solve(page)
    page.locator(".js-plotly-plot").first.wait_for()  # the carers' Gantt
    assert page.get_by_text("Visits covered").count() >= 1
    _shot(page, "03-rota-gantt")

    page.get_by_role("tab", name="Not covered").click()
    page.get_by_text("not fully covered").or_(
        page.get_by_text("Every visit is covered.")
    ).first.wait_for()
    _shot(page, "04-not-covered")
    page.get_by_role("tab", name="Map").click()
    page.get_by_text("Grey lines: each journey").wait_for()
    page.wait_for_timeout(1500)
    _shot(page, "05-map")
    page.get_by_role("tab", name="Children's week").click()
    page.wait_for_timeout(500)
    _shot(page, "06-child-week")

    _go(page, "What-if")
    page.get_by_role("button", name="Run this scenario").click()  # default: a carer off sick
    page.get_by_text("compared with the current rota").wait_for(timeout=180_000)
    _shot(page, "07-what-if-sickness")

    _go(page, "Downloads")
    with page.expect_download(timeout=WAIT_MS) as info:
        page.get_by_role("button", name="Rota (Excel)").click()
    target = tmp_path / "rota.xlsx"
    info.value.save_as(target)
    _shot(page, "08-downloads")
    book = load_workbook(target, read_only=True)
    assert {"rota", "unassigned", "summary"} <= set(book.sheetnames)
    rows = list(book["rota"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:2] == ("visit_id", "carer_id")
    assert len(rows) > 10  # the sample's week is mostly covered
    visit_ids = {
        line.split(",")[0]
        for line in (ROOT / "data/sample/visits.csv").read_text().splitlines()[1:]
    }
    assert {r[0] for r in rows[1:]} <= visit_ids
    summary = dict(book["summary"].iter_rows(values_only=True))
    assert int(summary["visits_covered"]) > 0
    context.close()


def test_two_browser_sessions_solve_at_once(server, browser):
    first = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    second = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    first.set_default_timeout(WAIT_MS)
    second.set_default_timeout(WAIT_MS)
    _sign_in(first, server, USER)
    _sign_in(second, server, OTHER)
    _load_sample(first)
    _load_sample(second)
    _go(first, "Rota")
    _go(second, "Rota")
    # The form's longest limit in the first session, beyond the hang timeout, so that it is
    # surely still solving when the second session starts its own solve, however busy the
    # machine; it is cancelled once both are seen running.
    limit = first.get_by_label("Time limit (seconds)")
    limit.fill("3600")
    limit.press("Enter")
    _settled(first)
    first.get_by_role("button", name="Solve", exact=True).click()
    first.get_by_text("of up to 3600 s").wait_for()
    second.get_by_role("button", name="Solve", exact=True).click()
    second.get_by_text("Solving the week's rota").wait_for()
    assert first.get_by_text("of up to 3600 s").count() == 1  # still solving, not blocked
    # Cancel the first at once, and the second still finishes on its own.
    first.get_by_role("button", name="Cancel").click()
    # The solver honours the stop flag: the first session keeps its best rota so far, checked.
    first.get_by_text("You stopped it early").wait_for(timeout=HANG_MS)
    first.get_by_text("this rota breaks none of the rules").wait_for()
    _shot(first, "10-first-session-cancelled")
    second.get_by_text("this rota breaks none of the rules").wait_for(timeout=HANG_MS)
    assert second.get_by_text("You stopped it early").count() == 0  # the cancel was the first's
    _shot(second, "09-second-session")
