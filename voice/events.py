"""Bandwidth's webhooks, declared: one schema per callback type, checked before anything is written.

Bandwidth posts JSON (or, for a URL configured with GET, the same fields as query
parameters, every value a string): https://dev.bandwidth.com/docs/voice/webhooks. Each
schema states what Bandwidth documents for its event type (the ids it requires, the shape
and length of each field it carries, times, durations and enumerations: voice/schema.py).
A webhook that does not fit is refused with the reason (MalformedEvent: a 400, nothing
written). Fields no schema names are tolerated and kept in the stored payload, and an
event type Switchboard does not handle is checked against the fields every callback
shares, then stored and answered 204: Bandwidth adds both over time.
"""

import hashlib
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from voice.facts import CallInfo, ConferenceInfo, RecordingInfo, TranscriptionPart
from voice.schema import (
    EVENT_TYPE_LENGTH,
    AccountId,
    ApplicationId,
    Channels,
    ConferenceName,
    Document,
    FromNumber,
    Id,
    OptionalCause,
    OptionalDirection,
    OptionalDuration,
    OptionalFileFormat,
    OptionalId,
    OptionalMachineDetection,
    OptionalRecordingState,
    OptionalTime,
    RecordingName,
    Tag,
    Text,
    Time,
    ToNumber,
    Unreadable,
    Url,
    alias,
)


class MalformedEvent(ValueError):
    """The request cannot be a Bandwidth webhook; answered 400, nothing written."""


EventType = Annotated[str, StringConstraints(pattern=rf"^[A-Za-z]{{1,{EVENT_TYPE_LENGTH}}}$")]


class Callback(Document):
    """What every callback carries. An event type without a schema of its own is checked
    against this alone: its ids, where present, go to the event log's columns."""

    event_type: EventType = alias("eventType", ...)
    event_time: Time = alias("eventTime", ...)
    call_id: OptionalId = alias("callId", "")
    conference_id: OptionalId = alias("conferenceId", "")
    recording_id: OptionalId = alias("recordingId", "")
    tag: Tag = alias("tag", "")

    @property
    def dedupe_key(self) -> str:
        """Bandwidth sends no event id: one occurrence is its type, the objects it is
        about (a conference member event names the member's callId too) and its eventTime.
        A redelivery carries the same."""
        identity = [
            self.event_type,
            self.call_id,
            self.conference_id,
            self.recording_id,
            self.event_time.isoformat(),
        ]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


# Calls


class CallEvent(Callback):
    """The fields every call event carries (https://dev.bandwidth.com/docs/voice/webhooks,
    "common fields"); those of a <Transfer> leg where the event is about one."""

    call_id: Id = alias("callId", ...)
    account_id: AccountId = alias("accountId", "")
    application_id: ApplicationId = alias("applicationId", "")
    from_number: FromNumber = alias("from", "")
    to_number: ToNumber = alias("to", "")
    direction: OptionalDirection = alias("direction", "")
    start_time: OptionalTime = alias("startTime")
    answer_time: OptionalTime = alias("answerTime")
    enqueued_time: OptionalTime = alias("enqueuedTime")
    call_url: Url = alias("callUrl", "")
    parent_call_id: OptionalId = alias("parentCallId", "")
    transfer_caller_id: FromNumber = alias("transferCallerId", "")
    transfer_to: ToNumber = alias("transferTo", "")

    def facts(self) -> CallInfo:
        """What this event says of its call, as the API would (voice/facts.py)."""
        return CallInfo.model_construct(
            call_id=self.call_id,
            account_id=self.account_id,
            application_id=self.application_id,
            direction=self.direction,
            from_number=self.from_number,
            to_number=self.to_number,
            start_time=self.start_time,
            answer_time=self.answer_time,
            parent_call_id=self.parent_call_id,
            tag=self.tag,
        )


class MachineDetectionResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    value: OptionalMachineDetection = ""
    duration: OptionalDuration = None


class Answer(CallEvent):
    # Present when machine detection ran in sync mode.
    machine_detection_result: MachineDetectionResult | None = alias("machineDetectionResult")


class MachineDetectionComplete(CallEvent):
    machine_detection_result: MachineDetectionResult = alias("machineDetectionResult", ...)


class Completed(CallEvent):
    """transferComplete and bridgeComplete: how a transfer or a bridge went, on a call
    that goes on."""

    cause: OptionalCause = alias("cause", "")
    error_message: Text = alias("errorMessage", "")
    error_id: OptionalId = alias("errorId", "")


class Ended(Completed):
    """disconnect, and transferDisconnect (a <Transfer> leg ended)."""

    end_time: OptionalTime = alias("endTime")

    def facts(self) -> CallInfo:
        """A call that ended: when (without its endTime, the event's moment), and why."""
        return super().facts().model_copy(
            update={
                "end_time": self.end_time or self.event_time,
                "disconnect_cause": self.cause,
                "error_message": self.error_message,
            }
        )


class Gather(CallEvent):
    digits: Text = alias("digits", "")
    terminating_digit: Text = alias("terminatingDigit", "")


class Dtmf(CallEvent):
    digit: Text = alias("digit", "")


# Recordings


