"""Fetching a transcript's text once Bandwidth says it is available."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from voice import bandwidth
from voice.models import Transcription, TranscriptionStatus

# A transcript Bandwidth has but Switchboard could not fetch (an outage longer than the
# task's retries) is asked for again after this long, for as long as this.
REFETCH_AFTER = timedelta(minutes=10)
REFETCH_FOR = timedelta(days=1)

log = logging.getLogger(__name__)


def fetch(transcription_pk: int) -> bool:
    """Read the transcript from Bandwidth and keep its text; True once it is stored.
    Safe to run twice. A transient failure is raised for the task to retry; a permanent
    one is written on the row."""
    transcription = Transcription.objects.select_related("recording").filter(pk=transcription_pk).first()
    if transcription is None or transcription.fetched_at is not None:
        return True
    recording = transcription.recording
    if not recording.call_id:
        # Conference recordings cannot be transcribed (https://dev.bandwidth.com/docs/voice/bxml/startRecording).
        transcription.fetch_failed("A conference recording has no transcript.")
        return False
    try:
        transcript = bandwidth.client().get_transcription(recording.call_id, recording.recording_id)
    except bandwidth.PermanentError as error:
        log.warning("transcription of %s could not be fetched: %s", recording.recording_id, error)
        transcription.fetch_failed(str(error))
        return False
    # False from store_text means a concurrent run stored it first: stored either way.
    transcription.store_text(transcript.text, transcript.confidence)
    return True


def postpone(transcription_pk: int, error: Exception) -> None:
    """The fetch gave up for now: note when, so that reconciliation asks again later."""
    log.warning("transcription %s not fetched yet: %s", transcription_pk, error)
    Transcription.objects.filter(pk=transcription_pk).first().tried()


def refetch_overdue() -> int:
    """Transcripts whose fetch gave up during an outage are wanted again (reconciliation
    calls this each run); each try is noted, so one is asked for at most every
    REFETCH_AFTER. Returns how many."""
    wanted = 0
    for transcription in Transcription.objects.filter(pk__in=overdue()):
        transcription.tried()
        transcription.want_text()
        wanted += 1
    return wanted


def overdue() -> list[int]:
    """Transcripts available at Bandwidth, never fetched and not refused, whose last try is
    older than REFETCH_AFTER (and not older than REFETCH_FOR)."""
    now = timezone.now()
    return list(
        Transcription.objects.filter(
            status=TranscriptionStatus.AVAILABLE,
            fetched_at__isnull=True,
            fetch_error="",
            updated_at__lt=now - REFETCH_AFTER,
            updated_at__gte=now - REFETCH_FOR,
        ).values_list("pk", flat=True)
    )
