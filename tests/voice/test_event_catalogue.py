"""Every event type Bandwidth documents, from its documented payload: applied, and answered
as Bandwidth expects (BXML for the synchronous ones, 204 for the rest)."""

from xml.etree import ElementTree

import pytest

from tests.support.bandwidth import payload
from tests.voice.conftest import deliver
from voice import intake
from voice.models import (
    Call,
    CallState,
    Conference,
    ConferenceMember,
    ConferenceState,
    Event,
    MemberState,
    Recording,
    RecordingStatus,
    Route,
    Transcription,
    TranscriptionStatus,
)

pytestmark = pytest.mark.django_db

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
A_LEG = "c-2a913f94-6a486f3a-3cae-4034-bcc3-f0c9fa77ca2f"
B_LEG = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"
CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
RECORDING = "r-115da407-e3d9-4ea7-889f-5f4ad7386a80"

# https://dev.bandwidth.com/docs/voice/webhooks: which events expect BXML.
BXML_EVENTS = [
    "initiate",
    "answer",
    "redirect",
    "gather",
    "recordComplete",
    "recordingComplete",
    "transferAnswer",
    "transferComplete",
    "bridgeComplete",
    "bridgeTargetComplete",
]
ASYNC_EVENTS = [
    "disconnect",
    "dtmf",
    "machineDetectionComplete",
    "recordingAvailable",
    "transcriptionAvailable",
    "transferDisconnect",
    "conferenceCompleted",
    "conferenceRecordingAvailable",
    "mediaStreamStarted",
    "mediaStreamRejected",
    "mediaStreamStopped",
]
# These may be answered with conference BXML or with 204.
CONFERENCE_EVENTS = ["conferenceCreated", "conferenceMemberJoin", "conferenceMemberExit", "conferenceRedirect"]


def bxml_verbs(answer: intake.Answer) -> list[str]:
    assert answer.status == 200
    assert answer.content_type.startswith("application/xml")
    root = ElementTree.fromstring(answer.body)
    assert root.tag == "Response"
    return [element.tag for element in root]


def test_the_catalogue_covers_every_documented_event_type():
    assert set(intake.HANDLERS) == set(BXML_EVENTS + ASYNC_EVENTS + CONFERENCE_EVENTS)


@pytest.mark.parametrize("name", BXML_EVENTS)
def test_bxml_events_are_answered_with_a_response_document(name, enqueued_fetches):
    bxml_verbs(deliver(payload(name)))
    assert Event.objects.get().outcome == Event.Outcome.APPLIED


@pytest.mark.parametrize("name", ASYNC_EVENTS)
def test_async_events_are_answered_204(name, enqueued_fetches):
    answer = deliver(payload(name))
    assert answer.status == 204 and answer.body == ""
    assert Event.objects.get().outcome == Event.Outcome.APPLIED


@pytest.mark.parametrize("name", CONFERENCE_EVENTS)
def test_conference_events_without_anything_to_do_are_answered_204(name):
    answer = deliver(payload(name))
    assert answer.status == 204
    assert Event.objects.get().outcome == Event.Outcome.APPLIED


def test_redirect_runs_the_calls_flow_again_on_an_answered_call():
    assert bxml_verbs(deliver(payload("redirect"))) == ["SpeakSentence", "Pause", "Hangup"]
    assert Call.objects.get(call_id=CALL).state == CallState.ANSWERED


def test_gather_on_a_call_no_flow_gathers_from_hangs_up():
    assert bxml_verbs(deliver(payload("gather"))) == ["Hangup"]
    call = Call.objects.get(call_id=CALL)
    assert call.state == CallState.ANSWERED
    assert call.answer_time.isoformat() == "2019-06-20T15:54:25.432000+00:00"


def test_dtmf_marks_the_call_answered_and_keeps_its_tag():
    deliver(payload("dtmf"))
    call = Call.objects.get(call_id=CALL)
    assert call.state == CallState.ANSWERED
    assert call.tag == "example-tag"


@pytest.mark.parametrize("spelling", ["recordComplete", "recordingComplete"])
def test_record_complete_in_either_spelling_records_a_recording_not_yet_downloadable(spelling):
    verbs = bxml_verbs(deliver(payload(spelling)))
    assert verbs == ["SpeakSentence", "Hangup"]
    recording = Recording.objects.get(recording_id=RECORDING)
    assert recording.status == RecordingStatus.PROCESSING
    assert recording.call_id == CALL
    call = Call.objects.get(call_id=CALL)
    # startTime in a recording event is the recording's, not the call's.
    assert call.start_time is None
    assert call.state == CallState.ANSWERED


def test_recording_available_stores_the_metadata_only():
    deliver(payload("recordingAvailable"))
    recording = Recording.objects.get(recording_id=RECORDING)
    assert recording.status == RecordingStatus.COMPLETE
    assert recording.duration_seconds == pytest.approx(20.056)
    assert recording.channels == 1
    assert recording.file_format == "wav"
    assert recording.media_url.endswith(f"/recordings/{RECORDING}/media")
    assert recording.start_time.isoformat() == "2019-06-20T15:54:30.105000+00:00"
    assert recording.conference is None
    assert not Call.objects.exists()


