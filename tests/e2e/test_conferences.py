"""Conferences in the browser: the board's conference list and a conference's page follow
members joining and leaving live, without a reload."""

import pytest
from playwright.sync_api import expect

from console.phone_numbers import display
from tests.e2e.flows import sign_in
from tests.support.stack import running_stack
from voice import bandwidth

pytestmark = pytest.mark.e2e

SUPPORT_BRIDGE = "+19195550101"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("conferences")) as stack:
        yield stack


def test_a_conference_and_its_members_come_and_go_live(stack, page):
    sign_in(page, stack, "supervisor")
    page.evaluate("window.__noReload = true")
    first = stack.sandbox.offer_inbound(from_number="+15550002001", to_number=SUPPORT_BRIDGE)["callId"]
    row = page.locator("#conference-rows tr.conference-row", has_text="support-bridge")
    expect(row.locator(".members")).to_have_text("1/20")
    # The demo's support-bridge route records the conference from its creation.
    expect(row).to_contain_text("recording")
    second = stack.sandbox.offer_inbound(from_number="+15550002002", to_number=SUPPORT_BRIDGE)["callId"]
    expect(row.locator(".members")).to_have_text("2/20")
    assert page.evaluate("window.__noReload") is True

    row.get_by_role("link", name="support-bridge").click()
    expect(page.locator(f"#member-{first}")).to_contain_text(display("+15550002001"))
    expect(page.locator(f"#member-{second}")).to_be_visible()
    page.evaluate("window.__noReload = true")

    third = stack.sandbox.offer_inbound(from_number="+15550002003", to_number=SUPPORT_BRIDGE)["callId"]
    expect(page.locator(f"#member-{third}")).to_contain_text(display("+15550002003"))
    expect(page.locator("#conference-summary .members")).to_have_text("3/20 members")

    client = bandwidth.BandwidthClient(
        api_url=stack.sandbox.api_url, account_id="9900000", username=stack.sandbox.auth[0], password=stack.sandbox.auth[1]
    )
    client.hang_up(second)
    expect(page.locator(f"#member-{second}")).to_have_count(0, timeout=15_000)
    expect(page.locator("#conference-summary .members")).to_have_text("2/20 members")
    assert page.evaluate("window.__noReload") is True
