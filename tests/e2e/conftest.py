"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's
live_server (the test database, transactional). Every request the page makes to a host other
than the live server is aborted and recorded, and the test fails on any."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


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


class Session:
    """One browser context (its own cookies) with the foreign-request guard installed."""

    def __init__(self, browser, base_url: str, viewport: dict[str, int]):
        self.base_url = base_url
        self.host = urlsplit(base_url).netloc
        self.foreign: list[str] = []
        self.console_errors: list[str] = []
        self.context = browser.new_context(viewport=viewport, base_url=base_url)
        self.context.route("**/*", self._guard)
        self.page = self.context.new_page()
        # Script errors only: a 4xx page (a refused form) logs "Failed to load resource", on purpose.
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def _console(self, message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def _guard(self, route) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in ("data", "blob") or parts.netloc == self.host:
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def check(self) -> None:
        assert not self.foreign, f"the page requested other hosts: {self.foreign}"
        assert not self.console_errors, f"script errors in the page: {self.console_errors}"

    def close(self) -> None:
        self.context.close()


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


def assert_inputs_labelled(page) -> None:
    """Every visible form control has an accessible name (a label, aria-label or aria-labelledby)."""
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
            .filter(el => el.type !== 'hidden' && !el.hidden)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.outerHTML.slice(0, 120))"""
    )
    assert not unlabelled, f"form controls without a label: {unlabelled}"


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return shoot
