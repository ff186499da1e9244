"""A state confirmed by a separate Celery worker is on screen, every time: the worker
publishes the change's ids on Redis and touches nothing Celery closes under it (it closes
the database pool before and after every task), and the page's daphne process renders it."""

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from tests.support.services import require_postgres, require_redis
from tests.support.stack import running_stack
from voice.demo import SUPPORT_BRIDGE_NUMBER

pytestmark = [pytest.mark.e2e, pytest.mark.production]

TIMES = 30


def test_thirty_sequential_mutes_confirmed_by_a_worker_each_show_confirmed(page, tmp_path):
    require_postgres()
    require_redis()
    with running_stack(tmp_path, production=True) as stack:
        member = stack.sandbox.offer_inbound(from_number="+15550007001", to_number=SUPPORT_BRIDGE_NUMBER)["callId"]
        stack.sandbox.offer_inbound(from_number="+15550007002", to_number=SUPPORT_BRIDGE_NUMBER)
        conference_id = wait_until(
            lambda: next(
                (c["id"] for c in stack.sandbox.conferences() if any(m["callId"] == member for m in c["members"])), None
            ),
            message="the member in a conference",
        )
        sign_in(page, stack, "supervisor")
        page.goto(f"{stack.url}/conferences/{conference_id}/")
        wait_until_live(page)
        row = page.locator(f"#member-{member}")
        for n in range(TIMES):
            muting = n % 2 == 0
            row.get_by_role("button", name="Mute" if muting else "Unmute", exact=True).click()
            # Confirmed by the worker, pushed: the button offers the opposite, nothing pending.
            expect(row.get_by_role("button", name="Unmute" if muting else "Mute", exact=True), f"confirmation {n + 1}").to_be_visible(
                timeout=5_000
            )
            expect(row.locator(".chip-muted")).to_have_count(1 if muting else 0)
        worker_log = (stack.logs / "worker.log").read_text()
        assert "pool is closed" not in worker_log and "live pushes failed" not in worker_log
