"""Bandwidth misbehaving, as the sandbox's faults make it: 429s and 5xx on a fifth of the
requests, 300 ms on every answer, webhooks dropped, sent twice and out of order, while
callers arrive and a supervisor clicks; then the faults off and one reconciliation: the
mirror equals the sandbox. (tests/integration/test_mirror_against_the_sandbox.py drops
webhooks under the embedded default; this is the production profile, with the API's faults
and operators' actions.)"""

import time
from collections import Counter
from contextlib import suppress

import pytest

from tests.faults.harness import SETTLED_WITHIN, Screen, Supervisor, Traffic, conference_of, hang_up, nothing_lost, open_actions
from tests.support.sandbox import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.production]

MEMBERS = 6
FAULTS = {"errorRate429": 0.1, "errorRate5xx": 0.1, "latencyMs": 300, "webhookDrop": 0.1, "webhookDuplicate": 0.1, "webhookReorder": 0.1}


def faults_injected(stack, since: float) -> Counter:
    """The sandbox's faults on webhooks, by kind, and its refusals of the console's
    requests since `since`, by status."""
    injected = Counter(w["fault"] for w in stack.sandbox.webhooks() if w["fault"])
    injected.update(str(r["status"]) for r in stack.sandbox.requests() if r["status"] in (429, 500, 503) and r["time"] >= since)
    return injected


def proves_something(injected: Counter) -> bool:
    return bool(injected["dropped"]) and any(injected[status] for status in ("429", "500", "503"))


def test_the_sandboxs_faults_then_one_reconciliation_leave_the_mirror_equal_to_the_sandbox(browser, stack):
    since = time.time()
    conference_id, members = conference_of(stack, MEMBERS, first=400)
    screen = Screen(browser, stack, conference_id)
    supervisor = Supervisor(stack)

    stack.sandbox.set_faults(**FAULTS)
    try:
        with Traffic(stack) as traffic:
            # Every member muted, then unmuted once the mutes are over (one action at a
            # time per member, as the console allows).
            supervisor.mute_at_once(conference_id, members)
            with suppress(AssertionError):
                wait_until(lambda: open_actions(stack) == 0, timeout=SETTLED_WITHIN, interval=0.5)
            supervisor.mute_at_once(conference_id, members, mute=False)
            time.sleep(2)
            # The faults are drawn at random over a few dozen webhooks: the callers keep
            # coming until a webhook has been dropped and a request refused at least once.
            with suppress(AssertionError):
                wait_until(lambda: proves_something(faults_injected(stack, since)), timeout=60, interval=1.0)
    finally:
        stack.sandbox.set_faults(**{name: 0 for name in FAULTS})
    injected = faults_injected(stack, since)
    print(f"\nthe sandbox's faults: {dict(injected)}; {len(traffic.offered)} callers arrived; {supervisor}")
    assert proves_something(injected), "no webhook dropped or no request refused: this proves nothing"
    webhooks, mutes = nothing_lost(stack, screen, "the sandbox's faults", since)
    assert supervisor.answers == {200: 2 * MEMBERS}
    screen.close()
    hang_up(stack, members)
