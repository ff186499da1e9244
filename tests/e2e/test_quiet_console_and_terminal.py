"""No noise (issue 13, problem 11): no htmx:oobErrorNoTarget in the browser's console on
the board and a call's page as calls arrive and leave; in the terminal, a 403 is one line
without a traceback, logged once."""

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from voice.demo import UNROUTED_NUMBER

pytestmark = pytest.mark.e2e


def test_calls_arriving_and_leaving_log_no_error_on_the_board_nor_a_calls_page(screens_stack, page):
    stack = screens_stack
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, stack, "agent")

    # The number filter shows some of the calls: the others' frames reach this page too.
    page.get_by_role("searchbox", name="Number or name").fill("5550028")
    expect(page.locator("#call-count")).to_contain_text("match")
    wait_until_live(page)
    shown = [stack.sandbox.offer_inbound(from_number=f"+155500280{n}", to_number=UNROUTED_NUMBER)["callId"] for n in range(3)]
    for n in range(3):
        stack.sandbox.offer_inbound(from_number=f"+155500290{n}", to_number=UNROUTED_NUMBER)
    for call_id in shown:
        expect(page.locator(f"#call-{call_id}")).to_be_visible(timeout=15_000)
    page.locator(f"#call-{shown[0]}").get_by_role("button", name="Hang up").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator(f"#call-{shown[0]}")).to_have_count(0, timeout=15_000)

    page.goto(f"{stack.url}/calls/{shown[1]}")
    wait_until_live(page)
    for n in range(2):
        stack.sandbox.offer_inbound(from_number=f"+155500300{n}", to_number=UNROUTED_NUMBER)
    page.get_by_role("button", name="Hang up").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator("#call-live .chip").first).not_to_have_text("answered", timeout=15_000)
    page.wait_for_timeout(1000)

    assert [text for text in errors if "oobErrorNoTarget" in text] == []
    assert errors == []


def test_a_403_is_one_line_in_the_terminal_without_a_traceback(screens_stack, page, expected_browser_errors):
    expected_browser_errors.allow(403)
    sign_in(page, screens_stack, "agent")
    assert page.goto(screens_stack.url + "/audit/audit.csv").status == 403
    log = screens_stack.logs / "console.log"
    said = "Forbidden (Permission denied): /audit/audit.csv"
    wait_until(lambda: said in log.read_text())
    page.wait_for_timeout(500)
    lines = [line for line in log.read_text().splitlines() if said in line]
    assert len(lines) == 1, lines
    after = log.read_text().split(lines[0], 1)[1]
    assert "Traceback" not in after.split("\n20", 1)[0], after[:2000]
