import re
from contextlib import contextmanager

import pytest

from tests.e2e import accessibility
from tests.support.services import chromium_path
from tests.support.stack import running_stack

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium reaches for Google's hosts at every start, which this
    # network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Per module, not per session: Playwright's sync API keeps an event loop marked running in
# the main thread while it is open, and asyncio tests in later modules could not start theirs.
@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# How the browser says the test's server has stopped (refused, or reset while it shut down).
SERVER_GONE = ("ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET", "ERR_EMPTY_RESPONSE")


class BrowserErrors:
    """What went wrong in a test's pages: console errors, uncaught exceptions, answers of
    400 and above, requests that failed. A test declares the ones it causes on purpose
    (`expected_browser_errors.allow(403)`, `.allow_console("pattern")`, `.allow_failure("pattern")`);
    any other fails it."""

    def __init__(self) -> None:
        self.statuses: set[int] = set()
        self.console_patterns: list[re.Pattern] = []
        self.failure_patterns: list[re.Pattern] = []
        self.seen: list[str] = []
        # Once the test's server refuses or resets connections it has been stopped (a test's stack ends
        # before its pages are torn down): what the pages say after that is not the console's.
        self.server_gone = False

    def allow(self, *statuses: int) -> None:
        self.statuses.update(statuses)

    def allow_console(self, pattern: str) -> None:
        self.console_patterns.append(re.compile(pattern))

    def allow_failure(self, pattern: str) -> None:
        """A request that fails on purpose (the test aborts it), by its URL."""
        self.failure_patterns.append(re.compile(pattern))

    def watch(self, page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.server_gone or self.seen.append(f"{page.url}: uncaught {error}"))
        page.on("response", lambda response: self._response(response))
        page.on("requestfailed", lambda request: self._failed(request))

    def _console(self, page, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if self._gone(text):
            return
        # The browser's and htmx's words for an answer the test expects.
        status = re.search(r"status of (\d{3})|Error Code (\d{3})", text)
        if status and int(status.group(1) or status.group(2)) in self.statuses:
            return
        if any(pattern.search(text) for pattern in self.console_patterns):
            return
        self.seen.append(f"{page.url}: console error: {text}")

    def _gone(self, failure: str) -> bool:
        self.server_gone = self.server_gone or any(sign in failure for sign in SERVER_GONE)
        return self.server_gone

    def _response(self, response) -> None:
        if self.server_gone:
            return
        if response.status >= 400 and response.status not in self.statuses:
            self.seen.append(f"{response.request.method} {response.url}: {response.status}")

    def _failed(self, request) -> None:
        if self._gone(request.failure or ""):
            return
        # Aborted: a page left while a request was under way, or a download taken over.
        if "ERR_ABORTED" in (request.failure or "") or any(p.search(request.url) for p in self.failure_patterns):
            return
        self.seen.append(f"{request.method} {request.url}: failed ({request.failure})")


@pytest.fixture
def expected_browser_errors():
    return BrowserErrors()


@contextmanager
def _operator_page(browser, errors: BrowserErrors):
    """A page in a browser context of its own: its own cookies, its own session. The test
    fails on any error of the page's it did not declare."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors.watch(page)
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)
    yield page
    # The test's errors, before the accessibility check revisits its pages.
    seen = list(errors.seen)
    problems = accessibility.check(page, visited)
    context.close()
    assert seen == [], "errors in the browser:\n" + "\n".join(seen)
    assert problems == [], "accessibility (axe-core), serious or critical:\n" + "\n".join(problems)


@pytest.fixture
def page(browser, expected_browser_errors):
    with _operator_page(browser, expected_browser_errors) as page:
        yield page


@pytest.fixture
def second_page(browser, expected_browser_errors):
    """A second operator."""
    with _operator_page(browser, expected_browser_errors) as page:
        yield page


@pytest.fixture(scope="session")
def screens_stack(tmp_path_factory):
    """One embedded-default stack shared by the tests of the screens (tests/e2e/test_*
    of issue 13): a stack takes up to a minute to start on a busy machine, and these tests
    only need calls of their own (each uses its own numbers)."""
    with running_stack(tmp_path_factory.mktemp("screens")) as stack:
        yield stack
