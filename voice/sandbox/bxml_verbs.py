"""The BXML verbs a call executes, one coroutine each.

Each takes the interpreter, the call, the verb and the URL its document came from, and
returns None to go on with the next verb, or a Fetch when the verb has an event URL: that
webhook's reply replaces the rest of the document.
https://dev.bandwidth.com/docs/voice/bxml
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from voice.sandbox import audio, bxml_parser, webhook_payloads
from voice.sandbox.call_lifecycle import Calls
from voice.sandbox.clock import Clock
from voice.sandbox.conference_lifecycle import ConferenceFull, Conferences
from voice.sandbox.media_streams import MediaStreams
from voice.sandbox.recording_lifecycle import Recordings
from voice.sandbox.resources import INITIATED, Recorder, SimCall
from voice.sandbox.webhook_sender import Target

# A caller keys a digit about every 0.4 s.
SECONDS_PER_DIGIT = 0.4
# A <SendDtmf> tone with its gap (Bandwidth's defaults: 200 ms + 400 ms).
SECONDS_PER_TONE = 0.6


@dataclass(frozen=True)
class Fetch:
    """A BXML webhook to send; its reply becomes the call's document."""

    target: Target
    payload: Callable[[datetime], dict[str, Any]]
    # Verbs the reply may not contain (a transferAnswer reply runs before the bridge).
    forbidden: frozenset[str] = frozenset()


class Interpreter(Protocol):
    """The BXML interpreter (bxml_interpreter.BxmlInterpreter) as a verb sees it: the parts a
    verb acts on, and `run` for a <Transfer> leg's own documents. A protocol, because the
    interpreter sits above the verbs it runs."""

    clock: Clock
    calls: Calls
    conferences: Conferences
    recordings: Recordings
    streams: MediaStreams

    async def run(
        self,
        call: SimCall,
        *,
        fetch: Fetch | None = None,
        document: bxml_parser.Document | None = None,
        when_done: Callable[[SimCall], None] | None = None,
    ) -> None: ...


Perform = Callable[[Interpreter, SimCall, bxml_parser.Verb, str], Awaitable[Fetch | None]]


def _set_tag(call: SimCall, verb: bxml_parser.Verb) -> None:
    """A verb's tag attribute sets the call's tag for this and later webhooks ("" clears it)."""
    if "tag" in verb.attributes:
        call.tag = verb.attributes["tag"] or None


