"""Webhook bodies exactly as Bandwidth sends them (field names, optional fields left out).

https://dev.bandwidth.com/docs/voice/webhooks — one function per event type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from voice.sandbox.formats import iso, iso_duration, without_none
from voice.sandbox.resources import Recording, SimCall, SimConference


def call_event(event_type: str, call: SimCall, now: datetime, **extra: Any) -> dict[str, Any]:
    """The fields every call event carries: answerTime only once answered, tag only if set,
    enqueuedTime only for outbound calls, and the transfer fields only on a B-leg."""
    return without_none(
        {
            "eventType": event_type,
            "eventTime": iso(now),
            "accountId": call.account_id,
            "applicationId": call.application_id,
            "from": call.from_number,
            "to": call.to_number,
            "direction": call.direction,
            "callId": call.call_id,
            "callUrl": call.call_url,
            "parentCallId": call.parent_call_id,
            "enqueuedTime": iso(call.enqueued_time) if call.direction == "outbound" else None,
            "startTime": iso(call.start_time),
            "answerTime": iso(call.answer_time),
            "tag": call.tag or None,
            "transferCallerId": call.transfer_caller_id,
            "transferTo": call.transfer_to,
            **extra,
        }
    )


def initiate(call: SimCall, now: datetime) -> dict[str, Any]:
    payload = call_event("initiate", call, now)
    # initiate is sent before anything else happened: never an answer time or a tag.
    payload.pop("answerTime", None)
    payload.pop("tag", None)
    return payload


def answer(call: SimCall, now: datetime) -> dict[str, Any]:
    return call_event("answer", call, now)


def redirect(call: SimCall, now: datetime) -> dict[str, Any]:
    return call_event("redirect", call, now)


def _ending(call: SimCall) -> dict[str, Any]:
    return {
        "endTime": iso(call.end_time),
        "cause": call.disconnect_cause,
        "errorMessage": call.error_message or None,
        "errorId": call.error_id or None,
    }


def disconnect(call: SimCall, now: datetime) -> dict[str, Any]:
    return call_event("disconnect", call, now, **_ending(call))


def transfer_disconnect(call: SimCall, now: datetime) -> dict[str, Any]:
    """Sent for each B-leg of a <Transfer> instead of disconnect."""
    return call_event("transferDisconnect", call, now, **_ending(call))


def transfer_answer(call: SimCall, now: datetime) -> dict[str, Any]:
    return call_event("transferAnswer", call, now)


def transfer_complete(call: SimCall, now: datetime, leg: SimCall) -> dict[str, Any]:
    """On the A-leg, about the B-leg that won (or the last one that failed)."""
    return call_event(
        "transferComplete",
        call,
        now,
        transferCallerId=leg.transfer_caller_id,
        transferTo=leg.transfer_to,
        cause=leg.disconnect_cause,
        errorMessage=leg.error_message or None,
        errorId=leg.error_id or None,
    )


def gather(call: SimCall, now: datetime, digits: str, terminating_digit: str) -> dict[str, Any]:
    return call_event("gather", call, now, digits=digits, terminatingDigit=terminating_digit)


def _recording_fields(recording: Recording) -> dict[str, Any]:
    return {
        "recordingId": recording.recording_id,
        "mediaUrl": recording.media_url,
        "startTime": iso(recording.start_time),
        "endTime": iso(recording.end_time),
        "duration": iso_duration(recording.duration),
        "channels": recording.channels,
        "fileFormat": recording.file_format,
    }


def record_complete(call: SimCall, now: datetime, recording: Recording) -> dict[str, Any]:
    # The docs' event name; the spec's enum spells it recordingComplete.
    # https://dev.bandwidth.com/docs/voice/webhooks/recordComplete
    return call_event("recordComplete", call, now, **_recording_fields(recording))


def recording_available(call: SimCall, now: datetime, recording: Recording) -> dict[str, Any]:
    payload = call_event("recordingAvailable", call, now, **_recording_fields(recording), status=recording.status)
    payload.pop("answerTime", None)
    return payload


def transcription_available(call: SimCall, now: datetime, recording: Recording) -> dict[str, Any]:
    payload = call_event(
        "transcriptionAvailable",
        call,
        now,
        **_recording_fields(recording),
        transcription=recording.transcription.metadata() if recording.transcription else None,
    )
    payload.pop("answerTime", None)
    payload.pop("channels", None)
    return payload


def media_stream(event_type: str, call: SimCall, now: datetime, description: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """mediaStreamStarted, mediaStreamRejected, mediaStreamStopped: the call's fields and the
    stream's (mediaStream: id, name, destination, startTime, tracks, type; duration once
    stopped), with cause and errorMessage when rejected or stopped.
    https://dev.bandwidth.com/docs/voice/webhooks/mediaStreamStopped"""
    return call_event(event_type, call, now, mediaStream=description, **extra)


def conference_event(event_type: str, conference: SimConference, now: datetime, call: SimCall | None = None) -> dict[str, Any]:
    """conferenceCreated, conferenceRedirect, conferenceCompleted; with the member's callId,
    from and to, conferenceMemberJoin and conferenceMemberExit. The tag is the one the
    conference's creator set."""
    member = {"callId": call.call_id, "from": call.from_number, "to": call.to_number} if call else {}
    return without_none(
        {
            "eventType": event_type,
            "eventTime": iso(now),
            "conferenceId": conference.conference_id,
            "name": conference.name,
            **member,
            "tag": conference.tag or None,
        }
    )


def conference_recording_available(conference: SimConference, now: datetime, recording: Recording) -> dict[str, Any]:
    return without_none(
        {
            "eventType": "conferenceRecordingAvailable",
            "eventTime": iso(now),
            "conferenceId": conference.conference_id,
            "name": conference.name,
            "accountId": recording.account_id,
            **_recording_fields(recording),
            "tag": conference.tag or None,
            "status": recording.status,
        }
    )
