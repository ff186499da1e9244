"""Operators' actions: recorded first, then performed (voice/actions.py)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from voice import metrics, signals
from voice.models.conference import Conference
from voice.models.mirror import allowed_from


class ActionKind(models.TextChoices):
    """What an operator asked Bandwidth to do. Kinds that set a state carry it in params
    (mute: {"mute": bool}), so that one open action per kind and target also means one
    pending intent: a second operator's opposite click waits for the first to finish."""

    HANGUP = "hangup", "Hang up"
    REDIRECT = "redirect", "Redirect"
    MUTE = "mute", "Mute"
    HOLD = "hold", "Hold"
    COACH = "coach", "Coach"
    REMOVE_MEMBER = "remove-member", "Remove from conference"
    END_CONFERENCE = "end-conference", "End conference"
    DIAL_OUT = "dial-out", "Dial out"
    # An operator's own phone dialled into a conference to listen (a monitoring leg), and
    # its mode changed: listen only, whisper to some members, barge in for everyone.
    LISTEN = "listen", "Listen in"
    MONITOR_MODE = "monitor-mode", "Change listening mode"
    CONFERENCE_RECORDING = "conference-recording", "Conference recording"
    TRANSCRIBE = "transcribe", "Request transcription"
    DELETE_RECORDING = "delete-recording", "Delete recording"
    ARCHIVE_RECORDING = "archive-recording", "Archive recording"


class ActionStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"
    # Not performed: it waited longer than ACTION_STALE_AFTER, so applying it now could act
    # on a situation the operator no longer sees.
    DROPPED = "dropped"


ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    ActionStatus.PENDING: frozenset({ActionStatus.SENDING, ActionStatus.DROPPED}),
    ActionStatus.RETRYING: frozenset({ActionStatus.SENDING, ActionStatus.DROPPED}),
    # SENDING -> SENDING: re-claimed once its lease ran out, after a worker died mid-task
    # and Celery redelivered it (acks_late); see Action.claim.
    ActionStatus.SENDING: frozenset(
        {ActionStatus.SENDING, ActionStatus.DONE, ActionStatus.FAILED, ActionStatus.RETRYING, ActionStatus.DROPPED}
    ),
    ActionStatus.DONE: frozenset(),
    ActionStatus.FAILED: frozenset(),
    ActionStatus.DROPPED: frozenset(),
}
OPEN_ACTION_STATUSES = [ActionStatus.PENDING, ActionStatus.SENDING, ActionStatus.RETRYING]


class ActionQuerySet(models.QuerySet):
    def open(self) -> ActionQuerySet:
        return self.filter(status__in=OPEN_ACTION_STATUSES)


class ActionBatch(models.Model):
    """One operator request carried out as an Action per conference member (mute all,
    unmute all; Bandwidth updates members one by one). Its progress is its actions'
    outcomes. At most one open batch of a kind per conference (a partial unique
    constraint), so a double click or a second operator gets the batch under way; it closes
    when its last action finishes."""

    kind = models.CharField(max_length=32, choices=ActionKind.choices)
    conference = models.ForeignKey(
        Conference, to_field="conference_id", db_column="conference_id", on_delete=models.CASCADE, related_name="batches"
    )
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "conference"],
                condition=Q(closed_at__isnull=True),
                name="one_open_batch_per_kind_and_conference",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} all in {self.conference_id}"

    def close_if_finished(self) -> bool:
        open_actions = Action.objects.open().filter(batch=models.OuterRef("pk"))
        return bool(
            ActionBatch.objects.filter(pk=self.pk, closed_at__isnull=True)
            .exclude(models.Exists(open_actions))
            .update(closed_at=timezone.now())
        )


class Action(models.Model):
    """An operator's request to Bandwidth, recorded before it is sent.

    At most one open action of a kind per target (a partial unique constraint): a double
    click, or two operators acting at once, gets the action already under way.
    """

    kind = models.CharField(max_length=32, choices=ActionKind.choices)
    target = models.CharField(max_length=200, help_text="callId, or conferenceId/memberId")
    call_id = models.CharField(max_length=100, blank=True, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=ActionStatus.choices, default=ActionStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    stale_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When a retrying action is due to be tried again (voice.actions.sweep).
    retry_at = models.DateTimeField(null=True, blank=True)
    # When a request that is not safe to send twice (createCall) left for Bandwidth: from
    # then on the action is only confirmed by reading Bandwidth, never sent again.
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What Bandwidth answered on the last attempt.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    detail = models.TextField(blank=True, help_text="The outcome in words, shown to operators")
    batch = models.ForeignKey(ActionBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target"],
                condition=Q(status__in=OPEN_ACTION_STATUSES),
                name="one_open_action_per_kind_and_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES

    @property
    def is_stale(self) -> bool:
        return timezone.now() >= self.stale_at

    def sending(self) -> None:
        """A request not safe to repeat is about to leave (voice.performers)."""
        self.sent_at = timezone.now()
        Action.objects.filter(pk=self.pk).update(sent_at=self.sent_at)

    def placed(self, call_id: str) -> None:
        """The call a dial-out placed: its task, delivered again, never dials twice."""
        Action.objects.filter(pk=self.pk).update(call_id=call_id, updated_at=timezone.now())
        self.call_id = call_id

    def claim(self, lease: timedelta) -> bool:
        """Take this action for sending; False if another worker holds it or it is finished."""
        now = timezone.now()
        claimable = Q(status__in=[ActionStatus.PENDING, ActionStatus.RETRYING]) | Q(
            status=ActionStatus.SENDING, claimed_at__lt=now - lease
        )
        moved = Action.objects.filter(claimable, pk=self.pk).update(
            status=ActionStatus.SENDING, claimed_at=now, attempts=models.F("attempts") + 1, updated_at=now
        )
        self.refresh_from_db()
        if moved:
            signals.action_changed.send(sender=Action, action_id=self.pk, call_id=self.call_id)
        return bool(moved)

    def transition(self, to_status: str, **fields) -> bool:
        """Conditionally move this action to `to_status`; refresh and return whether it moved."""
        if to_status not in OPEN_ACTION_STATUSES:
            fields.setdefault("finished_at", timezone.now())
        moved = Action.objects.filter(pk=self.pk, status__in=allowed_from(ACTION_TRANSITIONS, to_status)).update(
            status=to_status, updated_at=timezone.now(), **fields
        )
        self.refresh_from_db()
        if moved and self.batch_id and not self.is_open:
            self.batch.close_if_finished()
        if moved and not self.is_open:
            transaction.on_commit(metrics.ACTIONS.labels(self.kind, self.status).inc)
        if moved:
            signals.action_changed.send(sender=Action, action_id=self.pk, call_id=self.call_id)
        return bool(moved)
