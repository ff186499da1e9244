""""Export CSV" on the call history and on the audit log exports what the page's filters
show, filters applied since the page loaded included (issue 13, problem 2)."""

import csv
import io

import pytest
from playwright.sync_api import expect

from console.phone_numbers import display
from tests.e2e.flows import sign_in
from tests.support.sandbox import wait_until
from voice.demo import UNROUTED_NUMBER

pytestmark = pytest.mark.e2e


def apply(page, field, text: str) -> None:
    """Types into a filter and leaves it: the list follows without a page load."""
    field.fill(text)
    field.press("Tab")


def exported_rows(page) -> list[dict]:
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    return list(csv.DictReader(io.StringIO(download.value.path().read_text())))


def test_the_call_history_export_holds_the_calls_the_filters_show(screens_stack, page):
    ended = screens_stack.sandbox.offer_inbound(from_number="+15550023201", to_number=UNROUTED_NUMBER, hold_seconds=1)
    wait_until(lambda: screens_stack.sandbox.call(ended["callId"])["state"] == "completed", timeout=20)
    sign_in(page, screens_stack, "admin")
    page.goto(screens_stack.url + "/history/")
    page.evaluate("window.__noReload = true")
    expect(page.locator("#history-rows")).to_contain_text(display("+15550023201"))

    apply(page, page.get_by_role("searchbox", name="Number or name"), "5550023201")
    expect(page.locator("#history-rows tr.history-row")).to_have_count(1)
    assert [row["from"] for row in exported_rows(page)] == ["+15550023201"]

    apply(page, page.get_by_role("searchbox", name="Number or name"), "5550099999")
    expect(page.locator("#history-rows")).to_contain_text("No ended call matches.")
    assert exported_rows(page) == []
    assert page.evaluate("window.__noReload")


def test_the_audit_log_export_holds_the_entries_the_filters_show(screens_stack, page):
    sign_in(page, screens_stack, "admin")
    page.goto(screens_stack.url + "/audit/")
    page.evaluate("window.__noReload = true")
    expect(page.locator("#results tbody")).to_contain_text("signed in")

    apply(page, page.get_by_role("searchbox", name="Who"), "nobody-by-this-name")
    expect(page.locator("#results tbody")).to_contain_text("Nothing recorded matches.")
    assert exported_rows(page) == []

    apply(page, page.get_by_role("searchbox", name="Who"), "admin")
    apply(page, page.get_by_role("textbox", name="What"), "signed in")
    expect(page.locator("#results tbody tr:not(.empty)").first).to_contain_text("signed in")
    rows = exported_rows(page)
    assert rows and {(row["who"], row["what"]) for row in rows} == {("admin", "signed in")}
    assert page.evaluate("window.__noReload")
