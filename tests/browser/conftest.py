"""Playwright against the live server, driving Debian's Chromium (``playwright install`` cannot download here).

The desk uses htmx ``hx-boost``: links and forms swap the body over XHR, so the tests wait on
selectors and URLs, never on page load events.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.factories import PASSWORD

CHROMIUM = Path(os.environ.get("FD_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require_service(CHROMIUM.exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}, "locale": "en-US"}


@pytest.fixture(scope="session", autouse=True)
def _close_db_connections_while_playwright_runs(playwright):
    """Close the ORM's connections at the end of the session, before Playwright stops.

    While Playwright's event loop runs in this thread, asgiref keeps Django's connections in a
    context-local store; once it stops, the plain thread-local one is back. A connection left in
    the first is never closed, and PostgreSQL then waits 5 s before it drops the test database.
    """
    yield
    from django.db import connections

    connections.close_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(page, request):
    """The plugin's page with shorter timeouts, a console-error log and a screenshot on failure."""
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        screenshot(page, f"FAILED-{request.node.name}")


def screenshot(page, name: str, *, folder: Path = ARTIFACTS, full_page: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def login(page, live_server, user, password: str = PASSWORD) -> None:
    """Log in through the real login form (it is not boosted: a full page load); it lands on the
    home page, the rep's inquiry queue."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/inquiries/$"))
    page.wait_for_selector("#global-search")


def wait_for_htmx(page) -> None:
    """Until htmx has loaded and no boosted request is in flight."""
    page.wait_for_function("() => window.htmx && !document.querySelector('.htmx-request')")


def resolve_inquiry(page, *, reason: str) -> None:
    """On an inquiry page: resolve it through the status form, and wait until the page says so."""
    from playwright.sync_api import expect

    status = page.locator("#action-status")
    wait_for_htmx(page)
    status.locator("summary").click()
    status.get_by_label("New status").select_option("resolved")
    status.get_by_label("Reason").fill(reason)
    status.get_by_role("button", name="Change status").click()
    expect(page.locator("ul.messages")).to_contain_text("Status changed.")
    expect(page.locator("h1 + .sub .badge").first).to_have_text("Resolved")
