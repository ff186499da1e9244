"""A daphne process's live hub: the groups its websockets watch, each fed the changes that
concern it, throttled, rendered once per group and sent to each of its sockets with the
socket's next sequence number (console/live.py has the design and the why).

Everything here runs in the process's event loop except the feeds' database reads and
rendering, which run in one thread of the hub's own ("live-render"): no other code uses or
closes its connection, and it never competes with the consumers' handshakes for Channels'
single database thread.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from django.conf import settings
from django.db import close_old_connections

from console import live_activity, live_bus
from console.live_frames import Feed
from console.metrics import PUSH_SECONDS

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    """A websocket on a live group (console/consumers.py)."""

    session_key: str | None

    async def push(self, body: str) -> None: ...

    async def skip(self) -> None: ...

    def still_allowed(self) -> bool: ...

    async def end(self) -> None: ...


class Group:
    def __init__(self, feed: Feed, loop: asyncio.AbstractEventLoop) -> None:
        self.feed = feed
        self.subscribers: set[Subscriber] = set()
        self.pending: set[tuple[str, ...]] = set()
        # When the oldest pending change was published (time.time()): the push's lag.
        self.pending_since: float | None = None
        self.last_sent = -math.inf
        self.timer: asyncio.TimerHandle | None = None
        self.flushing = False
        # Set once the feed has read what it must know before its first frame.
        self.ready = loop.create_future()


class Hub:
    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.reader: asyncio.Task | None = None
        self.checker: asyncio.Task | None = None
        self.executor: ThreadPoolExecutor | None = None

    # Subscribing

    async def join(self, feed: Feed, subscriber: Subscriber) -> None:
        self._start()
        group = self.groups.get(feed.name)
        if group is None:
            group = self.groups[feed.name] = Group(feed, self.loop)
            try:
                await self.run(feed.prime)
            except Exception:
                log.exception("live group %s could not start", feed.name)
            group.ready.set_result(None)
        await group.ready
        group.subscribers.add(subscriber)

    def leave(self, name: str, subscriber: Subscriber) -> None:
        group = self.groups.get(name)
        if group is None:
            return
        group.subscribers.discard(subscriber)
        if not group.subscribers and group.ready.done():
            # No one watches: no more work for it, in this process.
            if group.timer is not None:
                group.timer.cancel()
            del self.groups[name]

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is loop and self.executor is not None:
            return
        self.loop = loop
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-render")
        if live_bus.uses_redis():
            self.reader = loop.create_task(live_bus.read_stream(self.receive, self.lost))
        else:
            live_bus.publisher.local = self.receive_threadsafe
        self.checker = loop.create_task(self._check_sessions_regularly())

    def stop(self) -> None:
        """Ends the hub's tasks and thread, forgetting its groups (tests)."""
        for task in (self.reader, self.checker):
            if task is not None and not task.get_loop().is_closed():
                task.get_loop().call_soon_threadsafe(task.cancel)
        if live_bus.publisher.local == self.receive_threadsafe:
            live_bus.publisher.local = None
        if self.executor is not None:
            self.executor.submit(close_old_connections)
            self.executor.shutdown(wait=True)
        self.__init__()

    async def run(self, function, *args):
        """Runs a feed's database work in the render thread."""
        return await self.loop.run_in_executor(self.executor, _with_fresh_connection, function, *args)

    # Changes in

    def receive_threadsafe(self, changes: list[tuple[str, ...]]) -> None:
        """From a committing thread of this process (the embedded default)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.receive, changes, time.time())

    def receive(self, changes: list[tuple[str, ...]], published_at: float | None = None) -> None:
        for change in changes:
            if change[0] == "session-ended":
                self._end_session(change[1])
            elif change[0] == "operators-changed":
                self.loop.create_task(self.check_sessions())
            elif change[0] == "activity":
                # Published by this process or another: kept for the pages this one renders.
                live_activity.record(change)
        for group in list(self.groups.values()):
            concerned = {change for change in changes if group.feed.concerns(change)}
            if concerned:
                group.pending |= concerned
                if group.pending_since is None:
                    group.pending_since = published_at or time.time()
                self._schedule(group)

    def lost(self) -> None:
        """Some changes may never have reached this process: every page it serves re-reads."""
        for group in self.groups.values():
            for subscriber in list(group.subscribers):
                self.loop.create_task(subscriber.skip())

    # Throttled, rendered once, sent to each

    def _schedule(self, group: Group) -> None:
        """A leading-edge throttle: a change is sent at once if nothing was sent in the last
        interval; otherwise it waits, with every change after it, for the interval's end."""
        if group.flushing or group.timer is not None:
            return
        wait = group.last_sent + settings.LIVE_PUSH_INTERVAL - self.loop.time()
        if wait <= 0:
            group.flushing = True
            self.loop.create_task(self._flush(group))
        else:
            group.timer = self.loop.call_later(wait, self._timer_fired, group)

    def _timer_fired(self, group: Group) -> None:
        group.timer = None
        group.flushing = True
        self.loop.create_task(self._flush(group))

    async def _flush(self, group: Group) -> None:
        try:
            await group.ready
            group.last_sent = self.loop.time()
            changes, group.pending = group.pending, set()
            since, group.pending_since = group.pending_since, None
            try:
                messages = await self.run(group.feed.render, changes)
            except Exception:
                # Those changes are not on the pages: they re-read rather than stay wrong.
                log.exception("live frame for %s failed", group.feed.name)
                for subscriber in list(group.subscribers):
                    await subscriber.skip()
                return
            for message in messages:
                for subscriber in list(group.subscribers):
                    try:
                        await subscriber.push(message)
                    except Exception:
                        # A socket closing as it is sent to: the others still get the frame.
                        log.warning("live frame not sent to a socket of %s", group.feed.name, exc_info=True)
            if messages and since is not None:
                PUSH_SECONDS.observe(max(0.0, time.time() - since))
        finally:
            group.flushing = False
            if group.pending and self.groups.get(group.feed.name) is group:
                self._schedule(group)

    # Sessions

    def subscribers(self) -> set[Subscriber]:
        return {subscriber for group in self.groups.values() for subscriber in group.subscribers}

    def _end_session(self, session_key: str) -> None:
        for subscriber in self.subscribers():
            if subscriber.session_key == session_key:
                self.loop.create_task(subscriber.end())

    async def check_sessions(self) -> None:
        """Closes the sockets whose session expired, or whose user was deactivated or lost
        the permission its stream needs."""
        for subscriber in self.subscribers():
            try:
                allowed = await self.run(subscriber.still_allowed)
            except Exception:
                log.exception("could not check a live socket's session")
                continue
            if not allowed:
                await subscriber.end()

    async def _check_sessions_regularly(self) -> None:
        while True:
            await asyncio.sleep(settings.LIVE_SESSION_CHECK_INTERVAL)
            await self.check_sessions()


def _with_fresh_connection(function, *args):
    # This thread lives as long as the process: a broken connection (the database
    # restarted) is replaced here, as a request's end would replace it.
    close_old_connections()
    return function(*args)


hub = Hub()
