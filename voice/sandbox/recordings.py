"""Recordings and their transcriptions: what was captured, its metadata, its sound, its text.

A Recorder runs while a <Record> or a <StartRecording> is on (paused time excluded); when it
stops it becomes a Recording, available after a short processing delay, as on Bandwidth.
https://dev.bandwidth.com/docs/voice/guides/recordingGuide
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from voice.sandbox import audio
from voice.sandbox.formats import iso, iso_duration, without_none
from voice.sandbox.webhook_sender import Target

if TYPE_CHECKING:
    from voice.sandbox.sim import SimCall

# Simulated seconds between a recording's end and recordingAvailable.
PROCESSING_SECONDS = 2.0
# Bandwidth transcribes only recordings longer than half a second.
MIN_TRANSCRIBABLE_SECONDS = 0.5
# A pause between one speaker's sentences, and between speakers taking turns.
SENTENCE_GAP = (1.2, 4.0)


def transcription_seconds(duration: float) -> float:
    """How long transcribing takes, in simulated seconds."""
    return 3.0 + duration * 0.2


@dataclass
class Spoken:
    """Something said during a recording: by whom (voice), when (seconds in), on which channel."""

    offset: float
    text: str
    speaker: audio.Speaker
    channel: int = 0


@dataclass
class Recorder:
    """A recording in progress."""

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
        body = {
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
        return {key: value for key, value in body.items() if value is not None}

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


def seed_of(text: str) -> int:
    """A stable seed from an id, so that a call's voice and sound are the same every run."""
    return zlib.crc32(text.encode())


def conversation(
    speakers: list[tuple[audio.Speaker, list[str]]], duration: float, rng: random.Random, start: float = 0.4
) -> list[Spoken]:
    """Speakers taking turns, each saying their sentences in order and again, until `duration`."""
    spoken: list[Spoken] = []
    if not speakers:
        return spoken
    moment, turn = start, 0
    said = [0] * len(speakers)
    while moment < duration:
        index = turn % len(speakers)
        speaker, sentences = speakers[index]
        if sentences:
            text = sentences[said[index] % len(sentences)]
            said[index] += 1
            spoken.append(Spoken(moment, text, speaker))
            moment += audio.speech_length(text)
        moment += rng.uniform(*SENTENCE_GAP)
        turn += 1
    return spoken
