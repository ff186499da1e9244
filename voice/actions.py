"""Operator actions: recorded first, sent once by a worker, outcome recorded from Bandwidth's
answer. Recording one emits signals.action_recorded; voice/tasks.py hands it to a worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
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
from voice.performers import CONFIRMERS, PERFORMERS
from voice.performers.done import Done

log = logging.getLogger(__name__)

# Kinds that end their target: once one is done, the goal is met for good.
ENDING_KINDS = frozenset({ActionKind.HANGUP, ActionKind.REMOVE_MEMBER, ActionKind.END_CONFERENCE, ActionKind.DELETE_RECORDING})

# A worker that claimed an action and then died leaves it "sending"; after this long
# another delivery of the task may claim it again (settings.ACTION_CLAIM_LEASE says why 60 s).
CLAIM_LEASE = timedelta(seconds=settings.ACTION_CLAIM_LEASE)

# Beyond this, the same action asked again is sent again (the member may have been changed
# at Bandwidth meanwhile).
REPEAT_WINDOW = timedelta(seconds=settings.ACTION_REPEAT_WINDOW)


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
    is already under way (a double click, or two operators acting at the same moment), or,
    for an action that ends its target, the one that has ended it. The flag says whether
    this request created the action, or the same one done moments ago."""
    if kind not in PERFORMERS:
        raise ValueError(f"no performer for action kind {kind!r}")
    params = params or {}
    if kind in ENDING_KINDS:
        # Done moments ago, before the mirror heard that the target ended (its disconnect
        # webhook on its way): a second operator's click must not send it again.
        ended = Action.objects.filter(kind=kind, target=target, status=ActionStatus.DONE).first()
        if ended is not None:
            return ended, False
    else:
        repeated = _just_done(kind, target, params)
        if repeated is not None:
            return repeated, False
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                action = Action.objects.create(
                    kind=kind,
                    target=target,
                    call_id=call_id,
                    params=params,
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


def _just_done(kind: str, target: str, params: dict) -> Action | None:
    """The last action of this kind on the target, if it asked for the same and was done
    within REPEAT_WINDOW."""
    last = Action.objects.filter(kind=kind, target=target).order_by("-created_at", "-pk").first()
    if last is None or last.status != ActionStatus.DONE or last.params != params:
        return None
    return last if last.finished_at and last.finished_at >= timezone.now() - REPEAT_WINDOW else None


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
    """Claim the action, send it, and record the outcome. Safe to run twice.

    An action found "sending" had a worker stop while sending it (its lease ran out): its
    request may have reached Bandwidth. It is resolved by reading Bandwidth (the call, the
    member, the conference: performers.CONFIRMERS), never guessed: done if Bandwidth shows
    it applied, sent again if not (while it is not stale). The same when the answer to a
    request is lost (a timeout, a connection lost after sending)."""
    action = Action.objects.filter(pk=action_id).first()
    if action is None or not action.is_open:
        return Attempt()
    # Its request may have reached Bandwidth: a worker died sending it, or its answer was
    # lost after a request not safe to repeat left (sent_at).
    interrupted = action.status == ActionStatus.SENDING or action.sent_at is not None
    if action.is_stale and not interrupted:
        action.transition(ActionStatus.DROPPED, detail="Dropped: it waited too long to be sent.")
        return Attempt()
    if not action.claim(CLAIM_LEASE):
        return Attempt()
    try:
        done = _attempt(action, interrupted)
    except bandwidth.TransientError as error:
        return _retry_later(action, error)
    except bandwidth.BandwidthError as error:
        action.transition(ActionStatus.FAILED, detail=str(error), response_status=error.status, response_body=error.body)
        return Attempt()
    except Exception as error:
        # A defect of ours must not leave the action "sending" (and its target blocked by
        # the one-open-action rule) until it goes stale: it fails, and says why.
        log.exception("action %s (%s) failed", action.pk, action.kind)
        action.transition(ActionStatus.FAILED, detail=f"Switchboard could not perform it: {type(error).__name__}: {error}")
        return Attempt()
    if done is None:
        action.transition(
            ActionStatus.DROPPED,
            detail="Not applied: its worker stopped while sending it, Bandwidth shows it was not applied, "
            "and it is too late to send it again.",
        )
        return Attempt()
    action.transition(ActionStatus.DONE, detail=done.detail, response_status=done.status, response_body="")
    return Attempt()


def _attempt(action: Action, interrupted: bool) -> Done | None:
    """Send the action, or first learn from Bandwidth whether an earlier send was applied;
    None when it was not, and it is too late to send it again."""
    confirm = CONFIRMERS.get(action.kind)
    if interrupted and confirm is not None:
        done = confirm(action)
        if done is not None or action.is_stale:
            return done
    try:
        return PERFORMERS[action.kind](action)
    except bandwidth.OutcomeUnknown as error:
        done = confirm(action) if confirm is not None else None
        if done is None:
            raise bandwidth.PermanentError(f"{error} Bandwidth shows it was not applied.") from error
        return done
    except bandwidth.TransientError as error:
        # No answer (a timeout, a connection lost): it may have been applied all the same.
        if error.status is None and confirm is not None and (done := confirm(action)) is not None:
            return done
        raise


def _retry_later(action: Action, error: bandwidth.TransientError) -> Attempt:
    retry_in = retry.delay(error, action.attempts, base=0.5, cap=8.0)
    fields = {"response_status": error.status, "response_body": error.body}
    if action.attempts >= settings.ACTION_MAX_ATTEMPTS:
        action.transition(ActionStatus.FAILED, detail=f"Failed after {action.attempts} attempts: {error}", **fields)
        return Attempt()
    retry_at = timezone.now() + timedelta(seconds=retry_in)
    if retry_at >= action.stale_at:
        action.transition(ActionStatus.DROPPED, detail=f"Dropped: Bandwidth asked to wait {retry_in:.0f} s ({error}).", **fields)
        return Attempt()
    action.transition(ActionStatus.RETRYING, detail=f"Retrying in {retry_in:.1f} s: {error}", retry_at=retry_at, **fields)
    return Attempt(retry_in=retry_in)


# An action not picked up by a worker this long after it was recorded (or due to be tried
# again) was lost on its way (Redis down or restarted, the hand-over failed): the sweep
# hands it over again. A worker that claims it first makes the second delivery a no-op.
HANDOVER_AFTER = timedelta(seconds=5)


@dataclass(frozen=True)
class Sweep:
    handed_over: list[int]
    dropped: int


def sweep() -> Sweep:
    """Every few seconds (Celery beat): actions past their deadline and never sent are
    dropped; actions waiting too long for a worker (or whose worker died sending them) are
    handed over again, for a worker to send or to resolve (perform)."""
    now = timezone.now()
    dropped = 0
    never_sent = Action.objects.filter(status__in=[ActionStatus.PENDING, ActionStatus.RETRYING], sent_at__isnull=True)
    for action in never_sent.filter(stale_at__lt=now - CLAIM_LEASE):
        dropped += action.transition(ActionStatus.DROPPED, detail="Dropped: no worker sent it in time.")
    lost = (
        Q(status=ActionStatus.PENDING, updated_at__lt=now - HANDOVER_AFTER)
        | Q(status=ActionStatus.RETRYING, retry_at__lt=now - HANDOVER_AFTER, updated_at__lt=now - HANDOVER_AFTER)
        | Q(status=ActionStatus.SENDING, claimed_at__lt=now - CLAIM_LEASE, updated_at__lt=now - HANDOVER_AFTER)
    )
    handed = list(Action.objects.filter(lost))
    for action in handed:
        Action.objects.filter(pk=action.pk).update(updated_at=now)
        signals.action_recorded.send(sender=Action, action=action)
    return Sweep(handed_over=[action.pk for action in handed], dropped=dropped)


def archive_when_available(recording: Recording, changes: dict[str, tuple]) -> None:
    """With ARCHIVE_RECORDINGS, a recording that has just become downloadable is archived:
    an action like an operator's, requested by no one."""
    became_available = "status" in changes and recording.status in DOWNLOADABLE_RECORDING_STATUSES
    if settings.ARCHIVE_RECORDINGS and became_available and not recording.is_archived:
        request(ActionKind.ARCHIVE_RECORDING, target=recording.recording_id)
