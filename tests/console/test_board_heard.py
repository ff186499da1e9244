"""The board's "Heard": the time since Switchboard last heard of a live call, by a webhook or
by reconciliation's read of it, and the moment it is flagged as unheard of for too long."""

from datetime import timedelta

import pytest
from django.utils import timezone

from console import board
from voice import signals
from voice.facts import CallInfo
from voice.models import Call, CallState

pytestmark = pytest.mark.django_db

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


def a_call(**fields) -> Call:
    defaults = {"call_id": CALL, "direction": "inbound", "state": CallState.ANSWERED, "from_number": "+15551112222", "to_number": "+19195550100", "start_time": timezone.now() - timedelta(minutes=5)}
    return Call.objects.create(**{**defaults, **fields})


def test_a_read_from_bandwidth_counts_as_hearing_of_the_call_and_sets_when_it_is_flagged(settings):
    settings.RECONCILE_QUIET_AFTER, settings.RECONCILE_INTERVAL = 30, 60
    now = timezone.now()
    a_call(last_event_at=now - timedelta(minutes=4), last_synced_at=now - timedelta(seconds=20))
    row = board.call_row(CALL)
    assert row.last_heard_at == now - timedelta(seconds=20)
    assert row.unheard_at == now - timedelta(seconds=20) + timedelta(seconds=90)


def test_the_row_says_when_it_is_flagged_and_why(agent_client, settings):
    settings.RECONCILE_QUIET_AFTER, settings.RECONCILE_INTERVAL = 30, 60
    heard = timezone.now() - timedelta(seconds=10)
    a_call(last_event_at=heard)
    html = agent_client.get("/").content.decode()
    assert f'<span class="heard" data-warn-at="{(heard + timedelta(seconds=90)).isoformat()}"' in html
    assert "Flagged when nothing is heard of a live call for 90 s" in html
    assert "long &gt;30 min" in html and "stuck &gt;2 h" in html


def test_an_ended_call_is_never_flagged_unheard():
    a_call(state=CallState.ENDED, end_time=timezone.now(), last_event_at=timezone.now() - timedelta(hours=1))
    assert board.call_row(CALL).unheard_at is None


def test_reconciliation_reading_a_call_that_agrees_pushes_its_row(django_capture_on_commit_callbacks):
    call = a_call(last_event_at=timezone.now() - timedelta(minutes=4))
    pushed = []
    receiver = lambda sender, call_id, **kwargs: pushed.append(call_id)  # noqa: E731
    signals.call_changed.connect(receiver, weak=False)
    try:
        info = CallInfo.model_validate({"callId": CALL, "state": "answered", "startTime": call.start_time.isoformat(), "from": call.from_number, "to": call.to_number, "direction": "inbound"})
        changes = Call.repair(info, read_at=timezone.now())
    finally:
        signals.call_changed.disconnect(receiver)
    assert changes == {} or "state" not in changes
    assert pushed == [CALL]
    assert Call.objects.get().last_synced_at is not None
