"""Calls from creation to their disconnect webhook: the account's limits, ringing and answering,
and ending, from whichever side.

Ending a call takes it out of its conference, finishes its recordings, cancels its tasks and
sends the disconnect webhook. What a call does while it is up (its BXML) runs above, in the
interpreter, as tasks this module owns for the call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from voice.sandbox import ids, webhook_payloads
from voice.sandbox.clock import Clock
from voice.sandbox.conference_lifecycle import Conferences
from voice.sandbox.config import SandboxConfig
from voice.sandbox.media_streams import MediaStreams
from voice.sandbox.recording_lifecycle import Recordings
from voice.sandbox.resources import ANSWERED, COMPLETED, INITIATED, Party, SimCall
from voice.sandbox.scheduler import Scheduler
from voice.sandbox.webhook_sender import Target, WebhookSender

log = logging.getLogger("sandbox")


class LimitExceeded(Exception):
    """An account limit was reached: createCall answers 429 with Retry-After."""

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after


@dataclass(frozen=True)
class CallRequest:
    """A validated createCall body (call_requests.call_request) as the simulation needs it."""

    from_number: str
    to_number: str
    answer: Target
    disconnect: Target | None
    tag: str | None
    call_timeout: float
    callback_timeout: float


class Calls:
    """Every call still kept, by id, and the live ones."""

    def __init__(
        self,
        config: SandboxConfig,
        clock: Clock,
        sender: WebhookSender,
        rng: random.Random,
        scheduler: Scheduler,
        conferences: Conferences,
        recordings: Recordings,
        streams: MediaStreams,
        *,
        callee: Callable[[random.Random, str], Party],
    ) -> None:
        self.config = config
        self.clock = clock
        self.sender = sender
        self.rng = rng
        self.scheduler = scheduler
        self.conferences = conferences
        self.recordings = recordings
        self.streams = streams
        self.callee = callee
        # Callees the inspection API scripted by number; the scenario decides for the others.
        self.scripted_callees: dict[str, Party] = {}
        self.by_id: dict[str, SimCall] = {}
        # The calls not over yet, so that the account limits need not look at every call.
        self.live: dict[str, SimCall] = {}
        self._created: deque[float] = deque()

    def spawn(self, coroutine: Coroutine, call: SimCall) -> asyncio.Task:
        """Run `coroutine` for `call`: cancelled when the call ends, and ending it if it fails."""
        return self.scheduler.spawn(self._ends_call_on_failure(call, coroutine), owner=call.tasks)

    async def _ends_call_on_failure(self, call: SimCall, coroutine: Coroutine) -> None:
        """A call's task that fails unexpectedly ends the call with application-error, so that
        no call stays up for ever with nothing running it. The application's own mistakes do
        not get here: they end the call with invalid-bxml or callback-error where they are found."""
        try:
            await coroutine
        except Exception as failure:
            log.exception("call %s: the sandbox failed", call.call_id)
            self.end(call, "application-error", f"Internal error in the sandbox: {type(failure).__name__}: {failure}")

    # Creating

    def new_call(self, *, direction: str, from_number: str, to_number: str, party: Party, started_ago: float = 0.0) -> SimCall:
        call_id = ids.call_id(self.rng)
        now = self.clock.now()
        started = now - timedelta(seconds=started_ago)
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
            start_time=started,
            last_update=now,
            callback_timeout=self.config.application.callback_timeout,
        )
        self.by_id[call_id] = call
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

    def create(self, request: CallRequest) -> SimCall:
        """createCall: within the account limits, a new outbound call to its callee."""
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
        return call

    # Ringing and answering

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

    def answer(self, call: SimCall) -> None:
        now = self.clock.now()
        call.state = ANSWERED
        call.answer_time = now
        call.last_update = now
        if call.party.hold_seconds is not None and call.direction == "outbound":
            self.spawn(self.far_end_hangs_up(call, call.party.hold_seconds), call)

    async def far_end_hangs_up(self, call: SimCall, after: float) -> None:
        await self.clock.sleep(after)
        self.end(call, "hangup")

    # Replacing what runs

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
        self.conferences.leave(call)
        if call.message_recorder is not None:
            self.recordings.finish_call(call, call.message_recorder)

    # Ending

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
            self.recordings.finish_call(call, call.background_recorder)
        self.streams.stop_all(call)
        current = asyncio.current_task()
        for task in list(call.tasks):
            if task is not current:
                task.cancel()
        for listener in call.on_end:
            listener(call)
        self.scheduler.spawn(self._send_disconnect(call))

    def hang_up(self, call: SimCall) -> None:
        """updateCall state=completed: hang up if answered, cancel an unanswered outbound
        call, reject an unanswered inbound one."""
        if call.state == INITIATED:
            self.end(call, "cancel" if call.direction == "outbound" else "rejected")
        else:
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

    def forget(self, before: datetime) -> None:
        """Forget the calls that ended before `before`; live calls are never forgotten."""
        for call_id in [call_id for call_id, call in self.by_id.items() if call.is_over and call.end_time <= before]:
            del self.by_id[call_id]
