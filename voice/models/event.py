"""The event log: every webhook, refusal and repair."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from voice import metrics
from voice.answers import Answer
from voice.events import Callback
from voice.models.upsert import insert_once
from voice.schema import (
    EVENT_TYPE_LENGTH,
    ID_LENGTH,
    storable,
)

# The event log


class Event(models.Model):
    """Every webhook Switchboard received, stored with what applying it did and what it
    was answered (voice/intake.py), every webhook refused, and every repair reconciliation
    made.

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
    def received(cls, event: Callback, *, outcome: str, answer: Answer, ms: float) -> bool:
        """Store a webhook applied with `outcome` and answered with `answer` after `ms`, in
        one statement; False if one with its dedupe key is stored already (a redelivery)."""
        return insert_once(
            cls,
            {
                "dedupe_key": event.dedupe_key,
                "event_type": event.event_type,
                "call_id": event.call_id,
                "conference_id": event.conference_id,
                "recording_id": event.recording_id,
                "event_time": event.event_time,
                "received_at": timezone.now(),
                "payload": event.payload,
                "outcome": outcome,
                "answer_status": answer.status,
                "answer_body": answer.body,
                "answer_ms": ms,
            },
            unique=["dedupe_key"],
        )

    @classmethod
    def answer_to(cls, event: Callback) -> Answer:
        """The answer given to the event the first time it came."""
        status, body = cls.objects.filter(dedupe_key=event.dedupe_key).values_list("answer_status", "answer_body").get()
        return Answer(status, body)

    @classmethod
    def repaired(cls, kind: str, *, payload: dict, changes: dict, call_id: str = "", conference_id: str = "") -> Event:
        """A repair reconciliation made: what Bandwidth said, and what changed
        ({column: (before, after)})."""
        transaction.on_commit(metrics.REPAIRS.labels(kind).inc)
        return cls.objects.create(
            dedupe_key=f"repair:{uuid.uuid4().hex}",
            event_type=kind,
            source=cls.Source.RECONCILIATION,
            outcome=cls.Outcome.REPAIR,
            call_id=call_id,
            conference_id=conference_id,
            payload=payload,
            changes={name: [_jsonable(before), _jsonable(after)] for name, (before, after) in changes.items()},
            answer_status=None,
        )

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


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
