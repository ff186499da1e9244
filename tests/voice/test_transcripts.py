"""transcriptionAvailable → a task fetches the text and keeps it, once."""

from unittest import mock

import pytest
from celery.exceptions import Retry

from tests.support.bandwidth import API, payload
from tests.voice.conftest import deliver
from voice import bandwidth, transcripts
from voice.models import Transcription
from voice.tasks import fetch_transcription

pytestmark = pytest.mark.django_db

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
RECORDING = "r-115da407-e3d9-4ea7-889f-5f4ad7386a80"
TRANSCRIPTION = f"{API}/calls/{CALL}/recordings/{RECORDING}/transcription"


@pytest.fixture
def announced(enqueued_fetches) -> int:
    deliver(payload("transcriptionAvailable"))
    (pk,) = enqueued_fetches
    return pk


def test_the_text_is_fetched_and_kept_for_search(announced, bandwidth_api):
    bandwidth_api.get(TRANSCRIPTION, json={"transcripts": [{"text": "Please call me back.", "confidence": 0.93}]})
    assert transcripts.fetch(announced)
    transcription = Transcription.objects.get()
    assert transcription.text == "Please call me back."
    assert transcription.confidence == pytest.approx(0.93)
    assert transcription.fetched_at is not None


def test_a_second_run_fetches_nothing(announced, bandwidth_api):
    bandwidth_api.get(TRANSCRIPTION, json={"transcripts": [{"text": "Once.", "confidence": 0.9}]})
    transcripts.fetch(announced)
    transcripts.fetch(announced)
    assert len(bandwidth_api.calls) == 1


def test_a_transient_failure_is_raised_for_the_task_to_retry(announced, bandwidth_api):
    bandwidth_api.get(TRANSCRIPTION, status=503, body="busy")
    with pytest.raises(bandwidth.TransientError):
        transcripts.fetch(announced)
    assert Transcription.objects.get().fetched_at is None


def test_a_permanent_failure_is_written_on_the_transcription(announced, bandwidth_api):
    bandwidth_api.get(TRANSCRIPTION, status=404, json={"type": "validation", "description": "Recording not found", "id": None})
    assert not transcripts.fetch(announced)
    transcription = Transcription.objects.get()
    assert transcription.fetch_error == "Recording not found"
    assert transcription.fetched_at is None


def test_the_task_retries_a_transient_failure(announced, bandwidth_api, monkeypatch):
    bandwidth_api.get(TRANSCRIPTION, status=429, headers={"Retry-After": "7"}, json={"description": "slow down"})
    countdowns = []

    def retry(**kwargs):
        countdowns.append(kwargs["countdown"])
        return Retry()

    monkeypatch.setattr(fetch_transcription, "retry", retry)
    with pytest.raises(Retry):
        fetch_transcription.run(announced)
    assert countdowns == [7.0]


def test_a_transcript_not_fetched_during_an_outage_is_asked_for_again_later(monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from voice import tasks
    from voice.models import Recording, Transcription, TranscriptionStatus

    recording = Recording.objects.create(recording_id="r-1", call_id="c-1", status="complete")
    transcription = Transcription.objects.create(recording=recording, status=TranscriptionStatus.AVAILABLE)
    enqueued = []
    monkeypatch.setattr(tasks.fetch_transcription, "delay_on_commit", lambda pk: enqueued.append(pk))

    assert transcripts.refetch_overdue() == 0  # just tried: not yet
    Transcription.objects.filter(pk=transcription.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    assert transcripts.refetch_overdue() == 1
    assert enqueued == [transcription.pk]
    assert transcripts.refetch_overdue() == 0  # marked as tried again
    Transcription.objects.filter(pk=transcription.pk).update(updated_at=timezone.now() - timedelta(minutes=11), fetch_error="Not Found")
    assert transcripts.refetch_overdue() == 0  # Bandwidth refused it: final


def test_a_fetch_that_runs_out_of_retries_is_postponed_not_lost(monkeypatch):
    from voice.models import Recording, TranscriptionStatus

    recording = Recording.objects.create(recording_id="r-2", call_id="c-2", status="complete")
    transcription = Transcription.objects.create(recording=recording, status=TranscriptionStatus.AVAILABLE)
    monkeypatch.setattr(transcripts, "fetch", lambda pk: (_ for _ in ()).throw(bandwidth.TransientError("down", status=503)))
    fetch_transcription.push_request(retries=fetch_transcription.max_retries)
    try:
        fetch_transcription.run(transcription.pk)  # no Retry raised: given up for now
    finally:
        fetch_transcription.pop_request()
    transcription.refresh_from_db()
    assert transcription.fetched_at is None and transcription.fetch_error == ""


def test_a_transcript_whose_fetch_cannot_be_handed_over_is_still_answered_and_stored(client, django_capture_on_commit_callbacks):
    """Redis down when transcriptionAvailable comes: the event is applied and answered 204;
    the fetch is handed over later (reconciliation asks for overdue transcripts)."""
    from tests.support.bandwidth import post_event
    from voice.models import Event

    with mock.patch("voice.tasks.fetch_transcription.apply_async", side_effect=ConnectionError("Redis is down")) as publish:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_event(client, payload("transcriptionAvailable"))
    assert response.status_code == 204
    assert publish.call_count == 1
    assert Event.objects.get().outcome == Event.Outcome.APPLIED
    assert Transcription.objects.get().wants_text