class RecordingEvent(CallEvent):
    """recordComplete, recordingAvailable, transcriptionAvailable: a call recording's
    metadata. startTime and endTime are the recording's, not the call's."""

    recording_id: Id = alias("recordingId", ...)
    media_url: Url = alias("mediaUrl", "")
    end_time: OptionalTime = alias("endTime")
    duration: OptionalDuration = alias("duration")
    channels: Channels = alias("channels")
    file_format: OptionalFileFormat = alias("fileFormat", "")
    status: OptionalRecordingState = alias("status", "")
    recording_name: RecordingName = alias("recordingName", "")

    def recording(self) -> RecordingInfo:
        """What this event says of its recording, as the API would (voice/facts.py)."""
        return RecordingInfo.model_construct(
            recording_id=self.recording_id,
            call_id=self.call_id,
            conference_id=self.conference_id,
            account_id=self.account_id,
            parent_call_id=self.parent_call_id,
            direction=self.direction,
            from_number=self.from_number,
            to_number=self.to_number,
            name=self.recording_name,
            channels=self.channels,
            duration_seconds=self.duration,
            file_format=self.file_format,
            status=self.status,
            media_url=self.media_url,
            start_time=self.start_time,
            end_time=self.end_time,
            transcription=getattr(self, "transcription", None),
            tag=self.tag,
        )


class TranscriptionAvailable(RecordingEvent):
    # A GET webhook cannot carry the nested object.
    transcription: TranscriptionPart | None = None


# Conferences


class ConferenceEvent(Callback):
    """conferenceCreated, conferenceRedirect, conferenceCompleted: only the conference's id,
    name and tag (https://dev.bandwidth.com/docs/voice/bxml/conference)."""

    conference_id: Id = alias("conferenceId", ...)
    name: ConferenceName = alias("name", "")

    def facts(self) -> ConferenceInfo:
        """What this event says of its conference, as the API would (voice/facts.py)."""
        return ConferenceInfo.model_construct(conference_id=self.conference_id, name=self.name, tag=self.tag)


class MemberEvent(ConferenceEvent):
    """conferenceMemberJoin and conferenceMemberExit: the member's call, from and to."""

    call_id: Id = alias("callId", ...)
    from_number: FromNumber = alias("from", "")
    to_number: ToNumber = alias("to", "")


class ConferenceRecordingAvailable(ConferenceEvent):
    recording_id: Id = alias("recordingId", ...)
    account_id: AccountId = alias("accountId", "")
    media_url: Url = alias("mediaUrl", "")
    start_time: OptionalTime = alias("startTime")
    end_time: OptionalTime = alias("endTime")
    duration: OptionalDuration = alias("duration")
    channels: Channels = alias("channels")
    file_format: OptionalFileFormat = alias("fileFormat", "")
    status: OptionalRecordingState = alias("status", "")

    def recording(self) -> RecordingInfo:
        """A conference recording: no call, and the conference's name for its own."""
        return RecordingInfo.model_construct(
            recording_id=self.recording_id,
            conference_id=self.conference_id,
            account_id=self.account_id,
            name=self.name,
            channels=self.channels,
            duration_seconds=self.duration,
            file_format=self.file_format,
            status=self.status,
            media_url=self.media_url,
            start_time=self.start_time,
            end_time=self.end_time,
            tag=self.tag,
        )


# Media streams (<StartStream>)


class MediaStreamFacts(BaseModel):
    """The webhooks' mediaStream object: the stream's id and name (the rest is kept in the payload)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: OptionalId = ""
    name: Text = ""


class MediaStreamEvent(CallEvent):
    """mediaStreamStarted, mediaStreamRejected, mediaStreamStopped: a call's stream started,
    could not start, or ended, and why. https://dev.bandwidth.com/docs/voice/webhooks/mediaStreamStopped"""

    media_stream: MediaStreamFacts | None = alias("mediaStream")
    cause: Text = alias("cause", "")
    error_message: Text = alias("errorMessage", "")


SCHEMAS: dict[str, type[Callback]] = {
    "initiate": CallEvent,
    "answer": Answer,
    "redirect": CallEvent,
    "disconnect": Ended,
    "gather": Gather,
    "dtmf": Dtmf,
    "machineDetectionComplete": MachineDetectionComplete,
    "transferAnswer": CallEvent,
    "transferComplete": Completed,
    "transferDisconnect": Ended,
    "bridgeComplete": Completed,
    "bridgeTargetComplete": CallEvent,
    # The <Record> docs name it recordComplete, the API's enumeration recordingComplete.
    "recordComplete": RecordingEvent,
    "recordingComplete": RecordingEvent,
    "recordingAvailable": RecordingEvent,
    "transcriptionAvailable": TranscriptionAvailable,
    "conferenceCreated": ConferenceEvent,
    "conferenceRedirect": ConferenceEvent,
    "conferenceCompleted": ConferenceEvent,
    "conferenceMemberJoin": MemberEvent,
    "conferenceMemberExit": MemberEvent,
    "conferenceRecordingAvailable": ConferenceRecordingAvailable,
    "mediaStreamStarted": MediaStreamEvent,
    "mediaStreamRejected": MediaStreamEvent,
    "mediaStreamStopped": MediaStreamEvent,
}

# What the handlers are given: a Callback, or the schema of its type.
IncomingEvent = Callback


def parse(payload: Any) -> Callback:
    """The webhook `payload` (a decoded JSON body, or a GET webhook's query parameters)
    checked against its event type's schema; MalformedEvent says why it does not fit."""
    if not isinstance(payload, dict):
        raise MalformedEvent("the body must be a JSON object")
    event_type = payload.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedEvent("eventType is missing")
    try:
        return SCHEMAS.get(event_type, Callback).read(payload)
    except Unreadable as error:
        raise MalformedEvent(str(error)) from None
