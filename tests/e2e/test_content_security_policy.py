"""The Content-Security-Policy in Chromium (issue 12): the board, a conference, a recording
and the Django admin work under it with no console error and no violation, and the live
websocket connects (connect-src 'self' covers it)."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.e2e

SUPPORT_BRIDGE = "+19195550101"
VOICEMAIL = "+19195550150"

# Reports every violation to the test, in every page the context opens, before any script
# of the page runs (an init script is not subject to the page's policy).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} in ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("csp")) as stack:
        yield stack


@pytest.fixture
def watched(page: Page):
    """The page, and what went wrong in it: console errors and warnings, uncaught errors,
    policy violations."""
    problems: list[str] = []
    page.context.expose_function("reportViolation", lambda text: problems.append(f"violation: {text}"))
    page.context.add_init_script(REPORT_VIOLATIONS)
    def console(message) -> None:
        # A pushed row new to the page is an out-of-band swap with no target yet: htmx logs
        # that as an error, and switchboard.js inserts the row from that very event. It is
        # how the board adds rows, not a failure.
        if message.type in ("error", "warning") and not message.text.startswith("htmx:oobErrorNoTarget"):
            problems.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return page, problems


def recording_of_a_voicemail(stack: Stack) -> str:
    call_id = stack.sandbox.offer_inbound(from_number="+15550007777", to_number=VOICEMAIL, utterance="Call me back.")["callId"]
    wait_until(
        lambda: any(
            hook["eventType"] == "recordingAvailable" and hook["status"] == 204 and hook["payload"].get("callId") == call_id
            for hook in stack.sandbox.webhooks()
        ),
        timeout=40,
        interval=0.5,
        message="the recording to be announced",
    )
    (recording,) = [r for r in stack.sandbox.recordings() if r.get("callId") == call_id]
    return recording["recordingId"]


def test_the_board_a_conference_a_recording_and_the_admin_work_under_the_policy(stack, watched):
    page, problems = watched
    recording_id = recording_of_a_voicemail(stack)
    stack.sandbox.offer_inbound(from_number="+15550007001", to_number=SUPPORT_BRIDGE)
    stack.sandbox.offer_inbound(from_number="+15550007002", to_number=SUPPORT_BRIDGE)

    # The sign-in page, then the board: its websocket connects.
    sign_in(page, stack, "admin")
    board = page.request.get(stack.url + "/")
    assert "script-src 'self'" in board.headers["content-security-policy"]
    # The theme is set before first paint, from a file.
    page.get_by_role("button", name="Switch theme").click()
    page.reload()
    wait_until_live(page)
    assert page.evaluate("document.documentElement.dataset.theme") in ("light", "dark")
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.locator("#shortcuts")).to_be_visible()
    page.locator("#shortcuts").get_by_role("button", name="Close").click()
    expect(page.locator("#shortcuts")).to_be_hidden()

    # A conference: live, and its coach dialog opens and cancels without inline handlers.
    row = page.locator("#conference-rows tr.conference-row", has_text="support-bridge")
    expect(row.locator(".members")).to_have_text("2/20")
    row.get_by_role("link", name="support-bridge").click()
    wait_until_live(page)
    page.locator("tr.member-row").first.get_by_role("button", name="Coach…").click()
    dialog = page.locator("#coach-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    # A recording: live, and it plays (media-src 'self').
    page.goto(f"{stack.url}/recordings/{recording_id}/")
    wait_until_live(page)
    page.get_by_role("button", name="Play").click()
    wait_until(lambda: page.evaluate("document.getElementById('player-audio').currentTime") > 0.2, timeout=15)

    # The Django admin, its lists and a form with its own scripts.
    for path in ("/admin/", "/admin/axes/accessattempt/", "/admin/console/auditentry/", "/admin/voice/route/add/"):
        page.goto(stack.url + path)
        expect(page.locator("#content")).to_be_visible()
        page.wait_for_load_state("networkidle")

    assert problems == [], "\n".join(problems)
