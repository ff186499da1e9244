"""The webhooks testers sent that took the console down (or wrote what no page could show):
each is now refused with a reason, or stored as what it can mean, and every page still
answers. `make test` runs this module on PostgreSQL too, where most of them failed."""

import json

import pytest

from tests.support.bandwidth import payload, post_event, webhook_auth
from tests.support.pages import failing_pages
from voice.models import Call, Conference, ConferenceMember, Event, Recording, Transcription

pytestmark = [pytest.mark.django_db, pytest.mark.boundary]


def mirror_rows() -> int:
    return sum(model.objects.count() for model in (Call, Conference, ConferenceMember, Recording, Transcription))


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw"))
    return client


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


REFUSED = [
    (payload("dtmf", answerTime="9999-12-31T23:59:59-14:00"), "answerTime"),
    (payload("dtmf", eventTime="0001-01-01T00:00:00+14:00"), "eventTime"),
    (payload("dtmf", eventTime="1999-12-31T23:59:59Z"), "eventTime"),
    (payload("initiate", callId=None), "callId"),
    (payload("dtmf", callId="a/b"), "callId"),
    (payload("dtmf", callId=""), "callId"),
    (payload("recordingAvailable", recordingId=None), "recordingId"),
    (payload("conferenceMemberJoin", conferenceId="conf/1"), "conferenceId"),
    (payload("answer", eventType="x" * 65), "eventType"),
    (payload("answer", **{"from": "+1" * 33}), "from"),
    (payload("answer", to="+1" * 65), "to"),
    (payload("answer", accountId="9" * 33), "accountId"),
    (payload("answer", applicationId="a" * 65), "applicationId"),
    (payload("conferenceCreated", name="n" * 101), "name"),
    (payload("recordingAvailable", duration="PT99999999999999999999S"), "duration"),
    (payload("recordingAvailable", duration="-PT5S"), "duration"),
    (payload("answer", tag="nul\u0000inside"), "NUL"),
    (payload("answer", brandNewField="nul\u0000inside"), "NUL"),
    (payload("answer", **{"odd\u0000key": 1}), "NUL"),
    (payload("transcriptionAvailable", transcription={"status": "available", "url": "x\u0000"}), "NUL"),
]


@pytest.mark.parametrize(("body", "reason"), REFUSED)
def test_a_webhook_no_bandwidth_could_send_is_refused_with_its_reason(admin_client, body, reason):
    response = post_event(admin_client, body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert mirror_rows() == 0
    assert Event.objects.get().outcome == Event.Outcome.REFUSED
    assert failing_pages(admin_client) == {}


@pytest.mark.parametrize(
    "body",
    [
        # JSON that json.loads takes but no store keeps: NaN, Infinity, a number beyond
        # a float, a lone surrogate, a NUL escape, nesting thousands deep.
        json.dumps(payload("answer")).replace('"tag": "example-tag"', '"tag": NaN'),
        json.dumps(payload("answer")).replace('"tag": "example-tag"', '"extra": Infinity'),
        json.dumps(payload("answer")).replace('"tag": "example-tag"', '"extra": -Infinity'),
        json.dumps(payload("answer")).replace('"tag": "example-tag"', '"extra": 1e400'),
        json.dumps(payload("answer")).replace('"tag": "example-tag"', '"tag": "\\ud800"'),
        json.dumps(payload("answer")).replace('"tag": "example-tag"', '"extra": "\\udfff and more"'),
        json.dumps(payload("answer")).replace('"tag": "example-tag"', '"tag": "\\u0000"'),
        json.dumps(payload("answer")).replace('"tag": "example-tag"', f'"extra": {nested(5000)}'),
        json.dumps(payload("answer")).replace('"tag": "example-tag"', f'"extra": {nested(20)}'),
    ],
)
def test_json_no_store_can_keep_is_refused(admin_client, body):
    response = post_event(admin_client, body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert mirror_rows() == 0
    assert Event.objects.get().outcome == Event.Outcome.REFUSED
    assert failing_pages(admin_client) == {}


@pytest.mark.parametrize(
    ("body", "column", "stored"),
    [
        # Bandwidth adds values to its enumerations: a new one is "unknown", the raw text
        # stays in the stored payload.
        (payload("answer", direction="sideways!"), lambda: Call.objects.get().direction, "unknown"),
        (payload("disconnect", cause="c" * 65), lambda: Call.objects.get().disconnect_cause, "unknown"),
        (payload("recordingAvailable", fileFormat="ogg-vorbis"), lambda: Recording.objects.get().file_format, "unknown"),
        (
            payload("machineDetectionComplete", machineDetectionResult={"value": "v" * 33, "duration": "PT1S"}),
            lambda: Call.objects.get().machine_detection_result,
            "unknown",
        ),
        (
            payload("transcriptionAvailable", transcription={"status": "zzz"}),
            lambda: Transcription.objects.get().status,
            "unknown",
        ),
        (
            payload("transcriptionAvailable", transcription={"status": "s" * 25}),
            lambda: Transcription.objects.get().status,
            "unknown",
        ),
    ],
)
def test_a_value_bandwidth_added_to_an_enumeration_is_stored_as_unknown(admin_client, body, column, stored):
    response = post_event(admin_client, body)
    assert response.status_code in (200, 204)
    assert column() == stored
    assert Event.objects.get().payload == body
    assert failing_pages(admin_client) == {}


def test_a_conference_recording_then_a_call_recording_of_the_same_id_are_both_applied(admin_client):
    assert post_event(admin_client, payload("conferenceRecordingAvailable", recordingId="r-1")).status_code == 204
    assert post_event(admin_client, payload("recordingAvailable", recordingId="r-1")).status_code == 204
    assert Recording.objects.get().call_id == payload("recordingAvailable")["callId"]
    assert failing_pages(admin_client) == {}


def test_a_refused_webhook_leaves_the_next_legitimate_one_for_its_call_working(admin_client):
    post_event(admin_client, payload("dtmf", answerTime="9999-12-31T23:59:59-14:00"))
    assert post_event(admin_client, payload("answer")).status_code == 200
    assert post_event(admin_client, payload("disconnect")).status_code == 204
    assert Call.objects.get().state == "ended"
    assert failing_pages(admin_client) == {}


def test_a_get_webhook_with_a_nul_in_its_query_is_refused(admin_client):
    body = payload("disconnect")
    response = admin_client.get(
        "/webhooks/voice",
        {**body, "cause": "hangup\u0000"},
        headers={"authorization": webhook_auth()},
    )
    assert response.status_code == 400
    assert mirror_rows() == 0
