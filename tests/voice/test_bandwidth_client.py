"""voice/bandwidth.py: what each of Bandwidth's answers becomes."""

from datetime import datetime, timezone

import pytest
import requests
import responses

from voice import bandwidth
from voice.models import CallState
from tests.support.bandwidth import API

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


@pytest.fixture
def client():
    return bandwidth.BandwidthClient(
        api_url="https://bandwidth.test/api/v2", account_id="9900000", username="u", password="p"
    )


def error_body(description: str) -> dict:
    return {"type": "validation", "description": description, "id": None}


def test_hang_up_posts_state_completed(client, bandwidth_api):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=200, body="")
    client.hang_up(CALL)
    (call,) = bandwidth_api.calls
    assert call.request.body == b'{"state": "completed"}'
    assert call.request.headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize("status", [404, 409, 400, 403])
def test_client_errors_are_permanent_and_carry_the_status_and_text(client, bandwidth_api, status):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=status, json=error_body(f"Call [{CALL}] says {status}"))
    with pytest.raises(bandwidth.PermanentError) as raised:
        client.hang_up(CALL)
    assert raised.value.status == status
    assert str(raised.value) == f"Call [{CALL}] says {status}"


def test_429_is_transient_with_its_retry_after(client, bandwidth_api):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=429, json=error_body("slow down"), headers={"Retry-After": "7"})
    with pytest.raises(bandwidth.TransientError) as raised:
        client.hang_up(CALL)
    assert raised.value.status == 429
    assert raised.value.retry_after == 7.0


def test_retry_after_as_an_http_date():
    assert bandwidth.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert bandwidth.retry_after_seconds("2.5") == 2.5
    assert bandwidth.retry_after_seconds("soon") is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(client, bandwidth_api, status):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=status, body="oops")
    with pytest.raises(bandwidth.TransientError) as raised:
        client.hang_up(CALL)
    assert raised.value.status == status
    assert raised.value.retry_after is None


def test_no_connection_is_transient(client, bandwidth_api):
    bandwidth_api.post(f"{API}/calls/{CALL}", body=requests.ConnectionError("refused"))
    with pytest.raises(bandwidth.TransientError):
        client.hang_up(CALL)


def test_a_timeout_creating_a_call_is_an_unknown_outcome_not_a_retry(client, bandwidth_api):
    bandwidth_api.post(f"{API}/calls", body=requests.ReadTimeout("slow"))
    with pytest.raises(bandwidth.OutcomeUnknown):
        client.create_call(
            to="+15553334444",
            from_number="+15551112222",
            answer_url="https://switchboard.test/webhooks/voice",
            disconnect_url="https://switchboard.test/webhooks/voice",
            application_id="app",
        )


def test_a_timeout_of_an_idempotent_request_is_transient(client, bandwidth_api):
    bandwidth_api.get(f"{API}/calls/{CALL}", body=requests.ReadTimeout("slow"))
    with pytest.raises(bandwidth.TransientError):
        client.get_call(CALL)


def test_get_call_reads_both_final_state_names(client, bandwidth_api):
    for state in ("completed", "disconnected"):
        bandwidth_api.get(
            f"{API}/calls/{CALL}",
            json={"callId": CALL, "state": state, "startTime": "2024-01-01T10:00:00.000Z", "direction": "inbound"},
        )
        info = client.get_call(CALL)
        assert CallState.from_bandwidth(info.state) == CallState.ENDED
        assert info.start_time.year == 2024
        bandwidth_api.reset()


def test_create_call_sends_credentials_and_reads_the_call_id(client, bandwidth_api):
    bandwidth_api.post(f"{API}/calls", status=201, json={"callId": CALL, "callUrl": f"{API}/calls/{CALL}"})
    created = client.create_call(
        to="+15553334444",
        from_number="+15551112222",
        answer_url="https://switchboard.test/webhooks/voice",
        disconnect_url="https://switchboard.test/webhooks/voice",
        application_id="app",
        username="hook",
        password="secret",
    )
    assert created.call_id == CALL
    sent = bandwidth_api.calls[0].request
    assert b'"username": "hook"' in sent.body and b'"from": "+15551112222"' in sent.body


def call_state(call_id: str, state: str = "answered", **fields) -> dict:
    return {
        "callId": call_id,
        "accountId": "9900000",
        "applicationId": "04e88489-df02-4e34-a0ee-27a91849555f",
        "from": "+15551112222",
        "to": "+19195550100",
        "direction": "inbound",
        "state": state,
        "startTime": "2024-01-01T10:00:00.000Z",
        "answerTime": "2024-01-01T10:00:01.000Z",
        **fields,
    }


