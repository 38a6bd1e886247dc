"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's
live_server (the test database, transactional). Every request the page makes to a host other
than the live server is aborted and recorded, and the test fails on any (tests/support/browser.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, SCREENSHOTS, Session


@pytest.fixture(scope="package")
def playwright_instance():
    """Playwright, for this package's tests only: its sync API keeps an asyncio loop running in
    this thread, which makes Django refuse ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The
    ORM calls the tests make between browser steps are synchronous and safe; the flag and the loop
    both end with the package, so the rest of the suite keeps Django's check."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (make browser installs it)")
    from playwright.sync_api import sync_playwright

    old = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            yield p
    finally:
        if old is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old


@pytest.fixture(scope="package")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def new_session(browser, live_server):
    sessions: list[Session] = []

    def make(viewport: dict[str, int] | None = None) -> Session:
        s = Session(browser, live_server.url, viewport or DESKTOP)
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.close()
    for s in sessions:
        s.check()


@pytest.fixture
def page(new_session):
    return new_session().page


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return shoot


@pytest.fixture
def log_in():
    """Log a browser page in through the log-in form (the users of make_user share one password)."""

    def go(page, username: str) -> None:
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("correct-horse-battery-9")
        page.get_by_role("button", name="Log in").click()

    return go
