"""Celery tasks: the top of voice. Each is a thin interface that takes ids and calls one
function in voice; the receivers below hand work to them when its transaction commits.

Nothing in voice imports this module: voice records the work (an Action, a transcript to
fetch) and sends a signal (voice/signals.py); VoiceConfig.ready connects these receivers.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.dispatch import receiver

from voice import actions, bandwidth, retry, signals, transcripts, waveform
from voice import reconcile as reconciliation
from voice.models import Action


def _countdown(error: bandwidth.TransientError, retries: int) -> float:
    """Bandwidth's Retry-After, else 5 s doubling with each retry, at most 5 minutes."""
    return retry.delay(error, retries, base=5.0, cap=300.0)


@shared_task(bind=True, max_retries=None, acks_late=True)
def perform_action(self, action_id: int) -> None:
    attempt = actions.perform(action_id)
    if attempt.retry_in is not None:
        raise self.retry(countdown=attempt.retry_in)


@shared_task
def sweep_actions() -> list[int]:
    return actions.sweep().handed_over


@shared_task(bind=True, max_retries=8, acks_late=True)
def fetch_transcription(self, transcription_pk: int) -> None:
    try:
        transcripts.fetch(transcription_pk)
    except bandwidth.TransientError as error:
        if self.request.retries >= self.max_retries:
            # Reconciliation asks again later (voice.reconcile.refetch_transcripts).
            transcripts.postpone(transcription_pk, error)
            return
        raise self.retry(countdown=_countdown(error, self.request.retries)) from error


@shared_task
def reconcile() -> dict:
    return reconciliation.run_alone()


@shared_task(bind=True, max_retries=3, acks_late=True, soft_time_limit=300, time_limit=330)
def compute_waveform(self, recording_pk: int) -> None:
    try:
        waveform.compute(recording_pk)
    except bandwidth.TransientError as error:
        raise self.retry(countdown=_countdown(error, self.request.retries)) from error
    except bandwidth.PermanentError:
        # Bandwidth no longer has the media (deleted, expired): no waveform, nothing to retry.
        return


@receiver(signals.action_recorded)
def _perform_after_commit(sender, action: Action, **kwargs) -> None:
    perform_action.apply_async_on_commit(
        (action.pk,),
        # A backstop only: the task itself drops a stale action and says so on the row.
        expires=action.stale_at + timedelta(minutes=5),
    )


@receiver(signals.transcript_wanted)
def _fetch_after_commit(sender, transcription_pk: int, **kwargs) -> None:
    fetch_transcription.delay_on_commit(transcription_pk)
