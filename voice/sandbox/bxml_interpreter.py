"""Running BXML on a call: documents fetched from the application, their verbs executed in
order, and the next document fetched whenever a verb with an event URL ends the current one.

A webhook that fails ends the call with callback-error, an invalid document with invalid-bxml,
a verb the sandbox does not simulate with application-error, as on Bandwidth.
https://dev.bandwidth.com/docs/voice/bxml
"""

from __future__ import annotations

from collections.abc import Callable

from voice.sandbox import bxml_parser
from voice.sandbox.bxml_verbs import VERBS, Fetch
from voice.sandbox.call_lifecycle import Calls
from voice.sandbox.clock import Clock
from voice.sandbox.conference_lifecycle import Conferences
from voice.sandbox.media_streams import MediaStreams
from voice.sandbox.recording_lifecycle import Recordings
from voice.sandbox.resources import INITIATED, SimCall
from voice.sandbox.webhook_sender import CallbackFailed, WebhookSender

# Verbs that leave an unanswered inbound call unanswered (Bandwidth answers it on the
# first other verb; Ring only with answerCall="true"). https://dev.bandwidth.com/docs/voice/bxml
NON_ANSWERING_VERBS = frozenset({"Hangup", "Forward", "Tag"})


class BxmlInterpreter:
    def __init__(
        self,
        clock: Clock,
        sender: WebhookSender,
        calls: Calls,
        conferences: Conferences,
        recordings: Recordings,
        streams: MediaStreams,
    ) -> None:
        self.clock = clock
        self.sender = sender
        self.calls = calls
        self.conferences = conferences
        self.recordings = recordings
        self.streams = streams

    async def run(
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
                document = await self._fetch_document(call, fetch)
                if document is None:
                    return
            fetch = await self._execute(call, document)
            if call.is_over:
                return
            if fetch is None:
                (when_done or self._implicit_hangup)(call)
                return

    def _implicit_hangup(self, call: SimCall) -> None:
        self.calls.end(call, "hangup")

    async def _fetch_document(self, call: SimCall, fetch: Fetch) -> bxml_parser.Document | None:
        """Ask the application for BXML; a failed webhook or an invalid document ends the
        call, as on Bandwidth (callback-error, invalid-bxml)."""
        try:
            reply = await self.sender.bxml(fetch.target, fetch.payload(self.clock.now()), timeout=call.callback_timeout)
        except CallbackFailed as error:
            self.calls.end(call, "callback-error", str(error))
            return None
        if call.is_over:
            return None
        try:
            verbs = bxml_parser.parse(reply.text)
            forbidden = sorted({verb.name for verb in verbs} & fetch.forbidden)
            if forbidden:
                raise bxml_parser.InvalidBxml(f"{', '.join(forbidden)} may not be used here")
        except bxml_parser.InvalidBxml as error:
            self.calls.end(call, "invalid-bxml", str(error))
            return None
        call.base_url = reply.url
        return bxml_parser.Document(tuple(verbs), reply.url)

    async def _execute(self, call: SimCall, document: bxml_parser.Document) -> Fetch | None:
        """Run the verbs in order; a verb with an event URL ends the document and says which
        webhook's reply comes next."""
        for verb in document.verbs:
            if call.is_over:
                return None
            perform = VERBS.get(verb.name)
            if perform is None:
                self.calls.end(call, "application-error", f"<{verb.name}> is not simulated by the sandbox")
                return None
            try:
                if call.direction == "inbound" and call.state == INITIATED and _answers(verb):
                    self.calls.answer(call)
                following = await perform(self, call, verb, document.base_url)
            except bxml_parser.InvalidBxml as error:
                self.calls.end(call, "invalid-bxml", str(error))
                return None
            if following is not None:
                return following
        return None


def _answers(verb: bxml_parser.Verb) -> bool:
    if verb.name == "Ring":
        return verb.flag("answerCall", True)
    return verb.name not in NON_ANSWERING_VERBS
