""""Unmute all" clicked while "Mute all" runs is not dropped silently: it is refused in
words that stay on screen, and the end state is the one those words say (issue 13,
problem 5)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conference_flows import callers, left_every_conference, open_conference, sandbox_conference
from tests.e2e.flows import sign_in
from tests.support.sandbox import wait_until
from voice.demo import SALES_FLOOR_NUMBER

pytestmark = pytest.mark.e2e


@pytest.fixture
def slow_bandwidth(screens_stack):
    """Each request to Bandwidth answered after 400 ms: a mute all of six runs a while."""
    screens_stack.sandbox.set_faults(latencyMs=400)
    yield
    screens_stack.sandbox.set_faults(latencyMs=0)


# The answers may come back to buttons a pushed frame has already replaced (Mute all's
# progress re-renders the summary): htmx then handles them from elements off the page.
REPLACED = "[mute, unmute].forEach(b => b.replaceWith(b.cloneNode(true)));"


@pytest.mark.parametrize("buttons_after_click", ["kept", "replaced"])
def test_unmute_all_clicked_while_mute_all_runs_is_refused_in_words_that_stay(
    screens_stack, page, slow_bandwidth, expected_browser_errors, buttons_after_click
):
    expected_browser_errors.allow(409)  # the refusal
    stack = screens_stack
    members = callers(stack, SALES_FLOOR_NUMBER, 6, first=25001)
    conference_id = sandbox_conference(stack, members[-1])["id"]
    sign_in(page, stack, "supervisor")
    open_conference(page, stack, conference_id)
    expect(page.locator("#member-rows tr.member-row:not(.leaving)")).to_have_count(6, timeout=15_000)

    # Mute all, and Unmute all before its answer came back (an operator's quick second
    # thought, or a second supervisor).
    page.evaluate("""replace => {
        const button = name => [...document.querySelectorAll('#conference-summary button')].find(b => b.textContent.trim() === name);
        const mute = button('Mute all'), unmute = button('Unmute all');
        mute.click(); unmute.click();
        if (replace) %s }""" % REPLACED, buttons_after_click == "replaced")

    refusal = page.locator("#flash")
    expect(refusal).to_contain_text("was not started", timeout=15_000)
    refused = "Unmute all" if "Unmute all was not started" in refusal.inner_text() else "Mute all"
    verb = "muted" if refused == "Unmute all" else "unmuted"
    expect(refusal).to_contain_text(f"Click {refused} again once it has finished")

    # The batch that ran ends as the words say; the refusal is still there to read.
    expect(page.locator("#conference-summary .batch-progress")).to_have_text(re.compile(rf"^6/6 {verb}$"), timeout=30_000)
    chip = "chip-muted"
    muted = page.locator(f"#member-rows tr.member-row .{chip}")
    expect(muted).to_have_count(6 if verb == "muted" else 0)
    expect(refusal).to_contain_text(f"{refused} was not started")

    # The conference is shared with the next variant: it leaves as it came.
    for member in members:
        stack.sandbox.end_call(member)
    wait_until(lambda: all(left_every_conference(stack, m) for m in members), timeout=20, message="the members gone")
    expect(page.locator("#member-rows tr.member-row")).to_have_count(0, timeout=15_000)
