"""Two operators on the live board: each sees the other's actions live; an action taken by
both at the same moment reaches Bandwidth once; a page that lost pushes resyncs."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in
from tests.support.sandbox import wait_until
from tests.support.stack import running_stack
from voice.demo import UNROUTED_NUMBER

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("board")) as stack:
        yield stack


def hangups_sent(stack, call_id: str) -> int:
    return sum(1 for r in stack.sandbox.requests() if r["method"] == "POST" and r["path"].endswith(call_id))


def watch_row(page, call_id: str) -> None:
    page.evaluate(
        """id => { window.__seen = [];
            new MutationObserver(() => { const r = document.getElementById(id); if (r) window.__seen.push(r.innerText); })
              .observe(document.getElementById('call-rows'), {subtree: true, childList: true, characterData: true}); }""",
        f"call-{call_id}",
    )


def test_an_operator_sees_another_operators_hangup_live(stack, page, second_page):
    sign_in(page, stack, "supervisor")
    sign_in(second_page, stack, "agent")
    call_id = stack.sandbox.offer_inbound(from_number="+15550001001")["callId"]
    for each in (page, second_page):
        expect(each.locator(f"#call-{call_id}")).to_be_visible()
    watch_row(second_page, call_id)

    page.locator(f"#call-{call_id}").get_by_role("button", name="Hang up").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()

    expect(second_page.locator(f"#call-{call_id}")).to_have_count(0, timeout=15_000)
    # Whose hang-up it was stays on the row as it ends, however fast it went: the pushes may
    # coalesce "Hanging up…" away, never the ended row.
    seen = [" ".join(text.split()) for text in second_page.evaluate("window.__seen")]
    assert any("Ended · hangup · hung up by supervisor at" in text for text in seen), seen
    assert hangups_sent(stack, call_id) == 1


def test_two_operators_hanging_up_at_the_same_moment_send_one_request(stack, page, second_page):
    sign_in(page, stack, "supervisor")
    sign_in(second_page, stack, "agent")
    call_id = stack.sandbox.offer_inbound(from_number="+15550001002")["callId"]
    for each in (page, second_page):
        each.locator(f"#call-{call_id}").get_by_role("button", name="Hang up").click()
        expect(each.locator("#confirm-dialog")).to_be_visible()

    # Both confirm at once: the two POSTs leave the browsers together.
    for each in (page, second_page):
        each.evaluate("() => { window.__go = () => document.querySelector('#confirm-dialog button[value=confirm]').click(); }")
    # Playwright's sync API drives one page at a time; the pages' own timers fire both
    # clicks at the same instant.
    at = page.evaluate("Date.now()") + 500
    for each in (page, second_page):
        each.evaluate(f"() => setTimeout(window.__go, {at} - Date.now())")

    for each in (page, second_page):
        expect(each.locator(f"#call-{call_id}")).to_have_count(0, timeout=15_000)
    wait_until(lambda: stack.sandbox.call(call_id)["state"] == "completed")
    assert hangups_sent(stack, call_id) == 1


def test_a_page_that_missed_pushes_resyncs_when_its_socket_reconnects(stack, page):
    sockets, dropping = [], {"on": False}

    def relay(ws):
        server = ws.connect_to_server()
        server.on_message(lambda message: None if dropping["on"] else ws.send(message))
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/ws/live/.*"), relay)
    sign_in(page, stack, "agent")
    seen = stack.sandbox.offer_inbound(from_number="+15550001003")["callId"]
    expect(page.locator(f"#call-{seen}")).to_be_visible()

    dropping["on"] = True
    missed = stack.sandbox.offer_inbound(from_number="+15550001004")["callId"]
    wait_until(lambda: any(w["payload"].get("callId") == missed for w in stack.sandbox.webhooks()))
    page.wait_for_timeout(1000)
    expect(page.locator(f"#call-{missed}")).to_have_count(0)  # its push was lost

    dropping["on"] = False
    sockets[-1].close(code=1012, reason="service restart")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    expect(page.locator(f"#call-{missed}")).to_be_visible(timeout=15_000)


def test_a_page_that_missed_a_frame_sees_the_gap_in_the_numbers_and_resyncs_without_reconnecting(stack, page):
    dropping = {"on": False}
    sockets = []

    def relay(ws):
        server = ws.connect_to_server()
        server.on_message(lambda message: None if dropping["on"] else ws.send(message))
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/ws/live/calls/.*"), relay)
    sign_in(page, stack, "agent")
    opened = len(sockets)
    dropping["on"] = True
    # A number no route has: the call is answered and holds, and nothing about it changes after.
    missed = stack.sandbox.offer_inbound(from_number="+15550001005", to_number=UNROUTED_NUMBER)["callId"]
    wait_until(lambda: any(w["payload"].get("callId") == missed for w in stack.sandbox.webhooks()))
    page.wait_for_timeout(1500)
    expect(page.locator(f"#call-{missed}")).to_have_count(0)  # its frames were lost

    dropping["on"] = False
    stack.sandbox.offer_inbound(from_number="+15550001006", to_number=UNROUTED_NUMBER)
    # The next frame's number is not the one expected: the page re-reads its rows.
    expect(page.locator(f"#call-{missed}")).to_be_visible(timeout=15_000)
    assert len(sockets) == opened  # on the same socket


def test_the_figures_follow_a_burst_of_changes_with_few_requests(stack, page):
    """Every frame asked for the board's figures (htmx's throttle was reset by each answer
    that replaced their element): a request per frame and browser. They are read at most
    once per ten seconds now, and after the last change."""
    sign_in(page, stack, "agent")
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/board/figures" in request.url else None)
    for n in range(6):  # one after the other: frames spread over a few seconds
        call_id = stack.sandbox.offer_inbound(from_number=f"+1555000120{n}", to_number=UNROUTED_NUMBER)["callId"]
        expect(page.locator(f"#call-{call_id} .chip")).to_have_text("answered", timeout=15_000)
    live = page.locator("#call-rows tr.call-row:not(.leaving)")
    # The figures come to agree with the rows, within one period.
    expect(page.locator('[data-figure="active-calls"]')).to_have_text(str(live.count()), timeout=15_000)
    assert 1 <= len(asked) <= 2, asked
