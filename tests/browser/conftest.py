"""Browser tests: Debian's chromium driven by Playwright against a real gunicorn server.

One server (``gatehouse serve``, 2 workers) runs for the whole session on a free
loopback port, on the same database as the ``factory`` fixture, so tests create
people and tokens through the services and then use the console like a person.
Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``.
Set ``GATEHOUSE_SCREENSHOTS=1`` to refresh ``docs/screenshots/*.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.helpers import PASSWORD, clean_environment

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def token(self, client_id: str, secret: str) -> requests.Response:
        """``POST /token`` as the integration would."""
        return requests.post(
            f"{self.url}/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
            timeout=10,
        )


def _wait_ready(server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gatehouse serve exited:\n{server.log.read_text()[-3000:]}")
        try:
            if requests.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gatehouse serve not ready in {seconds}s:\n{server.log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def server(database_url: str, session_key_dir: Path, tmp_path_factory) -> Iterator[Server]:
    """``gatehouse serve --workers 2`` on a free port (session-wide: starting it costs seconds)."""
    root = tmp_path_factory.mktemp("browser-server")
    shutil.copytree(session_key_dir, root / "keys")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = clean_environment(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_KEYS_DIR=root / "keys",
        GATEHOUSE_INSTANCE_DIR=root / "instance",
        GATEHOUSE_ISSUER=url,
        GATEHOUSE_SECRET_KEY="browser-test-session-key",
        # no metric samples: the test database is shared (tests record their own)
        GATEHOUSE_METRICS_SAMPLE_SECONDS="0",
    )
    log = root / "server.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=root,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Server(url, process, log)
    try:
        _wait_ready(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Watch:
    """What the page did that it should not: JavaScript dialogs, console errors (CSP)."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser, server: Server, watch: Watch) -> Iterator[object]:
    context = browser.new_context(
        base_url=server.url,
        viewport={"width": 1280, "height": 860},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()

    def on_dialog(dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("console", lambda msg: watch.errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda error: watch.errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    csp = [error for error in watch.errors if "Content Security Policy" in error]
    assert not csp, csp


def shot(page, name: str, full_page: bool = True) -> None:
    """Save a screenshot for the README, only when ``GATEHOUSE_SCREENSHOTS=1``."""
    if os.environ.get("GATEHOUSE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: url.endswith("/"))  # the home page
