"""What an action leaves on screen is what is true after it (issue 13, problem 6): a
deleted recording offers no Download and says it was deleted once; "Dialling…" goes once
the call answered; a completed conference offers no "Add a participant"."""

import pytest
from playwright.sync_api import expect

from console.phone_numbers import display

from tests.e2e.conference_flows import callers, open_conference, sandbox_conference
from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from voice.demo import SUPPORT_BRIDGE_NUMBER

pytestmark = pytest.mark.e2e

VOICEMAIL = "+19195550150"


def test_a_deleted_recording_offers_no_download_and_says_it_was_deleted_once(screens_stack, page):
    stack = screens_stack
    call_id = stack.sandbox.offer_inbound(from_number="+15550026001", to_number=VOICEMAIL, utterance="Call me back.")["callId"]
    recording = wait_until(
        lambda: next((r for r in stack.sandbox.recordings() if r.get("callId") == call_id), None),
        timeout=40, interval=0.5, message="the voicemail recorded",
    )
    wait_until(
        lambda: any(h["eventType"] == "recordingAvailable" and h["status"] == 204 and h["payload"].get("callId") == call_id
                    for h in stack.sandbox.webhooks()),
        timeout=40, interval=0.5,
    )
    sign_in(page, stack, "admin")
    page.goto(f"{stack.url}/recordings/{recording['recordingId']}/")
    wait_until_live(page)
    expect(page.get_by_role("link", name="Download")).to_be_visible()

    page.get_by_role("button", name="Delete…").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    state = page.locator(".recording-state")
    expect(state.locator(".notice")).to_contain_text("purges the media", timeout=15_000)

    expect(page.get_by_role("link", name="Download")).to_be_hidden()
    expect(state.locator(".chip", has_text="deleted")).to_have_count(1)
    assert "deleted deleted" not in " ".join(state.inner_text().split())
    main = page.locator("main").inner_text()
    assert main.count("purges the media") == 1, main
    assert main.count("Deleted") == 1 + main.count("Deleted with the recording"), main


def test_dialling_goes_once_the_call_answered_and_a_completed_conference_offers_no_dial_out(screens_stack, page):
    stack = screens_stack
    (first,) = callers(stack, SUPPORT_BRIDGE_NUMBER, 1, first=26101)
    conference_id = sandbox_conference(stack, first)["id"]
    stack.sandbox.script_callee("+15557726102", "answer", ringSeconds=1)
    sign_in(page, stack, "supervisor")
    open_conference(page, stack, conference_id)

    page.fill("#dial-out-number", "+15557726102")
    page.get_by_role("button", name="Dial").click()
    activity = page.locator("#conference-summary .activity")
    expect(activity).to_contain_text(f"Dial-out to {display('+15557726102')}")
    expect(activity).to_contain_text("answered", timeout=15_000)
    expect(page.locator("main")).not_to_contain_text("Dialling")

    page.get_by_role("button", name="End conference").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator("#conference-summary .chip").first).to_have_text("completed", timeout=15_000)
    expect(page.get_by_label("Add a participant")).to_be_hidden()
    expect(page.get_by_role("button", name="Dial")).to_be_hidden()
    expect(page.get_by_role("button", name="Listen in")).to_be_hidden()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_label("Add a participant")).to_have_count(0)
    expect(page.get_by_role("button", name="Dial")).to_have_count(0)
