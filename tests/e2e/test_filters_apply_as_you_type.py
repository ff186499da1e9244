"""The text filters of the call history, the recordings and the audit log apply as they
are typed in, like the first one: no Enter, no leaving the field (issue 13, problem 4)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in

pytestmark = pytest.mark.e2e

# A page, a text filter that is not its first field, what is typed into it, and what the
# list says when nothing matches.
LISTS = [
    ("/history/", "Disconnect cause", "matches-nothing", "No ended call matches."),
    ("/history/", "Number or name", "5550999999", "No ended call matches."),
    ("/recordings/", "Number or name", "5550999999", "No recording matches."),
    ("/recordings/", "Conference name or id", "matches-nothing", "No recording matches."),
    ("/audit/", "What", "matches-nothing", "Nothing recorded matches."),
    ("/audit/", "Acted on", "matches-nothing", "Nothing recorded matches."),
]


def test_every_text_filter_applies_as_it_is_typed(screens_stack, page):
    sign_in(page, screens_stack, "admin")
    for path, label, text, nothing in LISTS:
        page.goto(screens_stack.url + path)
        page.evaluate("window.__noReload = true")
        field = page.get_by_label(label, exact=True)
        field.click()
        field.press_sequentially(text, delay=20)
        # Applied: the search is in the URL (pushed with its results), as a bookmark.
        expect(page).to_have_url(re.compile(re.escape(f"{field.get_attribute('name')}={text}")))
        expect(page.locator("#results"), f"{path}: {label}").to_contain_text(nothing)
        expect(field).to_be_focused()  # still typing: never left the field
        assert page.evaluate("window.__noReload"), path
