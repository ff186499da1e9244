"""Call flows: which BXML a call gets when Bandwidth asks.

A call's flow comes from its route (voice.models.Route): an inbound call is routed by the
number it called, an outbound call by the account number it was placed from; without a
matching route, the default route; without any route, the built-in default below (speak,
then hold). Every URL in the BXML is Switchboard's one webhook URL with its credentials,
so conference, recording and transcription events reach the same authenticated view.

Replies to the other BXML events (voice/handlers/*.py) are here too, so that everything
Switchboard tells Bandwidth to do is in one module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from voice import bxml
from voice.models import (
    CONFERENCE_MAX_MEMBERS,
    Call,
    Conference,
    ConferenceMember,
    ConferenceState,
    MemberState,
    Route,
)

# Keeps the caller on the line until they hang up or an operator ends the call; Bandwidth
# allows a Pause of up to 86400 s.
HOLD_SECONDS = 3600
DEFAULT_SENTENCE = "Thank you for calling. Please hold while we connect you."
RECORD_SENTENCE = "Please leave a message after the tone. Press pound when you are done."
AFTER_RECORDING = "Thank you. Your message has been recorded. Goodbye."
CONFERENCE_ENDED = "The conference has ended. Goodbye."
CONFERENCE_FULL = "Sorry, this conference is full. Goodbye."


def webhook_url() -> str:
    return settings.PUBLIC_URL + reverse("voice-webhook")


def _callback() -> dict[str, str]:
    return {"event_url": webhook_url(), "username": settings.WEBHOOK_USERNAME, "password": settings.WEBHOOK_PASSWORD}


def outbound_callbacks() -> dict[str, str]:
    """createCall's callback fields for a call Switchboard places: its answer and disconnect
    come to the same webhook URL as everything else (voice.bandwidth.BandwidthClient.create_call)."""
    url = webhook_url()
    return {
        "answer_url": url,
        "disconnect_url": url,
        "username": settings.WEBHOOK_USERNAME,
        "password": settings.WEBHOOK_PASSWORD,
    }


def routed_number(call: Call) -> str:
    """The account's own number on the call: the one dialled in, or the one dialled from."""
    return call.from_number if call.direction == Call.Direction.OUTBOUND else call.to_number


def route_for(number: str) -> Route | None:
    candidates = Route.objects.filter(enabled=True).filter(
        Q(match=Route.Match.DEFAULT) | Q(match=Route.Match.EXACT, number=number) | Q(match=Route.Match.PREFIX)
    )
    ranked = [(rank, route) for route in candidates if (rank := route.specificity(number)) is not None]
    return min(ranked, key=lambda pair: pair[0])[1] if ranked else None


@dataclass(frozen=True)
class Plan:
    """What a call is told to do: the verbs, the route they came from, and a record of
    the choices made (stored on Call.flow, read when the call joins a conference)."""

    verbs: list[Element]
    route: Route | None = None
    flow: dict = field(default_factory=dict)


def plan_for(call: Call, *, answered: bool) -> Plan:
    """The BXML for a call Bandwidth asks about (initiate, answer, redirect). `answered`
    says whether the call is up already (it is not at initiate)."""
    route = route_for(routed_number(call))
    if route is None:
        return Plan(_speak_then_hold(DEFAULT_SENTENCE), None, {"flow": Route.Flow.SPEAK_HOLD})
    flow = {"route": route.name, "flow": route.flow}
    if route.flow == Route.Flow.CONFERENCE:
        return _join_conference(call, route, flow)
    if route.flow == Route.Flow.SPEAK_HANGUP:
        return Plan([bxml.speak_sentence(route.sentence), bxml.hangup()], route, flow)
    if route.flow == Route.Flow.RECORD:
        verbs = [
            bxml.speak_sentence(route.sentence or RECORD_SENTENCE),
            bxml.record(**_callback(), max_duration=route.max_record_seconds, transcribe=route.transcribe),
            # Reached only if the recording ends without recordComplete's reply taking over.
            bxml.hangup(),
        ]
        return Plan(verbs, route, {**flow, "transcribe": route.transcribe})
    if route.flow == Route.Flow.FORWARD:
        # <Forward> only works on an unanswered inbound call; an answered one is
        # transferred instead (https://dev.bandwidth.com/docs/voice/bxml/forward).
        if answered:
            verb = bxml.transfer(route.forward_to, **_callback(), caller_id=route.forward_from or None)
        else:
            verb = bxml.forward(route.forward_to, caller_id=route.forward_from or None)
        return Plan([verb], route, {**flow, "to": route.forward_to})
    return Plan(_speak_then_hold(route.sentence or DEFAULT_SENTENCE), route, flow)


def _speak_then_hold(sentence: str) -> list[Element]:
    return [bxml.speak_sentence(sentence), bxml.pause(HOLD_SECONDS), bxml.hangup()]


def _join_conference(call: Call, route: Route, flow: dict) -> Plan:
    name = route.conference_name
    conference = Conference.objects.filter(name=name, state=ConferenceState.ACTIVE).order_by("-created_time").first()
    present = (
        list(
            ConferenceMember.objects.filter(conference=conference, state=MemberState.JOINED)
            .exclude(call_id=call.call_id)
            .values_list("call_id", flat=True)
        )
        if conference
        else []
    )
    if len(present) >= CONFERENCE_MAX_MEMBERS:
        return Plan([bxml.speak_sentence(CONFERENCE_FULL), bxml.hangup()], route, {**flow, "full": True})
    # A coach is heard only by the calls it coaches: those in the conference as it joins.
    coached = present if route.join_as_coach else []
    verbs = []
    if route.sentence:
        verbs.append(bxml.speak_sentence(route.sentence))
    verbs += [
        bxml.conference(
            name,
            **_callback(),
            mute=route.join_muted,
            hold=route.join_on_hold,
            call_ids_to_coach=coached,
        ),
        bxml.speak_sentence(CONFERENCE_ENDED),
        bxml.hangup(),
    ]
    flow = {**flow, "conference": name, "mute": route.join_muted, "hold": route.join_on_hold, "callIdsToCoach": coached}
    return Plan(verbs, route, flow)


def member_flags(call: Call | None, conference_name: str) -> dict:
    """mute, hold and callIdsToCoach a call joined `conference_name` with, as its flow
    asked (no webhook reports them)."""
    flow = call.flow if call is not None else {}
    if flow.get("conference") != conference_name:
        return {}
    return {
        "mute": bool(flow.get("mute")),
        "hold": bool(flow.get("hold")),
        "call_ids_to_coach": list(flow.get("callIdsToCoach") or []),
    }


def after_recording() -> list[Element]:
    """The reply to recordComplete: the message is in, say so and hang up."""
    return [bxml.speak_sentence(AFTER_RECORDING), bxml.hangup()]


def conference_created(conference: Conference) -> list[Element]:
    """The reply to conferenceCreated: record the conference if a route asks for it.
    Only conference verbs are allowed here (https://dev.bandwidth.com/docs/voice/bxml/conference)."""
    records = Route.objects.filter(
        enabled=True, flow=Route.Flow.CONFERENCE, conference_name=conference.name, record_conference=True
    ).exists()
    return [bxml.start_recording(**_callback())] if records else []


def end_of_call() -> list[Element]:
    """The reply to a BXML event no flow of Switchboard's leads to (gather,
    transferComplete, bridgeComplete, bridgeTargetComplete): nothing more to do, hang up."""
    return [bxml.hangup()]