async def speak_sentence(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    call.prompts.append((interpreter.clock.now(), verb.text))
    await interpreter.clock.sleep(max(0.5, audio.speech_length(verb.text)))


async def play_audio(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    await interpreter.clock.sleep(audio.PLAY_AUDIO_SECONDS)


async def pause(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    await interpreter.clock.sleep(verb.number("duration", 1.0, 0.1, 86400))


async def ring(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    await interpreter.clock.sleep(verb.number("duration", 5.0, 0.1, 86400))


async def send_dtmf(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    await interpreter.clock.sleep(len(verb.text) * SECONDS_PER_TONE)


async def tag(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    call.tag = verb.text or None


async def hangup(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    interpreter.calls.end(call, "hangup")


async def redirect(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> Fetch:
    target = verb.target("redirect", base_url)
    if target is None:
        raise bxml_parser.InvalidBxml("<Redirect> needs a redirectUrl")
    _set_tag(call, verb)
    return Fetch(target, lambda now: webhook_payloads.redirect(call, now))


async def gather(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> Fetch | None:
    """Play the nested prompts, then collect what the caller keys (their scripted digits)."""
    target = verb.target("gather", base_url)
    max_digits = int(verb.number("maxDigits", 50, 1, 50))
    first_timeout = verb.number("firstDigitTimeout", 5, 0, 60)
    inter_timeout = verb.number("interDigitTimeout", 5, 1, 60)
    repeat = int(verb.number("repeatCount", 1, 1, 25))
    terminators = verb.attributes.get("terminatingDigits", "")
    _set_tag(call, verb)
    keyed = call.party.digits.pop(0) if call.party.digits else ""
    for _ in range(repeat if not keyed else 1):
        for prompt in verb.children:
            if prompt.name == "SpeakSentence":
                await speak_sentence(interpreter, call, prompt, base_url)
            elif prompt.name == "PlayAudio":
                await play_audio(interpreter, call, prompt, base_url)
            else:
                raise bxml_parser.InvalidBxml(f"<Gather> may contain only SpeakSentence and PlayAudio, not {prompt.name}")
    digits, terminating = "", ""
    if not keyed:
        await interpreter.clock.sleep(first_timeout)
    for digit in keyed:
        await interpreter.clock.sleep(SECONDS_PER_DIGIT)
        if digit in terminators:
            terminating = digit
            break
        digits += digit
        if len(digits) >= max_digits:
            break
    else:
        if keyed:
            await interpreter.clock.sleep(inter_timeout)
    if target is None:
        return None
    return Fetch(target, lambda now: webhook_payloads.gather(call, now, digits, terminating))


async def record(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> Fetch | None:
    """<Record>: the caller says their message, then hangs up, keys # or falls silent, as scripted."""
    complete_target = verb.target("recordComplete", base_url)
    max_duration = verb.number("maxDuration", 60, 1, 10800)
    silence_timeout = verb.number("silenceTimeout", 0, 0, 10800)
    terminators = verb.attributes.get("terminatingDigits", "#")
    _set_tag(call, verb)
    recorder = Recorder(
        started=interpreter.clock.now(),
        single_message=True,
        available_target=verb.target("recordingAvailable", base_url),
        transcribe=verb.flag("transcribe"),
        transcription_target=verb.target("transcriptionAvailable", base_url),
        tag=call.tag,
    )
    call.message_recorder = recorder
    speaking = 0.4 + audio.speech_length(call.party.utterance)
    ending = call.party.ends_message
    if ending == "hangup" and speaking + 0.5 < max_duration:
        await interpreter.clock.sleep(speaking + 0.5)
        # recordComplete is not sent when the hang-up ended the recording; end() keeps it.
        interpreter.calls.end(call, "hangup")
        return None
    if ending == "#" and "#" in terminators:
        await interpreter.clock.sleep(min(speaking + 0.5, max_duration))
    elif silence_timeout > 0:
        await interpreter.clock.sleep(min(speaking + silence_timeout, max_duration))
    else:
        await interpreter.clock.sleep(max_duration)
    recording = interpreter.recordings.finish_call(call, recorder)
    if complete_target is None:
        return None
    return Fetch(complete_target, lambda now: webhook_payloads.record_complete(call, now, recording))


async def start_recording(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    # Only one <StartRecording> at a time; a second is ignored, as on Bandwidth.
    if call.background_recorder is not None:
        return
    call.background_recorder = Recorder(
        started=interpreter.clock.now(),
        channels=2 if verb.flag("multiChannel") else 1,
        available_target=verb.target("recordingAvailable", base_url),
        transcribe=verb.flag("transcribe"),
        transcription_target=verb.target("transcriptionAvailable", base_url),
        tag=verb.attributes.get("tag") or call.tag,
    )


async def stop_recording(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    if call.background_recorder is not None:
        interpreter.recordings.finish_call(call, call.background_recorder)


async def pause_recording(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    if call.background_recorder is not None:
        call.background_recorder.pause(interpreter.clock.now())


async def resume_recording(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    if call.background_recorder is not None:
        call.background_recorder.resume(interpreter.clock.now())


async def start_stream(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    """<StartStream>: the call's audio goes to a websocket in the background; the next verb
    runs once the destination answered the handshake (or did not)."""
    await interpreter.streams.start(call, verb, base_url)


async def stop_stream(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    name = verb.attributes.get("name", "")
    if not name:
        raise bxml_parser.InvalidBxml("<StopStream> needs the name of the stream")
    interpreter.streams.stop(call, name)


async def conference(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    try:
        await interpreter.conferences.join(call, verb, base_url)
    except ConferenceFull as full:
        # The sandbox's choice where Bandwidth documents none: the caller cannot join a
        # full conference, and the call ends with the reason in its disconnect event.
        interpreter.calls.end(call, "application-error", str(full))


async def forward(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
    """<Forward>: an unanswered inbound call rings another number; the application loses
    control, and the call lasts until either side hangs up."""
    to = verb.attributes.get("to", "")
    if not to:
        raise bxml_parser.InvalidBxml("<Forward> needs a to number")
    if call.state != INITIATED or call.direction != "inbound":
        interpreter.calls.end(call, "application-error", "<Forward> works only on an unanswered inbound call")
        return
    call_timeout = verb.number("callTimeout", 30, 1, 300)
    callee = interpreter.calls.callee_for(to)
    if callee.outcome == "timeout" or callee.ring_seconds >= call_timeout:
        await interpreter.clock.sleep(call_timeout)
        interpreter.calls.end(call, "timeout")
        return
    await interpreter.clock.sleep(callee.ring_seconds)
    if callee.outcome in ("busy", "rejected"):
        interpreter.calls.end(call, callee.outcome, "Callee is busy" if callee.outcome == "busy" else "Call was rejected")
        return
    interpreter.calls.answer(call)
    if callee.hold_seconds is not None:
        await interpreter.clock.sleep(callee.hold_seconds)
        interpreter.calls.end(call, "hangup")
        return
    await asyncio.Event().wait()


async def transfer(interpreter: Interpreter, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> Fetch | None:
    """<Transfer>: ring every <PhoneNumber>/<SipUri> at once; the first to answer runs its
    transferAnswer BXML and is bridged, the others are cancelled. When the bridge ends with
    the A-leg still up, transferComplete (or the next verb)."""
    numbers = [child for child in verb.children if child.name in ("PhoneNumber", "SipUri")]
    if not 1 <= len(numbers) <= 8 or len(numbers) != len(verb.children):
        raise bxml_parser.InvalidBxml("<Transfer> holds 1 to 8 <PhoneNumber> or <SipUri>")
    complete_target = verb.target("transferComplete", base_url)
    call_timeout = verb.number("callTimeout", 30, 1, 300)
    caller_id = verb.attributes.get("transferCallerId") or call.from_number
    _set_tag(call, verb)
    legs = [_transfer_leg(interpreter.calls, call, number, caller_id, call_timeout, base_url) for number in numbers]
    outcome: asyncio.Future[SimCall] = asyncio.get_running_loop().create_future()
    won: list[SimCall] = []

    def answered(leg: SimCall) -> bool:
        if won:
            return False
        won.append(leg)
        for other in legs:
            if other is not leg:
                interpreter.calls.end(other, "cancel")
        return True

    def ended(leg: SimCall) -> None:
        if outcome.done():
            return
        if (won and won[0] is leg) or (not won and all(other.is_over for other in legs)):
            outcome.set_result(leg)

    for leg in legs:
        leg.on_end.append(ended)
        leg.script = interpreter.calls.spawn(_ring_leg(interpreter, leg, answered), leg)
    try:
        finished = await outcome
    finally:
        # The A-leg hung up or was redirected: its B-legs go too.
        for leg in legs:
            interpreter.calls.hang_up(leg)
    if complete_target is None or call.is_over:
        return None
    return Fetch(complete_target, lambda now: webhook_payloads.transfer_complete(call, now, finished))


def _transfer_leg(calls: Calls, call: SimCall, number: bxml_parser.Verb, caller_id: str, call_timeout: float, base_url: str) -> SimCall:
    leg = calls.new_call(direction="outbound", from_number=caller_id, to_number=number.text, party=calls.callee_for(number.text))
    leg.parent_call_id = call.call_id
    leg.transfer_caller_id = caller_id
    leg.transfer_to = number.text
    leg.call_timeout = call_timeout
    leg.callback_timeout = call.callback_timeout
    leg.tag = number.attributes.get("tag") or None
    leg.answer_target = number.target("transferAnswer", base_url)
    leg.disconnect_target = number.target("transferDisconnect", base_url)
    leg.disconnect_event = "transferDisconnect"
    return leg


async def _ring_leg(interpreter: Interpreter, leg: SimCall, answered: Callable[[SimCall], bool]) -> None:
    if not await interpreter.calls.ring(leg):
        return
    if not answered(leg):
        interpreter.calls.end(leg, "cancel")
        return
    if leg.answer_target is not None:
        fetch = Fetch(leg.answer_target, lambda now: webhook_payloads.transfer_answer(leg, now), forbidden=bxml_parser.NOT_ON_TRANSFER_ANSWER)
        # When the transferAnswer document runs out the leg is bridged, not hung up.
        await interpreter.run(leg, fetch=fetch, when_done=lambda leg: None)


VERBS: dict[str, Perform] = {
    "SpeakSentence": speak_sentence,
    "PlayAudio": play_audio,
    "Pause": pause,
    "Ring": ring,
    "SendDtmf": send_dtmf,
    "Tag": tag,
    "Hangup": hangup,
    "Redirect": redirect,
    "Gather": gather,
    "Record": record,
    "StartRecording": start_recording,
    "StopRecording": stop_recording,
    "PauseRecording": pause_recording,
    "ResumeRecording": resume_recording,
    "StartStream": start_stream,
    "StopStream": stop_stream,
    "Conference": conference,
    "Forward": forward,
    "Transfer": transfer,
}
