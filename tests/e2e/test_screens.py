"""The operator's screens (issue 13). On a desk, the live board read at a glance: twenty calls
and more on a 1440×900 screen, the conferences beside them, columns that keep their widths, a
row's action on the row looked at and reachable by keyboard, long and stuck calls as a colour
ramp with the reason, and "heard" flagged when nothing has confirmed a call for too long. On
a phone (390×844) and a tablet (768×1024), every page as wide as the screen, its header
within it, and each page's main action on screen."""

import os
import re
from unittest import mock

import pytest
from playwright.sync_api import Error as PlaywrightError, expect

from tests.e2e.flows import sign_in
from tests.support.sandbox import wait_until
from tests.support.stack import running_stack
from voice.demo import SALES_FLOOR_NUMBER, UNROUTED_NUMBER

pytestmark = pytest.mark.e2e
# Generous: a call's row may take seconds to come while the machine is busy.
expect.set_options(timeout=15_000)

LONG_AFTER, STUCK_AFTER = 8, 16
# Reconciliation re-reads a call quiet for 2 s every 3 s: a live call unheard of for 5 s is flagged.
QUIET_AFTER, INTERVAL = 2, 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings = {
        "LONG_CALL_AFTER": str(LONG_AFTER),
        "STUCK_CALL_AFTER": str(STUCK_AFTER),
        "RECONCILE_QUIET_AFTER": str(QUIET_AFTER),
        "RECONCILE_INTERVAL": str(INTERVAL),
    }
    with mock.patch.dict(os.environ, settings):
        with running_stack(tmp_path_factory.mktemp("glance")) as stack:
            yield stack


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def column_widths(page) -> list[float]:
    return page.evaluate("() => [...document.querySelectorAll('#calls thead th')].map(th => th.getBoundingClientRect().width)")


