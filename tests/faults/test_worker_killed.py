"""The Celery worker killed (SIGKILL, its pool with it) while it sends mutes to a slow
Bandwidth, then started again. Before, the actions in flight were marked "Dropped: no worker
sent it in time" although Bandwidth had applied them, and the mirror kept the old mute."""

import shutil
import time
from contextlib import suppress

import pytest

from tests.faults.harness import Screen, Supervisor, conference_of, hang_up, kill_with_children, nothing_lost
from tests.support.mirror import Mirror
from tests.support.sandbox import wait_until
from tests.support.services import require

pytestmark = [pytest.mark.e2e, pytest.mark.production]

MEMBERS = 6
# Each request to the sandbox answers after this long: the worker's two pool processes each
# hold a mute in flight when it is killed.
LATENCY_MS = 1000


def count(stack, condition: str, *params) -> int:
    return Mirror(stack).one(f"select count(*) as n from voice_action where {condition}", *params)["n"]


def test_a_worker_killed_with_mutes_in_flight_ends_each_as_bandwidth_has_it(browser, stack):
    require(shutil.which("pgrep") is not None, "pgrep (procps)")
    since = time.time()
    conference_id, members = conference_of(stack, MEMBERS, first=100)
    screen = Screen(browser, stack, conference_id)
    supervisor = Supervisor(stack)

    stack.sandbox.set_faults(latencyMs=LATENCY_MS)
    try:
        supervisor.mute_at_once(conference_id, members)
        # Killed once both pool processes have had a mute at the sandbox for a while.
        wait_until(lambda: count(stack, "status = 'sending'") >= 2, timeout=30, message="two mutes in flight")
        time.sleep(LATENCY_MS / 1000 / 2)
        in_flight, queued = count(stack, "status = 'sending'"), count(stack, "status = 'pending'")
        kill_with_children(stack, "worker")
        time.sleep(2)
        stack.start("worker")
        # Slow until the mutes are over (nothing_lost below says if they are not).
        with suppress(AssertionError):
            wait_until(lambda: count(stack, "finished_at is null") == 0, timeout=90, interval=0.5)
    finally:
        stack.sandbox.set_faults(latencyMs=0)
    resolved = count(stack, "detail like ?", "Confirmed by reading%")
    print(f"\nworker killed with {in_flight} mutes in flight and {queued} queued; {resolved} resolved by reading Bandwidth; {supervisor}")
    webhooks, mutes = nothing_lost(stack, screen, "worker killed", since)
    assert mutes.outcomes == {"done": MEMBERS}
    assert supervisor.answers == {200: MEMBERS}
    screen.close()
    hang_up(stack, members)
