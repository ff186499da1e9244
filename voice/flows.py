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
from django.urls import reverse

from voice import bxml, route_table, stream_credentials
from voice.models import (
    CONFERENCE_MAX_MEMBERS,
    Action,
    ActionKind,
    Call,
    Conference,
    ConferenceMember,
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
DIAL_OUT_SENTENCE = "You are being connected to a conference."
REMOVED = "You have been removed from the conference. Goodbye."
# The tag of a call an operator dials into a conference, followed by the conference's id:
# Bandwidth sends it with the call's answer webhook, which then gets that conference's
# BXML (whatever route the number it is placed from has). https://dev.bandwidth.com/docs/voice/bxml/tag
DIAL_OUT_TAG = "dial-out:"


def dial_out_tag(conference_id: str) -> str:
    return DIAL_OUT_TAG + conference_id


def dialled_into(tag: str) -> str | None:
    """The conference an operator dialled a call with this tag into, if they did."""
    return tag.removeprefix(DIAL_OUT_TAG) if tag.startswith(DIAL_OUT_TAG) else None


# The tag of a listening leg: a call to an operator's own phone that joins a conference
# muted and unannounced, followed by the conference's id and the operator's user id.
MONITOR_TAG = "monitor:"


def monitor_tag(conference_id: str, user_id: int) -> str:
    return f"{MONITOR_TAG}{conference_id}:{user_id}"


def monitoring(tag: str) -> tuple[str, int] | None:
    """The conference a listening leg with this tag listens to, and whose leg it is."""
    if not tag.startswith(MONITOR_TAG):
        return None
    conference_id, _, user_id = tag.removeprefix(MONITOR_TAG).rpartition(":")
    return (conference_id, int(user_id)) if conference_id and user_id.isdigit() else None


def webhook_url() -> str:
    return settings.PUBLIC_URL + reverse("voice-webhook")


def _callback() -> dict[str, str]:
    return {"event_url": webhook_url(), "username": settings.WEBHOOK_USERNAME, "password": settings.WEBHOOK_PASSWORD}


def redirect_callbacks() -> dict[str, str]:
    """updateCall's and updateConference's redirect fields: the redirect webhook comes to
    the same URL as everything else (voice.bandwidth.BandwidthClient.redirect)."""
    return {"redirect_url": webhook_url(), "username": settings.WEBHOOK_USERNAME, "password": settings.WEBHOOK_PASSWORD}


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
    ranked = [(rank, route) for route in route_table.table.enabled() if (rank := route.specificity(number)) is not None]
    return min(ranked, key=lambda pair: pair[0])[1] if ranked else None


@dataclass(frozen=True)
class Plan:
    """What a call is told to do: the verbs, the route they came from, and a record of
    the choices made (stored on Call.flow, read when the call joins a conference)."""

    verbs: list[Element]
    route: Route | None = None
    flow: dict = field(default_factory=dict)

    @property
    def route_id(self) -> int | None:
        return self.route.pk if self.route else None


def plan_for(call: Call, *, answered: bool, redirected: bool = False) -> Plan:
    """The BXML for a call Bandwidth asks about (initiate, answer, redirect). `answered`
    says whether the call is up already (it is not at initiate). A redirect an operator
    sent gets the route they chose; a call an operator dialled into a conference joins it."""
    route = redirect_route(call) if redirected else None
    conference_id = dialled_into(call.tag)
    if route is None and conference_id is not None:
        return _dial_out(call, conference_id)
    watched = monitoring(call.tag)
    if route is None and watched is not None:
        return _listen(call, *watched)
    route = route or route_for(routed_number(call))
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


def redirect_route(call: Call) -> Route | None:
    """The route of the newest redirect an operator sent for this call (its action is
    claimed before the request leaves, so it is known when the webhook arrives); None if
    none was sent, or its route has since been disabled or deleted."""
    action = (
        Action.objects.filter(kind=ActionKind.REDIRECT, call_id=call.call_id, claimed_at__isnull=False)
        .order_by("-claimed_at", "-id")
        .first()
    )
    if action is None:
        return None
    return route_table.table.by_pk(action.params.get("route"))


def _dial_out(call: Call, conference_id: str) -> Plan:
    conference = Conference.objects.filter(conference_id=conference_id).first()
    flow = {"flow": "dial-out", "conference_id": conference_id}
    if conference is None or not conference.is_live or not conference.name:
        return Plan([bxml.speak_sentence(CONFERENCE_ENDED), bxml.hangup()], None, {**flow, "ended": True})
    return _join(call, conference.name, sentence=DIAL_OUT_SENTENCE, route=None, flow=flow)


def _listen(call: Call, conference_id: str, user_id: int) -> Plan:
    """An operator's phone answered: it joins the conference muted, announced by nothing."""
    conference = Conference.objects.filter(conference_id=conference_id).first()
    flow = {"flow": "monitor", "conference_id": conference_id, "user": user_id}
    if conference is None or not conference.is_live or not conference.name:
        return Plan([bxml.speak_sentence(CONFERENCE_ENDED), bxml.hangup()], None, {**flow, "ended": True})
    return _join(call, conference.name, sentence="", route=None, flow=flow, mute=True)


def _join_conference(call: Call, route: Route, flow: dict) -> Plan:
    return _join(
        call,
        route.conference_name,
        sentence=route.sentence,
        mute=route.join_muted,
        hold=route.join_on_hold,
        as_coach=route.join_as_coach,
        show_talking=route.show_talking,
        route=route,
        flow=flow,
    )


def _join(
    call: Call,
    name: str,
    *,
    sentence: str,
    route: Route | None,
    flow: dict,
    mute: bool = False,
    hold: bool = False,
    as_coach: bool = False,
    show_talking: bool = False,
) -> Plan:
    present = ConferenceMember.objects.present_in_newest(name, excluding=call.call_id)
    if len(present) >= CONFERENCE_MAX_MEMBERS:
        return Plan([bxml.speak_sentence(CONFERENCE_FULL), bxml.hangup()], route, {**flow, "full": True})
    # A coach is heard only by the calls it coaches: those in the conference as it joins.
    coached = present if as_coach else []
    verbs = []
    if sentence:
        verbs.append(bxml.speak_sentence(sentence))
    if show_talking:
        verbs.append(talking_stream(call))
    verbs += [
        bxml.conference(name, **_callback(), mute=mute, hold=hold, call_ids_to_coach=coached),
        bxml.speak_sentence(CONFERENCE_ENDED),
        bxml.hangup(),
    ]
    flow = {**flow, "conference": name, "mute": mute, "hold": hold, "callIdsToCoach": coached, "talking": show_talking}
    return Plan(verbs, route, flow)


def talking_stream(call: Call) -> Element:
    """The member's inbound audio streamed to the console, which shows who is talking: with
    credentials for this call alone (voice/stream_credentials.py)."""
    username, password = stream_credentials.credentials_for(call.call_id)
    return bxml.start_stream(
        name=stream_credentials.STREAM_NAME,
        destination=stream_credentials.destination(),
        destination_username=username,
        destination_password=password,
        **_callback(),
    )


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


def records_from_creation(conference_name: str) -> bool:
    """Whether a route asks for the conference `conference_name` to be recorded from its
    creation."""
    return any(
        route.flow == Route.Flow.CONFERENCE and route.conference_name == conference_name and route.record_conference
        for route in route_table.table.enabled()
    )


def conference_created() -> list[Element]:
    """The reply to conferenceCreated when it is to be recorded (records_from_creation).
    Only conference verbs are allowed here (https://dev.bandwidth.com/docs/voice/bxml/conference)."""
    return [bxml.start_recording(**_callback())]


def recording_wanted(conference_id: str) -> bool | None:
    """What the newest recording change an operator sent for the conference asks (True:
    start, False: stop); None if there is none. Its action is claimed before the
    updateConference request leaves, so it is known when conferenceRedirect arrives."""
    action = (
        Action.objects.filter(kind=ActionKind.CONFERENCE_RECORDING, target=conference_id, claimed_at__isnull=False)
        .order_by("-claimed_at", "-id")
        .first()
    )
    return bool(action.params.get("record")) if action is not None else None


def recording_change(record: bool) -> list[Element]:
    """The reply to conferenceRedirect: start or stop recording the conference."""
    return [bxml.start_recording(**_callback())] if record else [bxml.stop_recording()]


def removal() -> str:
    """The BXML that takes a member out of its conference for good: sent with the request
    (PUT /calls/{id}/bxml) rather than through a redirect webhook, so it cannot re-run the
    call's route, which would join it again. https://dev.bandwidth.com/apis/voice/#tag/Calls/operation/updateCallBxml"""
    return bxml.document(bxml.speak_sentence(REMOVED), bxml.hangup())


def dial_out_caller_id(conference: Conference) -> str:
    """The account number a call dialled into `conference` is placed from: the number of
    the route that leads callers into it, else the account number of a call in it."""
    leading = [
        route
        for route in route_table.table.enabled()
        if route.flow == Route.Flow.CONFERENCE and route.conference_name == conference.name and route.match == Route.Match.EXACT
    ]
    if leading:
        return min(leading, key=lambda route: (route.priority, route.pk)).number
    present = conference.members.present().values_list("call_id", flat=True)
    call = Call.objects.filter(call_id__in=list(present)).order_by("start_time", "id").first()
    return routed_number(call) if call is not None else ""


def end_of_call() -> list[Element]:
    """The reply to a BXML event no flow of Switchboard's leads to (gather,
    transferComplete, bridgeComplete, bridgeTargetComplete): nothing more to do, hang up."""
    return [bxml.hangup()]
