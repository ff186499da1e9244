"""The event log: every webhook, refusal and repair."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from voice.schema import (
    EVENT_TYPE_LENGTH,
    ID_LENGTH,
    storable,
)

# The event log


class Event(models.Model):
    """Every webhook Switchboard received, stored before it is applied, and every repair
    reconciliation made.

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
        # Not a webhook Switchboard could read (voice/events.py): answered 400 and applied
        # to nothing. Kept so that operators see them: a misconfigured Bandwidth
        # application shows up first as refusals.
        REFUSED = "refused"

    class Source(models.TextChoices):
        WEBHOOK = "webhook"
        RECONCILIATION = "reconciliation"

    dedupe_key = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=EVENT_TYPE_LENGTH)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEBHOOK)
    call_id = models.CharField(max_length=ID_LENGTH, blank=True, db_index=True)
    conference_id = models.CharField(max_length=ID_LENGTH, blank=True, db_index=True)
    recording_id = models.CharField(max_length=ID_LENGTH, blank=True, db_index=True)
    event_time = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.APPLIED)
    # A repair's changes: {"field": [before, after], ...}.
    changes = models.JSONField(default=dict, blank=True)
    # The HTTP status Bandwidth got; none for a repair, which answered no one.
    answer_status = models.PositiveSmallIntegerField(null=True, blank=True, default=204)
    answer_body = models.TextField(blank=True)
    # Time from receiving the request to having the answer ready (the BXML budget is 15 s).
    answer_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["event_type", "received_at"]), models.Index(fields=["outcome", "received_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.call_id or self.conference_id}"

    @classmethod
    def refused(cls, *, event_type: str, reason: str, received: str, answer: str) -> Event:
        """Note a webhook refused for `reason`: what it said it was, and the start of what
        was received (made storable: it may hold what no column can)."""
        return cls.objects.create(
            dedupe_key=f"refused:{uuid.uuid4().hex}",
            event_type=storable(event_type)[:EVENT_TYPE_LENGTH],
            outcome=cls.Outcome.REFUSED,
            payload={"reason": storable(reason)[:1000], "received": storable(received)[:2000]},
            answer_status=400,
            answer_body=answer,
        )
