"""Actions on recordings: transcribe, delete, archive."""

from django.conf import settings

from voice import archive, bandwidth, flows
from voice.models import Action, Recording, Transcription
from voice.performers.done import Done, already_gone


def _recording(action: Action) -> Recording:
    recording = Recording.objects.filter(recording_id=action.target).first()
    if recording is None:
        raise bandwidth.PermanentError(f"Switchboard has no recording {action.target}")
    return recording


def transcribe(action: Action) -> Done:
    """transcriptionAvailable comes to the one webhook URL, which then fetches the text."""
    recording = _recording(action)
    if recording.is_conference:
        # https://dev.bandwidth.com/docs/voice/bxml/startRecording: conference recordings
        # cannot be transcribed; Bandwidth would refuse with a 400.
        raise bandwidth.PermanentError("Bandwidth cannot transcribe conference recordings.")
    status = bandwidth.client().request_transcription(
        recording.call_id,
        recording.recording_id,
        callback_url=flows.webhook_url(),
        username=settings.WEBHOOK_USERNAME,
        password=settings.WEBHOOK_PASSWORD,
    )
    Transcription.requested(recording)
    return Done("Bandwidth is transcribing the recording.", status)


def delete(action: Action) -> Done:
    recording = _recording(action)
    if not recording.can_be_deleted:
        raise bandwidth.PermanentError("Bandwidth's API deletes call recordings only; conference recordings expire.")
    try:
        status = bandwidth.client().delete_recording(recording.call_id, recording.recording_id)
    except bandwidth.PermanentError as error:
        # Bandwidth no longer has it (deleted already, or past its retention).
        status = already_gone(error, "The recording", statuses=(404,)).status
    recording.mark_deleted()
    archived = archive.remove_archive(recording)
    detail = "Deleted at Bandwidth, which purges the media within 24 to 48 hours."
    if archived:
        detail += " Switchboard's archived copy was deleted too."
    return Done(detail, status)


def keep_copy(action: Action) -> Done:
    """Archive the media in Switchboard's storage: an operator's request, or with
    ARCHIVE_RECORDINGS Switchboard's own (voice.actions.archive_when_available)."""
    recording = _recording(action)
    if recording.is_archived:
        return Done("It was archived already.")
    if recording.is_deleted:
        raise bandwidth.PermanentError("The recording was deleted.")
    size = archive.archive(recording)
    return Done(f"Archived in Switchboard's storage ({size:,} bytes).", 200)
