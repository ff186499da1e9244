"""The simulation: calls living in (sandbox) time, driven by BXML and by the far end.

Each call runs as asyncio tasks: its script (the BXML the application returned, verb by
verb) and its far end (a caller or callee who hangs up when the scenario says). Ending a
call, from any side, cancels both and sends the disconnect webhook.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voice.sandbox import bxml, ids, payloads
from voice.sandbox.clock import Clock, iso
from voice.sandbox.config import SandboxConfig
from voice.sandbox.webhooks import CallbackFailed, Target, WebhookSender

log = logging.getLogger("sandbox")

INITIATED = "initiated"
ANSWERED = "answered"
# The seed specification's final state (the real API says "disconnected").
COMPLETED = "completed"

# Verbs that leave an unanswered inbound call unanswered (Bandwidth answers it on the
# first other verb). https://dev.bandwidth.com/docs/voice/bxml
NON_ANSWERING_VERBS = frozenset({"Hangup", "Forward", "Ring", "Tag"})

# How long speaking takes in the simulation: about 150 words a minute.
SECONDS_PER_WORD = 0.4


@dataclass
class Callee:
    """How the far end of an outbound call behaves."""

    ring_seconds: float = 2.0
    # answer | busy | timeout | rejected
    outcome: str = "answer"
    # How long the callee stays after answering; None: until someone else hangs up.
    hold_seconds: float | None = None


@dataclass
class SimCall:
    call_id: str
    direction: str
    from_number: str
    to_number: str
    account_id: str
    application_id: str
    call_url: str
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
    answer_target: Target | None = None
    disconnect_target: Target | None = None
    callback_timeout: float = 15.0
    call_timeout: float = 30.0
    tasks: set[asyncio.Task] = field(default_factory=set, repr=False)

    @property
    def is_over(self) -> bool:
        return self.state == COMPLETED

    def to_json(self) -> dict[str, Any]:
        """The call resource: the seed spec's Call and the real API's callState in one body."""
        return {
            "callId": self.call_id,
            "parentCallId": None,
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


class Simulation:
    def __init__(self, config: SandboxConfig, clock: Clock, sender: WebhookSender, rng: random.Random) -> None:
        self.config = config
        self.clock = clock
        self.sender = sender
        self.rng = rng
        self.calls: dict[str, SimCall] = {}
        self._background: set[asyncio.Task] = set()
        self.verbs: dict[str, Callable[[SimCall, bxml.Verb], Awaitable[None]]] = {
            "SpeakSentence": self._speak_sentence,
            "Pause": self._pause,
            "Hangup": self._hangup,
        }

    # Tasks

    def spawn(self, coroutine: Coroutine, call: SimCall | None = None) -> asyncio.Task:
        """Run `coroutine` in the background, owned by `call` (cancelled when it ends) or by
        the simulation (cancelled on shutdown)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        owner = call.tasks if call is not None else self._background
        owner.add(task)
        task.add_done_callback(owner.discard)
        task.add_done_callback(_log_failure)
        return task

    async def shutdown(self) -> None:
        tasks = list(self._background) + [task for call in self.calls.values() for task in call.tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # Calls

    def new_call(self, *, direction: str, from_number: str, to_number: str) -> SimCall:
        call_id = ids.call_id(self.rng)
        now = self.clock.now()
        call = SimCall(
            call_id=call_id,
            direction=direction,
            from_number=from_number,
            to_number=to_number,
            account_id=self.config.account_id,
            application_id=self.config.application_id,
            call_url=f"{self.config.public_base}/api/v2/accounts/{self.config.account_id}/calls/{call_id}",
            enqueued_time=now if direction == "outbound" else None,
            start_time=now,
            last_update=now,
            callback_timeout=self.config.callback_timeout,
        )
        self.calls[call_id] = call
        return call

    def live_calls(self) -> list[SimCall]:
        return [call for call in self.calls.values() if not call.is_over]

    def place_outbound(self, call: SimCall, callee: Callee) -> None:
        self.spawn(self._outbound(call, callee), call)

    def offer_inbound(self, *, from_number: str, to_number: str, hold_seconds: float | None) -> SimCall:
        call = self.new_call(direction="inbound", from_number=from_number, to_number=to_number)
        self.spawn(self._inbound(call, hold_seconds), call)
        return call

    def end(self, call: SimCall, cause: str, error_message: str = "") -> None:
        """End the call now, from whichever side, and tell the application."""
        if call.is_over:
            return
        now = self.clock.now()
        call.state = COMPLETED
        call.end_time = now
        call.last_update = now
        call.disconnect_cause = cause
        if error_message:
            call.error_message = error_message
            call.error_id = ids.error_id(self.rng)
        current = asyncio.current_task()
        for task in list(call.tasks):
            if task is not current:
                task.cancel()
        self.spawn(self._send_disconnect(call))

    def hang_up(self, call: SimCall) -> None:
        """updateCall state=completed: hang up if answered, cancel if still ringing."""
        unanswered_outbound = call.direction == "outbound" and call.state == INITIATED
        self.end(call, "cancel" if unanswered_outbound else "hangup")

    # Lifecycles

    async def _outbound(self, call: SimCall, callee: Callee) -> None:
        if callee.outcome == "timeout":
            await self.clock.sleep(min(call.call_timeout, 30.0))
            self.end(call, "timeout")
            return
        await self.clock.sleep(callee.ring_seconds)
        if callee.outcome in ("busy", "rejected"):
            self.end(call, callee.outcome, "Callee is busy" if callee.outcome == "busy" else "Call was rejected")
            return
        self._answer(call)
        if callee.hold_seconds is not None:
            self.spawn(self._far_end_hangs_up(call, callee.hold_seconds), call)
        await self.run_webhook(call, call.answer_target, payloads.answer(call, self.clock.now()))

    async def _inbound(self, call: SimCall, hold_seconds: float | None) -> None:
        if hold_seconds is not None:
            self.spawn(self._far_end_hangs_up(call, hold_seconds), call)
        target = Target(
            url=self.config.call_initiated_url,
            username=self.config.callback_username,
            password=self.config.callback_password,
        )
        await self.run_webhook(call, target, payloads.initiate(call, self.clock.now()))

    async def _far_end_hangs_up(self, call: SimCall, after: float) -> None:
        await self.clock.sleep(after)
        self.end(call, "hangup")

    def _answer(self, call: SimCall) -> None:
        now = self.clock.now()
        call.state = ANSWERED
        call.answer_time = now
        call.last_update = now

    async def _send_disconnect(self, call: SimCall) -> None:
        if call.direction == "outbound":
            target = call.disconnect_target
        else:
            target = Target(
                url=self.config.call_status_url,
                username=self.config.callback_username,
                password=self.config.callback_password,
            )
        if target is None or not target.url:
            return
        await self.sender.notify(target, payloads.disconnect(call, self.clock.now()), timeout=call.callback_timeout)

    # BXML

    async def run_webhook(self, call: SimCall, target: Target | None, payload: dict) -> None:
        """Ask the application for BXML and execute it; a failed webhook or an invalid
        document ends the call, as on Bandwidth."""
        if target is None or call.is_over:
            return
        try:
            document = await self.sender.bxml(target, payload, timeout=call.callback_timeout)
        except CallbackFailed as error:
            self.end(call, "callback-error", str(error))
            return
        if call.is_over:
            return
        try:
            verbs = bxml.parse(document)
        except bxml.InvalidBxml as error:
            self.end(call, "invalid-bxml", str(error))
            return
        await self.execute(call, verbs)

    async def execute(self, call: SimCall, verbs: list[bxml.Verb]) -> None:
        for verb in verbs:
            if call.is_over:
                return
            perform = self.verbs.get(verb.name)
            if perform is None:
                self.end(call, "application-error", f"<{verb.name}> is not simulated by the sandbox")
                return
            if call.direction == "inbound" and call.state == INITIATED and verb.name not in NON_ANSWERING_VERBS:
                self._answer(call)
            try:
                await perform(call, verb)
            except bxml.InvalidBxml as error:
                self.end(call, "invalid-bxml", str(error))
                return
        # A document that runs out ends the call (an implicit <Hangup/>).
        self.end(call, "hangup")

    async def _speak_sentence(self, call: SimCall, verb: bxml.Verb) -> None:
        await self.clock.sleep(max(1.0, len(verb.text.split()) * SECONDS_PER_WORD))

    async def _pause(self, call: SimCall, verb: bxml.Verb) -> None:
        duration = verb.number("duration", 1.0)
        if not 0.1 <= duration <= 86400:
            raise bxml.InvalidBxml("<Pause duration> must be between 0.1 and 86400 seconds")
        await self.clock.sleep(duration)

    async def _hangup(self, call: SimCall, verb: bxml.Verb) -> None:
        self.end(call, "hangup")


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("sandbox task failed", exc_info=task.exception())
