"""BXML, Bandwidth's call-control XML, built with a real XML builder (everything escaped).

https://dev.bandwidth.com/docs/voice/bxml
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, tostring

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _attribute(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def verb(name: str, text: str | None = None, /, **attributes: object) -> Element:
    """One verb; attributes given as None are left out, booleans become true/false."""
    element = Element(name, {key: _attribute(value) for key, value in attributes.items() if value is not None})
    if text is not None:
        element.text = text
    return element


def response(*verbs: Element) -> str:
    """A webhook reply: <Response> with the verbs in order."""
    root = Element("Response")
    root.extend(verbs)
    return XML_DECLARATION + tostring(root, encoding="unicode")


def document(*verbs: Element) -> str:
    """A document sent with the API rather than as a webhook reply (PUT /calls/{id}/bxml):
    <Bxml> with the verbs in order. https://dev.bandwidth.com/docs/voice/bxml"""
    root = Element("Bxml")
    root.extend(verbs)
    return XML_DECLARATION + tostring(root, encoding="unicode")


def speak_sentence(text: str, *, voice: str = "julie") -> Element:
    return verb("SpeakSentence", text, voice=voice)


def pause(seconds: float) -> Element:
    return verb("Pause", duration=seconds)


def hangup() -> Element:
    return verb("Hangup")


# Bandwidth answers an inbound call when it executes the first verb not in this set (Ring
# answers unless answerCall="false"). https://dev.bandwidth.com/docs/voice/bxml/ring
_NON_ANSWERING = frozenset({"Hangup", "Forward", "Tag", "Ring"})


def answers_call(verbs: list[Element]) -> bool:
    for element in verbs:
        if element.tag == "Ring" and element.get("answerCall", "true") == "true":
            return True
        if element.tag not in _NON_ANSWERING:
            return True
    return False


def conference(
    name: str,
    *,
    event_url: str,
    username: str,
    password: str,
    mute: bool = False,
    hold: bool = False,
    call_ids_to_coach: list[str] | None = None,
) -> Element:
    """Join (creating if need be) the conference `name`. The event URL and credentials take
    effect only for the call that creates the conference; later joiners' are ignored.
    https://dev.bandwidth.com/docs/voice/bxml/conference"""
    return verb(
        "Conference",
        name,
        mute=mute or None,
        hold=hold or None,
        callIdsToCoach=call_ids_to_coach or None,
        conferenceEventUrl=event_url,
        conferenceEventMethod="POST",
        username=username,
        password=password,
    )


def start_stream(
    *,
    name: str,
    destination: str,
    destination_username: str,
    destination_password: str,
    event_url: str,
    username: str,
    password: str,
) -> Element:
    """Stream the call's inbound audio (what its party says) to a websocket, in the background:
    BXML goes on with the next verb. mediaStreamStarted, -Rejected and -Stopped come to
    `event_url`. https://dev.bandwidth.com/docs/voice/bxml/startStream"""
    return verb(
        "StartStream",
        name=name,
        tracks="inbound",
        destination=destination,
        destinationUsername=destination_username,
        destinationPassword=destination_password,
        streamEventUrl=event_url,
        streamEventMethod="POST",
        username=username,
        password=password,
    )


def record(
    *,
    event_url: str,
    username: str,
    password: str,
    max_duration: int,
    transcribe: bool,
    file_format: str = "wav",
) -> Element:
    """Record the caller until they press #, hang up or reach `max_duration` seconds;
    recordComplete, recordingAvailable and transcriptionAvailable come to `event_url`.
    https://dev.bandwidth.com/docs/voice/bxml/record"""
    return verb(
        "Record",
        recordCompleteUrl=event_url,
        recordCompleteMethod="POST",
        recordingAvailableUrl=event_url,
        recordingAvailableMethod="POST",
        transcribe=transcribe,
        transcriptionAvailableUrl=event_url if transcribe else None,
        transcriptionAvailableMethod="POST" if transcribe else None,
        username=username,
        password=password,
        maxDuration=max_duration,
        fileFormat=file_format,
    )


def start_recording(*, event_url: str, username: str, password: str, file_format: str = "wav") -> Element:
    """Record in the background (a call, or in a conference reply the whole conference).
    https://dev.bandwidth.com/docs/voice/bxml/startRecording"""
    return verb(
        "StartRecording",
        recordingAvailableUrl=event_url,
        recordingAvailableMethod="POST",
        username=username,
        password=password,
        fileFormat=file_format,
    )


def stop_recording() -> Element:
    """Stop the recording StartRecording began (in a conference reply, the conference's).
    https://dev.bandwidth.com/docs/voice/bxml/stopRecording"""
    return verb("StopRecording")


def forward(to: str, *, caller_id: str | None = None) -> Element:
    """Hand an unanswered inbound call to another number; Switchboard loses control of it
    (only its disconnect follows). https://dev.bandwidth.com/docs/voice/bxml/forward"""
    return verb("Forward", to=to, **{"from": caller_id or None})


def transfer(to: str, *, event_url: str, username: str, password: str, caller_id: str | None = None) -> Element:
    """Dial `to` from an answered call and bridge the two; the new leg's answer and
    disconnect come to `event_url`. https://dev.bandwidth.com/docs/voice/bxml/transfer"""
    element = verb("Transfer", transferCallerId=caller_id or None)
    target = "SipUri" if to.startswith("sip:") else "PhoneNumber"
    element.append(
        verb(
            target,
            to,
            transferAnswerUrl=event_url,
            transferAnswerMethod="POST",
            transferDisconnectUrl=event_url,
            transferDisconnectMethod="POST",
            username=username,
            password=password,
        )
    )
    return element
