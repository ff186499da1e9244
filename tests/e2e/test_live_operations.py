"""The live operations stories in a real browser, against a whole running stack and the
sandbox: a supervisor runs conferences, an agent ends a stuck call and is refused
conference control, two operators see each other's actions live; and what reaches
Bandwidth (the sandbox's request log) when operators click twice or at the same moment."""

from __future__ import annotations

import os
import re
import threading
import time
from unittest import mock

import pytest
import requests
from playwright.sync_api import Page, expect

from console.phone_numbers import display
from tests.e2e.conference_flows import callers, sandbox_conference
from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from tests.support.stack import Stack, running_stack
from voice.demo import EXEC_BRIEFING_NUMBER, SALES_FLOOR_NUMBER, SUPPORT_BRIDGE_NUMBER, UNROUTED_NUMBER

pytestmark = pytest.mark.e2e

# Small, so that a call becomes stuck while the test waits.
STUCK_AFTER = 4


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with mock.patch.dict(os.environ, {"STUCK_CALL_AFTER": str(STUCK_AFTER), "LONG_CALL_AFTER": "2"}):
        with running_stack(tmp_path_factory.mktemp("operations")) as stack:
            yield stack


# The sandbox's side


def sandbox_member(stack: Stack, conference_id: str, call_id: str) -> dict:
    conference = next(c for c in stack.sandbox.conferences() if c["id"] == conference_id)
    return next(m for m in conference["members"] if m["callId"] == call_id)


def requests_to(stack: Stack, method: str, path_end: str, since: int = 0) -> list[dict]:
    return [r for r in stack.sandbox.requests()[since:] if r["method"] == method and r["path"].endswith(path_end)]


def open_conference(page: Page, stack: Stack, conference_id: str) -> None:
    page.goto(f"{stack.url}/conferences/{conference_id}/")
    wait_until_live(page)


def record_texts(page: Page, selector: str) -> None:
    """Keep every text `selector` shows from now on, so that a state lasting milliseconds
    (pending) is seen too: window.__seen."""
    page.evaluate(
        """selector => { window.__seen = [];
            const note = () => document.querySelectorAll(selector).forEach(el => window.__seen.push(el.innerText));
            new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true}); }""",
        selector,
    )


# A supervisor runs conferences


def test_a_supervisor_mutes_and_unmutes_a_member_and_the_sandbox_agrees(stack, page):
    member, _ = callers(stack, SUPPORT_BRIDGE_NUMBER, 2, first=1001)
    conference_id = sandbox_conference(stack, member)["id"]
    sign_in(page, stack, "supervisor")
    open_conference(page, stack, conference_id)
    row = page.locator(f"#member-{member}")
    expect(row).to_contain_text(display("+15550001001"))
    record_texts(page, f"#member-{member}")

    started = time.perf_counter()
    row.get_by_role("button", name="Mute", exact=True).click()
    # Confirmed: the member reads muted and the action is done (the button offers to unmute).
    expect(row.get_by_role("button", name="Unmute", exact=True)).to_be_visible()
    expect(row.locator(".chip-muted")).to_be_visible()
    confirmed_in = time.perf_counter() - started
    print(f"mute: click to confirmed in the browser in {confirmed_in * 1000:.0f} ms")
    assert confirmed_in < 2.0
    assert any("Muting…" in text for text in page.evaluate("window.__seen"))
    assert sandbox_member(stack, conference_id, member)["mute"] is True

    # Unmute from the keyboard: select the member's row (j), then m.
    for _ in range(25):
        page.keyboard.press("j")
        if page.locator("tr.selected").get_attribute("id") == f"member-{member}":
            break
    page.keyboard.press("m")
    expect(row.get_by_role("button", name="Mute", exact=True)).to_be_visible()
    expect(row.locator(".chip-muted")).to_have_count(0)
    assert sandbox_member(stack, conference_id, member)["mute"] is False
    # One update each, each read back once.
    assert len(requests_to(stack, "PUT", f"/members/{member}")) == 2
    assert len(requests_to(stack, "GET", f"/members/{member}")) == 2


