"""The mirror against the real sandbox: the same processes `make run` starts (the console
with its embedded Celery worker and beat, on its own SQLite file; the sandbox), driven over
HTTP as Bandwidth and operators would, and the mirror read back from the console's database.

Covered: every flow of the demo routes; a periodic reconciliation converging to the
sandbox's state while it drops a fifth of the webhooks; a lost disconnect; mute changed
behind the mirror's back; `manage.py sync_bandwidth` importing an account already running.
"""

from __future__ import annotations

import http.server
import os
import random
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings

from console.processes import manage_command
from tests.support.mirror import Mirror, differences
from tests.support.sandbox import wait_until
from tests.support.stack import Stack, running_stack
from voice import bandwidth

# Reconciliation every INTERVAL seconds, of what has been quiet for QUIET seconds.
INTERVAL = 4.0
QUIET = 1.5
SALES, SUPPORT, EXEC, VOICEMAIL, ANNOUNCEMENT, UNROUTED = (
    "+19195550100",
    "+19195550101",
    "+19195550102",
    "+19195550150",
    "+19195550199",
    "+19195550142",
)


@contextmanager
def mirror_stack(tmp_path: Path, **environment):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, str(value))
        with running_stack(tmp_path) as stack:
            yield stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with mirror_stack(tmp_path_factory.mktemp("mirror"), RECONCILE_INTERVAL=INTERVAL, RECONCILE_QUIET_AFTER=QUIET) as stack:
        yield stack


def api(stack: Stack) -> bandwidth.BandwidthClient:
    return bandwidth.BandwidthClient(
        api_url=stack.sandbox.api_url, account_id="9900000", username=stack.sandbox.auth[0], password=stack.sandbox.auth[1]
    )


def offer(stack: Stack, to_number: str, **caller) -> str:
    return stack.sandbox.offer_inbound(f"+1555{random.randint(1000000, 9999999)}", to_number, **caller)["callId"]


def dial_out(stack: Stack, from_number: str, to_number: str) -> str:
    """A call placed as the console places them: answer and disconnect to its webhook."""
    url = f"{stack.url}/webhooks/voice"
    return (
        api(stack)
        .create_call(
            to=to_number,
            from_number=from_number,
            answer_url=url,
            disconnect_url=url,
            application_id=settings.BANDWIDTH_APPLICATION_ID,
            username=settings.WEBHOOK_USERNAME,
            password=settings.WEBHOOK_PASSWORD,
        )
        .call_id
    )


# The reorder fault holds a webhook back 1 to 4 s (voice/sandbox/webhooks.py).
REORDER_HOLD = 4.5


def test_every_demo_flow_is_mirrored(stack):
    mirror = Mirror(stack)
    muted = offer(stack, EXEC)
    wait_until(lambda: mirror.one("select mute from voice_conferencemember where call_id = ? and state = 'joined'", muted))
    assert mirror.one(
        "select c.name from voice_conference c join voice_conferencemember m on m.conference_id = c.conference_id where m.call_id = ?",
        muted,
    )["name"] == "exec-briefing"

    recorded = offer(stack, SUPPORT)
    wait_until(lambda: mirror.one("select 1 from voice_conference where name = 'support-bridge' and is_recording"))
    api(stack).hang_up(recorded)
    wait_until(
        lambda: mirror.one(
            "select 1 from voice_recording r join voice_conference c on r.conference_id = c.conference_id "
            "where c.name = 'support-bridge' and r.status = 'complete'"
        ),
        timeout=20,
    )

    caller = offer(stack, VOICEMAIL, utterance="Please call me back about my order", endsMessage="#")
    transcript = wait_until(
        lambda: mirror.one(
            "select t.text from voice_transcription t join voice_recording r on t.recording_id = r.id "
            "where r.call_id = ? and t.fetched_at is not null",
            caller,
        ),
        timeout=20,
    )
    assert "call me back" in transcript["text"].lower()

    announced = offer(stack, ANNOUNCEMENT)
    wait_until(lambda: mirror.one("select 1 from voice_call where call_id = ? and state = 'ended'", announced), timeout=20)

    answered = dial_out(stack, SALES, "+15557650000")
    wait_until(lambda: mirror.one("select 1 from voice_conferencemember where call_id = ? and state = 'joined'", answered))
    route = mirror.one("select r.name from voice_call c join voice_route r on c.route_id = r.id where c.call_id = ?", answered)
    assert route["name"] == "Sales floor"

    slowest = mirror.one("select max(answer_ms) as ms from voice_event where source = 'webhook'")["ms"]
    assert slowest < 1000


