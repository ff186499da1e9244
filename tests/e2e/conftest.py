from contextlib import contextmanager

import pytest

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


@contextmanager
def _operator_page(browser):
    """A page in a browser context of its own: its own cookies, its own session."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def page(browser):
    with _operator_page(browser) as page:
        yield page


@pytest.fixture
def second_page(browser):
    """A second operator."""
    with _operator_page(browser) as page:
        yield page


@pytest.fixture(scope="session")
def screens_stack(tmp_path_factory):
    """One embedded-default stack shared by the tests of the screens (tests/e2e/test_*
    of issue 13): a stack takes up to a minute to start on a busy machine, and these tests
    only need calls of their own (each uses its own numbers)."""
    with running_stack(tmp_path_factory.mktemp("screens")) as stack:
        yield stack