def test_mute_all_on_a_ten_member_conference_shows_progress_and_mutes_everyone(stack, page):
    members = callers(stack, SALES_FLOOR_NUMBER, 10, first=2001)
    conference_id = sandbox_conference(stack, members[-1])["id"]
    sign_in(page, stack, "supervisor")
    open_conference(page, stack, conference_id)
    expect(page.locator("#conference-summary .members")).to_have_text("10/20 members")
    record_texts(page, ".batch-progress")

    page.get_by_role("button", name="Mute all", exact=True).click()
    expect(page.locator(".batch-progress")).to_have_text("10/10 muted", timeout=15_000)
    progress = [int(match[1]) for text in page.evaluate("window.__seen") if (match := re.match(r"(\d+)/10 muted", text))]
    assert progress[0] < 10, progress
    assert progress == sorted(progress)
    for member in members:
        expect(page.locator(f"#member-{member} .chip-muted")).to_be_visible()
    conference = next(c for c in stack.sandbox.conferences() if c["id"] == conference_id)
    assert all(m["mute"] for m in conference["members"] if m["leftTime"] is None)
    assert sum(len(requests_to(stack, "PUT", f"/members/{member}")) for member in members) == 10


def test_a_supervisor_dials_a_participant_in_coaches_records_and_removes(stack, page):
    first, second = callers(stack, SUPPORT_BRIDGE_NUMBER, 2, first=3001)
    conference_id = sandbox_conference(stack, second)["id"]
    stack.sandbox.script_callee("+15557770001", "answer", ringSeconds=1)
    sign_in(page, stack, "supervisor")
    open_conference(page, stack, conference_id)

    # Dial a participant in: answered, they join this conference.
    page.fill("#dial-out-number", "+1 555 777 0001")
    page.get_by_role("button", name="Dial").click()
    expect(page.locator("#conference-summary .activity")).to_contain_text(f"Dial-out to {display('+15557770001')}")
    dialled = page.locator("#member-rows tr.member-row", has_text=display("+15557770001"))
    expect(dialled).to_be_visible(timeout=15_000)
    expect(page.locator("#conference-summary .activity")).to_contain_text("answered")
    (created,) = requests_to(stack, "POST", "/calls")[-1:]
    assert created["status"] == 201

    # The first caller coaches the second.
    page.locator(f"#member-{first}").get_by_role("button", name="Coach…").click()
    dialog = page.locator("#coach-dialog")
    dialog.get_by_label(display("+15550003002")).check()
    dialog.get_by_role("button", name="Coach the ticked members").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#member-{first} .chip-coach")).to_have_text(f"coach of {display('+15550003002')}")
    assert sandbox_member(stack, conference_id, first)["callIdsToCoach"] == [second]

    # The support bridge records from its creation: stop, then start again.
    page.get_by_role("button", name="Stop recording").click()
    expect(page.get_by_role("button", name="Start recording")).to_be_visible()
    wait_until(lambda: next(c for c in stack.sandbox.conferences() if c["id"] == conference_id)["recordingIds"])
    page.get_by_role("button", name="Start recording").click()
    expect(page.locator("#conference-summary .chip-recording")).to_be_visible()

    # Remove the second caller: confirmed first, then they hear goodbye and are hung up.
    page.locator(f"#member-{second}").get_by_role("button", name="Remove").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text(f"Remove {display('+15550003002')} from the conference?")
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.locator(f"#member-{second}")).to_have_count(0, timeout=15_000)
    wait_until(lambda: stack.sandbox.call(second)["state"] == "completed", timeout=15)
    # Taken out for good: it did not join again.
    assert sandbox_member(stack, conference_id, second)["leftTime"] is not None


