"""What the simulation holds: calls and the people at their far end, conferences and their
members, recordings (in progress and finished) and their transcriptions, each with its
representation in Bandwidth's API.

Plain data: the lifecycle modules change it, the API and the webhook payloads read it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voice.sandbox import audio
from voice.sandbox.formats import iso, iso_duration, without_none
from voice.sandbox.ids import seed_of
from voice.sandbox.webhook_sender import Target

INITIATED = "initiated"
ANSWERED = "answered"
# The seed specification's final state (the real API says "disconnected").
COMPLETED = "completed"


@dataclass
class Party:
    """The person at the far end: what they say and key in, how long they stay, and (for a
    callee) how they answer."""

    # What they say, in order; the first is the message they leave in a <Record>.
    sentences: list[str] = field(default_factory=lambda: ["Hello, is anyone there?"])
    # What they key in at each <Gather>, in order ("" keys nothing).
    digits: list[str] = field(default_factory=list)
    # Seconds until they hang up (from arrival for a caller, from answering for a callee);
    # None: they stay until someone else ends the call.
    hold_seconds: float | None = None
    # How they end a message into <Record>: "hangup", "#" (the terminating digit) or "silence".
    ends_message: str = "hangup"
    # A callee: how long it rings, and answer | busy | timeout | rejected.
    ring_seconds: float = 1.0
    outcome: str = "answer"
    # A noisy line: steady noise between their words as well as during them (a stream
    # carries it; audio.LiveVoice).
    noisy_line: bool = False

    @property
    def utterance(self) -> str:
        return self.sentences[0] if self.sentences else ""


@dataclass
class Recorder:
    """A recording in progress: it runs while a <Record> or a <StartRecording> is on (paused
    time excluded); when it stops it becomes a Recording."""

    started: datetime
    channels: int = 1
    # <Record>: the caller speaks once; <StartRecording>: the conversation goes on.
    single_message: bool = False
    available_target: Target | None = None
    transcribe: bool = False
    transcription_target: Target | None = None
    tag: str | None = None
    paused_since: datetime | None = None
    paused_seconds: float = 0.0

    def pause(self, now: datetime) -> None:
        if self.paused_since is None:
            self.paused_since = now

    def resume(self, now: datetime) -> None:
        if self.paused_since is not None:
            self.paused_seconds += (now - self.paused_since).total_seconds()
            self.paused_since = None

    def active_seconds(self, now: datetime) -> float:
        self.resume(now)
        return max(0.0, (now - self.started).total_seconds() - self.paused_seconds)


@dataclass
class SimCall:
    call_id: str
    direction: str
    from_number: str
    to_number: str
    account_id: str
    application_id: str
    call_url: str
    party: Party
    state: str = INITIATED
    enqueued_time: datetime | None = None
    start_time: datetime | None = None
    answer_time: datetime | None = None
    end_time: datetime | None = None
    last_update: datetime | None = None
    disconnect_cause: str = ""
    error_message: str = ""
    error_id: str = ""
    tag: str | None = None
    # A <Transfer> B-leg: its A-leg, and the numbers the transfer used.
    parent_call_id: str | None = None
    transfer_caller_id: str | None = None
    transfer_to: str | None = None
    answer_target: Target | None = None
    disconnect_target: Target | None = None
    disconnect_event: str = "disconnect"
    callback_timeout: float = 15.0
    call_timeout: float = 30.0
    # The URL of the last BXML document (relative URLs in PUT .../bxml resolve against it).
    base_url: str = ""
    # The <StartRecording> recording in progress, and a <Record> in progress.
    background_recorder: Recorder | None = None
    message_recorder: Recorder | None = None
    # What the application said to the call (SpeakSentence), for recordings and transcripts.
    prompts: list[tuple[datetime, str]] = field(default_factory=list)
    recording_ids: list[str] = field(default_factory=list)
    # Its media streams sending now, by name (media_streams.SimStream).
    streams: dict[str, Any] = field(default_factory=dict, repr=False)
    on_end: list[Callable[[SimCall], None]] = field(default_factory=list, repr=False)
    script: asyncio.Task | None = field(default=None, repr=False)
    tasks: set[asyncio.Task] = field(default_factory=set, repr=False)

    @property
    def is_over(self) -> bool:
        return self.state == COMPLETED

    @property
    def speaker(self) -> audio.Speaker:
        return audio.Speaker.seeded(seed_of(self.call_id))

    def to_json(self) -> dict[str, Any]:
        """The call resource: the seed spec's Call and the real API's callState in one body
        (fields without a value are left out: the seed spec has no nullable fields)."""
        return without_none(
            {
                "callId": self.call_id,
                "parentCallId": self.parent_call_id,
                "accountId": self.account_id,
                "applicationId": self.application_id,
                "to": self.to_number,
                "from": self.from_number,
                "direction": self.direction,
                "state": self.state,
                "enqueuedTime": iso(self.enqueued_time),
                "startTime": iso(self.start_time),
                "answerTime": iso(self.answer_time),
                "endTime": iso(self.end_time),
                "disconnectCause": self.disconnect_cause or None,
                "errorMessage": self.error_message or None,
                "errorId": self.error_id or None,
                "lastUpdate": iso(self.last_update),
                "tag": self.tag,
                "callUrl": self.call_url,
            }
        )


@dataclass
class Member:
    call: SimCall
    joined_time: datetime
    mute: bool = False
    hold: bool = False
    call_ids_to_coach: list[str] = field(default_factory=list)
    left_time: datetime | None = None
    ejected: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def to_json(self, conference: SimConference, api_base: str) -> dict[str, Any]:
        """The real API's conferenceMember (the seed spec's ConferenceMember)."""
        return {
            "callId": self.call.call_id,
            "conferenceId": conference.conference_id,
            "memberUrl": f"{api_base}/conferences/{conference.conference_id}/members/{self.call.call_id}",
            "mute": self.mute,
            "hold": self.hold,
            "callIdsToCoach": list(self.call_ids_to_coach),
        }

    def hears(self, other: Member) -> bool:
        """Whether this member hears `other`, as Bandwidth mixes a conference: nobody hears a
        member on hold nor one muted, a member on hold hears nobody, and a coach (a member
        with callIdsToCoach) is heard only by the calls it coaches.
        https://dev.bandwidth.com/docs/voice/bxml/conference"""
        if other is self or self.hold or other.hold or other.mute:
            return False
        return not other.call_ids_to_coach or self.call.call_id in other.call_ids_to_coach

    def inspection(self, present: list[Member] | None = None) -> dict[str, Any]:
        """What the inspection shows; for a member in the conference, whom it hears."""
        shown = {
            "callId": self.call.call_id,
            "mute": self.mute,
            "hold": self.hold,
            "callIdsToCoach": list(self.call_ids_to_coach),
            "joinedTime": iso(self.joined_time),
            "leftTime": iso(self.left_time),
        }
        if present is not None:
            shown["hears"] = [other.call.call_id for other in present if self.hears(other)]
        return shown


