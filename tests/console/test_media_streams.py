"""The media endpoint Bandwidth streams members' audio to: authenticated per call, bounded per
stream and per process, and what it hears pushed to the conference's page as it changes."""

from __future__ import annotations

import base64
import json
import warnings

import pytest
from channels.testing import WebsocketCommunicator

from console import live, live_activity, media_audio, media_consumer
from console.routing import websocket_application
from tests.support.bandwidth import payload
from tests.voice.conftest import deliver
from voice import stream_credentials
from voice.models import Call, ConferenceMember, StreamState
from voice.sandbox import audio

with warnings.catch_warnings():
    # The standard library's G.711 codec: the reference the console's decoder is checked against.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
OTHER = "c-2a913f94-7fa1-4a37-9b0e-4b8f7f2e8d11"


def basic(username: str, password: str) -> tuple[bytes, bytes]:
    return b"authorization", b"Basic " + base64.b64encode(f"{username}:{password}".encode())


def start(call_id: str = CALL) -> str:
    tracks = [{"name": "inbound", "mediaFormat": {"encoding": "audio/PCMU", "sampleRate": 8000}}]
    return json.dumps({"eventType": "start", "metadata": {"accountId": "9900000", "callId": call_id, "streamId": "s-1", "streamName": "talking", "tracks": tracks}})


def media(frame: bytes) -> str:
    return json.dumps({"eventType": "media", "track": "inbound", "payload": base64.b64encode(frame).decode()})


async def connected(call_id: str = CALL, password: str | None = None) -> WebsocketCommunicator:
    password = stream_credentials.password_for(call_id) if password is None else password
    communicator = WebsocketCommunicator(websocket_application, "/ws/media/", headers=[basic(call_id, password)])
    opened, _ = await communicator.connect()
    assert opened
    return communicator


async def closed_with(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close", output
    return output.get("code", 1000)


def activity_of(call_id: str) -> list[tuple[str, ...]]:
    return [change for change in live._held if change[0] == "activity" and change[1] == call_id]


@pytest.fixture(autouse=True)
def _no_streams_left():
    yield
    media_consumer.OPEN.clear()
    live_activity.forget()


@pytest.mark.asyncio
@pytest.mark.parametrize("password", ["", "not-the-password", stream_credentials.password_for(OTHER)])
async def test_wrong_credentials_are_refused_at_the_handshake(password):
    communicator = WebsocketCommunicator(websocket_application, "/ws/media/", headers=[basic(CALL, password)])
    opened, _ = await communicator.connect()
    assert not opened


@pytest.mark.asyncio
async def test_a_stream_without_credentials_is_refused():
    communicator = WebsocketCommunicator(websocket_application, "/ws/media/")
    opened, _ = await communicator.connect()
    assert not opened


@pytest.mark.asyncio
async def test_what_the_member_says_is_pushed_as_it_changes_and_the_stop_makes_it_unknown(settings):
    # Four seconds of audio sent at once, faster than Bandwidth would.
    settings.MEDIA_MESSAGES_PER_SECOND_MAX = settings.MEDIA_MESSAGES_BURST = 1000
    voice = audio.LiveVoice(audio.Speaker.seeded(1), ["Good morning everyone, the numbers are in"], seed=3)
    communicator = await connected()
    await communicator.send_to(text_data=start())
    # One second of line noise, then the sentence (about two seconds), then a pause.
    for _ in range(200):
        frame, _ = voice.next_frame()
        await communicator.send_to(text_data=media(frame))
    await communicator.send_to(text_data=json.dumps({"eventType": "stop", "metadata": {"callId": CALL}}))
    assert await closed_with(communicator) == 1000

    states = [change[2] for change in activity_of(CALL)]
    assert states[0] == "silent" and "speaking" in states and states[-1] == "ended"
    assert states.index("speaking") > 0
    assert len(states) < 40, "only changes are pushed, not every frame"
    assert live_activity.of(CALL).state == "ended"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "message, code",
    [
        ("not json", 4007),
        (json.dumps(["a", "list"]), 4007),
        (json.dumps({"eventType": "dance"}), 4007),
        (json.dumps({"eventType": "media", "track": "inbound", "payload": "!!!not base64"}), 4007),
        (media(bytes(801)), 4007),
        (json.dumps({"eventType": "media", "track": "inbound", "payload": "A" * 9000}), 4009),
        (start(OTHER), 4008),
    ],
)
async def test_a_malformed_or_oversized_message_closes_its_stream_and_no_other(message, code):
    bad = await connected()
    good = await connected(OTHER)
    await good.send_to(text_data=start(OTHER))
    if '"eventType": "media"' in message:
        await bad.send_to(text_data=start())

    await bad.send_to(text_data=message)

    assert await closed_with(bad) == code
    await good.send_to(text_data=media(bytes([0xFF]) * 160))
    assert await good.receive_nothing(timeout=0.2)
    assert list(media_consumer.OPEN) == [OTHER]
    await good.disconnect()


