"""Operator actions: recorded first, sent once by a worker, outcome recorded from Bandwidth's
answer. Recording one emits signals.action_recorded; voice/tasks.py hands it to a worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from voice import bandwidth, retry, signals
from voice.models import (
    DOWNLOADABLE_RECORDING_STATUSES,
    Action,
    ActionBatch,
    ActionKind,
    ActionStatus,
    Conference,
    ConferenceMember,
    Recording,
)
from voice.performers import PERFORMERS

log = logging.getLogger(__name__)

# A worker that claimed an action and then died leaves it "sending"; after this long
# another delivery of the task may claim it again.
CLAIM_LEASE = timedelta(seconds=60)


def request(
    kind: str,
    *,
    target: str,
    call_id: str = "",
    user=None,
    params: dict | None = None,
    batch: ActionBatch | None = None,
) -> tuple[Action, bool]:
    """Record an action and enqueue it, or return the one of the same kind and target that
    is already under way (a double click, or two operators acting at the same moment).
    The flag says whether this request created the action."""
    if kind not in PERFORMERS:
        raise ValueError(f"no performer for action kind {kind!r}")
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                action = Action.objects.create(
                    kind=kind,
                    target=target,
                    call_id=call_id,
                    params=params or {},
                    requested_by=user,
                    batch=batch,
                    created_at=now,
                    stale_at=now + timedelta(seconds=settings.ACTION_STALE_AFTER),
                )
            break
        except IntegrityError:
            under_way = Action.objects.open().filter(kind=kind, target=target).first()
            if under_way is not None:
                return under_way, False
            # It finished between our insert and our read: this request is a new one.
    else:
        raise RuntimeError(f"could not record a {kind} action for {target}")

    signals.action_changed.send(sender=Action, action_id=action.pk, call_id=call_id)
    signals.action_recorded.send(sender=Action, action=action)
    return action, True


def request_batch(
    kind: str, *, conference: Conference, members: list[ConferenceMember], params: dict, user=None
) -> tuple[ActionBatch, list[Action]]:
    """Record one action per member as a batch, or return the batch of this kind already
    under way in the conference, with no new action. The actions this request created are
    returned; a member with an action of this kind already under way keeps that one."""
    for _ in range(3):
        try:
            with transaction.atomic():
                batch = ActionBatch.objects.create(kind=kind, conference=conference, params=params, requested_by=user)
                created = []
                for member in members:
                    action, new = request(
                        kind, target=member.action_target, call_id=member.call_id, user=user, params=params, batch=batch
                    )
                    if new:
                        created.append(action)
                if not created:
                    batch.close_if_finished()
            return batch, created
        except IntegrityError:
            under_way = ActionBatch.objects.filter(kind=kind, conference=conference, closed_at__isnull=True).first()
            if under_way is not None:
                return under_way, []
    raise RuntimeError(f"could not record a {kind} batch for {conference.conference_id}")


@dataclass(frozen=True)
class Attempt:
    """What the task should do next: nothing (finished), or run again after `retry_in` s."""

    retry_in: float | None = None


def perform(action_id: int) -> Attempt:
    """Claim the action, send it, and record the outcome. Safe to run twice."""
    action = Action.objects.filter(pk=action_id).first()
    if action is None or not action.is_open:
        return Attempt()
    if action.is_stale:
        action.transition(ActionStatus.DROPPED, detail="Dropped: it waited too long to be sent.")
        return Attempt()
    if not action.claim(CLAIM_LEASE):
        return Attempt()

    try:
        done = PERFORMERS[action.kind](action)
    except bandwidth.TransientError as error:
        retry_in = retry.delay(error, action.attempts, base=0.5, cap=8.0)
        fields = {"response_status": error.status, "response_body": error.body[:2000]}
        if action.attempts >= settings.ACTION_MAX_ATTEMPTS:
            action.transition(ActionStatus.FAILED, detail=f"Failed after {action.attempts} attempts: {error}", **fields)
            return Attempt()
        if timezone.now() + timedelta(seconds=retry_in) >= action.stale_at:
            action.transition(
                ActionStatus.DROPPED, detail=f"Dropped: Bandwidth asked to wait {retry_in:.0f} s ({error}).", **fields
            )
            return Attempt()
        action.transition(ActionStatus.RETRYING, detail=f"Retrying in {retry_in:.1f} s: {error}", **fields)
        return Attempt(retry_in=retry_in)
    except bandwidth.BandwidthError as error:
        action.transition(
            ActionStatus.FAILED,
            detail=str(error),
            response_status=error.status,
            response_body=error.body[:2000],
        )
        return Attempt()
    except Exception as error:
        # A defect of ours must not leave the action "sending" (and its target blocked by
        # the one-open-action rule) until it goes stale: it fails, and says why.
        log.exception("action %s (%s) failed", action.pk, action.kind)
        action.transition(ActionStatus.FAILED, detail=f"Switchboard could not perform it: {type(error).__name__}: {error}")
        return Attempt()
    action.transition(ActionStatus.DONE, detail=done.detail, response_status=done.status, response_body="")
    return Attempt()


def drop_stale() -> int:
    """Close open actions whose task never ran (a worker down past the deadline)."""
    dropped = 0
    for action in Action.objects.open().filter(stale_at__lt=timezone.now() - CLAIM_LEASE):
        dropped += action.transition(ActionStatus.DROPPED, detail="Dropped: no worker sent it in time.")
    return dropped



def archive_when_available(recording: Recording, changes: dict[str, tuple]) -> None:
    """With ARCHIVE_RECORDINGS, a recording that has just become downloadable is archived:
    an action like an operator's, requested by no one."""
    became_available = "status" in changes and recording.status in DOWNLOADABLE_RECORDING_STATUSES
    if settings.ARCHIVE_RECORDINGS and became_available and not recording.is_archived:
        request(ActionKind.ARCHIVE_RECORDING, target=recording.recording_id)
