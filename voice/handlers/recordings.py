"""Recording and transcription events: metadata is stored; media is fetched on demand by
the console, and a transcript's text by a task.

https://dev.bandwidth.com/docs/voice/guides/recordingGuide
"""

from __future__ import annotations

from django.utils import timezone

from voice import flows
from voice.answers import NO_CONTENT, Applied, Handler, bxml_answer
from voice.events import IncomingEvent, parse_time
from voice.handlers.calls import in_progress
from voice.models import Conference, Recording, RecordingStatus, Transcription, TranscriptionStatus, fill_missing
from voice.tasks import fetch_transcription


def recording_status(event: IncomingEvent) -> str:
    """recordingAvailable's status: complete, partial or error (the recording itself says
    processing or deleted elsewhere; anything new is taken as still processing)."""
    status = event.text("status")
    return status if status in RecordingStatus.values else RecordingStatus.PROCESSING


def store_recording(event: IncomingEvent, status: str, *, conference: Conference | None = None) -> tuple[Recording, bool]:
    """Create the recording, or move it to `status` and fill what it lacks."""
    facts = {
        "account_id": event.text("accountId"),
        "parent_call_id": event.text("parentCallId"),
        "direction": event.text("direction"),
        "from_number": event.text("from"),
        "to_number": event.text("to"),
        "name": event.text("recordingName") or (event.text("name") if conference else ""),
        "channels": event.channels,
        "duration_seconds": event.duration_seconds,
        "file_format": event.text("fileFormat"),
        "media_url": event.text("mediaUrl"),
        "start_time": event.time("startTime"),
        "end_time": event.time("endTime"),
        "tag": event.text("tag"),
    }
    recording, created = Recording.objects.get_or_create(
        recording_id=event.recording_id,
        defaults={
            **{key: value for key, value in facts.items() if value is not None},
            "call_id": event.call_id or None,
            "conference": conference,
            "status": status,
            "last_event_at": timezone.now(),
        },
    )
    if created:
        return recording, True
    mine = Recording.objects.filter(pk=recording.pk)
    mine.update(last_event_at=timezone.now())
    changed = status != RecordingStatus.PROCESSING and Recording.advance(recording.recording_id, status)
    changed |= bool(fill_missing(mine, call_id=event.call_id, **facts))
    if conference is not None:
        changed |= bool(mine.filter(conference__isnull=True).update(conference=conference))
    recording.refresh_from_db()
    return recording, changed


def on_record_complete(event: IncomingEvent) -> Applied:
    """<Record> ended with the caller still on the line: the recording exists but is not
    downloadable until recordingAvailable. The reply continues the call."""
    changed = in_progress(event, call_times=False)
    _, stored = store_recording(event, RecordingStatus.PROCESSING)
    return Applied(bxml_answer(flows.after_recording()), changed or stored)


def on_recording_available(event: IncomingEvent) -> Applied:
    _, changed = store_recording(event, recording_status(event))
    return Applied(NO_CONTENT, changed)


def on_transcription_available(event: IncomingEvent) -> Applied:
    """The transcript is ready; its text is fetched by a task, after this commits.
    https://dev.bandwidth.com/docs/voice/webhooks/transcriptionAvailable"""
    recording, changed = store_recording(event, RecordingStatus.PROCESSING)
    part = event.part("transcription")
    # A GET webhook cannot carry the nested object; the event itself means available.
    status = str(part.get("status") or TranscriptionStatus.AVAILABLE)
    metadata = {
        "transcription_id": str(part.get("id") or ""),
        "url": str(part.get("url") or ""),
        "completed_time": parse_time(part["completedTime"]) if part.get("completedTime") else None,
    }
    transcription, created = Transcription.objects.get_or_create(
        recording=recording, defaults={**{k: v for k, v in metadata.items() if v not in (None, "")}, "status": status}
    )
    if created:
        changed = True
    else:
        changed |= Transcription.advance(recording, status)
        changed |= bool(fill_missing(Transcription.objects.filter(pk=transcription.pk), **metadata))
    if status == TranscriptionStatus.AVAILABLE and transcription.fetched_at is None:
        fetch_transcription.delay_on_commit(transcription.pk)
    return Applied(NO_CONTENT, changed)


HANDLERS: dict[str, Handler] = {
    # The <Record> docs name it recordComplete, the API's enumeration recordingComplete.
    "recordComplete": on_record_complete,
    "recordingComplete": on_record_complete,
    "recordingAvailable": on_recording_available,
    "transcriptionAvailable": on_transcription_available,
}