@pytest.mark.asyncio
async def test_a_binary_message_closes_the_stream():
    communicator = await connected()
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await closed_with(communicator) == 4003


@pytest.mark.asyncio
async def test_media_before_start_closes_the_stream():
    communicator = await connected()
    await communicator.send_to(text_data=media(bytes(160)))
    assert await closed_with(communicator) == 4007


@pytest.mark.asyncio
async def test_a_stream_that_sends_too_many_messages_a_second_is_closed(settings):
    settings.MEDIA_MESSAGES_PER_SECOND_MAX, settings.MEDIA_MESSAGES_BURST = 20, 30
    communicator = await connected()
    await communicator.send_to(text_data=start())
    for _ in range(40):
        await communicator.send_to(text_data=media(bytes([0xFF]) * 160))
    assert await closed_with(communicator) == 4008


@pytest.mark.asyncio
async def test_streams_beyond_the_limit_are_refused_and_the_others_go_on(settings):
    settings.MEDIA_STREAMS_MAX = 2
    first, second = await connected(CALL), await connected(OTHER)
    third = await connected("c-third-call")
    assert await closed_with(third) == 4013
    again = await connected(CALL)
    assert await closed_with(again) == 4013, "one stream per call"
    for communicator, call_id in ((first, CALL), (second, OTHER)):
        await communicator.send_to(text_data=start(call_id))
        await communicator.send_to(text_data=media(bytes([0xFF]) * 160))
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
    assert media_consumer.OPEN == {}


def test_the_pcmu_decoder_is_g711_as_the_standard_library_decodes_it():
    every_byte = bytes(range(256))
    assert media_audio.to_pcm16(every_byte) == audioop.ulaw2lin(every_byte, 2)


@pytest.mark.django_db
def test_the_stream_webhooks_say_when_a_members_activity_is_unknown(pushed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload("conferenceMemberJoin", callId=CALL))
        deliver(payload("mediaStreamStarted", callId=CALL))
    live.drain()
    call = Call.objects.get(call_id=CALL)
    assert call.talking_stream == StreamState.STARTED
    assert "listening…" in [html for group, html in pushed if f'id="talking-{CALL}"' in html][-1]

    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload("mediaStreamStopped", callId=CALL))
        # A late Started (an older eventTime) changes nothing.
        deliver(payload("mediaStreamStarted", callId=CALL, eventTime="2022-06-30T18:55:30.000Z"))
    live.drain()

    call.refresh_from_db()
    assert (call.talking_stream, call.talking_stream_cause) == (StreamState.STOPPED, "closed")
    rows = [html for group, html in pushed if f'id="talking-{CALL}"' in html]
    assert rows and "activity unknown" in rows[-1]
    assert ConferenceMember.objects.filter(call_id=CALL).exists()


@pytest.mark.django_db
def test_a_members_activity_is_pushed_to_its_conference_page_only(pushed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload("conferenceMemberJoin", callId=CALL))
    live.drain()
    pushed.clear()

    live.activity_changed(CALL, "speaking", 4, True)
    live.activity_changed(OTHER, "speaking", 3, False)
    live.drain()

    (frame,) = [html for group, html in pushed if group.startswith("live.conference.")]
    assert f'id="talking-{CALL}"' in frame and 'data-talking="speaking"' in frame and 'value="4"' in frame
    assert f'id="noisy-{CALL}"' in frame and "noisy line" in frame
    assert OTHER not in frame


@pytest.fixture
def pushed(monkeypatch):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, html: sent.append((group, html)))
    return sent
