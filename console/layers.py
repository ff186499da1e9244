"""The embedded default's channel layer: in-process, and safe to send to from any thread.

Channels' InMemoryChannelLayer keeps asyncio queues that belong to the server's event loop.
The embedded Celery worker sends from its own threads (async_to_sync gives each one a loop
of its own), so such sends are handed to the server's loop instead of touching its queues
from a foreign one.
"""

from __future__ import annotations

import asyncio

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    home_loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel: str) -> dict:
        # Consumers receive on the server's loop: that loop owns the queues.
        self.home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    def _foreign_loop(self) -> asyncio.AbstractEventLoop | None:
        home = self.home_loop
        if home is None or home.is_closed() or asyncio.get_running_loop() is home:
            return None
        return home

    async def send(self, channel: str, message: dict) -> None:
        home = self._foreign_loop()
        if home is None:
            return await super().send(channel, message)
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().send(channel, message), home))

    async def group_send(self, group: str, message: dict) -> None:
        home = self._foreign_loop()
        if home is None:
            return await super().group_send(group, message)
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().group_send(group, message), home))