def test_a_supervisor_redirects_a_call_to_another_route(stack, page):
    call_id = stack.sandbox.offer_inbound(from_number="+15550004001", to_number=UNROUTED_NUMBER)["callId"]
    sign_in(page, stack, "supervisor")
    page.locator(f"#call-{call_id}").get_by_role("link").first.click()
    page.get_by_label("Redirect to the route").select_option(label="Office hours announcement · speak, then hang up")
    page.get_by_role("button", name="Redirect").click()
    # The announcement speaks, then hangs up.
    expect(page.locator("#call-live .chip")).to_have_text("ended", timeout=20_000)
    expect(page.locator(".timeline")).to_contain_text("Redirected to the route Office hours announcement.")
    redirect = wait_until(
        lambda: next((w for w in stack.sandbox.webhooks() if w["eventType"] == "redirect" and w["payload"]["callId"] == call_id), None)
    )
    assert redirect["status"] == 200


# An agent


def test_an_agent_hangs_up_a_stuck_call(stack, page):
    call_id = stack.sandbox.offer_inbound(from_number="+15550005001", to_number=UNROUTED_NUMBER)["callId"]
    sign_in(page, stack, "agent")
    row = page.locator(f"#call-{call_id}")
    expect(row).to_have_class(re.compile(r"\bis-stuck\b"), timeout=(STUCK_AFTER + 5) * 1000)
    expect(row.locator(".flag-stuck")).to_be_visible()
    page.get_by_label("Stuck only").check()
    expect(page).to_have_url(re.compile(r"stuck=on"))
    row.get_by_role("button", name="Hang up").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(row).to_have_count(0, timeout=15_000)
    # The worker's request may reach the sandbox a moment after the row has gone.
    wait_until(lambda: stack.sandbox.call(call_id)["state"] == "completed", timeout=15)
    assert len(requests_to(stack, "POST", f"/calls/{call_id}")) == 1


def test_an_agent_is_refused_conference_control(stack, page, expected_browser_errors):
    expected_browser_errors.allow(403)
    member = callers(stack, EXEC_BRIEFING_NUMBER, 1, first=6001)[0]
    conference_id = sandbox_conference(stack, member)["id"]
    sign_in(page, stack, "agent")
    row = page.locator(f"#conference-{conference_id}")
    expect(row).to_contain_text("exec-briefing")
    expect(row.get_by_role("link")).to_be_hidden()
    expect(page.locator(f"#call-{member} td.conference a")).to_be_hidden()

    assert page.goto(f"{stack.url}/conferences/{conference_id}/").status == 403
    before = len(stack.sandbox.requests())
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    base = f"{stack.url}/conferences/{conference_id}"
    refused = {
        f"{base}/members/{member}/mute": {"mute": "true"},
        f"{base}/members/{member}/hold": {"hold": "true"},
        f"{base}/members/{member}/coach": {"call_ids": member},
        f"{base}/members/{member}/remove": {},
        f"{base}/mute-all": {"mute": "true"},
        f"{base}/recording": {"record": "true"},
        f"{base}/end": {},
        f"{base}/dial-out": {"number": "+15557770002"},
        f"{stack.url}/calls/{member}/redirect": {"route": "1"},
    }
    for url, form in refused.items():
        response = page.request.post(url, form=form, headers={"X-CSRFToken": csrf, "HX-Request": "true"})
        assert response.status == 403, url
    page.wait_for_timeout(500)
    # Reconciliation may read (GET) meanwhile; nothing may change anything.
    assert [r for r in stack.sandbox.requests()[before:] if r["method"] != "GET"] == []


# Two operators