def test_list_calls_follows_every_next_page(client, bandwidth_api):
    following = f"{API}/calls?pageToken=abc"
    bandwidth_api.get(
        f"{API}/calls", json=[call_state("c-1")], headers={"Link": f'<{following}>; rel="next"'},
        match=[responses.matchers.query_param_matcher({"pageSize": "1000", "minStartTime": "2024-01-01T09:00:00.000Z"})],
    )
    bandwidth_api.get(following, json=[call_state("c-2", "disconnected")], match=[responses.matchers.query_param_matcher({"pageToken": "abc"})])
    calls = client.list_calls(min_start_time=datetime(2024, 1, 1, 9, tzinfo=timezone.utc))
    assert [(c.call_id, c.state) for c in calls] == [("c-1", "answered"), ("c-2", "disconnected")]


def test_get_conference_reads_its_active_members(client, bandwidth_api):
    bandwidth_api.get(
        f"{API}/conferences/conf-1",
        json={
            "id": "conf-1",
            "name": "sales-floor",
            "createdTime": "2024-01-01T10:00:00Z",
            "completedTime": None,
            "activeMembers": [
                {"callId": "c-1", "conferenceId": "conf-1", "mute": True, "hold": False, "callIdsToCoach": None},
                {"callId": "c-2", "conferenceId": "conf-1", "mute": False, "hold": True, "callIdsToCoach": ["c-1"]},
            ],
        },
    )
    conference = client.get_conference("conf-1")
    assert not conference.is_final
    assert conference.active_members == [
        bandwidth.MemberInfo(call_id="c-1", mute=True, hold=False, call_ids_to_coach=[]),
        bandwidth.MemberInfo(call_id="c-2", mute=False, hold=True, call_ids_to_coach=["c-1"]),
    ]


def test_a_listed_conference_has_no_member_list(client, bandwidth_api):
    bandwidth_api.get(f"{API}/conferences", json=[{"id": "conf-1", "name": "x", "completedTime": "2024-01-01T11:00:00Z"}])
    (conference,) = client.list_conferences()
    assert conference.active_members is None
    assert conference.is_final


TRANSCRIPTION = f"{API}/calls/{CALL}/recordings/r-1/transcription"


def test_a_transcript_is_read_from_its_transcripts(client, bandwidth_api):
    bandwidth_api.get(
        TRANSCRIPTION,
        json={"transcripts": [{"text": "Hello, I am calling about", "confidence": 0.9}, {"text": "my order.", "confidence": 0.7}]},
    )
    transcript = client.get_transcription(CALL, "r-1")
    assert transcript.text == "Hello, I am calling about\nmy order."
    assert transcript.confidence == pytest.approx(0.8)


def test_a_transcript_given_as_metadata_is_fetched_from_its_url(client, bandwidth_api):
    result = f"{API}/calls/{CALL}/recordings/r-1/transcription/result"
    bandwidth_api.get(TRANSCRIPTION, json={"id": "t-1", "status": "available", "url": result})
    bandwidth_api.get(result, json={"transcripts": [{"text": "Call me back.", "confidence": 0.95}]})
    assert client.get_transcription(CALL, "r-1") == bandwidth.Transcript("Call me back.", 0.95)


def test_a_transcript_url_on_another_host_is_never_given_our_credentials(client, bandwidth_api):
    bandwidth_api.get(TRANSCRIPTION, json={"id": "t-1", "status": "available", "url": "https://elsewhere.example/t-1"})
    with pytest.raises(bandwidth.PermanentError):
        client.get_transcription(CALL, "r-1")
    assert len(bandwidth_api.calls) == 1


def test_a_next_page_on_another_host_never_gets_the_credentials(client, bandwidth_api):
    bandwidth_api.get(
        f"{API}/calls", json=[], headers={"Link": '<https://attacker.example/steal?page=2>; rel="next"'}
    )
    with pytest.raises(bandwidth.PermanentError) as raised:
        client.list_calls()
    assert "attacker.example" in str(raised.value)
    assert all("attacker" not in call.request.url for call in bandwidth_api.calls)


def test_an_answer_cut_short_is_transient_for_a_read(client, bandwidth_api):
    bandwidth_api.get(f"{API}/calls/{CALL}", body=requests.exceptions.ChunkedEncodingError("cut"))
    with pytest.raises(bandwidth.TransientError):
        client.get_call(CALL)
