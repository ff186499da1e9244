"""The mirror against the real sandbox process over HTTP: every flow of the demo routes, and
reconciliation converging while the sandbox drops webhooks.

The sandbox's fault injection (PUT /sandbox/faults), its conferences and recordings, and its
listCalls arrive with the sandbox's own branch (issue 3); until it is merged these tests skip.
"""

from __future__ import annotations

import http.server
import random
import threading
import time

import pytest
import requests
from django.conf import settings
from django.core.management import call_command

from console.celery import app as celery_app
from tests.support.sandbox import running_sandbox, wait_until
from voice import bandwidth, flows, reconcile
from voice.demo import ensure_demo_routes
from voice.models import Call, CallState, Conference, ConferenceMember, Event, MemberState, Recording

pytestmark = pytest.mark.django_db(transaction=True)

# Reconciliation re-reads what has been quiet this long; short here, so that one run right
# after the traffic settles is "one reconciliation period".
QUIET = 1.5
SALES, SUPPORT, EXEC, VOICEMAIL, ANNOUNCEMENT, UNROUTED = (
    "+19195550100",
    "+19195550101",
    "+19195550102",
    "+19195550150",
    "+19195550199",
    "+19195550142",
)
SANDBOX_STATES = {"initiated": CallState.INITIATED, "answered": CallState.ANSWERED, "completed": CallState.ENDED}


@pytest.fixture
def sandbox(live_server, settings, tmp_path, monkeypatch):
    ensure_demo_routes()
    settings.RECONCILE_QUIET_AFTER = QUIET
    # Transcripts are fetched by the task as soon as transcriptionAvailable commits.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    with running_sandbox(public_url=live_server.url, log_dir=tmp_path) as handle:
        if requests.get(f"{handle.url}/sandbox/faults", auth=handle.auth, timeout=5).status_code == 404:
            pytest.skip("the sandbox has no fault injection yet: these tests await the sandbox branch (issue 3)")
        settings.BANDWIDTH_API_URL = handle.api_url
        yield handle


def sandbox_get(sandbox, path: str):
    response = requests.get(f"{sandbox.url}{path}", auth=sandbox.auth, timeout=5)
    response.raise_for_status()
    return response.json()


def set_faults(sandbox, **faults) -> None:
    requests.put(f"{sandbox.url}/sandbox/faults", json=faults, auth=sandbox.auth, timeout=5).raise_for_status()


def offer(sandbox, to_number: str, *, from_number: str | None = None, **caller) -> str:
    body = {"from": from_number or f"+1555{random.randint(1000000, 9999999)}", "to": to_number, **caller}
    response = requests.post(f"{sandbox.url}/sandbox/calls", json=body, auth=sandbox.auth, timeout=5)
    response.raise_for_status()
    return response.json()["callId"]


def dial_out(from_number: str, to_number: str) -> str:
    """A call the console places (as issue 5's dial-out will), answered by the sandbox."""
    return (
        bandwidth.client()
        .create_call(to=to_number, from_number=from_number, application_id=settings.BANDWIDTH_APPLICATION_ID, **flows.outbound_callbacks())
        .call_id
    )


def differences(sandbox) -> list[str]:
    """Where the mirror and the sandbox disagree (empty once converged)."""
    found = []
    for call in sandbox_get(sandbox, "/sandbox/calls"):
        mine = Call.objects.filter(call_id=call["callId"]).first()
        if mine is None:
            found.append(f"call {call['callId']} missing")
            continue
        if mine.state != SANDBOX_STATES[call["state"]]:
            found.append(f"call {call['callId']}: {mine.state} here, {call['state']} there")
        if call["state"] == "completed" and mine.disconnect_cause != call.get("disconnectCause", ""):
            found.append(f"call {call['callId']}: cause {mine.disconnect_cause!r}, {call.get('disconnectCause')!r} there")
    for conference in sandbox_get(sandbox, "/sandbox/conferences"):
        mine = Conference.objects.filter(conference_id=conference["id"]).first()
        if mine is None:
            found.append(f"conference {conference['id']} missing")
            continue
        if mine.is_live == bool(conference.get("completedTime")):
            found.append(f"conference {conference['id']}: {mine.state} here")
        there = {m["callId"]: m for m in conference["members"] if not m.get("leftTime")}
        here = {m.call_id: m for m in ConferenceMember.objects.filter(conference=mine, state=MemberState.JOINED)}
        if set(here) != set(there):
            found.append(f"conference {conference['id']}: members {sorted(here)} here, {sorted(there)} there")
        for call_id in set(here) & set(there):
            if (here[call_id].mute, here[call_id].hold) != (there[call_id]["mute"], there[call_id]["hold"]):
                found.append(f"member {call_id}: mute/hold differ")
    for recording in sandbox_get(sandbox, "/sandbox/recordings"):
        mine = Recording.objects.filter(recording_id=recording["recordingId"]).first()
        if mine is None or mine.status != recording["status"]:
            found.append(f"recording {recording['recordingId']}: {mine and mine.status} here, {recording['status']} there")
    return found


def settle(sandbox, seconds: float) -> None:
    """Let the traffic run, then stay quiet long enough for everything to be re-read."""
    time.sleep(seconds)
    wait_until(lambda: not [w for w in sandbox_get(sandbox, "/sandbox/webhooks") if w.get("status") is None and not w.get("fault") and not w.get("error")], timeout=10)
    time.sleep(QUIET + 0.5)


