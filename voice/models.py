"""The mirror of Bandwidth's objects, the event log, and operator actions.

Webhooks and reconciliation drive the mirror (voice/state.py); operators drive Actions
(voice/actions.py, performed by voice/tasks.py). Every lifecycle is a TextChoices status
plus one table of allowed transitions, and every change is a conditional UPDATE, so that
two writers (two webhooks, a webhook and a repair, two workers) cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from voice import signals


class CallState(models.TextChoices):
    QUEUED = "queued", "queued"
    INITIATED = "initiated", "ringing"
    ANSWERED = "answered", "answered"
    # Bandwidth's final state: "disconnected" in the real API, "completed" in the seed spec.
    ENDED = "ended", "ended"


# The only moves a call may make. Anything else is an old or duplicated event arriving
# late, and is ignored: a call never moves backwards.
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    CallState.QUEUED: frozenset({CallState.INITIATED, CallState.ANSWERED, CallState.ENDED}),
    CallState.INITIATED: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


def states_that_may_become(target: str) -> list[str]:
    return [state for state, targets in CALL_TRANSITIONS.items() if target in targets]


class CallQuerySet(models.QuerySet):
    def live(self) -> CallQuerySet:
        return self.exclude(state=CallState.ENDED)

    def ended(self) -> CallQuerySet:
        return self.filter(state=CallState.ENDED)


class Call(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"

    call_id = models.CharField(max_length=100, unique=True)
    account_id = models.CharField(max_length=32, blank=True)
    application_id = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    from_number = models.CharField(max_length=64, blank=True)
    to_number = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=16, choices=CallState.choices, default=CallState.INITIATED)
    start_time = models.DateTimeField(null=True, blank=True)
    answer_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    disconnect_cause = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    tag = models.CharField(max_length=4096, blank=True)
    parent_call_id = models.CharField(max_length=100, blank=True)
    # When Switchboard last heard anything about this call (webhook or repair), by its own
    # clock; and the newest eventTime applied, by Bandwidth's, which orders tag changes.
    last_event_at = models.DateTimeField(null=True, blank=True)
    latest_event_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["start_time", "id"]
        indexes = [models.Index(fields=["state", "start_time"])]
        permissions = [("hangup_call", "Can hang up calls")]

    def __str__(self) -> str:
        return self.call_id

    @property
    def is_live(self) -> bool:
        return self.state != CallState.ENDED

    @property
    def duration(self) -> timedelta | None:
        if not self.start_time:
            return None
        return (self.end_time or timezone.now()) - self.start_time

    @classmethod
    def advance(cls, call_id: str, to_state: str, **fields) -> bool:
        """Move a call to `to_state` if its lifecycle allows it; return whether it moved.

        One conditional UPDATE: of two concurrent writers only one can match the
        predecessor states, and an event older than the current state matches none.
        """
        moved = cls.objects.filter(
            call_id=call_id, state__in=states_that_may_become(to_state)
        ).update(state=to_state, updated_at=timezone.now(), **fields)
        if moved:
            signals.call_changed.send(sender=cls, call_id=call_id)
        return bool(moved)

    @classmethod
    def fill_missing(cls, call_id: str, **fields) -> None:
        """Set facts the row lacks (an answer time learnt from a late answer event) without
        touching the state or overwriting what a newer event already recorded."""
        changed = False
        for name, value in fields.items():
            if value in (None, ""):
                continue
            empty = Q(**{f"{name}__isnull": True}) | Q(**{name: ""}) if _is_text(name) else Q(
                **{f"{name}__isnull": True}
            )
            changed |= bool(cls.objects.filter(empty, call_id=call_id).update(**{name: value}))
        if changed:
            signals.call_changed.send(sender=cls, call_id=call_id)

    @classmethod
    def note_event(cls, call_id: str, *, event_time: datetime, tag: str | None) -> None:
        """Record that an event about this call arrived now. A tag can change during a
        call, so the tag of the newest event by eventTime wins, whatever the arrival order."""
        cls.objects.filter(call_id=call_id).update(last_event_at=timezone.now())
        newest = cls.objects.filter(call_id=call_id).filter(
            Q(latest_event_time__isnull=True) | Q(latest_event_time__lte=event_time)
        )
        changes = {"latest_event_time": event_time}
        if tag is not None:
            changes["tag"] = tag
        newest.update(**changes)


def _is_text(field_name: str) -> bool:
    return isinstance(Call._meta.get_field(field_name), (models.CharField, models.TextField))


class Event(models.Model):
    """Every webhook Switchboard received, stored before it is applied.

    Bandwidth sends no event id, so the dedupe key is built from the fields that identify
    one occurrence (voice/events.py): a redelivery hits the unique constraint, changes
    nothing, and is answered with the answer stored here.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied"
        # Valid but changed nothing: an old event arriving after a newer one.
        STALE = "stale"
        UNKNOWN_TYPE = "unknown-type"
        REPAIR = "repair"

    class Source(models.TextChoices):
        WEBHOOK = "webhook"
        RECONCILIATION = "reconciliation"

    dedupe_key = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEBHOOK)
    call_id = models.CharField(max_length=100, blank=True, db_index=True)
    conference_id = models.CharField(max_length=100, blank=True, db_index=True)
    recording_id = models.CharField(max_length=100, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.APPLIED)
    answer_status = models.PositiveSmallIntegerField(default=204)
    answer_body = models.TextField(blank=True)
    # Time from receiving the request to having the answer ready (the BXML budget is 15 s).
    answer_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.call_id or self.conference_id}"


class ActionKind(models.TextChoices):
    HANGUP = "hangup", "Hang up"


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
    finished_at = models.DateTimeField(null=True, blank=True)
    # What Bandwidth answered on the last attempt.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    detail = models.TextField(blank=True, help_text="The outcome in words, shown to operators")

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
        allowed_from = [s for s, targets in ACTION_TRANSITIONS.items() if to_status in targets]
        if to_status not in OPEN_ACTION_STATUSES:
            fields.setdefault("finished_at", timezone.now())
        moved = Action.objects.filter(pk=self.pk, status__in=allowed_from).update(
            status=to_status, updated_at=timezone.now(), **fields
        )
        self.refresh_from_db()
        if moved:
            signals.action_changed.send(sender=Action, action_id=self.pk, call_id=self.call_id)
        return bool(moved)
