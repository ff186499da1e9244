"""Celery tasks: thin interfaces that take ids and call one function in voice."""

from typing import TYPE_CHECKING

from celery import shared_task

if TYPE_CHECKING:
    from voice.bandwidth import TransientError


def _countdown(error: "TransientError", retries: int) -> float:
    """Bandwidth's Retry-After, else 5 s doubling with each retry, at most 5 minutes."""
    return error.retry_after if error.retry_after is not None else min(300, 5 * 2**retries)


@shared_task(bind=True, max_retries=None, acks_late=True)
def perform_action(self, action_id: int) -> None:
    from voice import actions

    attempt = actions.perform(action_id)
    if attempt.retry_in is not None:
        raise self.retry(countdown=attempt.retry_in)


@shared_task
def drop_stale_actions() -> int:
    from voice import actions

    return actions.drop_stale()


@shared_task(bind=True, max_retries=8, acks_late=True)
def fetch_transcription(self, transcription_pk: int) -> None:
    from voice import bandwidth, transcripts

    try:
        transcripts.fetch(transcription_pk)
    except bandwidth.TransientError as error:
        if self.request.retries >= self.max_retries:
            # Reconciliation asks again later (voice.reconcile._refetch_transcripts).
            transcripts.postpone(transcription_pk, error)
            return
        raise self.retry(countdown=_countdown(error, self.request.retries)) from error


@shared_task
def reconcile() -> dict:
    from voice import reconcile as reconciliation

    return reconciliation.run_alone()


# Archiving streams a whole recording (up to hours of audio) from Bandwidth: more time than
# the default limits give a task.
@shared_task(bind=True, max_retries=8, acks_late=True, soft_time_limit=900, time_limit=960)
def archive_recording(self, recording_pk: int) -> None:
    from voice import bandwidth, recordings

    try:
        recordings.archive_automatically(recording_pk)
    except bandwidth.TransientError as error:
        raise self.retry(countdown=_countdown(error, self.request.retries)) from error


@shared_task(bind=True, max_retries=3, acks_late=True, soft_time_limit=300, time_limit=330)
def compute_waveform(self, recording_pk: int) -> None:
    from voice import bandwidth, recordings

    try:
        recordings.compute_waveform(recording_pk)
    except bandwidth.TransientError as error:
        # max_retries=3: retries 0 to 2 wait 5, 10, 20 s, under _countdown's cap.
        raise self.retry(countdown=_countdown(error, self.request.retries)) from error
    except bandwidth.PermanentError:
        # Bandwidth no longer has the media (deleted, expired): no waveform, nothing to retry.
        return
