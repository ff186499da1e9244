"""Applying Bandwidth's events to the mirror: store first, apply once, answer the same way twice.

`receive` is the whole critical path of a webhook: one transaction that inserts the event
under its dedupe key, applies it through the handler for its type (voice/handlers/), and
stores the answer. A redelivered event hits the unique key and gets the stored answer
without being applied again. Handlers only move objects forward, or by eventTime, so any
arrival order of the same events ends in the same state.
"""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction

from voice.answers import NO_CONTENT, Answer, Handler
from voice.events import IncomingEvent
from voice.handlers import calls, conferences, recordings
from voice.models import Event

__all__ = ["HANDLERS", "Answer", "receive"]

HANDLERS: dict[str, Handler] = {**calls.HANDLERS, **conferences.HANDLERS, **recordings.HANDLERS}


def receive(event: IncomingEvent, *, started: float | None = None) -> Answer:
    """Store, apply and answer one webhook, exactly once per dedupe key."""
    started = time.perf_counter() if started is None else started
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = Event.objects.create(
                    dedupe_key=event.dedupe_key,
                    event_type=event.event_type,
                    call_id=event.call_id,
                    conference_id=event.conference_id,
                    recording_id=event.recording_id,
                    event_time=event.event_time,
                    payload=event.payload,
                )
        except IntegrityError:
            # A redelivery (or the same event delivered twice at once): already applied.
            stored = Event.objects.get(dedupe_key=event.dedupe_key)
            return Answer(stored.answer_status, stored.answer_body)

        handler = HANDLERS.get(event.event_type)
        if handler is None:
            record.outcome = Event.Outcome.UNKNOWN_TYPE
            answer = NO_CONTENT
        else:
            applied = handler(event)
            answer = applied.answer
            record.outcome = Event.Outcome.APPLIED if applied.changed else Event.Outcome.STALE
        record.answer_status = answer.status
        record.answer_body = answer.body
        record.answer_ms = (time.perf_counter() - started) * 1000
        record.save(update_fields=["outcome", "answer_status", "answer_body", "answer_ms"])
    return answer
