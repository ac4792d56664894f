"""A real browser (Debian's Chromium driven by Playwright) that fails the test on anything amiss.

Every page a journey opens is watched: a console error, an uncaught script error, a
failed request, a response >= 400 the test did not announce, a request to any host but
the server under test, or a dialog the test did not expect is a problem, and the test
fails with the list. The browser is never downloaded (no ``playwright install``): CI
installs the distribution's package, and a machine without it fails loudly.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    ViewportSize,
    sync_playwright,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
LOAD_FAILED = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


def chromium_path() -> str:
    """Debian's Chromium, or a failure that says how to get it (never a skip)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    pytest.fail(
        f"Chromium is not installed ({CHROMIUM} is missing): the browser tests need "
        "Debian's package, `apt-get install chromium` (.ci/run installs it). "
        "Never `playwright install`.",
        pytrace=False,
    )


@contextmanager
def chromium() -> Iterator[Browser]:
    path = chromium_path()
    with sync_playwright() as playwright:
        browser = _launch(playwright, path)
        try:
            yield browser
        finally:
            browser.close()


def _launch(playwright: Playwright, path: str) -> Browser:
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


@dataclass
class Watched:
    """One fresh browser context on the server at ``origin``, and what went wrong in it."""

    context: BrowserContext
    page: Page
    origin: str
    problems: list[str] = field(default_factory=list)
    expected: set[tuple[str, int]] = field(default_factory=set)
    dialogs: list[str] = field(default_factory=list)
    accept_dialogs: bool = False
    closing: bool = False

    def url(self, path: str) -> str:
        return self.origin + path

    def goto(self, path: str) -> Response | None:
        return self.page.goto(self.url(path))

    def expect_status(self, path: str, status: int) -> None:
        """Announce that ``path`` (no query) will answer ``status`` >= 400 on purpose."""
        self.expected.add((path, status))

    @contextmanager
    def confirming(self) -> Iterator[None]:
        """Accept the confirm dialogs opened inside the block (and only there)."""
        self.accept_dialogs = True
        try:
            yield
        finally:
            self.accept_dialogs = False

    def mark(self) -> None:
        """Leave a marker on ``window`` that a reload (or any navigation) would wipe."""
        self.page.evaluate("window.__not_reloaded = true")

    def still_marked(self) -> bool:
        return bool(self.page.evaluate("window.__not_reloaded === true"))

    def focused(self) -> str:
        """The focused element: a form field's name, or the text of a link or button."""
        return str(
            self.page.evaluate(
                "(() => { const e = document.activeElement;"
                " return e.matches('input, textarea, select') ? e.name : (e.innerText || '').trim(); })()"
            )
        )

    def tab_to(self, text: str, limit: int = 80) -> None:
        """Press Tab until the focus is on the control reading ``text``; fail if it never is."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if self.focused() == text:
                return
        raise AssertionError(f"{limit} presses of Tab never reached {text!r}")

    def focus_is_visible(self) -> bool:
        """Whether the focused element draws an outline (the focus ring the CSS promises)."""
        return bool(
            self.page.evaluate(
                "(() => { const s = getComputedStyle(document.activeElement);"
                " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1; })()"
            )
        )

    def background_luminance(self) -> float:
        """The page background's relative luminance, 0 (black) to 1 (white)."""
        rgb = self.page.evaluate(
            "getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"
        )
        red, green, blue = (c / 255 for c in rgb)
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    def horizontal_overflow(self) -> int:
        """How many pixels the page body is wider than the viewport (0 = no sideways scroll)."""
        return int(
            self.page.evaluate(
                "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
                " - window.innerWidth"
            )
        )

    def check(self) -> None:
        assert not self.problems, "the browser saw problems:\n" + "\n".join(self.problems)

    # -- listeners ---------------------------------------------------------------------

    def _same_origin(self, url: str) -> bool:
        if url.startswith(("data:", "blob:", "about:")):
            return True
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def _is_expected(self, url: str, status: int) -> bool:
        return (urlsplit(url).path, status) in self.expected

    def _route(self, route: Route) -> None:
        url = route.request.url
        if self._same_origin(url):
            route.continue_()
        else:
            # Blocked as well as reported: the UI must work offline.
            self.problems.append(f"request to another host: {url}")
            route.abort("blockedbyclient")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        loaded = LOAD_FAILED.search(message.text)
        if loaded and self._is_expected(message.location.get("url", ""), int(loaded.group(1))):
            return
        self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def _page_error(self, error: Any) -> None:
        self.problems.append(f"uncaught script error: {error}")

    def _request_failed(self, request: Request) -> None:
        if not self._same_origin(request.url) or self.closing:
            return  # already reported by the route; or cut short by the test's end
        if request.resource_type != "document" and request.failure == "net::ERR_ABORTED":
            # The browser dropped it because the page moved on (a link, a form): a live
            # refresh, or the icon still loading when a form posted. The server's own
            # failures are statuses (_response) or connection errors, still reported.
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and not self._is_expected(response.url, response.status):
            self.problems.append(
                f"unexpected {response.status} for {response.request.method} {response.url}"
            )

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        if self.accept_dialogs and dialog.type == "confirm":
            dialog.accept()
            return
        self.problems.append(f"unexpected {dialog.type} dialog: {dialog.message!r}")
        dialog.dismiss()


@contextmanager
def watched(
    browser: Browser,
    origin: str,
    viewport: ViewportSize | None = None,
    *,
    javascript: bool = True,
    color_scheme: Literal["light", "dark"] = "light",
) -> Iterator[Watched]:
    """A fresh context and page on ``origin``; the test fails if the browser saw a problem."""
    context = browser.new_context(
        viewport=viewport or DESKTOP, java_script_enabled=javascript, color_scheme=color_scheme
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    seen = Watched(context, page, origin.rstrip("/"))
    context.route("**/*", seen._route)
    page.on("console", seen._console)
    page.on("pageerror", seen._page_error)
    page.on("requestfailed", seen._request_failed)
    page.on("response", seen._response)
    page.on("dialog", seen._dialog)
    try:
        yield seen
    finally:
        seen.closing = True
        context.close()
    seen.check()
