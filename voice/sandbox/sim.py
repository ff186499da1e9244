"""The simulation: calls living in (sandbox) time, driven by BXML and by the far end.

Each call runs as asyncio tasks: its script (the BXML the application returned, verb by
verb, fetching the next document whenever a verb with an event URL ends the current one)
and its far end (a caller or callee who hangs up when the scenario says). Ending a call,
from any side, takes it out of its conference, finishes its recordings, cancels its tasks
and sends the disconnect webhook.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from voice.sandbox import audio, bxml_parser, ids, webhook_payloads
from voice.sandbox.clock import Clock
from voice.sandbox.conferences import Conferences
from voice.sandbox.config import SandboxConfig
from voice.sandbox.failures import survives
from voice.sandbox.formats import iso, without_none
from voice.sandbox.recordings import (
    PROCESSING_SECONDS,
    Recorder,
    Recording,
    Spoken,
    Transcription,
    conversation,
    seed_of,
    transcription_seconds,
)
from voice.sandbox.webhook_sender import CallbackFailed, Target, WebhookSender

if TYPE_CHECKING:
    from voice.sandbox.conferences import SimConference

log = logging.getLogger("sandbox")

INITIATED = "initiated"
ANSWERED = "answered"
# The seed specification's final state (the real API says "disconnected").
COMPLETED = "completed"

# How long Bandwidth keeps what has ended: a call's record 7 days (getCall answers 404 after),
# a recording 30 days. https://dev.bandwidth.com/apis/voice/#operation/getCallState,
# https://dev.bandwidth.com/docs/voice/guides/recordingGuide
CALL_RETENTION = timedelta(days=7)
RECORDING_RETENTION = timedelta(days=30)
# Bandwidth documents none for conferences: the sandbox keeps a completed one, and a member
# who left, as long as the calls they are made of.
CONFERENCE_RETENTION = CALL_RETENTION
# How often (simulated seconds) the sandbox forgets what is past its retention.
SWEEP_SECONDS = 3600.0

# Verbs that leave an unanswered inbound call unanswered (Bandwidth answers it on the
# first other verb; Ring only with answerCall="true"). https://dev.bandwidth.com/docs/voice/bxml
NON_ANSWERING_VERBS = frozenset({"Hangup", "Forward", "Tag"})


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

    @property
    def utterance(self) -> str:
        return self.sentences[0] if self.sentences else ""


@dataclass(frozen=True)
class Fetch:
    """A BXML webhook to send; its reply becomes the call's document."""

    target: Target
    payload: Callable[[datetime], dict[str, Any]]
    # Verbs the reply may not contain (a transferAnswer reply runs before the bridge).
    forbidden: frozenset[str] = frozenset()


class LimitExceeded(Exception):
    """An account limit was reached: createCall answers 429 with Retry-After."""

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after


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
    conference: SimConference | None = None
    # The <StartRecording> recording in progress, and a <Record> in progress.
    background_recorder: Recorder | None = None
    message_recorder: Recorder | None = None
    # What the application said to the call (SpeakSentence), for recordings and transcripts.
    prompts: list[tuple[datetime, str]] = field(default_factory=list)
    recording_ids: list[str] = field(default_factory=list)
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


@dataclass(frozen=True)
class CallRequest:
    """A validated createCall body (api_calls.call_request) as the simulation needs it."""

    from_number: str
    to_number: str
    answer: Target
    disconnect: Target | None
    tag: str | None
    call_timeout: float
    callback_timeout: float


