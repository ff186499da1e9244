"""<StartStream> and <StopStream>: the sandbox streams a call's audio to a websocket as Bandwidth
does (start, media every 20 ms in real time, stop), with the mediaStream* webhooks."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
import warnings
from array import array
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestServer

from tests.sandbox.conftest import HOOK_AUTH, _auth, response
from voice.sandbox import audio

with warnings.catch_warnings():
    # The standard library's G.711 codec, the reference the sandbox's encoder is checked
    # against (deprecated since 3.11; the sandbox has its own).
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

STREAM_AUTH = ("bandwidth", "stream-secret")


@dataclass
class Destination:
    """A websocket server standing in for the console's media endpoint."""

    url: str = ""
    messages: list[dict] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    auth: list[tuple[str, str] | None] = field(default_factory=list)
    # Refuse handshakes with this HTTP status; close after this many messages, with this code.
    refuse: int = 0
    close_after: int = 0
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.auth.append(_auth(request))
        if self.refuse:
            return web.Response(status=self.refuse)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        async for message in socket:
            self.messages.append(json.loads(message.data))
            self.arrivals.append(time.monotonic())
            if self.close_after and len(self.messages) >= self.close_after:
                await socket.close(code=WSCloseCode.POLICY_VIOLATION, message=b"enough")
        self.closed.set()
        return socket

    def of(self, event_type: str) -> list[dict]:
        return [message for message in self.messages if message["eventType"] == event_type]

    async def wait_for(self, event_type: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.of(event_type)) < count:
            assert time.monotonic() < deadline, f"no {count} x {event_type}: {len(self.messages)} messages"
            await asyncio.sleep(0.01)
        return self.of(event_type)


@pytest_asyncio.fixture
async def destination():
    target = Destination()
    app = web.Application()
    app.router.add_get("/media", target.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    target.url = str(server.make_url("/media")).replace("http://", "ws://")
    yield target
    for socket in target.sockets:
        await socket.close()
    await server.close()


def start_stream(destination: Destination, application, name: str = "talk", params: str = "") -> str:
    return (
        f"<StartStream name='{name}' destination='{destination.url}' destinationUsername='{STREAM_AUTH[0]}'"
        f" destinationPassword='{STREAM_AUTH[1]}' streamEventUrl='{application.at('/streams')}'"
        f" username='{HOOK_AUTH[0]}' password='{HOOK_AUTH[1]}'>{params}</StartStream>"
    )


def decoded(message: dict) -> array:
    return array("h", audioop.ulaw2lin(base64.b64decode(message["payload"]), 2))


def rms(samples: array) -> float:
    return math.sqrt(sum(sample * sample for sample in samples) / len(samples))


@pytest.mark.asyncio
async def test_a_stream_sends_start_then_media_every_20_ms_then_stop_with_its_webhooks(sandbox, application, destination):
    application.reply(
        "initiate",
        response(start_stream(destination, application, params="<StreamParam name='member' value='m-1'/>"), "<Pause duration='3600'/>"),
    )
    call = await sandbox.offer()
    (started,) = await application.wait_for("mediaStreamStarted")
    await destination.wait_for("media", count=50)
    await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "completed"})
    (stopped,) = await application.wait_for("mediaStreamStopped")
    await destination.wait_for("stop")

    start = destination.messages[0]
    assert start["eventType"] == "start"
    assert start["metadata"]["callId"] == call["callId"] and start["metadata"]["streamName"] == "talk"
    assert start["metadata"]["tracks"] == [{"name": "inbound", "mediaFormat": {"encoding": "audio/PCMU", "sampleRate": 8000}}]
    assert start["streamParams"] == {"member": "m-1"}
    assert destination.auth == [STREAM_AUTH]
    media = destination.of("media")
    assert {message["track"] for message in media} == {"inbound"}
    assert {len(base64.b64decode(message["payload"])) for message in media} == {160}
    # Real time: 50 frames take about a second, whatever the sandbox's speed (40 here).
    first, fiftieth = destination.arrivals[1], destination.arrivals[50]
    assert 0.8 < fiftieth - first < 1.5
    assert destination.messages[-1]["eventType"] == "stop"
    assert started.path == "/streams" and started.auth == HOOK_AUTH
    assert started.payload["mediaStream"]["id"].startswith("s-") and started.payload["mediaStream"]["type"] == "WebSocket"
    assert stopped.payload["cause"] == "closed" and stopped.payload["mediaStream"]["duration"].startswith("PT")