def test_two_supervisors_see_each_others_conference_actions_live(stack, page, second_page):
    member, other = callers(stack, EXEC_BRIEFING_NUMBER, 2, first=7001)
    conference_id = sandbox_conference(stack, other)["id"]
    sign_in(page, stack, "supervisor")
    sign_in(second_page, stack, "admin")
    for each in (page, second_page):
        open_conference(each, stack, conference_id)
        expect(each.locator(f"#member-{other}")).to_be_visible()
    second_page.evaluate("window.__noReload = true")
    record_texts(second_page, f"#member-{member}")

    page.locator(f"#member-{member}").get_by_role("button", name="Hold", exact=True).click()
    expect(second_page.locator(f"#member-{member} .chip-held")).to_be_visible()
    assert any("Holding…" in text for text in second_page.evaluate("window.__seen"))
    assert sandbox_member(stack, conference_id, member)["hold"] is True

    second_page.get_by_role("button", name="Start recording").click()
    expect(page.locator("#conference-summary .chip-recording")).to_be_visible()

    second_page.get_by_role("button", name="End conference").click()
    second_page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    for each in (page, second_page):
        expect(each.locator("#conference-summary .chip-completed")).to_be_visible(timeout=15_000)
        expect(each.locator(f"#member-{member}")).to_have_count(0, timeout=15_000)
    assert second_page.evaluate("window.__noReload") is True
    assert next(c for c in stack.sandbox.conferences() if c["id"] == conference_id)["completedTime"] is not None
    assert len(requests_to(stack, "POST", f"/conferences/{conference_id}")) == 2  # recording, then end


# Sent once: double submits and operators acting at the same moment


def signed_in_session(stack: Stack, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{stack.url}/login/", timeout=5)
    session.post(
        f"{stack.url}/login/",
        data={"username": username, "password": stack.passwords[username], "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=5,
    )
    session.headers.update({"X-CSRFToken": session.cookies["csrftoken"], "HX-Request": "true"})
    return session


def at_the_same_moment(*requests_to_send) -> list[int]:
    """Send each (session, url, form) from its own thread, released together."""
    barrier = threading.Barrier(len(requests_to_send))
    statuses = [0] * len(requests_to_send)

    def send(index: int, session: requests.Session, url: str, form: dict) -> None:
        barrier.wait()
        statuses[index] = session.post(url, data=form, timeout=10).status_code

    threads = [threading.Thread(target=send, args=(i, *each)) for i, each in enumerate(requests_to_send)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_double_submits_and_two_operators_at_once_reach_bandwidth_once(stack):
    members = callers(stack, SALES_FLOOR_NUMBER, 3, first=8001)
    conference_id = sandbox_conference(stack, members[-1])["id"]
    supervisor, admin = signed_in_session(stack, "supervisor"), signed_in_session(stack, "admin")
    base = f"{stack.url}/conferences/{conference_id}"

    # Two operators mute the same member at the same moment, one of them twice.
    mute = f"{base}/members/{members[0]}/mute"
    statuses = at_the_same_moment(
        (supervisor, mute, {"mute": "true"}), (admin, mute, {"mute": "true"}), (admin, mute, {"mute": "true"})
    )
    assert statuses == [200, 200, 200]
    wait_until(lambda: sandbox_member(stack, conference_id, members[0])["mute"] is True)

    # Both hold everyone at once, each member once.
    statuses = at_the_same_moment(
        *[(session, f"{base}/members/{m}/hold", {"hold": "true"}) for m in members for session in (supervisor, admin)]
    )
    assert set(statuses) == {200}
    wait_until(lambda: all(sandbox_member(stack, conference_id, m)["hold"] for m in members))

    # A double-clicked hang-up and a second operator's, at once.
    hang_up = f"{stack.url}/calls/{members[2]}/hangup"
    at_the_same_moment((supervisor, hang_up, {}), (supervisor, hang_up, {}), (admin, hang_up, {}))
    wait_until(lambda: stack.sandbox.call(members[2])["state"] == "completed")
    time.sleep(1)  # any duplicate would have left by now
    assert len(requests_to(stack, "PUT", f"/members/{members[0]}")) == 2  # the mute, then the hold
    assert all(len(requests_to(stack, "PUT", f"/members/{m}")) == 1 for m in members[1:])
    assert len(requests_to(stack, "POST", f"/calls/{members[2]}")) == 1
