"""Call events: the call's own lifecycle, and the BXML events of a call in progress."""

from __future__ import annotations

from django.utils import timezone

from voice import bxml, flows, signals
from voice.answers import NO_CONTENT, Applied, Handler, bxml_answer
from voice.events import Answer, CallEvent, Ended, IncomingEvent, MachineDetectionComplete
from voice.models import Call, CallState


def call_facts(event: CallEvent, *, call_times: bool = True) -> dict:
    """The fields every call event carries, as Call columns. Recording events carry the
    recording's start and end in startTime and endTime, so they pass call_times=False."""
    facts = {
        "account_id": event.account_id,
        "application_id": event.application_id,
        "direction": event.direction,
        "from_number": event.from_number,
        "to_number": event.to_number,
        "parent_call_id": event.parent_call_id,
    }
    if call_times:
        facts["start_time"] = event.start_time
    return facts


def move_call(event: CallEvent, state: str, *, call_times: bool = True, **fields) -> bool:
    """Create the call in `state`, or advance it there; True if anything changed. Then
    note the event (its tag, its time)."""
    facts = call_facts(event, call_times=call_times)
    # get_or_create also settles a race with a concurrent webhook creating the same call.
    call, created = Call.objects.get_or_create(
        call_id=event.call_id, defaults={**facts, "state": state, "tag": event.tag, **fields}
    )
    if created:
        signals.call_changed.send(sender=Call, call_id=call.call_id)
        changed = True
    else:
        changed = _catch_up(call, event, state, facts, fields)
    changed |= call.note_event(event_time=event.event_time, tag=event.tag)
    return changed


def _catch_up(call: Call, event: CallEvent, state: str, facts: dict, fields: dict) -> bool:
    """Apply an event to a call Switchboard knows: advance it (never backwards) and fill in
    what earlier-dropped or reordered events would have brought; True if anything changed."""
    changed = Call.advance(call.call_id, state, **{k: v for k, v in fields.items() if v not in (None, "")})
    # Facts (the start time, an answer time that arrives after the disconnect) fill gaps
    # but never overwrite.
    changed |= Call.fill_missing(call.call_id, **facts, **fields)
    # Bandwidth's answer time replaces Switchboard's estimate (see on_initiate).
    answered = event.answer_time
    if answered is not None and Call.objects.filter(pk=call.pk).exclude(answer_time=answered).update(answer_time=answered):
        signals.call_changed.send(sender=Call, call_id=call.call_id)
        changed = True
    return changed


def in_progress(event: CallEvent, *, call_times: bool = True, **fields) -> bool:
    """An event that only happens on an answered call (gather, dtmf, recordComplete, ...):
    the call is answered, whatever Switchboard knew."""
    return move_call(event, CallState.ANSWERED, call_times=call_times, answer_time=event.answer_time, **fields)


def _plan(event: CallEvent, *, answered: bool, redirected: bool = False) -> flows.Plan:
    call = Call.objects.get(call_id=event.call_id)
    plan = flows.plan_for(call, answered=answered, redirected=redirected)
    Call.objects.filter(pk=call.pk).update(route=plan.route, flow=plan.flow)
    return plan


def on_initiate(event: CallEvent) -> Applied:
    changed = move_call(event, CallState.INITIATED)
    plan = _plan(event, answered=False)
    if bxml.answers_call(plan.verbs):
        # Bandwidth answers an inbound call as it runs the first answering verb of this
        # reply, and no webhook says so; the answer time is ours until a later event or
        # reconciliation brings Bandwidth's own.
        changed |= Call.advance(event.call_id, CallState.ANSWERED, answer_time=timezone.now())
    return Applied(bxml_answer(plan.verbs), changed)


def on_answer(event: Answer) -> Applied:
    detection = event.machine_detection_result
    changed = move_call(
        event,
        CallState.ANSWERED,
        answer_time=event.answer_time or event.event_time,
        # Present when machine detection ran in sync mode.
        machine_detection_result=detection.value if detection else "",
    )
    return Applied(bxml_answer(_plan(event, answered=True).verbs), changed)


def on_redirect(event: CallEvent) -> Applied:
    """updateCall with a redirectUrl (an operator's redirect to a route: that route's flow),
    or a <Redirect> (the call starts its own flow again)."""
    changed = in_progress(event)
    return Applied(bxml_answer(_plan(event, answered=True, redirected=True).verbs), changed)


def on_disconnect(event: Ended) -> Applied:
    ended = event.end_time or event.event_time
    # Ended by reconciliation on a 404, with Switchboard's guess of the end and no cause:
    # Bandwidth's own end time replaces the guess (the cause fills the gap below).
    guessed = Call.objects.filter(call_id=event.call_id, state=CallState.ENDED, disconnect_cause="")
    corrected = bool(event.cause) and bool(guessed.exclude(end_time=ended).update(end_time=ended))
    changed = move_call(
        event,
        CallState.ENDED,
        end_time=ended,
        answer_time=event.answer_time,
        disconnect_cause=event.cause,
        error_message=event.error_message,
    )
    if corrected:
        signals.call_changed.send(sender=Call, call_id=event.call_id)
    return Applied(NO_CONTENT, changed or corrected)


def on_call_continues(event: CallEvent) -> Applied:
    """gather, transferComplete, bridgeComplete, bridgeTargetComplete: BXML events no flow
    of Switchboard's leads to; the call is up, and has nothing more to do."""
    return Applied(bxml_answer(flows.end_of_call()), in_progress(event))


def on_call_notice(event: CallEvent) -> Applied:
    """dtmf: a digit pressed on an answered call; nothing to answer."""
    return Applied(NO_CONTENT, in_progress(event))


def on_machine_detection(event: MachineDetectionComplete) -> Applied:
    return Applied(NO_CONTENT, in_progress(event, machine_detection_result=event.machine_detection_result.value))


def on_transfer_answer(event: CallEvent) -> Applied:
    """The new leg of a <Transfer> answered (callId is that leg, parentCallId the caller's).
    An empty reply bridges the two at once."""
    changed = move_call(event, CallState.ANSWERED, answer_time=event.answer_time or event.event_time)
    return Applied(bxml_answer([]), changed)


HANDLERS: dict[str, Handler] = {
    "initiate": on_initiate,
    "answer": on_answer,
    "redirect": on_redirect,
    "disconnect": on_disconnect,
    "gather": on_call_continues,
    "dtmf": on_call_notice,
    "machineDetectionComplete": on_machine_detection,
    "transferAnswer": on_transfer_answer,
    "transferComplete": on_call_continues,
    # A <Transfer> leg ended, answered or not: the leg is a call like any other, ended.
    "transferDisconnect": on_disconnect,
    "bridgeComplete": on_call_continues,
    "bridgeTargetComplete": on_call_continues,
}