def test_transcription_available_records_it_and_enqueues_the_text_fetch(enqueued_fetches):
    deliver(payload("transcriptionAvailable"))
    transcription = Transcription.objects.get(recording__recording_id=RECORDING)
    assert transcription.status == TranscriptionStatus.AVAILABLE
    assert transcription.transcription_id == "t-1a68a908-544f-48ae-b30d-d1747dca3723"
    assert transcription.completed_time.isoformat() == "2019-06-20T15:56:30.883000+00:00"
    assert transcription.fetched_at is None
    assert enqueued_fetches == [transcription.pk]


def test_a_failed_transcription_enqueues_nothing(enqueued_fetches):
    body = payload("transcriptionAvailable")
    body["transcription"]["status"] = "error"
    deliver(body)
    assert Transcription.objects.get().status == TranscriptionStatus.ERROR
    assert enqueued_fetches == []


def test_machine_detection_result_is_kept_on_the_call():
    deliver(payload("machineDetectionComplete"))
    assert Call.objects.get(call_id=CALL).machine_detection_result == "answering-machine"


def test_transfer_answer_mirrors_the_new_leg_and_bridges_it_at_once():
    assert bxml_verbs(deliver(payload("transferAnswer"))) == []
    leg = Call.objects.get(call_id=B_LEG)
    assert leg.state == CallState.ANSWERED
    assert leg.parent_call_id == A_LEG
    assert leg.direction == "outbound"


def test_transfer_complete_keeps_the_caller_up_and_does_not_take_the_transfers_cause():
    assert bxml_verbs(deliver(payload("transferComplete"))) == ["Hangup"]
    caller = Call.objects.get(call_id=A_LEG)
    assert caller.state == CallState.ANSWERED
    assert caller.disconnect_cause == ""


def test_transfer_disconnect_ends_the_transferred_leg():
    deliver(payload("transferDisconnect"))
    leg = Call.objects.get(call_id=B_LEG)
    assert leg.state == CallState.ENDED
    assert leg.disconnect_cause == "hangup"
    assert leg.end_time.isoformat() == "2019-06-20T15:57:40.400000+00:00"


@pytest.mark.parametrize(("name", "call_id"), [("bridgeComplete", CALL), ("bridgeTargetComplete", B_LEG)])
def test_bridge_events_hang_up_the_call_left_alone(name, call_id):
    assert bxml_verbs(deliver(payload(name))) == ["Hangup"]
    assert Call.objects.get(call_id=call_id).state == CallState.ANSWERED


def test_conference_created_mirrors_the_conference():
    deliver(payload("conferenceCreated"))
    conference = Conference.objects.get(conference_id=CONFERENCE)
    assert conference.state == ConferenceState.ACTIVE
    assert conference.name == "thisConference"
    assert conference.tag == "conferenceTag"
    assert conference.created_time.isoformat() == "2019-07-31T13:16:01.324000+00:00"
    assert not conference.is_recording


def test_conference_created_starts_recording_when_its_route_says_so():
    Route.objects.create(
        name="rec", number="+1", match=Route.Match.PREFIX, flow=Route.Flow.CONFERENCE,
        conference_name="thisConference", record_conference=True,
    )
    answer = deliver(payload("conferenceCreated"))
    assert bxml_verbs(answer) == ["StartRecording"]
    assert 'recordingAvailableUrl="http://' in answer.body
    assert Conference.objects.get().is_recording


def test_member_join_puts_the_member_in_the_conference():
    deliver(payload("conferenceMemberJoin"))
    member = ConferenceMember.objects.get()
    assert member.conference_id == CONFERENCE
    assert member.call_id == B_LEG
    assert member.state == MemberState.JOINED
    assert (member.from_number, member.to_number) == ("+15559998765", "+15551112345")
    assert member.joined_at.isoformat() == "2019-07-31T13:16:01.910000+00:00"
    assert Conference.objects.get().state == ConferenceState.ACTIVE


def test_member_exit_takes_the_member_out():
    deliver(payload("conferenceMemberJoin"))
    deliver(payload("conferenceMemberExit"))
    member = ConferenceMember.objects.get()
    assert member.state == MemberState.LEFT
    assert member.left_at.isoformat() == "2019-07-31T13:24:12.411000+00:00"


def test_conference_events_never_change_a_calls_tag():
    deliver(payload("initiate", callId=B_LEG, tag="the-calls-tag"))
    deliver(payload("conferenceMemberJoin"))
    assert Call.objects.get(call_id=B_LEG).tag == "the-calls-tag"


def test_conference_completed_ends_the_conference():
    deliver(payload("conferenceCompleted"))
    conference = Conference.objects.get()
    assert conference.state == ConferenceState.COMPLETED
    assert conference.completed_time.isoformat() == "2019-07-31T13:24:12.530000+00:00"


def test_conference_recording_available_is_a_recording_of_the_conference():
    deliver(payload("conferenceRecordingAvailable"))
    recording = Recording.objects.get()
    assert recording.conference_id == CONFERENCE
    assert recording.call_id is None
    assert recording.status == RecordingStatus.COMPLETE
    assert recording.duration_seconds == pytest.approx(490.52)
    assert recording.name == "thisConference"


def test_a_recording_event_arriving_after_the_call_ended_leaves_the_call_ended():
    deliver(payload("disconnect"))
    deliver(payload("recordingAvailable"))
    assert Call.objects.get(call_id=CALL).state == CallState.ENDED
    assert Recording.objects.get().call.call_id == CALL
