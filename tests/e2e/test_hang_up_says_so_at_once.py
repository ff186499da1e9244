"""Hang up says "Hanging up…" the moment its request leaves, whatever the answer's delay;
a request that gets no answer puts the button back and says so."""

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.e2e.flows import sign_in
from tests.support.stack import running_stack

pytestmark = pytest.mark.e2e


def hang_up_a_new_call(page: Page, stack, number: str) -> Locator:
    """A new call's row, its Hang up clicked and confirmed: the row as it says so."""
    call = stack.sandbox.offer_inbound(from_number=number, to_number="+19195550100")
    row = page.locator(f"#call-{call['callId']}")
    expect(row.locator(".chip")).to_have_text("answered")
    row.get_by_role("button", name="Hang up").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(row.get_by_role("status")).to_have_text("Hanging up…")
    return row


def test_hang_up_shows_pending_before_the_answer_and_a_lost_request_is_said(page, tmp_path, expected_browser_errors):
    # htmx reports the request that got no answer in the console, as it should.
    expected_browser_errors.allow_console(r"htmx:(afterRequest|sendError)|ERR_FAILED")
    expected_browser_errors.allow_failure(r"/hangup$")
    with running_stack(tmp_path) as stack:
        sign_in(page, stack, "agent")
        held: list[Route] = []
        page.route("**/hangup", lambda route: held.append(route))

        # The request is held in the browser: nothing has reached the console yet.
        row = hang_up_a_new_call(page, stack, "+15551230001")
        expect(row.get_by_role("button", name="Hang up")).to_be_hidden()
        assert len(held) == 1
        held.pop().continue_()
        expect(row).to_contain_text("hung up by agent")

        # No answer at all: the button comes back, and the page says why nothing happened.
        row = hang_up_a_new_call(page, stack, "+15551230002")
        held.pop().abort()
        expect(page.locator("#flash")).to_contain_text("No answer from the console")
        expect(row.get_by_role("button", name="Hang up")).to_be_visible()
        expect(row.get_by_role("status")).to_have_count(0)
        expect(row.locator(".chip")).to_have_text("answered")
