"""The one websocket consumer: server to browser only, pre-rendered HTML, no per-message DB work."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from console import live


class LiveConsumer(AsyncWebsocketConsumer):
    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        stream = self.scope["url_route"]["kwargs"]["stream"]
        group = await database_sync_to_async(live.group_for_stream)(stream, user)
        if group is None:
            await self.close()
            return
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_html(self, event: dict) -> None:
        await self.send(text_data=event["html"])