@pytest.mark.asyncio
async def test_the_stream_carries_what_the_caller_says_and_a_noisy_line_between_their_words(sandbox, application, destination):
    application.reply("initiate", response(start_stream(destination, application), "<Pause duration='3600'/>"))
    await sandbox.offer(noisyLine=True, utterance="Hello everyone, this is Dana with a question")
    await application.wait_for("mediaStreamStarted")
    # The first sentence starts one second into the stream and lasts about three.
    await destination.wait_for("media", count=150, timeout=8)
    _, streams, _ = await sandbox.request("GET", "/sandbox/streams")

    (stream,) = streams
    assert stream["noisyLine"] and len(stream["speechOnsets"]) == 1
    levels = [rms(decoded(message)) for message in destination.of("media")]
    before_speech, speech = levels[:45], levels[55:100]
    assert min(before_speech) > 300, "a noisy line has noise between words"
    assert sum(speech) / len(speech) > 2 * sum(before_speech) / len(before_speech)


@pytest.mark.asyncio
async def test_a_clean_line_is_quiet_between_words(sandbox, application, destination):
    application.reply("initiate", response(start_stream(destination, application), "<Pause duration='3600'/>"))
    await sandbox.offer(noisyLine=False)
    await destination.wait_for("media", count=40)

    assert max(rms(decoded(message)) for message in destination.of("media")[:40]) < 150


@pytest.mark.asyncio
async def test_stop_stream_stops_the_named_stream_and_the_call_goes_on(sandbox, application, destination):
    application.reply(
        "initiate", response(start_stream(destination, application), "<Pause duration='20'/>", "<StopStream name='talk'/>", "<Pause duration='3600'/>")
    )
    call = await sandbox.offer()
    (stopped,) = await application.wait_for("mediaStreamStopped")

    assert stopped.payload["cause"] == "closed"
    assert destination.messages[-1]["eventType"] == "stop"
    assert (await sandbox.call(call["callId"]))["state"] == "answered"


@pytest.mark.asyncio
async def test_a_destination_that_refuses_the_handshake_rejects_the_stream_and_the_call_goes_on(sandbox, application, destination):
    destination.refuse = 401
    application.reply("initiate", response(start_stream(destination, application), "<SpeakSentence>Still here.</SpeakSentence>"))
    call = await sandbox.offer()
    (rejected,) = await application.wait_for("mediaStreamRejected")
    await application.wait_for("disconnect")

    assert rejected.payload["cause"] == "connection-error"
    assert (await sandbox.call(call["callId"]))["disconnectCause"] == "hangup"
    assert application.types().count("mediaStreamStarted") == 0


@pytest.mark.asyncio
async def test_a_second_stream_of_the_same_name_is_rejected_as_a_duplicate(sandbox, application, destination):
    application.reply(
        "initiate", response(start_stream(destination, application), start_stream(destination, application), "<Pause duration='3600'/>")
    )
    await sandbox.offer()
    (rejected,) = await application.wait_for("mediaStreamRejected")

    assert rejected.payload["cause"] == "duplicate"
    assert rejected.payload["originalMediaStream"]["name"] == "talk"


@pytest.mark.asyncio
async def test_a_destination_that_closes_the_socket_stops_the_stream_with_a_connection_error(sandbox, application, destination):
    destination.close_after = 10
    application.reply("initiate", response(start_stream(destination, application), "<Pause duration='3600'/>"))
    await sandbox.offer()
    (stopped,) = await application.wait_for("mediaStreamStopped")

    assert stopped.payload["cause"] == "connection-error"
    assert "1008" in stopped.payload["errorMessage"]


def test_the_pcmu_encoder_is_g711_as_the_standard_library_encodes_it():
    samples = array("h", range(-32768, 32768, 7))

    assert audio.to_ulaw(samples) == audioop.lin2ulaw(samples.tobytes(), 2)


@pytest.mark.asyncio
async def test_the_inspection_api_stops_a_stream_as_a_failure_on_bandwidths_side(sandbox, application, destination):
    application.reply("initiate", response(start_stream(destination, application), "<Pause duration='3600'/>"))
    call = await sandbox.offer()
    await application.wait_for("mediaStreamStarted")
    _, (stream,), _ = await sandbox.request("GET", "/sandbox/streams")

    status, _, _ = await sandbox.request("POST", f"/sandbox/streams/{stream['id']}/stop")
    (stopped,) = await application.wait_for("mediaStreamStopped")

    assert status == 200 and stopped.payload["cause"] == "error"
    await destination.wait_for("stop")
    assert (await sandbox.call(call["callId"]))["state"] == "answered"
