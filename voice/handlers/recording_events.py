"""Recording and transcription events: metadata is stored; media is fetched on demand by
the console, and a transcript's text by a task.

https://dev.bandwidth.com/docs/voice/guides/recordingGuide
"""

from __future__ import annotations

from voice import actions, flows
from voice.answers import NO_CONTENT, Applied, Handler, bxml_answer
from voice.events import (
    ConferenceRecordingAvailable,
    RecordingEvent,
    TranscriptionAvailable,
)
from voice.facts import TranscriptionPart
from voice.handlers.call_events import in_progress
from voice.models import (
    Conference,
    Recording,
    RecordingStatus,
    Transcription,
    TranscriptionStatus,
)


def store_recording(
    event: RecordingEvent | ConferenceRecordingAvailable, status: str, *, conference: Conference | None = None
) -> tuple[Recording, bool]:
    """Create the recording, or move it to `status` (the event's own, or a known one) and
    fill what it lacks (Recording.observe); archived once available if Switchboard keeps
    copies."""
    recording, changes = Recording.observe(event.recording(), status, conference=conference)
    actions.archive_when_available(recording, changes)
    return recording, bool(changes)


def on_record_complete(event: RecordingEvent) -> Applied:
    """<Record> ended with the caller still on the line: the recording exists but is not
    downloadable until recordingAvailable. The reply continues the call."""
    changed = in_progress(event, call_times=False)
    _, stored = store_recording(event, RecordingStatus.PROCESSING)
    return Applied(bxml_answer(flows.after_recording()), changed or stored)


def on_recording_available(event: RecordingEvent) -> Applied:
    _, changed = store_recording(event, event.status)
    return Applied(NO_CONTENT, changed)


def on_transcription_available(event: TranscriptionAvailable) -> Applied:
    """The transcript is ready; its text is fetched by a task, after this commits.
    https://dev.bandwidth.com/docs/voice/webhooks/transcriptionAvailable"""
    recording, changes = Recording.observe(event.recording(), RecordingStatus.PROCESSING)
    # A GET webhook cannot carry the nested object; the event itself means available.
    part = event.transcription or TranscriptionPart()
    changes.update(Transcription.observe(recording, part.status or TranscriptionStatus.AVAILABLE, part))
    return Applied(NO_CONTENT, bool(changes))


HANDLERS: dict[str, Handler] = {
    # The <Record> docs name it recordComplete, the API's enumeration recordingComplete.
    "recordComplete": on_record_complete,
    "recordingComplete": on_record_complete,
    "recordingAvailable": on_recording_available,
    "transcriptionAvailable": on_transcription_available,
}
