"""Conferences from the first <Conference> with their name to the last member out: members
joining and leaving, the conference's webhooks and the BXML their replies carry.

Events go to the conferenceEventUrl of the call that created the conference, with its
credentials and tag, one at a time and in order; the BXML their replies carry runs in the
conference (conference verbs only), one document after another, never overlapping.
https://dev.bandwidth.com/docs/voice/bxml/conference
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voice.sandbox import audio, bxml_parser, ids, webhook_payloads
from voice.sandbox.clock import Clock
from voice.sandbox.config import SandboxConfig
from voice.sandbox.failures import survives
from voice.sandbox.recording_lifecycle import Recordings
from voice.sandbox.resources import Member, Recorder, SimCall, SimConference
from voice.sandbox.scheduler import Scheduler
from voice.sandbox.webhook_sender import CallbackFailed, Target, WebhookSender

log = logging.getLogger("sandbox.conferences")


class ConferenceFull(Exception):
    """A join beyond the member limit."""


class CoachTaken(Exception):
    """A conference has one coach at most."""


@dataclass
class Outgoing:
    """One conference webhook waiting its turn: BXML ones (created, join, exit, redirect) have
    their reply run in the conference; conferenceCompleted expects none."""

    target: Target
    payload: dict[str, Any]
    expects_bxml: bool = True


class Conferences:
    """Every conference still kept, by id; the live ones by name, and the one each call is in."""

    def __init__(
        self,
        config: SandboxConfig,
        clock: Clock,
        sender: WebhookSender,
        rng: random.Random,
        scheduler: Scheduler,
        recordings: Recordings,
    ) -> None:
        self.config = config
        self.clock = clock
        self.sender = sender
        self.rng = rng
        self.scheduler = scheduler
        self.recordings = recordings
        self.by_id: dict[str, SimConference] = {}
        self._active: dict[str, SimConference] = {}
        self._joined: dict[str, SimConference] = {}

    def size(self, name: str) -> int:
        """How many members the live conference called `name` has (0 if none is live)."""
        conference = self._active.get(name)
        return len(conference.members) if conference is not None else 0

    # Members

    async def join(self, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
        """<Conference>: join (creating the conference on first use) and stay until the
        conference ends; a hang-up or a redirect takes the member out (see leave)."""
        name = bxml_parser.conference_name(verb)
        mute, hold = verb.flag("mute"), verb.flag("hold")
        coached = [item.strip() for item in verb.attributes.get("callIdsToCoach", "").split(",") if item.strip()]
        conference = self._active.get(name)
        if conference is None:
            conference = self._create(name, verb, base_url, call)
        elif len(conference.members) >= self.config.max_conference_members:
            raise ConferenceFull(f"Conference {name} is full: at most {self.config.max_conference_members} members")
        if coached and conference.coach() is not None:
            log.info("%s joins %s without coaching: the conference has a coach already", call.call_id, name)
            coached = []
        member = Member(call=call, joined_time=self.clock.now(), mute=mute, hold=hold, call_ids_to_coach=coached)
        conference.members[call.call_id] = member
        self._joined[call.call_id] = conference
        self._event(conference, "conferenceMemberJoin", call)
        try:
            await member.ejected.wait()
        finally:
            if self._joined.get(call.call_id) is conference:
                self.leave(call)

    def leave(self, call: SimCall) -> None:
        """Take a call out of its conference now, if it is in one (hang-up, redirect); the last
        one out ends the conference."""
        conference = self._joined.pop(call.call_id, None)
        if conference is None:
            return
        member = conference.members.pop(call.call_id, None)
        if member is None:
            return
        member.left_time = self.clock.now()
        conference.former_members.append(member)
        self._event(conference, "conferenceMemberExit", call)
        if not conference.members:
            self._complete(conference)

    def update_member(self, conference: SimConference, member: Member, changes: dict[str, Any]) -> None:
        """updateConferenceMember: a partial update of mute, hold and callIdsToCoach."""
        if changes.get("callIdsToCoach"):
            coach = conference.coach()
            if coach is not None and coach is not member:
                raise CoachTaken(f"Conference [{conference.conference_id}] already has a coach: {coach.call.call_id}")
        if "mute" in changes:
            member.mute = changes["mute"]
        if "hold" in changes:
            member.hold = changes["hold"]
        if "callIdsToCoach" in changes:
            member.call_ids_to_coach = list(changes["callIdsToCoach"])

    def forget(self, before: datetime) -> None:
        """Forget the conferences completed before `before`, and the members who left a live
        one before it (unless a recording running since then still needs to know they spoke)."""
        for conference_id in [key for key, c in self.by_id.items() if c.is_over and c.completed_time <= before]:
            del self.by_id[conference_id]
        for conference in self._active.values():
            kept_after = min(before, conference.recorder.started) if conference.recorder else before
            conference.former_members = [member for member in conference.former_members if member.left_time > kept_after]

    # The conference

    def _create(self, name: str, verb: bxml_parser.Verb, base_url: str, call: SimCall) -> SimConference:
        conference = SimConference(
            conference_id=ids.conference_id(self.rng),
            name=name,
            created_time=self.clock.now(),
            event_target=verb.target("conferenceEvent", base_url),
            tag=verb.attributes.get("tag") or None,
            callback_timeout=verb.number("callbackTimeout", call.callback_timeout, 1, 25),
        )
        self.by_id[conference.conference_id] = conference
        self._active[name] = conference
        self.scheduler.spawn(self._send_events(conference))
        self.scheduler.spawn(self._run_documents(conference))
        self._event(conference, "conferenceCreated")
        return conference

    def end(self, conference: SimConference) -> None:
        """updateConference status=completed: every member is ejected and continues its own
        BXML after <Conference>; then the conference completes."""
        for member in list(conference.members.values()):
            self.leave(member.call)
            member.ejected.set()

    def redirect(self, conference: SimConference, target: Target) -> None:
        """updateConference with redirectUrl: conferenceRedirect, whose reply runs in the conference."""
        payload = webhook_payloads.conference_event("conferenceRedirect", conference, self.clock.now())
        conference.outbox.put_nowait(Outgoing(target, payload))

    def run(self, conference: SimConference, verbs: list[bxml_parser.Verb]) -> None:
        """PUT /conferences/{id}/bxml: queue a document (conference verbs only, checked by the
        caller). Its relative URLs resolve against the conference's event URL."""
        base_url = conference.event_target.url if conference.event_target else ""
        conference.documents.put_nowait(bxml_parser.Document(tuple(verbs), base_url))

    def _event(self, conference: SimConference, event_type: str, call: SimCall | None = None) -> None:
        if conference.event_target is None:
            return
        payload = webhook_payloads.conference_event(event_type, conference, self.clock.now(), call)
        conference.outbox.put_nowait(Outgoing(conference.event_target, payload, expects_bxml=event_type != "conferenceCompleted"))

    def _complete(self, conference: SimConference) -> None:
        conference.completed_time = self.clock.now()
        if self._active.get(conference.name) is conference:
            del self._active[conference.name]
        if conference.recorder is not None:
            self.recordings.finish_conference(conference)
        self._event(conference, "conferenceCompleted")
        conference.outbox.put_nowait(None)

    async def _send_events(self, conference: SimConference) -> None:
        """Deliver the conference's webhooks one at a time, in order; queue the BXML replies.
        One that fails, however, does not stop the ones after it."""
        while (outgoing := await conference.outbox.get()) is not None:
            with survives(f"conference {conference.name}: {outgoing.payload['eventType']}"):
                if not outgoing.expects_bxml:
                    await self.sender.notify(outgoing.target, outgoing.payload, timeout=conference.callback_timeout)
                    continue
                try:
                    reply = await self.sender.bxml(outgoing.target, outgoing.payload, timeout=conference.callback_timeout)
                    verbs = bxml_parser.only_conference_verbs(bxml_parser.parse(reply.text))
                except (CallbackFailed, bxml_parser.InvalidBxml) as error:
                    # No call to end: the conference goes on without this document.
                    log.info("conference %s: %s not run: %s", conference.name, outgoing.payload["eventType"], error)
                    continue
                if verbs:
                    conference.documents.put_nowait(bxml_parser.Document(tuple(verbs), reply.url))
        conference.documents.put_nowait(None)

    async def _run_documents(self, conference: SimConference) -> None:
        while (document := await conference.documents.get()) is not None:
            for verb in document.verbs:
                if conference.is_over:
                    break
                with survives(f"conference {conference.name}: <{verb.name}>"):
                    try:
                        await self._perform(conference, verb, document.base_url)
                    except bxml_parser.InvalidBxml as error:
                        # In a conference a failing verb is skipped and the document goes on.
                        log.info("conference %s: %s skipped: %s", conference.name, verb.name, error)

    async def _perform(self, conference: SimConference, verb: bxml_parser.Verb, base_url: str) -> None:
        now = self.clock.now()
        if verb.name == "SpeakSentence":
            conference.prompts.append((now, verb.text))
            await self.clock.sleep(max(0.5, audio.speech_length(verb.text)))
        elif verb.name == "PlayAudio":
            await self.clock.sleep(audio.PLAY_AUDIO_SECONDS)
        elif verb.name == "StartRecording":
            if conference.recorder is None:
                # Conference recordings are single channel and never transcribed; transcribe,
                # multiChannel and tag are ignored, as on Bandwidth.
                conference.recorder = Recorder(
                    started=now,
                    available_target=verb.target("recordingAvailable", base_url),
                )
        elif verb.name == "StopRecording":
            if conference.recorder is not None:
                self.recordings.finish_conference(conference)
        elif verb.name == "PauseRecording":
            if conference.recorder is not None:
                conference.recorder.pause(now)
        elif verb.name == "ResumeRecording":
            if conference.recorder is not None:
                conference.recorder.resume(now)
