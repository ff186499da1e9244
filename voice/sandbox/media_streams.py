"""Media streams: <StartStream> sends a call's audio to a websocket, as Bandwidth does.

The sandbox opens a websocket to the verb's destination (with destinationUsername and
destinationPassword as HTTP Basic on the handshake), sends a `start` message, then a `media`
message every 20 ms in real time (base64 PCMU at 8 kHz: what the caller says, audio.LiveVoice,
the same speech as in the call's recordings), and a `stop` message when <StopStream> names
the stream or the call ends. The stream's life goes to streamEventUrl: mediaStreamStarted once
the destination accepted the handshake, mediaStreamRejected if it did not (or the name is taken
on the call, or the call would stream more than four tracks), mediaStreamStopped when it ends,
with cause closed (StopStream, hang-up) or connection-error (the destination closed it).

Real time, whatever the sandbox's speed: a stream carries audio, and audio plays at one speed.
One pacing task sends every stream's frames, so 60 streams cost one wake-up every 20 ms.
https://dev.bandwidth.com/docs/voice/bxml/startStream (websocket messages: "Websocket Packet
Format"), https://dev.bandwidth.com/docs/voice/bxml/stopStream, and the mediaStream* webhooks.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from voice.sandbox import audio, bxml_parser, ids, webhook_payloads
from voice.sandbox.clock import Clock
from voice.sandbox.config import SandboxConfig
from voice.sandbox.formats import iso, iso_duration
from voice.sandbox.resources import SimCall
from voice.sandbox.scheduler import Scheduler
from voice.sandbox.webhook_sender import Target, WebhookSender, basic_authorization

log = logging.getLogger("sandbox.streams")

# Bandwidth: at most 4 concurrent tracks streamed per call ("both" counts as 2), and 12
# <StreamParam> per <StartStream>, names up to 256 characters, values up to 2048.
MAX_TRACKS_PER_CALL = 4
MAX_STREAM_PARAMS = 12
TRACKS = {"inbound": ["inbound"], "outbound": ["outbound"], "both": ["inbound", "outbound"]}
FRAME_SECONDS = 0.02
# How long the handshake with the destination may take before the stream is rejected.
CONNECT_TIMEOUT = 5.0
# A stream that fell behind (a busy loop) catches up this many frames at a time at most.
CATCH_UP_FRAMES = 10


@dataclass
class SimStream:
    stream_id: str
    name: str
    call: SimCall
    destination: str
    tracks: list[str]
    target: Target | None
    params: dict[str, str]
    username: str = ""
    password: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    # started (sending), rejected, stopped
    state: str = "connecting"
    cause: str = ""
    error_message: str = ""
    frames_sent: int = 0
    # When (epoch seconds) each frame that starts one of the caller's sentences was sent.
    speech_onsets: list[float] = field(default_factory=list)
    socket: aiohttp.ClientWebSocketResponse | None = field(default=None, repr=False)
    voices: dict[str, audio.LiveVoice] = field(default_factory=dict, repr=False)
    started_at: float = 0.0
    reader: asyncio.Task | None = field(default=None, repr=False)

    def description(self, *, with_duration: bool = False) -> dict[str, Any]:
        """The webhooks' mediaStream object."""
        described: dict[str, Any] = {
            "id": self.stream_id,
            "name": self.name,
            "destination": self.destination,
            "startTime": iso(self.start_time),
            "tracks": list(self.tracks),
            "type": "WebSocket",
        }
        if with_duration and self.start_time is not None and self.end_time is not None:
            described["duration"] = iso_duration((self.end_time - self.start_time).total_seconds())
        return described

    def metadata(self) -> dict[str, Any]:
        """The start and stop messages' metadata."""
        return {
            "accountId": self.call.account_id,
            "callId": self.call.call_id,
            "streamId": self.stream_id,
            "streamName": self.name,
            "tracks": [{"name": track, "mediaFormat": {"encoding": "audio/PCMU", "sampleRate": audio.SAMPLE_RATE}} for track in self.tracks],
        }

    def inspection(self) -> dict[str, Any]:
        return {
            "id": self.stream_id,
            "name": self.name,
            "callId": self.call.call_id,
            "destination": self.destination,
            "tracks": list(self.tracks),
            "state": self.state,
            "cause": self.cause,
            "errorMessage": self.error_message,
            "framesSent": self.frames_sent,
            "speechOnsets": list(self.speech_onsets),
            "noisyLine": self.call.party.noisy_line,
        }


