"""A call, as webhooks and reconciliation tell Switchboard about it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from voice import signals
from voice.models.mirror import MirrorQuerySet, allowed_from, event_noted, fill_missing
from voice.schema import (
    ACCOUNT_ID_LENGTH,
    APPLICATION_ID_LENGTH,
    ENUM_LENGTH,
    FROM_LENGTH,
    ID_LENGTH,
    TAG_LENGTH,
    TO_LENGTH,
)

# Calls


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


def stuck_call_cutoff() -> datetime:
    return timezone.now() - timedelta(seconds=settings.STUCK_CALL_AFTER)


LIVE_CALL_STATES = [state for state in CallState if state != CallState.ENDED]


class CallQuerySet(MirrorQuerySet):
    def live(self) -> CallQuerySet:
        # An IN on the live states, not "not ended": the (state, start_time) index serves
        # it, and the table holds every call ever made.
        return self.filter(state__in=LIVE_CALL_STATES)

    def ended(self) -> CallQuerySet:
        return self.filter(state=CallState.ENDED)

    def stuck(self) -> CallQuerySet:
        """Live calls up longer than STUCK_CALL_AFTER: forgotten on hold, or a far end that
        never hung up; an agent should look at them."""
        return self.live().filter(start_time__lt=stuck_call_cutoff())


class Call(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"
        # A value Bandwidth added since (voice/schema.py); the raw one is in the stored event.
        UNKNOWN = "unknown"

    call_id = models.CharField(max_length=ID_LENGTH, unique=True)
    account_id = models.CharField(max_length=ACCOUNT_ID_LENGTH, blank=True)
    application_id = models.CharField(max_length=APPLICATION_ID_LENGTH, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    from_number = models.CharField(max_length=FROM_LENGTH, blank=True)
    to_number = models.CharField(max_length=TO_LENGTH, blank=True)
    state = models.CharField(max_length=16, choices=CallState.choices, default=CallState.INITIATED)
    start_time = models.DateTimeField(null=True, blank=True)
    answer_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    disconnect_cause = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    tag = models.CharField(max_length=TAG_LENGTH, blank=True)
    parent_call_id = models.CharField(max_length=ID_LENGTH, blank=True)
    # machineDetectionComplete's (or a sync answer's) result: human, answering-machine, ...
    machine_detection_result = models.CharField(max_length=ENUM_LENGTH, blank=True)
    # The route whose flow answered this call, and what that flow told Bandwidth (kept as
    # given, since the route may be edited while the call is up): voice/flows.py.
    route = models.ForeignKey("Route", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    flow = models.JSONField(default=dict, blank=True)
    # When Switchboard last heard anything about this call (webhook or repair), by its own
    # clock; and the newest eventTime applied, by Bandwidth's, which orders tag changes.
    last_event_at = models.DateTimeField(null=True, blank=True)
    latest_event_time = models.DateTimeField(null=True, blank=True)
    # When reconciliation last read this call from Bandwidth's API.
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["start_time", "id"]
        indexes = [
            models.Index(fields=["state", "start_time"]),
            # The call history (newest ended first, keyset pages) and the board's figures.
            models.Index(fields=["end_time", "id"]),
            models.Index(fields=["start_time", "id"]),
        ]
        permissions = [("hangup_call", "Can hang up calls")]

    def __str__(self) -> str:
        return self.call_id

    @property
    def is_live(self) -> bool:
        return self.state != CallState.ENDED

    @property
    def is_stuck(self) -> bool:
        """Up longer than STUCK_CALL_AFTER (the board flags it as the clock passes)."""
        return self.is_live and self.start_time is not None and self.start_time < stuck_call_cutoff()

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
            call_id=call_id, state__in=allowed_from(CALL_TRANSITIONS, to_state)
        ).update(state=to_state, updated_at=timezone.now(), **fields)
        if moved:
            signals.call_changed.send(sender=cls, call_id=call_id)
        return bool(moved)

    @classmethod
    def fill_missing(cls, call_id: str, **fields) -> bool:
        """Set facts the row lacks (an answer time learnt from a late answer event) without
        touching the state or overwriting what a newer event already recorded."""
        changed = fill_missing(cls.objects.filter(call_id=call_id), **fields)
        if changed:
            signals.call_changed.send(sender=cls, call_id=call_id)
        return bool(changed)

    def note_event(self, *, event_time: datetime, tag: str) -> bool:
        """Record that an event about this call arrived now. A tag can change during a
        call, and every event carries the tag set at the time (none when there is none),
        so the tag of the newest event by eventTime wins, whatever the arrival order.
        Returns whether the tag changed (judged from this instance, as read before the
        event was applied; the UPDATE itself is the guard).
        https://dev.bandwidth.com/docs/voice/bxml/tag"""
        call_id = self.call_id
        retagged = (self.latest_event_time is None or self.latest_event_time <= event_time) and self.tag != tag
        Call.objects.filter(call_id=call_id).update(**event_noted(event_time, tag))
        if retagged:
            signals.call_changed.send(sender=Call, call_id=call_id)
        return retagged

    @classmethod
    def heard(cls, call_id: str) -> None:
        """Something showed the call is still known to Bandwidth (a conference event about
        it, say) without being about its own facts."""
        cls.objects.filter(call_id=call_id).update(last_event_at=timezone.now())
