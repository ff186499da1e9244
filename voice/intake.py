"""A webhook's whole critical path: apply it to the mirror, store it with its outcome and
answer, answer, all in one transaction, exactly once per dedupe key.

The event is applied first and stored last, in one INSERT that a redelivery's dedupe key
makes do nothing: then the transaction is rolled back (undoing what the redelivery applied,
and the pushes and tasks it would have sent) and the stored answer is given again. A
redelivery is the rare case; the common one costs no read of the event log and no
savepoint. Handlers (voice/handlers/) only move objects forward, or by eventTime, so any
arrival order of the same events ends in the same state.

A database connection lost under a webhook (a failover, a restart, pg_terminate_backend) is
replaced and the webhook applied again: Bandwidth retries an async webhook only when it
cannot connect, never on a 500, so a 500 would lose the event.
"""

from __future__ import annotations

import time

from django.db import InterfaceError, OperationalError, connection, transaction

from voice import metrics
from voice.answers import NO_CONTENT, Answer, Handler
from voice.events import Callback
from voice.handlers import call_events, conference_events, recording_events
from voice.models import Event

__all__ = ["HANDLERS", "Answer", "receive"]

HANDLERS: dict[str, Handler] = {**call_events.HANDLERS, **conference_events.HANDLERS, **recording_events.HANDLERS}


def receive(event: Callback, *, started: float | None = None) -> Answer:
    """Apply, store and answer one webhook, exactly once per dedupe key; once more, on a new
    connection, after a fault of the database rather than of the data (the connection lost,
    a deadlock, a serialization failure). Nothing of the first try was committed, or, if its
    commit landed before the connection went, the dedupe key makes the second a redelivery."""
    started = time.perf_counter() if started is None else started
    try:
        return _receive(event, started)
    except (OperationalError, InterfaceError):
        connection.close()
        return _receive(event, started)


def _receive(event: Callback, started: float) -> Answer:
    with transaction.atomic():
        handler = HANDLERS.get(event.event_type)
        if handler is None:
            answer, outcome = NO_CONTENT, Event.Outcome.UNKNOWN_TYPE
        else:
            applied = handler(event)
            answer = applied.answer
            outcome = Event.Outcome.APPLIED if applied.changed else Event.Outcome.STALE
        seconds = time.perf_counter() - started
        stored = Event.received(event, outcome=outcome, answer=answer, ms=seconds * 1000)
        if not stored:
            # A redelivery (or the same event delivered twice at once): applied already.
            transaction.set_rollback(True)
    # Counted once committed: a transaction rolled back by a fault counts nothing.
    event_type = metrics.event_type_label(event.event_type, HANDLERS.keys())
    if stored:
        metrics.WEBHOOKS.labels(event_type, outcome).inc()
        metrics.ANSWER_SECONDS.observe(seconds)
        return answer
    metrics.WEBHOOKS.labels(event_type, "duplicate").inc()
    return Event.answer_to(event)