def _voices(stream: SimStream) -> dict[str, audio.LiveVoice]:
    """Each track's sound. The outbound track (what the call hears) is the line's noise alone:
    the sandbox does not mix a conference's audio."""
    voices = {}
    for track in stream.tracks:
        sentences = stream.call.party.sentences if track == "inbound" else []
        seed = ids.seed_of(stream.stream_id) + (0 if track == "inbound" else 1)
        voices[track] = audio.LiveVoice(stream.call.speaker, sentences, seed, noisy=stream.call.party.noisy_line)
        voices[track].prepare()
    return voices


class MediaStreams:
    """Every stream the sandbox opened, by id, and the ones sending."""

    def __init__(self, config: SandboxConfig, clock: Clock, sender: WebhookSender, rng: random.Random, scheduler: Scheduler) -> None:
        self.config = config
        self.clock = clock
        self.sender = sender
        self.rng = rng
        self.scheduler = scheduler
        self.by_id: dict[str, SimStream] = {}
        self.sending: list[SimStream] = []
        self._pacer: asyncio.Task | None = None

    async def start(self, call: SimCall, verb: bxml_parser.Verb, base_url: str) -> None:
        """<StartStream>: non-blocking for the call's BXML once the handshake is done (or failed)."""
        destination = verb.attributes.get("destination", "").strip()
        if urlsplit(destination).scheme not in ("ws", "wss") or not urlsplit(destination).netloc:
            raise bxml_parser.InvalidBxml(f"<StartStream destination> must be a ws or wss URL, not {destination!r}")
        tracks = TRACKS.get(verb.attributes.get("tracks", "inbound"))
        if tracks is None:
            raise bxml_parser.InvalidBxml("<StartStream tracks> must be inbound, outbound or both")
        params = {}
        for child in verb.children:
            if child.name != "StreamParam":
                raise bxml_parser.InvalidBxml(f"<StartStream> may contain only <StreamParam>, not <{child.name}>")
            name, value = child.attributes.get("name", ""), child.attributes.get("value", "")
            if not name or len(name) > 256 or len(value) > 2048:
                raise bxml_parser.InvalidBxml("a <StreamParam> has a name of 1 to 256 characters and a value of at most 2048")
            params[name] = value
        if len(params) > MAX_STREAM_PARAMS:
            raise bxml_parser.InvalidBxml(f"<StartStream> holds at most {MAX_STREAM_PARAMS} <StreamParam>")
        stream_id = ids.stream_id(self.rng)
        stream = SimStream(
            stream_id=stream_id,
            name=verb.attributes.get("name") or stream_id,
            call=call,
            destination=destination,
            tracks=tracks,
            target=verb.target("streamEvent", base_url),
            params=params,
            username=verb.attributes.get("destinationUsername", ""),
            password=verb.attributes.get("destinationPassword", ""),
            start_time=self.clock.now(),
        )
        self.by_id[stream_id] = stream
        running = [other for other in call.streams.values() if other.state == "started"]
        duplicate = next((other for other in running if other.name == stream.name), None)
        if duplicate is not None:
            self._reject(stream, "duplicate", "Duplicate Stream: A stream with the same name already exists for this call", duplicate)
            return
        if sum(len(other.tracks) for other in running) + len(tracks) > MAX_TRACKS_PER_CALL:
            self._reject(stream, "track-limit", f"A call streams at most {MAX_TRACKS_PER_CALL} tracks at once")
            return
        call.streams[stream.name] = stream
        headers = {"Authorization": basic_authorization(stream.username, stream.password)} if stream.username else {}
        try:
            stream.socket = await asyncio.wait_for(self.sender.session.ws_connect(destination, headers=headers), CONNECT_TIMEOUT)
            await stream.socket.send_str(json.dumps({"eventType": "start", "metadata": stream.metadata(), "streamParams": params}))
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
            call.streams.pop(stream.name, None)
            if stream.socket is not None:
                await stream.socket.close()
            self._reject(stream, "connection-error", f"Could not connect to {destination}: {type(error).__name__}: {error}")
            return
        stream.state = "started"
        # BXML goes on at once: the stream's sound is prepared and sent in the background.
        self.scheduler.spawn(self._begin(stream))

    async def _begin(self, stream: SimStream) -> None:
        # The voices are made and their words rendered in a thread: milliseconds each, which
        # the pacing loop of every other stream cannot spare.
        stream.voices = await asyncio.to_thread(_voices, stream)
        if stream.state != "started":
            return
        stream.started_at = time.monotonic()
        if stream.call.is_over:
            await self._close(stream, "closed")
            return
        stream.reader = self.scheduler.spawn(self._read(stream))
        self.sending.append(stream)
        self._notify(stream, "mediaStreamStarted")
        if self._pacer is None or self._pacer.done():
            self._pacer = self.scheduler.spawn(self._pace())

    def stop(self, call: SimCall, name: str) -> None:
        """<StopStream name>: no effect if the call has no such stream."""
        stream = call.streams.get(name)
        if stream is not None and stream.state == "started":
            self.scheduler.spawn(self._close(stream, "closed"))

    def stop_all(self, call: SimCall) -> None:
        """The call ended: each of its streams stops (cause closed)."""
        for stream in list(call.streams.values()):
            if stream.state == "started" and stream in self.sending:
                self.scheduler.spawn(self._close(stream, "closed"))

    async def fail(self, stream: SimStream, message: str) -> None:
        """The stream ends on Bandwidth's side while the call goes on (cause error)."""
        await self._close(stream, "error", message)

    def _reject(self, stream: SimStream, cause: str, message: str, original: SimStream | None = None) -> None:
        stream.state, stream.cause, stream.error_message = "rejected", cause, message
        extra: dict[str, Any] = {"cause": cause, "errorMessage": message}
        if original is not None:
            extra["originalMediaStream"] = original.description()
        self._notify(stream, "mediaStreamRejected", **extra)

    async def _close(self, stream: SimStream, cause: str, message: str = "") -> None:
        """Stop sending: a stop message (if the socket is still open), the socket closed, and
        mediaStreamStopped."""
        if stream.state != "started":
            return
        stream.state, stream.cause, stream.error_message = "stopped", cause, message
        stream.end_time = self.clock.now()
        if stream in self.sending:
            self.sending.remove(stream)
        stream.call.streams.pop(stream.name, None)
        socket = stream.socket
        if socket is not None and not socket.closed:
            try:
                await socket.send_str(json.dumps({"eventType": "stop", "metadata": stream.metadata()}))
                await socket.close()
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as error:
                log.info("stream %s: closing: %s", stream.stream_id, error)
        if stream.reader is not None and stream.reader is not asyncio.current_task():
            stream.reader.cancel()
        extra = {"cause": cause, **({"errorMessage": message} if message else {})}
        self._notify(stream, "mediaStreamStopped", with_duration=True, **extra)

    async def _read(self, stream: SimStream) -> None:
        """A unidirectional stream reads nothing; what it waits for is the destination closing."""
        socket = stream.socket
        while True:
            message = await socket.receive()
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
        if stream.state == "started":
            reason = f" {message.extra}" if message.type == aiohttp.WSMsgType.CLOSE and message.extra else ""
            await self._close(stream, "connection-error", f"The destination closed the websocket: {socket.close_code}{reason}")

    async def _lost(self, stream: SimStream, error: Exception) -> None:
        """Sending failed: the reader says why if the destination closed the socket (its close
        frame may still be on its way); otherwise the failure is the reason."""
        if stream.reader is not None:
            await asyncio.wait([stream.reader], timeout=1.0)
        await self._close(stream, "connection-error", f"Sending to the destination failed: {type(error).__name__}")

    async def _pace(self) -> None:
        """Every 20 ms, each stream's frames due by now (real time)."""
        loop = asyncio.get_running_loop()
        tick = loop.time()
        while self.sending:
            now = time.monotonic()
            for stream in list(self.sending):
                due = int((now - stream.started_at) / FRAME_SECONDS) + 1 - stream.frames_sent
                for _ in range(min(due, CATCH_UP_FRAMES)):
                    await self._send_frame(stream)
                    if stream not in self.sending:
                        break
            tick += FRAME_SECONDS
            await asyncio.sleep(max(0.0, tick - loop.time()))

    async def _send_frame(self, stream: SimStream) -> None:
        starts_speech = False
        messages = []
        for track in stream.tracks:
            payload, starts = stream.voices[track].next_frame()
            starts_speech = starts_speech or (starts and track == "inbound")
            messages.append(json.dumps({"eventType": "media", "track": track, "payload": base64.b64encode(payload).decode()}))
        try:
            for message in messages:
                await stream.socket.send_str(message)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as error:
            if stream in self.sending:
                self.sending.remove(stream)
                self.scheduler.spawn(self._lost(stream, error))
            return
        stream.frames_sent += 1
        if starts_speech:
            stream.speech_onsets.append(time.time())

    def _notify(self, stream: SimStream, event_type: str, *, with_duration: bool = False, **extra: Any) -> None:
        if stream.target is None:
            return
        payload = webhook_payloads.media_stream(
            event_type, stream.call, self.clock.now(), stream.description(with_duration=with_duration), **extra
        )
        self.scheduler.spawn(self.sender.notify(stream.target, payload, timeout=stream.call.callback_timeout))

    async def shutdown(self) -> None:
        for stream in list(self.sending):
            await self._close(stream, "closed")
