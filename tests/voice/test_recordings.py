"""Recordings in voice: the waveform read from a WAV as it downloads, the archive, the
actions at Bandwidth (transcribe, delete, archive), automatic archiving, and importing what
webhooks missed from listAccountRecordings."""

import json
from datetime import datetime, timedelta, timezone as dt_timezone
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from tests.support.bandwidth import API, payload
from tests.support.recordings import media_url, recording, serve_media, wav_bytes
from tests.voice.conftest import deliver
from voice import actions, archive, bandwidth, reconcile, waveform
from voice.models import (
    Action,
    ActionKind,
    ActionStatus,
    Recording,
    RecordingStatus,
    Transcription,
    TranscriptionStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def perform(kind: str, target: str = "r-0001", call_id: str = "c-0001") -> Action:
    with mock.patch("voice.tasks.perform_action"):
        action, _ = actions.request(kind, target=target, call_id=call_id)
    actions.perform(action.pk)
    action.refresh_from_db()
    return action


# The waveform


def test_peaks_follow_the_loudness_of_the_audio():
    peaks = waveform.WavPeaks(count=10)
    peaks.feed(wav_bytes(2.0, loud_until=1.0))
    levels = peaks.result()
    assert len(levels) == 10
    assert min(levels[:5]) > 85 and max(levels[5:]) < 5


@pytest.mark.parametrize("chunk", [1, 7, 44, 1000, 65536])
def test_peaks_are_the_same_however_the_download_is_cut(chunk):
    data = wav_bytes(1.3, channels=2, loud_until=0.4)
    whole = waveform.WavPeaks(count=50)
    whole.feed(data)
    pieces = waveform.WavPeaks(count=50)
    for start in range(0, len(data), chunk):
        pieces.feed(data[start : start + chunk])
    assert pieces.result() == whole.result()
    assert len(whole.result()) == 50


def test_peaks_of_what_is_not_a_pcm_wav_are_none():
    peaks = waveform.WavPeaks()
    peaks.feed(b"ID3\x03\x00" + b"\x00" * 100)
    assert peaks.result() is None and peaks.failed


def test_the_waveform_is_computed_from_bandwidths_media_and_kept(bandwidth_api):
    made = recording()
    serve_media(bandwidth_api, made, wav_bytes(1.0))
    assert waveform.compute(made.pk)
    made.refresh_from_db()
    assert len(made.peaks) == waveform.PEAK_COUNT
    assert not waveform.compute(made.pk)
    assert len(bandwidth_api.calls) == 1


def test_an_mp3_gets_an_empty_waveform(bandwidth_api):
    made = recording(file_format="mp3")
    serve_media(bandwidth_api, made, b"ID3" + b"\x00" * 50, content_type="audio/mpeg")
    waveform.compute(made.pk)
    made.refresh_from_db()
    assert made.peaks == []


# The archive


def test_archiving_copies_the_media_and_computes_the_waveform_on_the_way(bandwidth_api):
    data = wav_bytes(1.0)
    made = recording()
    serve_media(bandwidth_api, made, data)
    action = perform(ActionKind.ARCHIVE_RECORDING)
    assert action.status == ActionStatus.DONE, action.detail
    made.refresh_from_db()
    assert made.is_archived and made.archive_size == len(data) and made.archived_at
    assert made.archive_name.startswith(f"recordings/{made.start_time:%Y/%m}/r-0001-") and made.archive_name.endswith(".wav")
    with default_storage.open(made.archive_name) as archived:
        assert archived.read() == data
    assert len(made.peaks) == waveform.PEAK_COUNT


def test_a_download_that_breaks_off_leaves_no_file(bandwidth_api, storage):
    made = recording()
    serve_media(bandwidth_api, made, wav_bytes(1.0))

    def broken(self, size=65536):
        yield b"RIFF"
        raise bandwidth.TransientError("The download from Bandwidth broke off")

    with mock.patch.object(bandwidth.Media, "chunks", broken), pytest.raises(bandwidth.TransientError):
        archive.archive(made)
    made.refresh_from_db()
    assert not made.is_archived
    assert not [path for path in storage.rglob("*") if path.is_file()]


def test_a_recording_bandwidth_no_longer_has_fails_to_archive_with_its_words(bandwidth_api):
    made = recording()
    bandwidth_api.get(media_url(made), status=404, json={"type": "not-found", "description": "Recording not found"})
    action = perform(ActionKind.ARCHIVE_RECORDING)
    assert action.status == ActionStatus.FAILED and action.detail == "Recording not found"


def test_a_second_archive_keeps_the_first_copy(bandwidth_api, storage):
    made = recording()
    serve_media(bandwidth_api, made, wav_bytes(0.5))
    archive.archive(made)
    stale = Recording.objects.get(pk=made.pk)
    stale.archive_name = ""
    archive.archive(stale)
    assert len([path for path in storage.rglob("*") if path.is_file()]) == 1


def test_with_archive_recordings_an_available_recording_is_archived_by_an_action_of_its_own(settings, django_capture_on_commit_callbacks):
    settings.ARCHIVE_RECORDINGS = True
    with mock.patch("voice.tasks.perform_action.apply_async") as perform, django_capture_on_commit_callbacks(execute=True):
        deliver(payload("recordingAvailable"))
        deliver(payload("recordingAvailable", eventTime="2019-06-20T15:55:59.000Z"))
    action = Action.objects.get()
    assert (action.kind, action.target, action.requested_by) == (ActionKind.ARCHIVE_RECORDING, Recording.objects.get().recording_id, None)
    assert perform.call_args.args[0] == (action.pk,)


def test_without_archive_recordings_nothing_is_archived(settings, django_capture_on_commit_callbacks):
    settings.ARCHIVE_RECORDINGS = False
    with mock.patch("voice.tasks.perform_action.apply_async") as perform, django_capture_on_commit_callbacks(execute=True):
        deliver(payload("recordingAvailable"))
    perform.assert_not_called()
    assert not Action.objects.exists()


def test_an_automatic_archive_reports_its_outcome_like_any_action(bandwidth_api, settings):
    settings.ARCHIVE_RECORDINGS = True
    made = recording()
    serve_media(bandwidth_api, made, wav_bytes(0.5))
    actions.archive_when_available(made, {"status": (RecordingStatus.PROCESSING, RecordingStatus.COMPLETE)})
    action = Action.objects.get()
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE and "Archived" in action.detail


# Transcribe and delete at Bandwidth


def test_a_transcription_request_names_the_webhook_and_marks_it_transcribing(bandwidth_api, settings):
    made = recording()
    url = f"{API}/calls/c-0001/recordings/r-0001/transcription"
    bandwidth_api.post(url, status=204)
    action = perform(ActionKind.TRANSCRIBE)
    assert action.status == ActionStatus.DONE and action.response_status == 204
    sent = json.loads(bandwidth_api.calls[0].request.body)
    assert sent == {
        "callbackUrl": settings.PUBLIC_URL + "/webhooks/voice",
        "callbackMethod": "POST",
        "username": settings.WEBHOOK_USERNAME,
        "password": settings.WEBHOOK_PASSWORD,
    }
    assert Transcription.objects.get(recording=made).status == TranscriptionStatus.PROCESSING


def test_a_failed_transcription_may_be_requested_again(bandwidth_api):
    made = recording()
    Transcription.objects.create(recording=made, status=TranscriptionStatus.ERROR, fetch_error="x")
    bandwidth_api.post(f"{API}/calls/c-0001/recordings/r-0001/transcription", status=200)
    perform(ActionKind.TRANSCRIBE)
    transcription = Transcription.objects.get()
    assert transcription.status == TranscriptionStatus.PROCESSING and transcription.fetch_error == ""


def test_a_conference_recording_is_never_sent_for_transcription(bandwidth_api):
    recording(call_id="", conference_id=None)
    action = perform(ActionKind.TRANSCRIBE, call_id="")
    assert action.status == ActionStatus.FAILED
    assert "cannot transcribe conference recordings" in action.detail
    assert not bandwidth_api.calls


def test_deleting_marks_the_row_and_forgets_its_content_and_archive(bandwidth_api):
    made = recording(transcript="call me back", peaks=[1, 2, 3])
    serve_media(bandwidth_api, made, wav_bytes(0.5))
    archive.archive(made)
    bandwidth_api.delete(f"{API}/calls/c-0001/recordings/r-0001", status=204)
    action = perform(ActionKind.DELETE_RECORDING)
    assert action.status == ActionStatus.DONE
    assert "purges the media within 24 to 48 hours" in action.detail and "archived copy" in action.detail
    made.refresh_from_db()
    assert made.status == RecordingStatus.DELETED and made.deleted_at and made.peaks is None
    assert not made.is_archived
    assert Transcription.objects.get().text == ""


def test_deleting_one_bandwidth_no_longer_has_is_done(bandwidth_api):
    recording()
    bandwidth_api.delete(f"{API}/calls/c-0001/recordings/r-0001", status=404, json={"description": "Recording not found"})
    assert perform(ActionKind.DELETE_RECORDING).status == ActionStatus.DONE
    assert Recording.objects.get().status == RecordingStatus.DELETED


def test_a_late_recording_available_does_not_bring_a_deleted_recording_back():
    deliver(payload("recordingAvailable"))
    Recording.objects.get().mark_deleted()
    deliver(payload("recordingAvailable", eventTime="2019-06-20T15:56:30.000Z"))
    assert Recording.objects.get().status == RecordingStatus.DELETED


# The client


@pytest.fixture
def client():
    return bandwidth.BandwidthClient(api_url="https://bandwidth.test/api/v2", account_id="9900000", username="u", password="p")


def test_media_forwards_the_range_and_returns_206_and_416(client, bandwidth_api):
    made = recording()
    serve_media(bandwidth_api, made, b"0123456789")
    part = client.recording_media("r-0001", call_id="c-0001", byte_range="bytes=2-4")
    assert (part.status, part.content_range, b"".join(part.chunks())) == (206, "bytes 2-4/10", b"234")
    beyond = client.recording_media("r-0001", call_id="c-0001", byte_range="bytes=20-")
    assert (beyond.status, beyond.content_range) == (416, "bytes */10")


def test_a_conference_recordings_media_is_read_under_its_conference(client, bandwidth_api):
    bandwidth_api.get(f"{API}/conferences/conf-1/recordings/r-9/media", body=b"RIFF")
    assert b"".join(client.recording_media("r-9", conference_id="conf-1").chunks()) == b"RIFF"


def test_ids_cannot_lead_elsewhere_under_the_account(client, bandwidth_api):
    bandwidth_api.get(f"{API}/calls/..%2Fx/recordings/r%2F1/media", body=b"")
    client.recording_media("r/1", call_id="../x").close()
    assert bandwidth_api.calls[0].request.url.endswith("/calls/..%2Fx/recordings/r%2F1/media")


@pytest.mark.parametrize("status, error", [(429, bandwidth.TransientError), (503, bandwidth.TransientError), (403, bandwidth.PermanentError)])
def test_media_errors_are_classified_as_for_every_request(client, bandwidth_api, status, error):
    bandwidth_api.get(f"{API}/calls/c-1/recordings/r-1/media", status=status, json={"description": "no"})
    with pytest.raises(error) as raised:
        client.recording_media("r-1", call_id="c-1")
    assert raised.value.status == status


# Importing what webhooks missed


def listing(count: int, start: datetime) -> list[dict]:
    return [
        {
            "recordingId": f"r-{i:05d}",
            "callId": f"c-{i:05d}",
            "accountId": "9900000",
            "from": "+15551112222",
            "to": "+19195550150",
            "startTime": (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
            "endTime": (start + timedelta(seconds=i + 5)).isoformat().replace("+00:00", "Z"),
            "duration": "PT5S",
            "status": "complete",
            "fileFormat": "wav",
            "mediaUrl": f"{API}/calls/c-{i:05d}/recordings/r-{i:05d}/media",
        }
        for i in range(count)
    ]


@pytest.fixture
def account_recordings(bandwidth_api):
    """A Bandwidth with 1,200 call recordings, listing at most 1000 per request as it does,
    and no conferences."""
    start = datetime(2026, 3, 1, tzinfo=dt_timezone.utc)
    everything = listing(1200, start)
    windows = []

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)
        low = datetime.fromisoformat(query["minStartTime"][0])
        high = datetime.fromisoformat(query["maxStartTime"][0])
        windows.append((low, high))
        chosen = [r for r in everything if low <= datetime.fromisoformat(r["startTime"]) < high]
        return 200, {}, json.dumps(chosen[:1000])

    bandwidth_api.add_callback("GET", f"{API}/recordings", callback=answer)
    bandwidth_api.get(f"{API}/conferences", json=[])
    return start, windows


def test_sync_splits_full_windows_until_it_has_every_recording(account_recordings):
    start, windows = account_recordings
    report = reconcile.sync_recordings(start, start + timedelta(hours=1))
    assert Recording.objects.count() == 1200 and report.imported == 1200
    assert report.windows == len(windows) > 3
    assert Recording.objects.filter(status=RecordingStatus.COMPLETE, duration_seconds=5).count() == 1200


def test_sync_is_idempotent(account_recordings):
    start, _ = account_recordings
    reconcile.sync_recordings(start, start + timedelta(hours=1))
    again = reconcile.sync_recordings(start, start + timedelta(hours=1))
    assert again.imported == 0 and Recording.objects.count() == 1200


def test_sync_imports_the_conference_recordings_of_conferences_in_the_window(bandwidth_api):
    bandwidth_api.get(f"{API}/recordings", json=[])
    bandwidth_api.get(f"{API}/conferences", json=[{"id": "conf-1", "name": "sales-floor", "createdTime": "2026-03-01T10:00:00Z", "completedTime": "2026-03-01T11:00:00Z"}])
    bandwidth_api.get(
        f"{API}/conferences/conf-1/recordings",
        json=[{"recordingId": "r-conf", "conferenceId": "conf-1", "name": "sales-floor", "startTime": "2026-03-01T10:00:01Z", "status": "complete", "channels": 1}],
    )
    report = reconcile.sync_recordings(datetime(2026, 3, 1, tzinfo=dt_timezone.utc), datetime(2026, 3, 2, tzinfo=dt_timezone.utc))
    assert report.conferences == 1 and report.imported == 1
    assert Recording.objects.get().conference.name == "sales-floor"


def test_the_command_takes_dates_and_reports(account_recordings, capsys):
    call_command("sync_recordings", "--since", "2026-03-01", "--until", "2026-03-01T01:00:00Z")
    out = capsys.readouterr().out
    assert "listed:      1200 recordings" in out and "imported:    1200" in out
