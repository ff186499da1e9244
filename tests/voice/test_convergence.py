"""Any arrival order, any repetition of the same events ends in one state.

Bandwidth guarantees no order between webhooks and may deliver one twice
(https://dev.bandwidth.com/docs/voice/webhooks); hypothesis feeds each set of events in
random orders with random duplicates and compares the mirror with in-order delivery.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.bandwidth import payload
from tests.voice.conftest import deliver
from voice.models import Call, Conference, ConferenceMember, Event, Recording, Route, Transcription

pytestmark = pytest.mark.django_db

CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
INBOUND = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"
OUTBOUND = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
A_LEG = "c-2a913f94-6a486f3a-3cae-4034-bcc3-f0c9fa77ca2f"
B_LEG = INBOUND


def member_events(call_id: str, joins_and_exits: list[tuple[str, str]], number: str) -> list[dict]:
    kinds = {"join": "conferenceMemberJoin", "exit": "conferenceMemberExit"}
    return [
        payload(kinds[kind], callId=call_id, eventTime=f"2019-07-31T{at}Z", **{"from": number})
        for kind, at in joins_and_exits
    ]


def conference_life(*, last_exit_lost: bool) -> list[dict]:
    """Three members; one leaves and comes back; the conference completes (its completion
    may overtake the last member's exit, or that exit may be lost)."""
    events = [
        payload("conferenceCreated"),
        *member_events("c-member-1", [("join", "13:16:01.910"), ("exit", "13:18:00.000"), ("join", "13:19:30.000"), ("exit", "13:24:10.000")], "+15550000001"),
        *member_events("c-member-2", [("join", "13:16:20.000"), ("exit", "13:22:00.000")], "+15550000002"),
        *member_events("c-member-3", [("join", "13:17:05.000")], "+15550000003"),
        payload("conferenceRedirect"),
        payload("conferenceCompleted"),
        payload("conferenceRecordingAvailable"),
    ]
    if not last_exit_lost:
        events += member_events("c-member-3", [("exit", "13:24:12.411")], "+15550000003")
    return events


def inbound_voicemail() -> list[dict]:
    """An inbound call to the voicemail route: it records, hangs up, and the recording and
    its transcript are processed afterwards."""
    call = {"callId": INBOUND, "direction": "inbound", "to": "+19195550150"}
    return [
        payload("initiate", **call, eventTime="2019-06-20T15:54:22.300Z"),
        payload("recordComplete", **call),
        payload("disconnect", **call, eventTime="2019-06-20T15:55:55.533Z", tag=None),
        payload("recordingAvailable", **call),
        payload("transcriptionAvailable", **call),
    ]


def outbound_call() -> list[dict]:
    return [
        payload("answer"),
        payload("machineDetectionComplete"),
        payload("gather"),
        payload("dtmf"),
        payload("redirect", tag="changed-by-redirect"),
        payload("disconnect", tag="changed-by-redirect", eventTime="2019-06-20T15:59:55.533Z"),
    ]


def transfer() -> list[dict]:
    return [
        payload("initiate", callId=A_LEG, eventTime="2019-06-20T15:55:50.000Z"),
        payload("transferAnswer"),
        payload("transferDisconnect"),
        payload("transferComplete"),
        payload("disconnect", callId=A_LEG, direction="inbound", eventTime="2019-06-20T15:58:00.000Z", tag=None),
    ]


SCENARIOS = {
    "a call's life with a recording and its transcript": inbound_voicemail,
    "an outbound call's every event": outbound_call,
    "a transfer's two legs": transfer,
    "a conference whose members come and go": lambda: conference_life(last_exit_lost=False),
    "a conference that completes without its last member's exit": lambda: conference_life(last_exit_lost=True),
}

IGNORED = {"id", "created_at", "updated_at", "last_event_at", "last_synced_at", "flow", "route"}


def rows(model) -> list[tuple]:
    """Every row's fields, with a foreign key to a database id read as the natural key."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in IGNORED]
    natural = {"recording_id": lambda obj: obj.recording.recording_id} if model is Transcription else {}
    return sorted(
        tuple(str(natural[name](obj) if name in natural else getattr(obj, name)) for name in fields)
        for obj in model.objects.all()
    )


def mirror() -> dict:
    return {model.__name__: rows(model) for model in (Call, Conference, ConferenceMember, Recording, Transcription)}


def reset() -> None:
    for model in (Transcription, Recording, ConferenceMember, Conference, Call, Event):
        model.objects.all().delete()


@pytest.fixture(autouse=True)
def routes(enqueued_fetches):
    Route.objects.create(name="voicemail", number="+19195550150", flow=Route.Flow.RECORD)
    Route.objects.create(
        name="conference", match=Route.Match.PREFIX, number="+1", flow=Route.Flow.CONFERENCE,
        conference_name="thisConference", record_conference=True,
    )


@st.composite
def deliveries(draw, events: list[dict]) -> list[dict]:
    """The events in a random order, some of them delivered more than once."""
    repeated = draw(st.lists(st.sampled_from(events), max_size=len(events)))
    return draw(st.permutations(events + repeated))


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_with_duplicates_converges_to_the_in_order_state(scenario, data):
    events = SCENARIOS[scenario]()
    reset()
    for body in events:
        deliver(body)
    expected = mirror()

    reset()
    for body in data.draw(deliveries(events)):
        deliver(body)
    assert mirror() == expected


def test_the_in_order_states_are_the_ones_bandwidth_describes():
    for body in conference_life(last_exit_lost=True):
        deliver(body)
    conference = Conference.objects.get(conference_id=CONFERENCE)
    assert conference.state == "completed"
    assert not conference.is_recording
    assert not ConferenceMember.objects.filter(state="joined").exists()
    last = ConferenceMember.objects.get(call_id="c-member-3")
    assert last.left_at == conference.completed_time
    returning = ConferenceMember.objects.get(call_id="c-member-1")
    assert returning.joined_at.isoformat() == "2019-07-31T13:19:30+00:00"
    assert returning.left_at.isoformat() == "2019-07-31T13:24:10+00:00"

    reset()
    for body in outbound_call():
        deliver(body)
    call = Call.objects.get(call_id=OUTBOUND)
    assert (call.state, call.tag, call.machine_detection_result) == ("ended", "changed-by-redirect", "answering-machine")

    reset()
    for body in inbound_voicemail():
        deliver(body)
    call = Call.objects.get(call_id=INBOUND)
    assert call.state == "ended"
    assert call.answer_time.isoformat() == "2019-06-20T15:54:25.432000+00:00"
    assert Recording.objects.get().status == "complete"
    assert Transcription.objects.get().status == "available"
