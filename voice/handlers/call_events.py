"""Call events: the call's own lifecycle, and the BXML events of a call in progress.

Each handler says what state its event puts the call in; Call.observe applies it, in one
statement. A BXML event's reply is planned from what the event says of the call
(voice/flows.py).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from voice import bxml, flows, stream_credentials
from voice.answers import NO_CONTENT, Applied, Handler, bxml_answer
from voice.events import Answer, CallEvent, Ended, MachineDetectionComplete, MediaStreamEvent
from voice.models import Call, CallState, StreamState


def in_progress(event: CallEvent, *, call_times: bool = True, detection: str = "") -> bool:
    """An event that only happens on an answered call (gather, dtmf, recordComplete, ...):
    the call is answered, whatever Switchboard knew. True if anything changed."""
    _, changed = Call.observe(
        event.facts(), CallState.ANSWERED, at=event.event_time, call_times=call_times, detection=detection
    )
    return changed


def _answered(event: CallEvent, plan: flows.Plan, *, answered_at: datetime | None = None, detection: str = "") -> Applied:
    """An answered call's BXML event: the call is answered, and gets `plan`'s verbs."""
    _, changed = Call.observe(
        event.facts(), CallState.ANSWERED, at=event.event_time, answered_at=answered_at, detection=detection, plan=plan
    )
    return Applied(bxml_answer(plan.verbs), changed)


def on_initiate(event: CallEvent) -> Applied:
    plan = flows.plan_for(Call.of(event.facts()), answered=False)
    # Bandwidth answers an inbound call as it runs the first answering verb of this reply,
    # and no webhook says so: the answer time is ours until a later event or
    # reconciliation brings Bandwidth's own.
    answers = bxml.answers_call(plan.verbs)
    _, changed = Call.observe(
        event.facts(),
        CallState.ANSWERED if answers else CallState.INITIATED,
        at=event.event_time,
        answered_at=timezone.now() if answers else None,
        plan=plan,
    )
    return Applied(bxml_answer(plan.verbs), changed)


def on_answer(event: Answer) -> Applied:
    detection = event.machine_detection_result
    return _answered(
        event,
        flows.plan_for(Call.of(event.facts()), answered=True),
        answered_at=event.answer_time or event.event_time,
        # Present when machine detection ran in sync mode.
        detection=detection.value if detection else "",
    )


def on_redirect(event: CallEvent) -> Applied:
    """updateCall with a redirectUrl (an operator's redirect to a route: that route's flow),
    or a <Redirect> (the call starts its own flow again)."""
    return _answered(event, flows.plan_for(Call.of(event.facts()), answered=True, redirected=True))


def on_disconnect(event: Ended) -> Applied:
    _, changed = Call.observe(event.facts(), CallState.ENDED, at=event.event_time)
    return Applied(NO_CONTENT, changed)


def on_call_continues(event: CallEvent) -> Applied:
    """gather, transferComplete, bridgeComplete, bridgeTargetComplete: BXML events no flow
    of Switchboard's leads to; the call is up, and has nothing more to do."""
    return Applied(bxml_answer(flows.end_of_call()), in_progress(event))


def on_call_notice(event: CallEvent) -> Applied:
    """dtmf: a digit pressed on an answered call; nothing to answer."""
    return Applied(NO_CONTENT, in_progress(event))


def on_machine_detection(event: MachineDetectionComplete) -> Applied:
    return Applied(NO_CONTENT, in_progress(event, detection=event.machine_detection_result.value))


def on_transfer_answer(event: CallEvent) -> Applied:
    """The new leg of a <Transfer> answered (callId is that leg, parentCallId the caller's).
    An empty reply bridges the two at once."""
    _, changed = Call.observe(event.facts(), CallState.ANSWERED, at=event.event_time, answered_at=event.answer_time or event.event_time)
    return Applied(bxml_answer([]), changed)


STREAM_EVENTS = {
    "mediaStreamStarted": StreamState.STARTED,
    "mediaStreamRejected": StreamState.REJECTED,
    "mediaStreamStopped": StreamState.STOPPED,
}


def on_media_stream(event: MediaStreamEvent) -> Applied:
    """The life of the stream that shows who is talking: a page shows the member's activity
    as unknown once it was refused or stopped. Another stream on the call is not Switchboard's."""
    name = event.media_stream.name if event.media_stream is not None else ""
    if name and name != stream_credentials.STREAM_NAME:
        return Applied(NO_CONTENT, in_progress(event))
    # A stream only runs on an answered call, whatever Switchboard knew of it.
    answered = in_progress(event)
    streamed = Call.stream_reported(event.call_id, STREAM_EVENTS[event.event_type], at=event.event_time, cause=event.cause)
    return Applied(NO_CONTENT, answered or streamed)


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
    **{event_type: on_media_stream for event_type in STREAM_EVENTS},
}
