"""The state machine: any order, any repetition of the same events ends in one state."""

import itertools

import pytest
from django.db import OperationalError, ProgrammingError, connection

from voice import events, intake
from voice.models import Call, CallState, Event
from tests.support.bandwidth import payload

pytestmark = pytest.mark.django_db

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


def deliver(body: dict) -> intake.Answer:
    return intake.receive(events.parse(body))


def outbound_events() -> list[dict]:
    initiate = payload("initiate", callId=CALL, direction="outbound", eventTime="2019-06-20T15:54:22.300Z")
    return [initiate, payload("answer"), payload("disconnect")]


def final_state() -> tuple:
    call = Call.objects.get(call_id=CALL)
    return (call.state, call.answer_time, call.end_time, call.disconnect_cause, call.start_time)


def test_answer_then_disconnect_ends_the_call():
    deliver(payload("answer"))
    assert Call.objects.get(call_id=CALL).state == CallState.ANSWERED
    deliver(payload("disconnect"))
    call = Call.objects.get(call_id=CALL)
    assert call.state == CallState.ENDED
    assert call.disconnect_cause == "hangup"
    assert call.end_time.isoformat() == "2019-06-20T15:55:54.123000+00:00"


def test_every_arrival_order_converges_to_the_same_state():
    outcomes = set()
    for order in itertools.permutations(outbound_events()):
        Call.objects.all().delete()
        Event.objects.all().delete()
        for body in order:
            deliver(body)
        outcomes.add(final_state())
    assert len(outcomes) == 1
    (ended,) = outcomes
    assert ended[0] == CallState.ENDED
    assert ended[1] is not None  # the answer time, even when the answer came last


def test_a_late_answer_never_revives_an_ended_call():
    deliver(payload("disconnect"))
    answer = deliver(payload("answer"))
    call = Call.objects.get(call_id=CALL)
    assert call.state == CallState.ENDED
    assert call.answer_time is not None
    assert answer.status == 200
    assert Event.objects.get(event_type="answer").outcome == Event.Outcome.STALE


def test_duplicate_disconnect_changes_nothing_and_gets_the_same_answer():
    deliver(payload("answer"))
    first = deliver(payload("disconnect"))
    before = final_state()
    second = deliver(payload("disconnect", cause="busy"))  # same key, different body
    assert second == first
    assert final_state() == before
    assert Event.objects.filter(event_type="disconnect").count() == 1


def test_duplicate_answer_returns_the_same_bxml():
    first = deliver(payload("answer"))
    second = deliver(payload("answer"))
    assert first.status == second.status == 200
    assert first.body == second.body
    assert "<Response>" in first.body


def test_initiate_answers_with_bxml_and_marks_the_call_answered():
    answer = deliver(payload("initiate"))
    assert answer.status == 200
    assert answer.body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')
    call = Call.objects.get(call_id=payload("initiate")["callId"])
    assert call.direction == "inbound"
    assert call.state == CallState.ANSWERED
    assert call.from_number == "+15551112222"


def test_disconnect_of_an_unknown_call_records_it_ended():
    deliver(payload("disconnect", callId="c-unknown"))
    assert Call.objects.get(call_id="c-unknown").state == CallState.ENDED


def test_unknown_event_type_is_stored_and_answered_204():
    answer = deliver({"eventType": "somethingNew", "eventTime": "2024-01-01T00:00:00Z", "callId": CALL})
    assert answer.status == 204
    assert Event.objects.get().outcome == Event.Outcome.UNKNOWN_TYPE
    assert not Call.objects.exists()


def test_the_newest_events_tag_wins_whatever_the_arrival_order():
    later = payload("disconnect", tag="later")
    earlier = payload("answer", tag="earlier")
    deliver(later)
    deliver(earlier)
    assert Call.objects.get(call_id=CALL).tag == "later"


def test_the_call_never_moves_backwards():
    assert set(intake.HANDLERS) >= {"initiate", "answer", "disconnect"}
    deliver(payload("answer"))
    event = events.parse(payload("answer"))
    _, changed = Call.observe(event.facts(), CallState.INITIATED, at=event.event_time)
    assert not changed
    assert Call.objects.get(call_id=CALL).state == CallState.ANSWERED


def test_a_tag_change_alone_is_applied_and_pushed():
    from voice import signals

    deliver(payload("answer"))
    changed = []
    signals.call_changed.connect(lambda sender, call_id, **kw: changed.append(call_id), weak=False, dispatch_uid="t")
    try:
        deliver(payload("dtmf", tag="escalated", eventTime="2019-06-20T15:54:40.000Z"))
    finally:
        signals.call_changed.disconnect(dispatch_uid="t")
    assert Call.objects.get(call_id=CALL).tag == "escalated"
    assert CALL in changed
    assert Event.objects.get(event_type="dtmf").outcome == Event.Outcome.APPLIED


def test_a_member_who_rejoins_gets_the_flags_of_the_newer_join():
    from datetime import datetime, timedelta, timezone as dt_timezone

    from voice.models import Conference, ConferenceMember

    conference = Conference.objects.create(conference_id="conf-1", name="sales-floor")
    first = datetime(2026, 1, 1, 10, 0, tzinfo=dt_timezone.utc)
    numbers = {"from_number": "", "to_number": ""}
    ConferenceMember.joined(conference, "c-1", at=first, flags={"mute": True, "call_ids_to_coach": ["c-2"]}, **numbers)
    ConferenceMember.left(conference, "c-1", at=first + timedelta(minutes=1), **numbers)
    ConferenceMember.joined(conference, "c-1", at=first + timedelta(minutes=2), flags={"mute": False, "call_ids_to_coach": []}, **numbers)
    member = ConferenceMember.objects.get()
    assert (member.state, member.mute, member.call_ids_to_coach) == ("joined", False, [])
    # An older join delivered late changes nothing.
    ConferenceMember.joined(conference, "c-1", at=first, flags={"mute": True}, **numbers)
    assert ConferenceMember.objects.get().mute is False


def failing_once(monkeypatch, error: Exception) -> list:
    """The answer handler's first run raises `error`; its runs, returned."""
    handle, runs = intake.HANDLERS["answer"], []

    def handler(event):
        runs.append(event)
        if len(runs) == 1:
            raise error
        return handle(event)

    monkeypatch.setitem(intake.HANDLERS, "answer", handler)
    # The test's own transaction keeps its connection; a real one is returned to the pool.
    monkeypatch.setattr(connection, "close", lambda: None)
    return runs


def test_a_webhook_whose_database_connection_was_lost_is_applied_once_on_a_new_one(monkeypatch):
    runs = failing_once(monkeypatch, OperationalError("terminating connection due to administrator command"))
    answer = deliver(payload("answer"))
    assert len(runs) == 2 and answer.status == 200
    assert Call.objects.get(call_id=CALL).state == CallState.ANSWERED
    assert Event.objects.filter(event_type="answer").count() == 1


def test_an_error_of_ours_is_not_tried_again(monkeypatch):
    runs = failing_once(monkeypatch, ProgrammingError("column does not exist"))
    with pytest.raises(ProgrammingError):
        deliver(payload("answer"))
    assert len(runs) == 1