def test_a_desk_sees_twenty_calls_the_conferences_beside_them_and_columns_that_keep_their_widths(stack, desk):
    sign_in(desk, stack, "agent")
    widths = column_widths(desk)
    for n in range(22):
        stack.sandbox.offer_inbound(from_number=f"+1415555{n:04d}", to_number=SALES_FLOOR_NUMBER if n % 2 else UNROUTED_NUMBER)
    expect(desk.locator("#call-rows tr.call-row")).to_have_count(22, timeout=30_000)
    expect(desk.locator("#conference-rows tr.conference-row")).to_have_count(1)

    visible = desk.evaluate(
        "() => [...document.querySelectorAll('#call-rows tr.call-row')].filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert visible >= 20, visible
    # The conferences sit beside the calls, not below them.
    calls, conferences = desk.locator("#calls").bounding_box(), desk.locator("#conferences").bounding_box()
    assert conferences["x"] >= calls["x"] + calls["width"] and conferences["y"] < calls["y"] + 200
    # Content came and changed (durations ticking, conferences named): no column moved.
    assert column_widths(desk) == widths
    assert desk.evaluate("document.documentElement.scrollWidth") == 1440


def test_a_rows_hang_up_shows_on_the_row_looked_at_and_is_reachable_by_keyboard(stack, desk):
    sign_in(desk, stack, "agent")
    first = stack.sandbox.offer_inbound(from_number="+14155550901", to_number=UNROUTED_NUMBER)["callId"]
    second = stack.sandbox.offer_inbound(from_number="+14155550902", to_number=UNROUTED_NUMBER)["callId"]
    button = desk.locator(f"#call-{first}").get_by_role("button", name="Hang up")
    other = desk.locator(f"#call-{second}").get_by_role("button", name="Hang up")
    expect(button).to_have_css("opacity", "0")
    desk.locator(f"#call-{first}").hover()
    expect(button).to_have_css("opacity", "1")
    expect(other).to_have_css("opacity", "0")
    # Not a red button on every row: the hang-up turns red only when pointed at.
    assert desk.evaluate("b => getComputedStyle(b).color", other.element_handle()) != "rgb(192, 38, 45)"

    desk.mouse.move(0, 0)
    # j/k select a row: its button shows, and h asks to hang it up.
    desk.locator("body").click(position={"x": 5, "y": 880})
    for _ in range(30):
        desk.keyboard.press("j")
        if desk.evaluate("id => document.getElementById(id).classList.contains('selected')", f"call-{second}"):
            break
    expect(other).to_have_css("opacity", "1")
    desk.keyboard.press("h")
    expect(desk.locator("#confirm-dialog")).to_contain_text("Hang up the call from (415) 555-0902")
    desk.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    # Tab reaches a hidden button, and the focus shows it.
    button.focus()
    expect(button).to_have_css("opacity", "1")


def test_long_and_stuck_calls_stand_out_as_a_ramp_with_the_reason(stack, desk):
    sign_in(desk, stack, "agent")
    call_id = stack.sandbox.offer_inbound(from_number="+14155550903", to_number=UNROUTED_NUMBER)["callId"]
    row = desk.locator(f"#call-{call_id}")
    expect(row).to_be_visible()
    expect(row.locator(".flag-long")).to_have_text(f"long >{LONG_AFTER} s", timeout=(LONG_AFTER + 5) * 1000)
    expect(row.locator(".flag-long")).to_be_visible()
    long_colour = row.evaluate("r => getComputedStyle(r).backgroundColor")
    expect(row.locator(".flag-stuck")).to_be_visible(timeout=(STUCK_AFTER + 5) * 1000)
    expect(row.locator(".flag-stuck")).to_have_attribute("title", f"Stuck: up longer than {STUCK_AFTER} s; forgotten on hold, or a far end that never hung up")
    expect(row.locator(".flag-long")).to_be_hidden()
    stuck_colour = row.evaluate("r => getComputedStyle(r).backgroundColor")
    new = desk.locator("#call-" + stack.sandbox.offer_inbound(from_number="+14155550905", to_number=UNROUTED_NUMBER)["callId"])
    expect(new).to_have_class(re.compile(r"\bcall-row\b"))
    assert "is-long" not in new.get_attribute("class")
    fresh = new.evaluate("r => getComputedStyle(r).backgroundColor")
    assert len({fresh, long_colour, stuck_colour}) == 3, (fresh, long_colour, stuck_colour)


def test_heard_is_the_time_since_switchboard_last_heard_of_a_call_and_is_flagged_when_too_long(stack, desk):
    sign_in(desk, stack, "agent")
    call_id = stack.sandbox.offer_inbound(from_number="+14155550904", to_number=UNROUTED_NUMBER)["callId"]
    heard = desk.locator(f"#call-{call_id} .heard")
    expect(heard).to_be_visible()
    # Nothing comes by webhook for a call on hold, but reconciliation reads it from Bandwidth
    # every few seconds: the age starts again from zero, and nothing is flagged.
    # The age is seen to go down again (a reset), whatever it reached before: reconciliation
    # may read the call every two seconds, and the age then never shows four values.
    readings: list[str] = []

    def reset_seen() -> bool:
        text = heard.inner_text()
        if not readings or readings[-1] != text:
            readings.append(text)
        went_down = any(later < earlier for earlier, later in zip(readings, readings[1:]))
        return went_down and any(text in readings for text in ("0:00", "0:01"))

    deadline = 4 * (QUIET_AFTER + INTERVAL)
    wait_until(reset_seen, timeout=deadline, message="the call's age reset by a read from Bandwidth")
    desk.wait_for_timeout((QUIET_AFTER + INTERVAL + 2) * 1000)
    expect(heard).not_to_have_class("heard is-warning")

    # Bandwidth stops answering: nothing confirms the call any more, and the board says so.
    stack.sandbox.set_faults(errorRate5xx=1.0)
    try:
        expect(heard).to_have_class("heard is-warning", timeout=(QUIET_AFTER + INTERVAL) * 4000)
        expect(heard.locator(".flag-unheard")).to_be_visible()
        assert "neither a webhook nor a read from Bandwidth" in heard.get_attribute("title")
    finally:
        stack.sandbox.set_faults(errorRate5xx=0.0)
    expect(heard).not_to_have_class("heard is-warning", timeout=(QUIET_AFTER + INTERVAL) * 4000)


PAGES = {
    # role: the pages it opens, and on each the main action that must be on screen.
    "agent": [("/", "#call-rows tr.call-row button:has-text('Hang up')"), ("/profile/", "button:has-text('Save')")],
    "supervisor": [("/", None), ("{conference}", "#member-rows button:has-text('Mute')"), ("{call}", None), ("/history/", None)],
    "admin": [("/recordings/", None), ("/audit/", None), ("/directory/", "button:has-text('Add')")],
}


def placed(page, selector: str) -> tuple[float, float, str] | None:
    """Where the first element `selector` finds is across the screen once scrolled to, and
    its opacity; None when a push replaced it meanwhile (the caller tries again)."""
    try:
        return page.locator(selector).first.evaluate(
            "b => { b.scrollIntoView({block: 'center'}); const r = b.getBoundingClientRect(); return [r.left, r.right, getComputedStyle(b).opacity]; }"
        )
    except PlaywrightError:
        return None


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 768, "height": 1024}], ids=["phone", "tablet"])
def test_every_page_fits_a_phone_and_a_tablet_with_its_main_action_on_screen(stack, browser, viewport):
    call_id = stack.sandbox.offer_inbound(from_number="+14155550906", to_number=SALES_FLOOR_NUMBER)["callId"]
    context = browser.new_context(viewport=viewport, has_touch=True, is_mobile=True, device_scale_factor=2)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, stack, "supervisor")
        link = page.locator(f"#call-{call_id} td.conference a.requires-conference-control")
        conference = link.get_attribute("href")
        urls = {"conference": conference, "call": f"/calls/{call_id}"}
        for role, pages in PAGES.items():
            # Off the last page first: signed out under it, its scripts would ask whether the
            # session still holds and reload it, aborting the sign-in's navigation.
            page.goto("about:blank")
            context.clear_cookies()
            sign_in(page, stack, role)
            for path, action in pages:
                page.goto(stack.url + path.format(**urls))
                page.wait_for_load_state("networkidle")
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width == viewport["width"], (role, path, width)
                header = page.locator("header.topbar").bounding_box()
                assert header["x"] >= 0 and header["x"] + header["width"] <= viewport["width"], (role, path, header)
                if action:
                    expect(page.locator(action).first).to_be_visible()
                    left, right, opacity = wait_until(lambda: placed(page, action), timeout=15)
                    assert 0 <= left and right <= viewport["width"], (role, path, left, right)
                    assert opacity == "1", (role, path)
    finally:
        context.close()