class Simulation:
    def __init__(
        self,
        config: SandboxConfig,
        clock: Clock,
        sender: WebhookSender,
        rng: random.Random,
        *,
        callee: Callable[[random.Random, str], Party] = lambda rng, number: Party(),
    ) -> None:
        self.config = config
        self.clock = clock
        self.sender = sender
        self.rng = rng
        self.callee = callee
        # Callees the inspection API scripted by number; the scenario decides for the others.
        self.scripted_callees: dict[str, Party] = {}
        self.calls: dict[str, SimCall] = {}
        # The calls not over yet, so that the account limits need not look at every call.
        self.live: dict[str, SimCall] = {}
        self.recordings: dict[str, Recording] = {}
        self.conferences: Conferences = Conferences(self)
        self._created: deque[float] = deque()
        self._background: set[asyncio.Task] = set()

    # Tasks

    def spawn(self, coroutine: Coroutine, call: SimCall | None = None) -> asyncio.Task:
        """Run `coroutine` in the background, owned by `call` (cancelled when it ends, and
        ended if the task fails) or by the simulation (cancelled on shutdown)."""
        if call is not None:
            coroutine = self._ends_call_on_failure(call, coroutine)
        task = asyncio.get_running_loop().create_task(coroutine)
        owner = call.tasks if call is not None else self._background
        owner.add(task)
        task.add_done_callback(owner.discard)
        task.add_done_callback(_log_failure)
        return task

    async def _ends_call_on_failure(self, call: SimCall, coroutine: Coroutine) -> None:
        """A call's task that fails unexpectedly ends the call with application-error, so that
        no call stays up for ever with nothing running it. The application's own mistakes do
        not get here: they end the call with invalid-bxml or callback-error where they are found."""
        try:
            await coroutine
        except Exception as failure:
            log.exception("call %s: the sandbox failed", call.call_id)
            self.end(call, "application-error", f"Internal error in the sandbox: {type(failure).__name__}: {failure}")

    async def shutdown(self) -> None:
        """Cancel every task, then those the cancelled ones started as they stopped (a
        conference its last member left publishes its recording), until none is left: none
        outlives the webhook client."""
        while tasks := [task for task in self._tasks() if not task.done()]:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _tasks(self) -> list[asyncio.Task]:
        return [*self._background, *(task for call in self.calls.values() for task in call.tasks)]

    # Calls

    def new_call(self, *, direction: str, from_number: str, to_number: str, party: Party) -> SimCall:
        call_id = ids.call_id(self.rng)
        now = self.clock.now()
        call = SimCall(
            call_id=call_id,
            direction=direction,
            from_number=from_number,
            to_number=to_number,
            account_id=self.config.account_id,
            application_id=self.config.application_id,
            call_url=f"{self.config.api_base}/calls/{call_id}",
            party=party,
            enqueued_time=now if direction == "outbound" else None,
            start_time=now,
            last_update=now,
            callback_timeout=self.config.application.callback_timeout,
        )
        self.calls[call_id] = call
        self.live[call_id] = call
        return call

    def callee_for(self, number: str) -> Party:
        """Who answers an outbound call to `number`, and how."""
        scripted = self.scripted_callees.get(number)
        if scripted is not None:
            return replace(scripted, digits=list(scripted.digits))
        return self.callee(self.rng, number)

    def check_limits(self) -> None:
        """Bandwidth's account limits on creating calls: calls per second and concurrent calls.
        https://dev.bandwidth.com/docs/voice/rateLimits"""
        now = time.monotonic()
        while self._created and now - self._created[0] >= 1.0:
            self._created.popleft()
        if len(self._created) >= self.config.calls_per_second:
            raise LimitExceeded("Account call creation rate limit exceeded", retry_after=1)
        if len(self.live) >= self.config.max_concurrent_calls:
            raise LimitExceeded("Account concurrent call limit exceeded", retry_after=5)
        self._created.append(now)

    def create_call(self, request: CallRequest) -> SimCall:
        """createCall: within the account limits, a new outbound call that rings its callee."""
        self.check_limits()
        call = self.new_call(
            direction="outbound",
            from_number=request.from_number,
            to_number=request.to_number,
            party=self.callee_for(request.to_number),
        )
        call.tag = request.tag
        call.answer_target = request.answer
        call.disconnect_target = request.disconnect
        call.call_timeout = request.call_timeout
        call.callback_timeout = request.callback_timeout
        call.script = self.spawn(self._outbound(call), call)
        return call

    def offer_inbound(self, *, from_number: str, to_number: str, party: Party) -> SimCall:
        """An inbound call arrives: Bandwidth offers it to the application (initiate)."""
        call = self.new_call(direction="inbound", from_number=from_number, to_number=to_number, party=party)
        call.script = self.spawn(self._inbound(call), call)
        return call

    def end(self, call: SimCall, cause: str, error_message: str = "") -> None:
        """End the call now, from whichever side, and tell the application."""
        if call.is_over:
            return
        now = self.clock.now()
        call.state = COMPLETED
        self.live.pop(call.call_id, None)
        call.end_time = now
        call.last_update = now
        call.disconnect_cause = cause
        if error_message:
            call.error_message = error_message
            call.error_id = ids.error_id(self.rng)
        self._interrupt(call)
        if call.background_recorder is not None:
            self.finish_call_recording(call, call.background_recorder)
        current = asyncio.current_task()
        for task in list(call.tasks):
            if task is not current:
                task.cancel()
        for listener in call.on_end:
            listener(call)
        self.spawn(self._send_disconnect(call))

    def hang_up(self, call: SimCall) -> None:
        """updateCall state=completed: hang up if answered, cancel an unanswered outbound
        call, reject an unanswered inbound one."""
        if call.state == INITIATED:
            self.end(call, "cancel" if call.direction == "outbound" else "rejected")
        else:
            self.end(call, "hangup")

    def redirect(self, call: SimCall, target: Target) -> None:
        """updateCall with redirectUrl: the redirect webhook's reply replaces the running BXML
        (and takes the call out of a conference)."""
        self.replace_script(call, self.run_script(call, fetch=Fetch(target, lambda now: webhook_payloads.redirect(call, now))))

    def replace_bxml(self, call: SimCall, verbs: list[bxml_parser.Verb]) -> None:
        """PUT /calls/{id}/bxml: the document replaces the running one at once."""
        document = bxml_parser.Document(tuple(verbs), call.base_url)
        self.replace_script(call, self.run_script(call, document=document))

    def replace_script(self, call: SimCall, script: Coroutine) -> None:
        """New BXML interrupts whatever verb runs: the call leaves its conference, and a
        <Record> in progress stops (its recording is kept)."""
        self._interrupt(call)
        if call.script is not None:
            call.script.cancel()
        call.script = self.spawn(script, call)

    def _interrupt(self, call: SimCall) -> None:
        """What ending a call and replacing its BXML both do first: the call leaves its
        conference, then a <Record> in progress stops (its recording is kept)."""
        if call.conference is not None:
            self.conferences.leave(call)
        if call.message_recorder is not None:
            self.finish_call_recording(call, call.message_recorder)

    def answer(self, call: SimCall) -> None:
        now = self.clock.now()
        call.state = ANSWERED
        call.answer_time = now
        call.last_update = now
        if call.party.hold_seconds is not None and call.direction == "outbound":
            self.spawn(self._far_end_hangs_up(call, call.party.hold_seconds), call)

    # Retention

    async def keep_retention(self) -> None:
        """Forget, every simulated hour, what Bandwidth would no longer know."""
        while True:
            await self.clock.sleep(SWEEP_SECONDS)
            with survives("the retention sweep"):
                self.sweep(self.clock.now())

    def sweep(self, now: datetime) -> None:
        """Forget the calls that ended more than CALL_RETENTION before `now`, the recordings
        that ended more than RECORDING_RETENTION before, and the conferences completed (and
        members who left) more than CONFERENCE_RETENTION before. A recording outlives its
        call, as on Bandwidth: it is still served under the call's URL."""
        call_cutoff, recording_cutoff = now - CALL_RETENTION, now - RECORDING_RETENTION
        for call_id in [call_id for call_id, call in self.calls.items() if call.is_over and call.end_time <= call_cutoff]:
            del self.calls[call_id]
        for recording_id in [key for key, recording in self.recordings.items() if recording.end_time <= recording_cutoff]:
            del self.recordings[recording_id]
        self.conferences.forget(now - CONFERENCE_RETENTION)

    # Lifecycles

    async def ring(self, call: SimCall) -> bool:
        """Ring the callee of an outbound call; True once answered, False if the call ended."""
        callee = call.party
        if callee.outcome == "timeout" or callee.ring_seconds >= call.call_timeout:
            await self.clock.sleep(call.call_timeout)
            self.end(call, "timeout")
            return False
        await self.clock.sleep(callee.ring_seconds)
        if callee.outcome == "busy":
            self.end(call, "busy", "Callee is busy")
            return False
        if callee.outcome == "rejected":
            self.end(call, "rejected", "Call was rejected")
            return False
        self.answer(call)
        return True

    async def _outbound(self, call: SimCall) -> None:
        if await self.ring(call):
            await self.run_script(call, fetch=Fetch(call.answer_target, lambda now: webhook_payloads.answer(call, now)))

    async def _inbound(self, call: SimCall) -> None:
        if call.party.hold_seconds is not None:
            self.spawn(self._far_end_hangs_up(call, call.party.hold_seconds), call)
        application = self.config.application
        call.callback_timeout = application.callback_timeout
        target = Target(
            url=application.call_initiated_url,
            method=application.call_initiated_method,
            username=application.callback_username,
            password=application.callback_password,
            fallback_url=application.call_initiated_fallback_url,
            fallback_username=application.callback_username,
            fallback_password=application.callback_password,
        )
        await self.run_script(call, fetch=Fetch(target, lambda now: webhook_payloads.initiate(call, now)))

    async def _far_end_hangs_up(self, call: SimCall, after: float) -> None:
        await self.clock.sleep(after)
        self.end(call, "hangup")

    async def _send_disconnect(self, call: SimCall) -> None:
        if call.disconnect_event == "transferDisconnect":
            target, payload = call.disconnect_target, webhook_payloads.transfer_disconnect(call, self.clock.now())
        elif call.direction == "outbound":
            target, payload = call.disconnect_target, webhook_payloads.disconnect(call, self.clock.now())
        else:
            application = self.config.application
            target = Target(
                url=application.call_status_url,
                method=application.call_status_method,
                username=application.callback_username,
                password=application.callback_password,
            )
            payload = webhook_payloads.disconnect(call, self.clock.now())
        if target is None or not target.url:
            return
        await self.sender.notify(target, payload, timeout=call.callback_timeout)

    # BXML

    async def run_script(
        self,
        call: SimCall,
        *,
        fetch: Fetch | None = None,
        document: bxml_parser.Document | None = None,
        when_done: Callable[[SimCall], None] | None = None,
    ) -> None:
        """Run documents until the call ends or a document runs out, which is an implicit
        <Hangup/> unless `when_done` says otherwise."""
        while not call.is_over:
            if fetch is not None:
                document = await self.fetch_document(call, fetch)
                if document is None:
                    return
            fetch = await self.execute(call, document)
            if call.is_over:
                return
            if fetch is None:
                (when_done or self._implicit_hangup)(call)
                return

    def _implicit_hangup(self, call: SimCall) -> None:
        self.end(call, "hangup")

    async def fetch_document(self, call: SimCall, fetch: Fetch) -> bxml_parser.Document | None:
        """Ask the application for BXML; a failed webhook or an invalid document ends the
        call, as on Bandwidth (callback-error, invalid-bxml)."""
        try:
            reply = await self.sender.bxml(fetch.target, fetch.payload(self.clock.now()), timeout=call.callback_timeout)
        except CallbackFailed as error:
            self.end(call, "callback-error", str(error))
            return None
        if call.is_over:
            return None
        try:
            verbs = bxml_parser.parse(reply.text)
            forbidden = sorted({verb.name for verb in verbs} & fetch.forbidden)
            if forbidden:
                raise bxml_parser.InvalidBxml(f"{', '.join(forbidden)} may not be used here")
        except bxml_parser.InvalidBxml as error:
            self.end(call, "invalid-bxml", str(error))
            return None
        call.base_url = reply.url
        return bxml_parser.Document(tuple(verbs), reply.url)

    async def execute(self, call: SimCall, document: bxml_parser.Document) -> Fetch | None:
        """Run the verbs in order; a verb with an event URL ends the document and says which
        webhook's reply comes next."""
        # Imported here: the verbs are written against this module's Simulation.
        from voice.sandbox.verbs import VERBS

        for verb in document.verbs:
            if call.is_over:
                return None
            perform = VERBS.get(verb.name)
            if perform is None:
                self.end(call, "application-error", f"<{verb.name}> is not simulated by the sandbox")
                return None
            try:
                if call.direction == "inbound" and call.state == INITIATED and _answers(verb):
                    self.answer(call)
                following = await perform(self, call, verb, document.base_url)
            except bxml_parser.InvalidBxml as error:
                self.end(call, "invalid-bxml", str(error))
                return None
            if following is not None:
                return following
        return None

    # Recordings

    def finish_call_recording(self, call: SimCall, recorder: Recorder) -> Recording:
        """Stop a call's recording: it becomes available (recordingAvailable) after processing,
        then, if asked, transcribed (transcriptionAvailable)."""
        if call.message_recorder is recorder:
            call.message_recorder = None
        if call.background_recorder is recorder:
            call.background_recorder = None
        now = self.clock.now()
        duration = max(0.1, recorder.active_seconds(now))
        recording_id = ids.recording_id(self.rng)
        rng = random.Random(seed_of(recording_id))
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
            seed=seed_of(recording_id),
            call=call,
            transcription_target=recorder.transcription_target,
        )
        call.recording_ids.append(recording_id)
        self.spawn(self._publish_call_recording(recording, recorder))
        return recording

    async def _publish_call_recording(self, recording: Recording, recorder: Recorder) -> None:
        call = recording.call
        await self.clock.sleep(PROCESSING_SECONDS)
        self.recordings[recording.recording_id] = recording
        if recorder.available_target is not None:
            payload = webhook_payloads.recording_available(call, self.clock.now(), recording)
            if recorder.tag:
                payload["tag"] = recorder.tag
            await self.sender.notify(recorder.available_target, payload, timeout=call.callback_timeout)
        if recorder.transcribe:
            await self.transcribe(recording, self.transcription_target(recording), tag=recorder.tag)

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
        if recording.recording_id not in self.recordings:
            return
        transcription_id = ids.transcription_id(self.rng)
        recording.transcription = Transcription(
            transcription_id=transcription_id,
            url=recording.transcription_url,
            completed_time=self.clock.now(),
            transcripts=recording.transcripts(random.Random(seed_of(transcription_id))),
        )
        call = recording.call
        if target is None or call is None:
            return
        payload = webhook_payloads.transcription_available(call, self.clock.now(), recording)
        if tag:
            payload["tag"] = tag
        await self.sender.notify(target, payload, timeout=timeout or call.callback_timeout)

    def delete_recording(self, recording: Recording) -> None:
        """DELETE: metadata, media and transcription are gone at once."""
        self.recordings.pop(recording.recording_id, None)


def _answers(verb: bxml_parser.Verb) -> bool:
    if verb.name == "Ring":
        return verb.flag("answerCall", True)
    return verb.name not in NON_ANSWERING_VERBS


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("sandbox task failed", exc_info=task.exception())
