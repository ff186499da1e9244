"""Applying Bandwidth's events to the mirror: store first, apply once, answer the same way twice.

`receive` is the whole critical path of a webhook: one transaction that inserts the event
under its dedupe key, applies it through the handler for its type, and stores the answer.
A redelivered event hits the unique key and gets the stored answer without being applied
again. Handlers only move objects forward (Call.advance), so any arrival order of the same
events ends in the same state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from voice import bxml, flows, signals
from voice.events import IncomingEvent
from voice.models import Call, CallState, Event


@dataclass(frozen=True)
class Answer:
    status: int
    body: str = ""

    @property
    def content_type(self) -> str:
        return "application/xml; charset=utf-8" if self.body else "text/plain"


NO_CONTENT = Answer(204)


@dataclass(frozen=True)
class Applied:
    answer: Answer
    # False when the event was valid but changed nothing (it arrived after a newer one).
    changed: bool = True


Handler = Callable[[IncomingEvent], Applied]


def _call_facts(event: IncomingEvent) -> dict:
    """The fields every call event carries, as Call columns."""
    return {
        "account_id": event.text("accountId"),
        "application_id": event.text("applicationId"),
        "direction": event.text("direction"),
        "from_number": event.text("from"),
        "to_number": event.text("to"),
        "start_time": event.time("startTime"),
        "parent_call_id": event.text("parentCallId"),
    }


def _ensure_call(event: IncomingEvent, state: str, **fields) -> tuple[Call, bool]:
    """The call this event is about, created in `state` if Switchboard never saw it."""
    defaults = {**_call_facts(event), "state": state, "tag": event.text("tag"), **fields}
    with transaction.atomic():
        try:
            return Call.objects.get_or_create(call_id=event.call_id, defaults=defaults)
        except IntegrityError:
            # Created by a concurrent webhook for the same call between our read and insert.
            return Call.objects.get(call_id=event.call_id), False


def _move_call(event: IncomingEvent, state: str, **fields) -> bool:
    """Create the call in `state`, or advance it there; True if anything changed."""
    call, created = _ensure_call(event, state, **fields)
    if created:
        signals.call_changed.send(sender=Call, call_id=call.call_id)
        return True
    moved = Call.advance(call.call_id, state, **{k: v for k, v in fields.items() if v not in (None, "")})
    # Facts an earlier-dropped or reordered event would have brought (the start time, an
    # answer time that arrives after the disconnect) fill gaps but never overwrite.
    Call.fill_missing(call.call_id, **_call_facts(event), **fields)
    return moved


def on_initiate(event: IncomingEvent) -> Applied:
    changed = _move_call(event, CallState.INITIATED)
    verbs = flows.verbs_for(Call.objects.get(call_id=event.call_id))
    if bxml.answers_call(verbs):
        # Bandwidth answers an inbound call as it runs the first answering verb of this
        # reply, and no webhook says so; the answer time is ours until reconciliation
        # reads Bandwidth's own.
        changed |= Call.advance(event.call_id, CallState.ANSWERED, answer_time=timezone.now())
    return Applied(Answer(200, bxml.response(*verbs)), changed)


def on_answer(event: IncomingEvent) -> Applied:
    changed = _move_call(event, CallState.ANSWERED, answer_time=event.time("answerTime") or event.event_time)
    verbs = flows.verbs_for(Call.objects.get(call_id=event.call_id))
    return Applied(Answer(200, bxml.response(*verbs)), changed)


def on_disconnect(event: IncomingEvent) -> Applied:
    changed = _move_call(
        event,
        CallState.ENDED,
        end_time=event.time("endTime") or event.event_time,
        answer_time=event.time("answerTime"),
        disconnect_cause=event.text("cause"),
        error_message=event.text("errorMessage"),
    )
    return Applied(NO_CONTENT, changed)


HANDLERS: dict[str, Handler] = {
    "initiate": on_initiate,
    "answer": on_answer,
    "disconnect": on_disconnect,
}


def receive(event: IncomingEvent, *, started: float | None = None) -> Answer:
    """Store, apply and answer one webhook, exactly once per dedupe key."""
    started = time.perf_counter() if started is None else started
    with transaction.atomic():
        stored = Event.objects.filter(dedupe_key=event.dedupe_key).first()
        if stored is not None:
            return Answer(stored.answer_status, stored.answer_body)
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
            # The same event, delivered twice at once: the other request applied it.
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
            if event.call_id:
                tag = event.text("tag") if "tag" in event.payload else None
                Call.note_event(event.call_id, event_time=event.event_time, tag=tag)
        record.answer_status = answer.status
        record.answer_body = answer.body
        record.answer_ms = (time.perf_counter() - started) * 1000
        record.save(update_fields=["outcome", "answer_status", "answer_body", "answer_ms"])
    return answer
