"""Bandwidth's media streams arrive here: one websocket per conference member whose route shows
who is talking (<StartStream>, voice/flows.py). Each is analysed as it comes (console/talking.py)
and what changes goes to the conference's pages through the live push (console/live.py).

Bandwidth is the client: no session, no cookie. The handshake carries the stream's own
credentials (destinationUsername/destinationPassword as HTTP Basic), which voice derives per
call and checks in constant time (voice/stream_credentials.py); wrong or missing ones are
refused at the handshake (HTTP 403), so nothing is read from an unknown sender.

Bounded, each stream on its own, so that one misbehaving stream never delays or closes the
others: at most MEDIA_STREAMS_MAX streams per process and one per call; messages of at most
MEDIA_MESSAGE_MAX_BYTES; on average at most MEDIA_MESSAGES_PER_SECOND_MAX messages a second
(Bandwidth sends 50), with bursts of up to MEDIA_MESSAGES_BURST (a network hiccup delivers a
second's frames at once: a token bucket, not a window). A stream over a limit, or one that sends
what Bandwidth never sends, is closed with a code that says why (CLOSE_REASONS: the RFC 6455 code
of the same meaning plus 3000, since a server may send only 1000 or 3000 to 4999; daphne does not
send a close frame's reason text, so the code carries it, and the reason is logged). The
messages are documented in docs/media-streams.md.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from console import live, live_activity
from console.talking import Activity, VoiceActivity
from voice import stream_credentials

log = logging.getLogger(__name__)

# Close codes: RFC 6455's (7.4.1) of the same meaning, plus 3000 (the range an application may send).
UNSUPPORTED = 4003  # a binary message: Bandwidth sends JSON text
MALFORMED = 4007  # not JSON, not a message Bandwidth sends, or out of order
POLICY = 4008  # too many messages a second; a callId that is not the one authenticated
TOO_BIG = 4009  # a message over MEDIA_MESSAGE_MAX_BYTES
TRY_AGAIN_LATER = 4013  # this process has MEDIA_STREAMS_MAX streams, or the call has one already
CLOSE_REASONS = {
    UNSUPPORTED: "binary messages are not accepted",
    MALFORMED: "a message that is not one of Bandwidth's",
    POLICY: "a message rate or a call the stream may not have",
    TOO_BIG: "a message larger than allowed",
    TRY_AGAIN_LATER: "too many streams",
}
# 100 ms of PCMU: the longest payload accepted in one media message.
MAX_PAYLOAD_BYTES = 800

# The streams open in this process, by call id.
OPEN: dict[str, MediaStreamConsumer] = {}


def _basic_credentials(scope: dict[str, Any]) -> tuple[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, encoded = value.decode("latin-1").partition(" ")
            if scheme.lower() != "basic":
                return "", ""
            try:
                username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return "", ""
            return username, password
    return "", ""


class MediaStreamConsumer(AsyncWebsocketConsumer):
    # No channel layer: nothing is ever sent to a stream's consumer, and a layer would add a
    # task to await beside every message.
    channel_layer_alias = None
    call_id = ""
    counted = False

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch closes stale database connections before every message (a hop
        to its one database thread, which the browsers' handshakes wait on too): 50 a second
        a stream, for a consumer that never touches the database. Measured: 15 streams took
        a quarter of a core and slowed every page sixfold."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict) -> None:
        """Channels' closes stale database connections here too, in the database thread,
        which an earlier user may have left a connection in: this consumer has none."""
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def connect(self) -> None:
        username, password = _basic_credentials(self.scope)
        if not stream_credentials.valid(username, password):
            log.warning("media stream refused: wrong credentials for %r", username[:64])
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        self.call_id = username
        self.analysis: VoiceActivity | None = None
        self.tokens = float(settings.MEDIA_MESSAGES_BURST)
        self.counted_at = time.monotonic()
        await self.accept()
        if len(OPEN) >= settings.MEDIA_STREAMS_MAX or self.call_id in OPEN:
            await self.refuse(TRY_AGAIN_LATER, "a stream for this call is open" if self.call_id in OPEN else "this process has its maximum of streams")
            return
        OPEN[self.call_id] = self
        self.counted = True

    async def disconnect(self, code: int) -> None:
        if self.counted:
            OPEN.pop(self.call_id, None)
            self.counted = False
            if self.analysis is not None:
                # However it ended, the page no longer knows whether the member talks.
                live.activity_changed(self.call_id, live_activity.ENDED)

    async def refuse(self, code: int, detail: str) -> None:
        log.warning("media stream of %s closed (%d, %s): %s", self.call_id, code, CLOSE_REASONS[code], detail)
        await self.disconnect(code)
        await self.close(code=code, reason=CLOSE_REASONS[code])

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.counted:
            return
        if text_data is None:
            await self.refuse(UNSUPPORTED, "a binary message")
            return
        if len(text_data) > settings.MEDIA_MESSAGE_MAX_BYTES:
            await self.refuse(TOO_BIG, f"{len(text_data)} characters")
            return
        now = time.monotonic()
        self.tokens = min(settings.MEDIA_MESSAGES_BURST, self.tokens + (now - self.counted_at) * settings.MEDIA_MESSAGES_PER_SECOND_MAX)
        self.counted_at = now
        if self.tokens < 1:
            await self.refuse(POLICY, f"more than {settings.MEDIA_MESSAGES_PER_SECOND_MAX} messages a second")
            return
        self.tokens -= 1
        try:
            message = json.loads(text_data)
        except ValueError:
            await self.refuse(MALFORMED, "not JSON")
            return
        event_type = message.get("eventType") if isinstance(message, dict) else None
        if event_type == "media":
            await self.media(message)
        elif event_type == "start":
            await self.start(message)
        elif event_type == "stop":
            await self.disconnect(1000)
            await self.close()
        else:
            await self.refuse(MALFORMED, f"eventType {str(event_type)[:40]!r}")

    async def start(self, message: dict) -> None:
        metadata = message.get("metadata")
        if self.analysis is not None or not isinstance(metadata, dict):
            await self.refuse(MALFORMED, "a second start, or a start without metadata")
            return
        if metadata.get("callId") != self.call_id:
            await self.refuse(POLICY, "the start names another call than the credentials")
            return
        tracks = metadata.get("tracks") if isinstance(metadata.get("tracks"), list) else []
        inbound = [track for track in tracks if isinstance(track, dict) and track.get("name") == "inbound"]
        if not inbound or inbound[0].get("mediaFormat") != {"encoding": "audio/PCMU", "sampleRate": 8000}:
            await self.refuse(MALFORMED, "no inbound track in PCMU at 8 kHz")
            return
        self.analysis = VoiceActivity()

    async def media(self, message: dict) -> None:
        if self.analysis is None:
            await self.refuse(MALFORMED, "media before start")
            return
        payload = message.get("payload")
        if message.get("track") != "inbound":
            return  # the outbound track (what the member hears) says nothing of who talks
        try:
            audio = base64.b64decode(payload, validate=True) if isinstance(payload, str) else None
        except binascii.Error:
            audio = None
        if audio is None or len(audio) > MAX_PAYLOAD_BYTES:
            await self.refuse(MALFORMED, "a payload that is not base64 of at most 100 ms of PCMU")
            return
        activity = self.analysis.feed(audio)
        if activity is not None:
            self.publish(activity)

    def publish(self, activity: Activity) -> None:
        state = live_activity.SPEAKING if activity.speaking else live_activity.SILENT
        live.activity_changed(self.call_id, state, activity.level, activity.noisy)