@dataclass
class SimConference:
    conference_id: str
    name: str
    created_time: datetime
    event_target: Target | None
    tag: str | None
    callback_timeout: float
    completed_time: datetime | None = None
    members: dict[str, Member] = field(default_factory=dict)
    former_members: list[Member] = field(default_factory=list)
    recorder: Recorder | None = None
    recording_ids: list[str] = field(default_factory=list)
    prompts: list[tuple[datetime, str]] = field(default_factory=list)
    # The webhooks waiting their turn, and the BXML documents waiting to run
    # (conference_lifecycle.Conferences sends and runs them one at a time).
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue, repr=False)
    documents: asyncio.Queue = field(default_factory=asyncio.Queue, repr=False)

    @property
    def is_over(self) -> bool:
        return self.completed_time is not None

    def coach(self) -> Member | None:
        return next((member for member in self.members.values() if member.call_ids_to_coach), None)

    def to_json(self, api_base: str) -> dict[str, Any]:
        """The seed spec's Conference with the real API's fields; activeMembers on both the
        list and the single conference (the seed spec has it on Conference)."""
        return without_none(
            {
                "id": self.conference_id,
                "name": self.name,
                "createdTime": iso(self.created_time),
                "completedTime": iso(self.completed_time),
                "conferenceEventUrl": self.event_target.url if self.event_target else None,
                "conferenceEventMethod": self.event_target.method if self.event_target else None,
                "tag": self.tag,
                "activeMembers": [member.to_json(self, api_base) for member in self.members.values()],
            }
        )

    def inspection(self) -> dict[str, Any]:
        return {
            "id": self.conference_id,
            "name": self.name,
            "createdTime": iso(self.created_time),
            "completedTime": iso(self.completed_time),
            "tag": self.tag,
            "conferenceEventUrl": self.event_target.url if self.event_target else None,
            "recordingIds": list(self.recording_ids),
            "members": [
                *(member.inspection() for member in self.former_members),
                *(member.inspection(list(self.members.values())) for member in self.members.values()),
            ],
        }


