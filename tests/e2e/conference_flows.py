"""Conferences for the browser tests of the screens: callers into a route's conference,
the sandbox's conference they are in, its page open."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.e2e.flows import wait_until_live
from tests.support.sandbox import wait_until
from tests.support.stack import Stack


def callers(stack: Stack, to: str, count: int, first: int) -> list[str]:
    """`count` callers dialling `to`, from consecutive numbers; their call ids."""
    return [stack.sandbox.offer_inbound(from_number=f"+1555{first + n:07d}", to_number=to)["callId"] for n in range(count)]


def sandbox_conference(stack: Stack, call_id: str) -> dict:
    """The live conference `call_id` is in, once it has joined."""

    def find():
        for conference in stack.sandbox.conferences():
            if conference["completedTime"] is None and any(
                m["callId"] == call_id and m["leftTime"] is None for m in conference["members"]
            ):
                return conference
        return None

    return wait_until(find, timeout=20, message=f"{call_id} in a conference")


def left_every_conference(stack: Stack, call_id: str) -> bool:
    """Whether `call_id` has left every conference it was in, at the sandbox."""
    return all(m["leftTime"] for c in stack.sandbox.conferences() for m in c["members"] if m["callId"] == call_id)


def open_conference(page: Page, stack: Stack, conference_id: str) -> None:
    page.goto(f"{stack.url}/conferences/{conference_id}/")
    wait_until_live(page)
