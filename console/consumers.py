"""The one websocket consumer: server to browser only. It joins its process's live hub with
the feed its stream and query name (if the user may follow it), and sends what the hub
hands it, numbered: a browser that sees a number skipped re-reads its page's live regions."""

from __future__ import annotations

from importlib import import_module
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare

from console import live
from console.live_hub import hub
from console.metrics import OPEN_WEBSOCKETS

# Closed because the session ended or no longer allows the stream: the page asks the server
# (HEAD) whether it is still signed in, and reloads to the login page if not.
CLOSE_SIGNED_OUT = 4401


class LiveConsumer(AsyncWebsocketConsumer):
    group: str | None = None
    session_key: str | None = None
    accepted = False

    async def connect(self) -> None:
        self.sequence = 0
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        stream = self.scope["url_route"]["kwargs"]["stream"]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        feed = await database_sync_to_async(live.feed_for)(stream, query, user)
        if feed is None:
            await self.close()
            return
        self.stream, self.query, self.user_id = stream, query, user.pk
        session: SessionBase | None = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        self.session_hash = user.get_session_auth_hash()
        # Joined before accepted: a feed that reads its window knows it before the browser
        # knows it is connected (and re-reads its page).
        self.accepted = False
        await hub.join(feed, self)
        self.group = feed.name
        await self.accept()
        self.accepted = True
        OPEN_WEBSOCKETS.inc()

    async def disconnect(self, code: int) -> None:
        if self.accepted:
            self.accepted = False
            OPEN_WEBSOCKETS.dec()
        if self.group is not None:
            hub.leave(self.group, self)
            self.group = None

    # What the hub calls

    async def push(self, body: str) -> None:
        if not self.accepted:
            return  # the page re-reads once open: this is in what it reads
        self.sequence += 1
        await self.send(text_data=f"<!--seq {self.sequence}-->{body}")

    async def skip(self) -> None:
        """Tells the browser it missed something: a number skipped, nothing else."""
        if not self.accepted:
            return
        self.sequence += 2
        await self.send(text_data=f"<!--seq {self.sequence}-->")

    async def end(self) -> None:
        if self.group is not None:
            hub.leave(self.group, self)
            self.group = None
        await self.close(code=CLOSE_SIGNED_OUT)

    def still_allowed(self) -> bool:
        """Whether the session still exists and holds this user, the user is still active,
        its password unchanged, and it may still follow this stream (database reads: the
        hub's render thread calls it)."""
        if self.session_key is None:
            return False
        store = import_module(settings.SESSION_ENGINE).SessionStore(self.session_key)
        if str(store.get(SESSION_KEY)) != str(self.user_id):
            return False
        user = get_user_model().objects.filter(pk=self.user_id, is_active=True).first()
        if user is None or not constant_time_compare(user.get_session_auth_hash(), self.session_hash):
            return False
        return live.feed_for(self.stream, self.query, user) is not None
