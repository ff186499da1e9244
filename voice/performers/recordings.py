"""Actions on recordings: transcribe, delete, archive."""

from django.conf import settings

from voice import bandwidth, flows, recordings
from voice.actions import Done, performer
from voice.models import Action, ActionKind, Recording, Transcription


def _recording(action: Action) -> Recording:
    recording = Recording.objects.filter(recording_id=action.target).first()
    if recording is None:
        raise bandwidth.PermanentError(f"Switchboard has no recording {action.target}")
    return recording


@performer(ActionKind.TRANSCRIBE)
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


@performer(ActionKind.DELETE_RECORDING)
def delete(action: Action) -> Done:
    recording = _recording(action)
    if not recording.can_be_deleted:
        raise bandwidth.PermanentError("Bandwidth's API deletes call recordings only; conference recordings expire.")
    try:
        status = bandwidth.client().delete_recording(recording.call_id, recording.recording_id)
    except bandwidth.PermanentError as error:
        # 404: Bandwidth no longer has it (deleted already, or past its retention): the
        # operator's goal is met. https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/deleteRecording
        if error.status != 404:
            raise
        status = 404
    recording.mark_deleted()
    archived = recordings.remove_archive(recording)
    detail = "Deleted at Bandwidth, which purges the media within 24 to 48 hours."
    if archived:
        detail += " Switchboard's archived copy was deleted too."
    return Done(detail, status)


@performer(ActionKind.ARCHIVE_RECORDING)
def archive(action: Action) -> Done:
    recording = _recording(action)
    if recording.is_archived:
        return Done("It was archived already.")
    if recording.is_deleted:
        raise bandwidth.PermanentError("The recording was deleted.")
    size = recordings.archive(recording)
    return Done(f"Archived in Switchboard's storage ({size:,} bytes).", 200)
