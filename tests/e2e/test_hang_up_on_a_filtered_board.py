"""An agent who filtered the board (a number typed in) hangs up a call with the mouse and
with the `h` shortcut: the confirmation sends the request (issue 13, problem 1). A click
that comes right after the board re-read its rows counts too."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from voice.demo import UNROUTED_NUMBER

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(screens_stack):
    return screens_stack


def hangups_sent(stack, call_id: str) -> int:
    return sum(1 for r in stack.sandbox.requests() if r["method"] == "POST" and r["path"].endswith(call_id))


def a_call_shown_filtered(page, stack, number: str) -> str:
    """A call from `number`, then its last digits typed into the number box as a person
    types them: the board shows it alone."""
    call_id = stack.sandbox.offer_inbound(from_number=number, to_number=UNROUTED_NUMBER)["callId"]
    expect(page.locator(f"#call-{call_id}")).to_be_visible()
    search = page.get_by_role("searchbox", name="Number or name")
    search.click()
    search.press_sequentially(number[-6:], delay=30)
    expect(page.locator("#call-count")).to_have_text("1 call matches the filters")
    wait_until_live(page)
    return call_id


def test_hang_up_then_confirm_with_the_mouse_on_a_filtered_board(stack, page):
    sign_in(page, stack, "agent")
    call_id = a_call_shown_filtered(page, stack, "+15550013101")

    # The click takes the focus from the number box: its change must not replace the row
    # whose confirmation is open.
    page.locator(f"#call-{call_id}").get_by_role("button", name="Hang up").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()

    wait_until(lambda: hangups_sent(stack, call_id) == 1, timeout=15, message="the hang-up sent")
    expect(page.locator(f"#call-{call_id}")).to_have_count(0, timeout=15_000)


def test_hang_up_then_confirm_with_the_h_shortcut_on_a_filtered_board(stack, page):
    sign_in(page, stack, "agent")
    call_id = a_call_shown_filtered(page, stack, "+15550013102")

    # Leaves the number box as the shortcuts' help says, selects the row, hangs it up: at a
    # person's pace, nothing waited for in between.
    for key in ("Escape", "j", "h"):
        page.keyboard.press(key)
    expect(page.locator(f"#call-{call_id}")).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.keyboard.press("Enter")  # the focus is on Confirm

    wait_until(lambda: hangups_sent(stack, call_id) == 1, timeout=15, message="the hang-up sent")
    expect(page.locator(f"#call-{call_id}")).to_have_count(0, timeout=15_000)


def test_a_click_just_after_the_board_re_read_its_rows_is_not_lost(stack, page):
    sign_in(page, stack, "agent")
    call_id = stack.sandbox.offer_inbound(from_number="+15550013103", to_number=UNROUTED_NUMBER)["callId"]
    expect(page.locator(f"#call-{call_id}")).to_be_visible()

    # The rows are re-read (as after a filter or a reconnect), and the new row's Hang up is
    # clicked in the next task after the swap: htmx's default settle delay (20 ms) left
    # that button inert, and the click did nothing.
    page.evaluate(
        """id => new Promise(resolve => {
            const body = document.getElementById("call-rows");
            document.addEventListener("htmx:afterSwap", function once(event) {
                if (event.target !== body) return;
                document.removeEventListener("htmx:afterSwap", once);
                setTimeout(() => { document.querySelector(`#call-${id} [data-shortcut-hangup]`).click(); resolve(); }, 0);
            });
            htmx.trigger(body, "resync");
        })""",
        call_id,
    )
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    wait_until(lambda: hangups_sent(stack, call_id) == 1, timeout=15, message="the hang-up sent")
