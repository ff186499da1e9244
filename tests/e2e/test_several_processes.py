"""The production profile as it scales: two daphne processes behind HAProxy, two Celery
workers and beat, on PostgreSQL and Redis. Browsers on each process see every change,
whichever process took the webhook; an action clicked on one process reaches Bandwidth
once; webhooks spread over the processes converge as with one."""

from __future__ import annotations

import shutil

import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.flows import wait_until_live
from tests.support.sandbox import wait_until
from tests.support.services import require, require_postgres, require_redis
from tests.support.stack import Stack, running_stack
from voice.demo import SALES_FLOOR_NUMBER

pytestmark = [pytest.mark.e2e, pytest.mark.production]


def sign_in_at(page: Page, url: str, stack: Stack, username: str) -> None:
    page.goto(url + "/")
    page.fill("#id_username", username)
    page.fill("#id_password", stack.passwords[username])
    page.click("button[type=submit]")
    wait_until_live(page)


def mirrored(stack: Stack, query: str, *args) -> list[tuple]:
    with psycopg.connect(stack.database_url) as connection:
        return connection.execute(query, args).fetchall()


def in_conference(stack: Stack, call_id: str) -> str:
    """The conference the call has joined, once the mirror has the member too."""
    def find():
        rows = mirrored(stack, "SELECT conference_id FROM voice_conferencemember WHERE call_id = %s AND state = 'joined'", call_id)
        return rows[0][0] if rows else None

    return wait_until(find, timeout=15, message=f"{call_id} in a conference")


def test_browsers_on_each_process_see_every_change_and_an_action_is_sent_once(browser, tmp_path):
    require_postgres()
    require_redis()
    require(shutil.which("haproxy") is not None, "HAProxy (Debian's haproxy package)")
    with running_stack(tmp_path, production=True, web=2, workers=2) as stack:
        first, second = (browser.new_context(viewport={"width": 1280, "height": 800}).new_page() for _ in range(2))
        balanced = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        # One browser on each process, one through the load balancer.
        sign_in_at(first, stack.consoles[0], stack, "supervisor")
        sign_in_at(second, stack.consoles[1], stack, "supervisor")
        sign_in_at(balanced, stack.url, stack, "agent")

        # Webhooks come through the load balancer, round robin over the two processes.
        callers = [
            stack.sandbox.offer_inbound(from_number=f"+1555000{n:04d}", to_number=SALES_FLOOR_NUMBER)["callId"]
            for n in range(4)
        ]
        for call_id in callers:
            expect(balanced.locator(f"#call-{call_id}")).to_be_visible(timeout=15_000)
        conference_id = in_conference(stack, callers[0])

        for page, console in ((first, stack.consoles[0]), (second, stack.consoles[1])):
            page.goto(f"{console}/conferences/{conference_id}/")
            wait_until_live(page)
            for call_id in callers:
                expect(page.locator(f"#member-{call_id}")).to_be_visible(timeout=15_000)

        # Muted from the first process: Bandwidth gets one request, the second process's
        # browser sees it confirmed.
        before = len(stack.sandbox.requests())
        first.locator(f"#member-{callers[1]}").get_by_role("button", name="Mute", exact=True).click()
        for page in (first, second):
            expect(page.locator(f"#member-{callers[1]} .chip-muted")).to_be_visible(timeout=15_000)
        mutes = [
            r for r in stack.sandbox.requests()[before:] if r["method"] == "PUT" and r["path"].endswith(f"/members/{callers[1]}")
        ]
        assert len(mutes) == 1

        # A hang-up from the balanced browser leaves every board and page.
        hung = stack.sandbox.offer_inbound(from_number="+15550009999", to_number="+15550001234")["callId"]
        row = balanced.locator(f"#call-{hung}")
        expect(row).to_be_visible(timeout=15_000)
        row.get_by_role("button", name="Hang up").click()
        balanced.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
        expect(row).to_have_count(0, timeout=15_000)
        # The row can be gone a moment before the worker's request lands (a view being
        # re-read has no rows for an instant): wait for the call's end at Bandwidth.
        wait_until(lambda: stack.sandbox.call(hung)["state"] == "completed", timeout=15)
        hangups = [r for r in stack.sandbox.requests() if r["method"] == "POST" and r["path"].endswith(f"/calls/{hung}")]
        assert len(hangups) == 1

        # Webhooks spread over both processes end in Bandwidth's state.
        def mirror_agrees() -> bool:
            states = dict(mirrored(stack, "SELECT call_id, state FROM voice_call"))
            return all(
                (states.get(call["callId"]) == "ended") == (call["state"] == "completed") for call in stack.sandbox.calls()
            )

        wait_until(mirror_agrees, timeout=20, message="the mirror agrees with the sandbox")
        print(f"\nseveral processes: {len(stack.sandbox.webhooks())} webhooks through HAProxy to two consoles")
