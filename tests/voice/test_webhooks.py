"""/webhooks/voice: authentication, validation, GET webhooks, nothing written on refusal."""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from voice.models import Call, Conference, ConferenceMember, Event, Recording, Transcription
from tests.support.bandwidth import payload, post_event, webhook_auth

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    """No mirror row, and no event but refusals."""
    return not any(
        rows.exists()
        for rows in (
            Event.objects.exclude(outcome=Event.Outcome.REFUSED),
            *(model.objects.all() for model in (Call, Conference, ConferenceMember, Recording, Transcription)),
        )
    )


@pytest.mark.parametrize(
    "auth",
    [None, webhook_auth(password="wrong"), webhook_auth(username="someone"), "Basic not-base64!", "Bearer token"],
)
def test_bad_credentials_get_401_with_a_challenge_and_write_nothing(client, auth):
    headers = {"authorization": auth} if auth else {}
    response = client.post("/webhooks/voice", data=json.dumps(payload("answer")), content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert nothing_written()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"eventTime": "2024-01-01T00:00:00Z"}), "eventType"),
        (json.dumps(payload("answer", eventTime=None)), "eventTime"),
        (json.dumps(payload("answer", eventTime="yesterday")), "ISO 8601"),
        (json.dumps(payload("answer", answerTime=12)), "answerTime"),
        (json.dumps(payload("answer", callId=["c-1"])), "callId"),
        (json.dumps(payload("answer", tag="x" * 70_000)), "larger than"),
        (json.dumps(payload("answer", eventType=7)), "eventType"),
        (json.dumps(payload("answer", eventTime="2019-06-20T25:61:00Z")), "eventTime"),
        (json.dumps(payload("disconnect", endTime="soon")), "endTime"),
        (json.dumps(payload("conferenceMemberJoin", conferenceId={"id": 1})), "conferenceId"),
        (json.dumps(payload("conferenceMemberJoin", conferenceId="conf-" + "x" * 200)), "conferenceId: an id has at most 100 characters"),
        (json.dumps(payload("conferenceCreated", name=["a"])), "name"),
        (json.dumps(payload("recordingAvailable", recordingId=5)), "recordingId"),
        (json.dumps(payload("recordingAvailable", duration="20 seconds")), "duration"),
        (json.dumps(payload("recordingAvailable", duration=20.5)), "duration"),
        (json.dumps(payload("recordingAvailable", channels="two")), "channels"),
        (json.dumps(payload("recordingAvailable", channels=True)), "channels"),
        (json.dumps(payload("recordingAvailable", mediaUrl=False)), "mediaUrl"),
        (json.dumps(payload("transcriptionAvailable", transcription="available")), "transcription: Input should be a valid dictionary"),
        (json.dumps(payload("transcriptionAvailable", transcription={"status": 1})), "transcription.status"),
        (json.dumps(payload("transcriptionAvailable", transcription={"completedTime": "later"})), "transcription.completedTime"),
        (json.dumps(payload("machineDetectionComplete", machineDetectionResult=["human"])), "machineDetectionResult"),
        (json.dumps(payload("transferAnswer", parentCallId=12)), "parentCallId"),
    ],
)
def test_malformed_input_gets_400_with_a_reason_and_writes_nothing(client, body, reason):
    response = post_event(client, body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert nothing_written()


def test_a_refusal_is_noted_in_the_event_log_with_its_reason(client):
    post_event(client, payload("dtmf", callId="a/b"))
    refusal = Event.objects.get(outcome=Event.Outcome.REFUSED)
    assert refusal.event_type == "dtmf"
    assert refusal.answer_status == 400
    assert refusal.payload["reason"] == "callId: an id has letters, digits and dashes only"
    assert '"a/b"' in refusal.payload["received"]


def test_webhooks_need_no_csrf_token():
    response = post_event(Client(enforce_csrf_checks=True), payload("answer"))
    assert response.status_code == 200


def test_get_webhook_with_fields_in_the_query_string_works_as_post(client):
    query = urlencode({k: v for k, v in payload("disconnect").items()})
    response = client.get(f"/webhooks/voice?{query}", headers={"authorization": webhook_auth()})
    assert response.status_code == 204
    assert Call.objects.get().disconnect_cause == "hangup"


def test_bxml_events_are_answered_as_xml(client):
    response = post_event(client, payload("answer"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert b"<SpeakSentence" in response.content


def test_unknown_fields_are_tolerated(client):
    response = post_event(client, payload("answer", brandNewField={"nested": True}))
    assert response.status_code == 200
    assert Event.objects.get().payload["brandNewField"] == {"nested": True}


def test_the_answer_time_is_recorded(client):
    post_event(client, payload("answer"))
    event = Event.objects.get()
    assert event.answer_ms is not None and event.answer_ms >= 0


def test_a_get_recording_webhook_reads_its_numbers_from_strings(client):
    query = urlencode(payload("recordingAvailable"))
    response = client.get(f"/webhooks/voice?{query}", headers={"authorization": webhook_auth()})
    assert response.status_code == 204
    recording = Recording.objects.get()
    assert recording.channels == 1
    assert recording.duration_seconds == 20.056


def test_a_get_transcription_webhook_without_its_nested_object_still_counts(client):
    body = payload("transcriptionAvailable", transcription=None)
    response = client.get(f"/webhooks/voice?{urlencode(body)}", headers={"authorization": webhook_auth()})
    assert response.status_code == 204
    assert Transcription.objects.get().status == "available"


def test_a_conference_member_webhook_over_get_works_as_post(client):
    query = urlencode(payload("conferenceMemberJoin"))
    response = client.get(f"/webhooks/voice?{query}", headers={"authorization": webhook_auth()})
    assert response.status_code == 204
    assert ConferenceMember.objects.get().state == "joined"


def test_a_duplicate_conference_event_changes_nothing_and_gets_the_same_answer(client):
    first = post_event(client, payload("conferenceMemberJoin"))
    second = post_event(client, payload("conferenceMemberJoin", to="+19999999999"))
    assert first.status_code == second.status_code == 204
    assert ConferenceMember.objects.get().to_number == "+15551112345"
    assert Event.objects.count() == 1


def test_two_members_joining_at_the_same_moment_are_two_events(client):
    post_event(client, payload("conferenceMemberJoin"))
    post_event(client, payload("conferenceMemberJoin", callId="c-another-member"))
    assert Event.objects.count() == 2
    assert ConferenceMember.objects.count() == 2
