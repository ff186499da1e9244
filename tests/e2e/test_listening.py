"""A supervisor listens in, whispers to one member, barges in, listens only again and leaves,
in the browser against the sandbox: each step pending then confirmed on the page, and on the
sandbox's side whom each member hears and the requests the console sent."""

import json

import pytest
from playwright.sync_api import expect

from console.phone_numbers import display
from tests.e2e.flows import sign_in
from tests.support.sandbox import wait_until
from tests.support.stack import running_stack
from voice.demo import SALES_FLOOR_NUMBER, SUPERVISOR_PHONE

pytestmark = pytest.mark.e2e

FIRST, SECOND = "+15550003001", "+15550003002"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("listening")) as stack:
        yield stack


def sandbox_members(stack, conference_id: str) -> dict[str, dict]:
    """The members present in the sandbox's conference, by callId."""
    conference = next(c for c in stack.sandbox.conferences() if c["id"] == conference_id)
    return {member["callId"]: member for member in conference["members"] if member["leftTime"] is None}


def who_hears(stack, conference_id: str, leg: str) -> set[str]:
    """The members who hear the listening leg."""
    return {call_id for call_id, member in sandbox_members(stack, conference_id).items() if leg in member["hears"]}


def test_listen_whisper_barge_listen_only_and_leave(stack, page):
    first = stack.sandbox.offer_inbound(from_number=FIRST, to_number=SALES_FLOOR_NUMBER)["callId"]
    second = stack.sandbox.offer_inbound(from_number=SECOND, to_number=SALES_FLOOR_NUMBER)["callId"]
    wait_until(lambda: any(len(sandbox_members(stack, c["id"])) == 2 for c in stack.sandbox.conferences()))
    conference_id = next(c["id"] for c in stack.sandbox.conferences() if c["completedTime"] is None)

    sign_in(page, stack, "supervisor")
    page.goto(f"{stack.url}/conferences/{conference_id}/")
    expect(page.locator(f"#member-{second}")).to_be_visible()
    page.evaluate("window.__noReload = true")

    # Listen in: the demo supervisor's phone rings and answers; it joins muted, unannounced.
    page.get_by_role("button", name="Listen in").click()
    expect(page.locator("#listen-in")).to_contain_text(f"Ringing your phone, {display(SUPERVISOR_PHONE)}")
    mine = page.locator(".listener.mine")
    expect(mine).to_contain_text("supervisor listening", timeout=20_000)
    expect(page.get_by_role("button", name="Listen in")).to_be_hidden()
    leg = next(json.loads(r["body"]) for r in stack.sandbox.requests() if r["method"] == "POST" and r["path"].endswith("/calls"))
    assert leg["to"] == SUPERVISOR_PHONE and leg["tag"].startswith("monitor:")
    leg_id = next(c["callId"] for c in stack.sandbox.calls() if c["to"] == SUPERVISOR_PHONE)
    expect(page.locator(f"#member-{leg_id}")).to_contain_text("supervisor · listening")
    expect(page.locator("#conference-summary .members")).to_have_text("3/20 members")
    members = sandbox_members(stack, conference_id)
    assert members[leg_id]["mute"] is True
    assert set(members[leg_id]["hears"]) == {first, second}
    assert who_hears(stack, conference_id, leg_id) == set()

    # Whisper to the first caller: they alone hear the supervisor.
    mine.get_by_role("button", name="Whisper…").click()
    dialog = page.locator("#coach-dialog")
    dialog.get_by_label(display(FIRST)).check()
    dialog.get_by_role("button", name="Whisper to the ticked members").click()
    expect(dialog).to_be_hidden()
    expect(mine).to_contain_text(f"whispering to {display(FIRST)}")
    wait_until(lambda: who_hears(stack, conference_id, leg_id) == {first})

    # Barge in, after the confirmation: everyone hears the supervisor.
    mine.get_by_role("button", name="Barge in").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(mine).to_contain_text("barged in")
    wait_until(lambda: who_hears(stack, conference_id, leg_id) == {first, second})

    # Listen only again: no one hears the supervisor, who still hears everyone.
    mine.get_by_role("button", name="Listen only").click()
    expect(mine).to_contain_text("supervisor listening")
    wait_until(lambda: who_hears(stack, conference_id, leg_id) == set())
    assert set(sandbox_members(stack, conference_id)[leg_id]["hears"]) == {first, second}

    # Leave: the leg is hung up and the page forgets it; the callers stay.
    mine.get_by_role("button", name="Stop listening").click()
    expect(page.locator(".listener")).to_have_count(0, timeout=15_000)
    expect(page.locator(f"#member-{leg_id}")).to_have_count(0)
    expect(page.get_by_role("button", name="Listen in")).to_be_visible()
    wait_until(lambda: stack.sandbox.call(leg_id)["state"] == "completed")
    assert set(sandbox_members(stack, conference_id)) == {first, second}
    assert page.evaluate("window.__noReload") is True

    # Sent once each: one createCall, three member updates, one hang-up.
    requests = [(r["method"], r["path"]) for r in stack.sandbox.requests()]
    assert len([path for method, path in requests if method == "POST" and path.endswith("/calls")]) == 1
    assert len([path for method, path in requests if method == "PUT" and path.endswith(f"/members/{leg_id}")]) == 3
    assert len([path for method, path in requests if method == "POST" and path.endswith(f"/calls/{leg_id}")]) == 1
