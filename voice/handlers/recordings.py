"""Recording and transcription events: metadata is stored; media is fetched on demand by
the console, and a transcript's text by a task.

https://dev.bandwidth.com/docs/voice/guides/recordingGuide
"""

from __future__ import annotations

from voice import bandwidth, flows, recordings
from voice.answers import NO_CONTENT, Applied, Handler, bxml_answer
from voice.events import IncomingEvent
from voice.handlers.calls import in_progress
from voice.models import Conference, Recording, RecordingStatus, TranscriptionStatus


def store_recording(event: IncomingEvent, status: str, *, conference: Conference | None = None) -> tuple[Recording, bool]:
    """Create the recording, or move it to `status` (the event's own, or a known one) and
    fill what it lacks; an unknown status is taken as processing (voice.recordings.store)."""
    recording, changes = recordings.store(recording_info(event, conference=conference), status, conference=conference)
    return recording, bool(changes)


def recording_info(event: IncomingEvent, *, conference: Conference | None) -> bandwidth.RecordingInfo:
    """A recording's metadata as a webhook gives it (a GET webhook's values are all text)."""
    return bandwidth.RecordingInfo(
        recording_id=event.recording_id,
        call_id=event.call_id,
        conference_id=event.conference_id,
        account_id=event.text("accountId"),
        parent_call_id=event.text("parentCallId"),
        direction=event.text("direction"),
        from_number=event.text("from"),
        to_number=event.text("to"),
        # A conference recording has no recordingName: its event's name is the conference's.
        name=event.text("recordingName") or (event.text("name") if conference else ""),
        channels=event.channels,
        duration_seconds=event.duration_seconds,
        file_format=event.text("fileFormat"),
        status=event.text("status"),
        media_url=event.text("mediaUrl"),
        start_time=event.time("startTime"),
        end_time=event.time("endTime"),
        transcription=event.part("transcription"),
        raw=event.payload,
        tag=event.text("tag"),
    )


def on_record_complete(event: IncomingEvent) -> Applied:
    """<Record> ended with the caller still on the line: the recording exists but is not
    downloadable until recordingAvailable. The reply continues the call."""
    changed = in_progress(event, call_times=False)
    _, stored = store_recording(event, RecordingStatus.PROCESSING)
    return Applied(bxml_answer(flows.after_recording()), changed or stored)


def on_recording_available(event: IncomingEvent) -> Applied:
    _, changed = store_recording(event, event.text("status"))
    return Applied(NO_CONTENT, changed)


def on_transcription_available(event: IncomingEvent) -> Applied:
    """The transcript is ready; its text is fetched by a task, after this commits.
    https://dev.bandwidth.com/docs/voice/webhooks/transcriptionAvailable"""
    info = recording_info(event, conference=None)
    recording, changes = recordings.store(info, RecordingStatus.PROCESSING)
    # The event's transcription part, as recording_info read it ({} when absent).
    part = info.transcription or {}
    # A GET webhook cannot carry the nested object; the event itself means available.
    status = str(part.get("status") or TranscriptionStatus.AVAILABLE)
    changes.update(recordings.store_transcription(recording, status, part))
    return Applied(NO_CONTENT, bool(changes))


HANDLERS: dict[str, Handler] = {
    # The <Record> docs name it recordComplete, the API's enumeration recordingComplete.
    "recordComplete": on_record_complete,
    "recordingComplete": on_record_complete,
    "recordingAvailable": on_recording_available,
    "transcriptionAvailable": on_transcription_available,
}
