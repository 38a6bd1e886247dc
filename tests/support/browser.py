"""Helpers of the browser tests (tests/e2e): Debian's Chromium, viewports, a browser context that
refuses every request to another host, and page checks. The fixtures are in tests/e2e/conftest.py."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "e2e" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


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


def assert_inputs_labelled(page) -> None:
    """Every visible form control has an accessible name (a label, aria-label or aria-labelledby)."""
    result = page.evaluate(
        """() => {
            const controls = Array.from(document.querySelectorAll('input, select, textarea'))
                .filter(el => el.type !== 'hidden' && !el.hidden);
            const unlabelled = controls
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                              && !el.getAttribute('aria-labelledby'))
                .map(el => el.outerHTML.slice(0, 120));
            return {checked: controls.length, unlabelled};
        }"""
    )
    assert result["checked"] > 0, "no visible form control on the page to check"
    assert not result["unlabelled"], f"form controls without a label: {result['unlabelled']}"