def test_with_a_fifth_of_webhooks_dropped_one_reconciliation_period_converges_to_the_sandbox(stack):
    stack.sandbox.set_faults(webhookDrop=0.2, webhookReorder=0.1, webhookDuplicate=0.1)
    try:
        for number in (SALES, SUPPORT, EXEC, VOICEMAIL, ANNOUNCEMENT, UNROUTED) * 3:
            offer(stack, number, hold_seconds=random.uniform(1, 4), endsMessage="hangup")
        staying = [offer(stack, SALES), offer(stack, EXEC), offer(stack, SUPPORT)]
        stack.sandbox.script_callee("+15557654321", ringSeconds=0.5, holdSeconds=2)
        dial_out(stack, SUPPORT, "+15557654321")
        time.sleep(6)
        api(stack).hang_up(staying[0])
        time.sleep(REORDER_HOLD)
    finally:
        stack.sandbox.set_faults(webhookDrop=0, webhookReorder=0, webhookDuplicate=0)
    settled = time.monotonic()
    assert [w for w in stack.sandbox.webhooks() if w.get("fault") == "dropped"], "nothing dropped: proves nothing"

    # Everything is quiet after QUIET seconds; the next run, at most INTERVAL later, repairs it.
    wait_until(lambda: differences(stack) == [], timeout=QUIET + INTERVAL + 3, interval=0.5)
    assert time.monotonic() - settled <= QUIET + INTERVAL + 3
    repairs = Mirror(stack).rows("select event_type, changes from voice_event where source = 'reconciliation' and outcome = 'repair'")
    assert repairs


def test_a_lost_disconnect_is_repaired_and_logged(stack):
    mirror = Mirror(stack)
    call_id = offer(stack, UNROUTED)
    wait_until(lambda: mirror.one("select 1 from voice_call where call_id = ? and state = 'answered'", call_id))
    stack.sandbox.set_faults(webhookDrop=1.0)
    try:
        api(stack).hang_up(call_id)
        time.sleep(0.5)
    finally:
        stack.sandbox.set_faults(webhookDrop=0)
    assert mirror.one("select state from voice_call where call_id = ?", call_id)["state"] == "answered"

    wait_until(lambda: mirror.one("select 1 from voice_call where call_id = ? and state = 'ended'", call_id), timeout=QUIET + INTERVAL + 3)
    repair = mirror.one("select source, changes from voice_event where call_id = ? and outcome = 'repair'", call_id)
    assert repair["source"] == "reconciliation"
    assert '"state": ["answered", "ended"]' in repair["changes"]


def test_mute_changed_at_bandwidth_reaches_the_mirror_by_reconciliation(stack):
    mirror = Mirror(stack)
    caller = offer(stack, SALES)
    member = wait_until(lambda: mirror.one("select conference_id, mute from voice_conferencemember where call_id = ? and state = 'joined'", caller))
    assert not member["mute"]
    requests.put(
        f"{stack.sandbox.api_url}/accounts/9900000/conferences/{member['conference_id']}/members/{caller}",
        json={"mute": True},
        auth=stack.sandbox.auth,
        timeout=5,
    ).raise_for_status()
    wait_until(lambda: mirror.one("select mute from voice_conferencemember where call_id = ?", caller)["mute"], timeout=QUIET + INTERVAL + 3)


class _HoldingApplication(http.server.BaseHTTPRequestHandler):
    """Another application on the account: it keeps every call on hold."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'<?xml version="1.0" encoding="UTF-8"?><Response><Pause duration="300"/></Response>'
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_sync_bandwidth_imports_the_calls_of_an_account_already_running(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HoldingApplication)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # No periodic run during the test: only the command imports.
    with mirror_stack(tmp_path, RECONCILE_INTERVAL=3600) as stack:
        try:
            elsewhere = f"http://127.0.0.1:{server.server_address[1]}/voice"
            stack.sandbox.set_application(callInitiatedCallbackUrl=elsewhere, callStatusCallbackUrl=elsewhere)
            running = [offer(stack, UNROUTED) for _ in range(3)]
            wait_until(lambda: all(c["state"] == "answered" for c in stack.sandbox.calls()))
            mirror = Mirror(stack)
            assert mirror.rows("select call_id from voice_call") == []

            env = {
                **os.environ,
                "VAR_DIR": str(stack.logs.parent / "var"),
                "PUBLIC_URL": stack.url,
                "BANDWIDTH_API_URL": stack.sandbox.api_url,
            }
            env.pop("DATABASE_URL", None)
            output = subprocess.run(manage_command("sync_bandwidth"), env=env, capture_output=True, text=True, timeout=60, check=True).stdout

            assert "calls listed:        3" in output
            imported = mirror.rows("select call_id, state from voice_call order by call_id")
            assert [(row["call_id"], row["state"]) for row in imported] == sorted((call_id, "answered") for call_id in running)
        finally:
            server.shutdown()
