"""The simulation: calls living in (sandbox) time, driven by BXML and by the far end.

It assembles the parts (calls, conferences, recordings, the BXML interpreter, all on one
scheduler) and starts what a call runs: an inbound call is offered to the application, an
outbound one rings its callee, a redirect or new BXML replaces what runs. The API and the
scenarios drive it; each call runs as asyncio tasks, its script and its far end (a caller or
callee who hangs up when the scenario says).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from voice.sandbox import bxml_parser, webhook_payloads
from voice.sandbox.bxml_interpreter import BxmlInterpreter
from voice.sandbox.bxml_verbs import Fetch
from voice.sandbox.call_lifecycle import CallRequest, Calls
from voice.sandbox.clock import Clock
from voice.sandbox.conference_lifecycle import Conferences
from voice.sandbox.config import SandboxConfig
from voice.sandbox.media_streams import MediaStreams
from voice.sandbox.recording_lifecycle import Recordings
from voice.sandbox.resources import Party, SimCall
from voice.sandbox.scheduler import Scheduler
from voice.sandbox.webhook_sender import Target, WebhookSender


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
        self.scheduler = Scheduler()
        self.recordings = Recordings(config, clock, sender, rng, self.scheduler)
        self.conferences = Conferences(config, clock, sender, rng, self.scheduler, self.recordings)
        self.streams = MediaStreams(config, clock, sender, rng, self.scheduler)
        self.calls = Calls(
            config, clock, sender, rng, self.scheduler, self.conferences, self.recordings, self.streams, callee=callee
        )
        self.interpreter = BxmlInterpreter(clock, sender, self.calls, self.conferences, self.recordings, self.streams)

    def create_call(self, request: CallRequest) -> SimCall:
        """createCall: within the account limits, a new outbound call that rings its callee."""
        call = self.calls.create(request)
        call.script = self.calls.spawn(self._outbound(call), call)
        return call

    def offer_inbound(self, *, from_number: str, to_number: str, party: Party, started_ago: float = 0.0) -> SimCall:
        """An inbound call arrives: Bandwidth offers it to the application (initiate).
        `started_ago` seconds backdates its start, as for a call already up when the
        application began to answer for the number."""
        call = self.calls.new_call(
            direction="inbound", from_number=from_number, to_number=to_number, party=party, started_ago=started_ago
        )
        call.script = self.calls.spawn(self._inbound(call), call)
        return call

    def redirect(self, call: SimCall, target: Target) -> None:
        """updateCall with redirectUrl: the redirect webhook's reply replaces the running BXML
        (and takes the call out of a conference)."""
        fetch = Fetch(target, lambda now: webhook_payloads.redirect(call, now))
        self.calls.replace_script(call, self.interpreter.run(call, fetch=fetch))

    def replace_bxml(self, call: SimCall, verbs: list[bxml_parser.Verb]) -> None:
        """PUT /calls/{id}/bxml: the document replaces the running one at once."""
        document = bxml_parser.Document(tuple(verbs), call.base_url)
        self.calls.replace_script(call, self.interpreter.run(call, document=document))

    async def _outbound(self, call: SimCall) -> None:
        if await self.calls.ring(call):
            await self.interpreter.run(call, fetch=Fetch(call.answer_target, lambda now: webhook_payloads.answer(call, now)))

    async def _inbound(self, call: SimCall) -> None:
        if call.party.hold_seconds is not None:
            self.calls.spawn(self.calls.far_end_hangs_up(call, call.party.hold_seconds), call)
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
        await self.interpreter.run(call, fetch=Fetch(target, lambda now: webhook_payloads.initiate(call, now)))
