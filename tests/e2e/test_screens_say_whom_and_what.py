"""The screens say what they mean (issue 13, problem 10, in part): whom a coach coaches;
"Unmute" and "Unhold" in a call's timeline; the conferences list in the navigation with
its heading once; the 24-hour limit's date in one format before and after an update."""

import re

import pytest
from playwright.sync_api import expect

from console.phone_numbers import display

from tests.e2e.conference_flows import callers, open_conference, sandbox_conference
from tests.e2e.flows import sign_in
from voice.demo import EXEC_BRIEFING_NUMBER

pytestmark = pytest.mark.e2e


def test_a_conference_says_whom_the_coach_coaches_and_the_timeline_says_unmute_and_unhold(screens_stack, page):
    stack = screens_stack
    first, second = callers(stack, EXEC_BRIEFING_NUMBER, 2, first=27001)
    conference_id = sandbox_conference(stack, second)["id"]
    sign_in(page, stack, "supervisor")
    open_conference(page, stack, conference_id)
    limit = page.locator("#conference-summary .age-limit time")
    expect(limit).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"))
    before = limit.inner_text()

    page.locator(f"#member-{first}").get_by_role("button", name="Coach…").click()
    dialog = page.locator("#coach-dialog")
    dialog.get_by_label(display("+15550027002")).check()
    dialog.get_by_role("button", name="Coach the ticked members").click()
    expect(page.locator(f"#member-{first} .chip-coach")).to_have_text(f"coach of {display('+15550027002')}", timeout=15_000)

    # The exec briefing joins its members muted: unmute, hold, unhold.
    row = page.locator(f"#member-{second}")
    row.get_by_role("button", name="Unmute").click()
    expect(row.get_by_role("button", name="Mute", exact=True)).to_be_visible(timeout=15_000)
    row.get_by_role("button", name="Hold", exact=True).click()
    expect(row.get_by_role("button", name="Unhold")).to_be_visible(timeout=15_000)
    row.get_by_role("button", name="Unhold").click()
    expect(row.get_by_role("button", name="Hold", exact=True)).to_be_visible(timeout=15_000)

    # A third member joins: the summary is pushed anew, its date in the same format.
    callers(stack, EXEC_BRIEFING_NUMBER, 1, first=27003)
    expect(page.locator("#conference-summary .members")).to_have_text("3/20 members", timeout=15_000)
    expect(limit).to_have_text(before)
    page.wait_for_timeout(1500)  # the page's clock ticks reformat times: none changes it
    expect(limit).to_have_text(before)

    page.goto(f"{stack.url}/calls/{second}")
    titles = [" ".join(text.split()) for text in page.locator(".timeline-entry.kind-action strong").all_inner_texts()]
    assert titles == ["Unmute", "Hold", "Unhold"], titles


def test_the_conferences_list_is_in_the_navigation_with_its_heading_once(screens_stack, page):
    sign_in(page, screens_stack, "agent")
    page.get_by_role("navigation").get_by_role("link", name="Conferences").click()
    expect(page).to_have_url(screens_stack.url + "/conferences/")
    expect(page.get_by_role("heading", name="Conferences")).to_have_count(1)
    expect(page.get_by_role("heading", name="Conferences", level=1)).to_be_visible()