@dataclass
class Spoken:
    """Something said during a recording: by whom (voice), when (seconds in), on which channel."""

    offset: float
    text: str
    speaker: audio.Speaker
    channel: int = 0


@dataclass
class Transcription:
    transcription_id: str
    url: str
    completed_time: datetime
    transcripts: list[dict[str, Any]]
    status: str = "available"

    def metadata(self) -> dict[str, Any]:
        """The seed spec's Transcription, as on recordings and in transcriptionAvailable."""
        return {"id": self.transcription_id, "status": self.status, "completedTime": iso(self.completed_time), "url": self.url}


@dataclass
class Recording:
    """A finished recording: its metadata, its sound and its transcription.
    https://dev.bandwidth.com/docs/voice/guides/recordingGuide"""

    recording_id: str
    account_id: str
    media_url: str
    start_time: datetime
    end_time: datetime
    duration: float
    channels: int
    file_format: str
    spoken: list[Spoken]
    seed: int
    # A call recording's call (kept with the recording, which outlives the call's record), or
    # a conference recording's conference (exactly one is set).
    call: SimCall | None = field(default=None, repr=False)
    conference_id: str | None = None
    conference_name: str | None = None
    status: str = "complete"
    # Where transcriptionAvailable goes when a transcription request names no callbackUrl.
    transcription_target: Target | None = None
    transcription: Transcription | None = None
    media_deleted: bool = False
    _waveform: audio.Waveform | None = field(default=None, repr=False)

    @property
    def call_id(self) -> str | None:
        return self.call.call_id if self.call is not None else None

    @property
    def is_conference(self) -> bool:
        return self.conference_id is not None

    @property
    def transcription_url(self) -> str:
        return self.media_url.rsplit("/", 1)[0] + "/transcription"

    def metadata(self) -> dict[str, Any]:
        """The seed spec's Recording with the real API's fields of a call or conference recording."""
        call = self.call
        call_fields = (
            without_none(
                {
                    "callId": call.call_id,
                    "applicationId": call.application_id,
                    "parentCallId": call.parent_call_id,
                    "to": call.to_number,
                    "from": call.from_number,
                    "transferCallerId": call.transfer_caller_id,
                    "transferTo": call.transfer_to,
                    "direction": call.direction,
                }
            )
            if call is not None
            else {}
        )
        return without_none(
            {
                "recordingId": self.recording_id,
                "accountId": self.account_id,
                **call_fields,
                "conferenceId": self.conference_id,
                "name": self.conference_name,
                "duration": iso_duration(self.duration),
                "channels": self.channels,
                "startTime": iso(self.start_time),
                "endTime": iso(self.end_time),
                "fileFormat": self.file_format,
                "status": self.status,
                "mediaUrl": self.media_url,
                "transcription": self.transcription.metadata() if self.transcription else None,
            }
        )

    def waveform(self) -> audio.Waveform:
        if self._waveform is None:
            bursts = [
                burst
                for spoken in self.spoken
                for burst in audio.say(spoken.text, spoken.offset, spoken.speaker, min(spoken.channel, self.channels - 1))
            ]
            self._waveform = audio.Waveform(self.duration, self.channels, bursts, self.seed)
        return self._waveform

    def transcripts(self, rng: random.Random) -> list[dict[str, Any]]:
        """What was said, per channel (one item per channel), in the order it was said."""
        items = []
        for channel in range(self.channels):
            words = [spoken.text for spoken in sorted(self.spoken, key=lambda s: s.offset) if min(spoken.channel, self.channels - 1) == channel]
            items.append({"text": " ".join(words), "confidence": round(rng.uniform(0.82, 0.98), 2)})
        return items
