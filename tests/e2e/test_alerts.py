"""Alerts in the browser: an admin lowers a rule's threshold, a call in the sandbox crosses
it, the alert reaches every open page's bell without a reload (with a notification for the
operator who opted in), an operator acknowledges it, every page sees who did, and the alert
clears from every bell when the call ends."""

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.flows import sign_in, wait_until_live
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.e2e

# Records the notifications the page shows, as a granted Notification would show them.
RECORD_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
};
"""


def admin_sets_a_threshold(page: Page, stack: Stack, field: str, value: int) -> None:
    sign_in(page, stack, "admin")
    page.locator("#alert-bell summary").click()
    page.get_by_role("link", name="Rules and destinations").click()
    page.fill(f"#id_{field}", str(value))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Saved.")


def an_alert_reaches_every_bell_and_is_acknowledged(page: Page, second_page: Page, stack: Stack) -> None:
    # One member is "nearly full": the first caller into a conference fires it, on the event.
    admin_sets_a_threshold(page, stack, "conference-nearly-full-threshold", 1)
    page.goto(stack.url + "/")
    wait_until_live(page)

    second_page.add_init_script(RECORD_NOTIFICATIONS)
    sign_in(second_page, stack, "agent")
    second_page.goto(stack.url + "/profile/")
    second_page.check("#id_alert_notifications")
    second_page.get_by_role("button", name="Save").click()
    second_page.goto(stack.url + "/")
    wait_until_live(second_page)
    for each in (page, second_page):
        each.evaluate("window.__noReload = true")
        expect(each.locator("#alert-count")).to_have_text("0")

    call = stack.sandbox.offer_inbound(from_number="+15551230077", to_number="+19195550100", hold_seconds=600)
    alert = second_page.locator("#alert-list .alert-item", has_text="sales-floor")
    expect(alert).to_contain_text("has 1 of Bandwidth's 20 members", timeout=20_000)
    expect(page.locator("#alert-list .alert-item", has_text="sales-floor")).to_contain_text("has 1 of Bandwidth's 20 members")
    expect(second_page.locator("#alert-count")).to_have_text("1")
    assert alert.locator("a").get_attribute("href").startswith("/conferences/")
    notifications = second_page.evaluate("window.__notifications")
    assert [note["title"] for note in notifications] == ["Switchboard alert"]
    assert "sales-floor" in notifications[0]["body"]
    assert page.evaluate("window.__notifications || []") == []  # the admin did not opt in

    second_page.locator("#alert-bell summary").click()
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_contain_text("seen by agent")
    expect(page.locator("#alert-list .alert-item", has_text="sales-floor")).to_contain_text("seen by agent")
    for each in (page, second_page):
        expect(each.locator("#alert-count")).to_have_text("0")
        assert each.evaluate("window.__noReload") is True

    # The call is hung up (as another client of the account would): the conference ends, and
    # the alert clears from every bell.
    hang_up = f"{stack.sandbox.api_url}/accounts/9900000/calls/{call['callId']}"
    requests.post(hang_up, json={"state": "completed"}, auth=stack.sandbox.auth, timeout=5).raise_for_status()
    for each in (page, second_page):
        expect(each.locator("#alert-list .alert-item")).to_have_count(0, timeout=20_000)
        assert each.evaluate("window.__noReload") is True


def test_an_alert_reaches_every_bell_and_an_operator_acknowledges_it(page, second_page, tmp_path, monkeypatch):
    monkeypatch.setenv("ALERT_INTERVAL", "1")
    with running_stack(tmp_path) as stack:
        an_alert_reaches_every_bell_and_is_acknowledged(page, second_page, stack)
