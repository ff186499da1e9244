"""Recordings from the moment their recorder stops: made (who said what, when), available after
a short processing delay (recordingAvailable, conferenceRecordingAvailable), transcribed when
asked (transcriptionAvailable), deleted or forgotten.
https://dev.bandwidth.com/docs/voice/guides/recordingGuide
"""

from __future__ import annotations

import random
from datetime import datetime

from voice.sandbox import audio, ids, webhook_payloads
from voice.sandbox.clock import Clock
from voice.sandbox.config import SandboxConfig
from voice.sandbox.resources import (
    Recorder,
    Recording,
    SimCall,
    SimConference,
    Spoken,
    Transcription,
)
from voice.sandbox.scheduler import Scheduler
from voice.sandbox.webhook_sender import Target, WebhookSender

# Simulated seconds between a recording's end and recordingAvailable.
PROCESSING_SECONDS = 2.0
# Bandwidth transcribes only recordings longer than half a second.
MIN_TRANSCRIBABLE_SECONDS = 0.5
# A pause between one speaker's sentences, and between speakers taking turns.
SENTENCE_GAP = (1.2, 4.0)


def transcription_seconds(duration: float) -> float:
    """How long transcribing takes, in simulated seconds."""
    return 3.0 + duration * 0.2


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


class Recordings:
    """Every recording still kept, call and conference recordings alike, by id."""

    def __init__(
        self, config: SandboxConfig, clock: Clock, sender: WebhookSender, rng: random.Random, scheduler: Scheduler
    ) -> None:
        self.config = config
        self.clock = clock
        self.sender = sender
        self.rng = rng
        self.scheduler = scheduler
        self.by_id: dict[str, Recording] = {}

    def finish_call(self, call: SimCall, recorder: Recorder) -> Recording:
        """Stop a call's recording: it becomes available (recordingAvailable) after processing,
        then, if asked, transcribed (transcriptionAvailable)."""
        if call.message_recorder is recorder:
            call.message_recorder = None
        if call.background_recorder is recorder:
            call.background_recorder = None
        now = self.clock.now()
        duration = max(0.1, recorder.active_seconds(now))
        recording_id = ids.recording_id(self.rng)
        rng = random.Random(ids.seed_of(recording_id))
        if recorder.single_message:
            spoken = [Spoken(0.4, call.party.utterance, call.speaker)]
        else:
            spoken = conversation([(call.speaker, call.party.sentences)], duration, rng)
        spoken += [
            Spoken((moment - recorder.started).total_seconds(), text, audio.APPLICATION_VOICE, channel=1)
            for moment, text in call.prompts
            if recorder.started <= moment <= now
        ]
        recording = Recording(
            recording_id=recording_id,
            account_id=call.account_id,
            media_url=f"{call.call_url}/recordings/{recording_id}/media",
            start_time=recorder.started,
            end_time=now,
            duration=duration,
            channels=recorder.channels,
            file_format="wav",
            spoken=spoken,
            seed=ids.seed_of(recording_id),
            call=call,
            transcription_target=recorder.transcription_target,
        )
        call.recording_ids.append(recording_id)
        self.scheduler.spawn(self._publish_call_recording(recording, recorder))
        return recording

    async def _publish_call_recording(self, recording: Recording, recorder: Recorder) -> None:
        call = recording.call
        await self.clock.sleep(PROCESSING_SECONDS)
        self.by_id[recording.recording_id] = recording
        if recorder.available_target is not None:
            payload = webhook_payloads.recording_available(call, self.clock.now(), recording)
            if recorder.tag:
                payload["tag"] = recorder.tag
            await self.sender.notify(recorder.available_target, payload, timeout=call.callback_timeout)
        if recorder.transcribe:
            await self.transcribe(recording, self.transcription_target(recording), tag=recorder.tag)

    def finish_conference(self, conference: SimConference) -> None:
        """Stop a conference's recording: single channel, made of the members neither muted nor
        on hold; available (conferenceRecordingAvailable) after processing, never transcribed."""
        recorder, conference.recorder = conference.recorder, None
        now = self.clock.now()
        duration = max(0.1, recorder.active_seconds(now))
        recording_id = ids.recording_id(self.rng)
        rng = random.Random(ids.seed_of(recording_id))
        # Members heard in the recording: neither muted nor on hold, present during it.
        heard = [
            member
            for member in [*conference.former_members, *conference.members.values()]
            if not member.mute and not member.hold and (member.left_time is None or member.left_time > recorder.started)
        ]
        spoken = conversation([(member.call.speaker, member.call.party.sentences) for member in heard], duration, rng)
        spoken += [
            Spoken((moment - recorder.started).total_seconds(), text, audio.APPLICATION_VOICE)
            for moment, text in conference.prompts
            if recorder.started <= moment <= now
        ]
        recording = Recording(
            recording_id=recording_id,
            account_id=self.config.account_id,
            media_url=f"{self.config.api_base}/conferences/{conference.conference_id}/recordings/{recording_id}/media",
            start_time=recorder.started,
            end_time=now,
            duration=duration,
            channels=1,
            file_format="wav",
            spoken=spoken,
            seed=ids.seed_of(recording_id),
            conference_id=conference.conference_id,
            conference_name=conference.name,
        )
        conference.recording_ids.append(recording_id)
        self.scheduler.spawn(self._publish_conference_recording(conference, recording, recorder))

    async def _publish_conference_recording(self, conference: SimConference, recording: Recording, recorder: Recorder) -> None:
        await self.clock.sleep(PROCESSING_SECONDS)
        self.by_id[recording.recording_id] = recording
        if recorder.available_target is not None:
            payload = webhook_payloads.conference_recording_available(conference, self.clock.now(), recording)
            await self.sender.notify(recorder.available_target, payload, timeout=conference.callback_timeout)

    def transcription_target(self, recording: Recording, target: Target | None = None) -> Target | None:
        """Where transcriptionAvailable goes: the URL given, else the recording's
        transcriptionAvailableUrl, else the application's status URL."""
        target = target or recording.transcription_target
        application = self.config.application
        if target is not None or not application.call_status_url:
            return target
        return Target(
            url=application.call_status_url,
            method=application.call_status_method,
            username=application.callback_username,
            password=application.callback_password,
        )

    async def transcribe(
        self, recording: Recording, target: Target | None, *, tag: str | None = None, timeout: float | None = None
    ) -> None:
        """Transcribe a call recording after a delay, then send transcriptionAvailable."""
        await self.clock.sleep(transcription_seconds(recording.duration))
        if recording.recording_id not in self.by_id:
            return
        transcription_id = ids.transcription_id(self.rng)
        recording.transcription = Transcription(
            transcription_id=transcription_id,
            url=recording.transcription_url,
            completed_time=self.clock.now(),
            transcripts=recording.transcripts(random.Random(ids.seed_of(transcription_id))),
        )
        call = recording.call
        if target is None or call is None:
            return
        payload = webhook_payloads.transcription_available(call, self.clock.now(), recording)
        if tag:
            payload["tag"] = tag
        await self.sender.notify(target, payload, timeout=timeout or call.callback_timeout)

    def delete(self, recording: Recording) -> None:
        """DELETE: metadata, media and transcription are gone at once."""
        self.by_id.pop(recording.recording_id, None)

    def forget(self, before: datetime) -> None:
        """Forget the recordings that ended before `before` (a recording outlives its call, as
        on Bandwidth: it is still served under the call's URL)."""
        for recording_id in [key for key, recording in self.by_id.items() if recording.end_time <= before]:
            del self.by_id[recording_id]