def test_with_a_fifth_of_webhooks_dropped_one_reconciliation_converges_to_the_sandbox(sandbox):
    set_faults(sandbox, webhookDrop=0.2)
    for number in (SALES, SUPPORT, EXEC, VOICEMAIL, ANNOUNCEMENT, UNROUTED) * 3:
        offer(sandbox, number, holdSeconds=random.uniform(1, 4))
    staying = [offer(sandbox, SALES), offer(sandbox, EXEC), offer(sandbox, SUPPORT)]
    requests.put(f"{sandbox.url}/sandbox/callees/+15557654321", json={"outcome": "answer", "ringSeconds": 0.5, "holdSeconds": 2}, auth=sandbox.auth, timeout=5)
    dial_out(SUPPORT, "+15557654321")
    settle(sandbox, 8)
    bandwidth.client().hang_up(staying[0])
    settle(sandbox, 1)

    dropped = [w for w in sandbox_get(sandbox, "/sandbox/webhooks") if w.get("fault") == "drop"]
    assert dropped, "no webhook was dropped: the run proves nothing"
    assert differences(sandbox), "the mirror already agreed: nothing to reconcile"

    report = reconcile.run()

    assert report.errors == []
    assert differences(sandbox) == []
    assert Event.objects.filter(outcome=Event.Outcome.REPAIR).count() == report.repairs > 0


def test_a_lost_disconnect_is_repaired_and_logged(sandbox):
    set_faults(sandbox, webhookDrop=1.0)
    call_id = offer(sandbox, UNROUTED)
    wait_until(lambda: Call.objects.filter(call_id=call_id, state=CallState.ANSWERED).exists())
    bandwidth.client().hang_up(call_id)
    time.sleep(QUIET + 0.5)
    assert Call.objects.get(call_id=call_id).state == CallState.ANSWERED

    reconcile.run()

    call = Call.objects.get(call_id=call_id)
    assert (call.state, call.disconnect_cause) == (CallState.ENDED, "hangup")
    repair = Event.objects.get(call_id=call_id, outcome=Event.Outcome.REPAIR)
    assert repair.source == Event.Source.RECONCILIATION
    assert repair.changes["state"] == ["answered", "ended"]


def test_mute_changed_at_bandwidth_reaches_the_mirror_by_reconciliation(sandbox):
    caller = offer(sandbox, SALES)
    wait_until(lambda: ConferenceMember.objects.filter(call_id=caller, state=MemberState.JOINED).exists())
    member = ConferenceMember.objects.get(call_id=caller)
    assert not member.mute
    requests.put(
        f"{sandbox.api_url}/accounts/{settings.BANDWIDTH_ACCOUNT_ID}/conferences/{member.conference_id}/members/{caller}",
        json={"mute": True},
        auth=sandbox.auth,
        timeout=5,
    ).raise_for_status()
    time.sleep(QUIET + 0.5)

    reconcile.run()

    assert ConferenceMember.objects.get(call_id=caller).mute is True


def test_every_demo_flow_is_mirrored(sandbox):
    caller = offer(sandbox, EXEC)
    wait_until(lambda: ConferenceMember.objects.filter(call_id=caller, state=MemberState.JOINED).exists())
    member = ConferenceMember.objects.get(call_id=caller)
    assert member.mute is True and member.conference.name == "exec-briefing"

    recorded = offer(sandbox, SUPPORT)
    wait_until(lambda: Conference.objects.filter(name="support-bridge", is_recording=True).exists())
    bandwidth.client().hang_up(recorded)
    wait_until(lambda: Recording.objects.filter(conference__name="support-bridge", status="complete").exists(), timeout=20)

    voicemail = offer(sandbox, VOICEMAIL, utterance="Please call me back about my order", endsMessage="#")
    wait_until(lambda: Recording.objects.filter(call_id=voicemail, status="complete").exists(), timeout=20)
    wait_until(lambda: Recording.objects.filter(call_id=voicemail, transcription__fetched_at__isnull=False).exists(), timeout=20)
    transcript = Recording.objects.get(call_id=voicemail).transcription
    assert "call me back" in transcript.text.lower()

    announced = offer(sandbox, ANNOUNCEMENT)
    wait_until(lambda: Call.objects.filter(call_id=announced, state=CallState.ENDED).exists(), timeout=20)

    answered = dial_out(SALES, "+15557650000")
    wait_until(lambda: ConferenceMember.objects.filter(call_id=answered, conference__name="sales-floor").exists())
    assert Call.objects.get(call_id=answered).route.name == "Sales floor"

    assert max(Event.objects.filter(source=Event.Source.WEBHOOK).values_list("answer_ms", flat=True)) < 1000


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


def test_sync_bandwidth_imports_the_calls_of_an_account_already_running(sandbox, capsys):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HoldingApplication)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        elsewhere = f"http://127.0.0.1:{server.server_address[1]}/voice"
        requests.put(
            f"{sandbox.url}/sandbox/application",
            json={"callInitiatedCallbackUrl": elsewhere, "callStatusCallbackUrl": elsewhere},
            auth=sandbox.auth,
            timeout=5,
        ).raise_for_status()
        running = [offer(sandbox, UNROUTED) for _ in range(3)]
        wait_until(lambda: all(c["state"] == "answered" for c in sandbox_get(sandbox, "/sandbox/calls")))
        assert not Call.objects.exists()

        call_command("sync_bandwidth")

        assert sorted(Call.objects.values_list("call_id", flat=True)) == sorted(running)
        assert set(Call.objects.values_list("state", flat=True)) == {CallState.ANSWERED}
        assert "calls listed:        3" in capsys.readouterr().out
    finally:
        server.shutdown()
