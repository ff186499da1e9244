"""The bus that carries committed changes, as ids, from the process that committed them to
every daphne process (console/live.py says why ids and not rendered rows).

With REDIS_URL: a Redis stream. Each process publishes from a thread of its own with a
Redis client of its own (never the database, never a connection anyone else may close: a
Celery worker closes the database pool before and after every task); each daphne process
reads the stream from where it last read, so a burst is never dropped for want of room.
Without REDIS_URL (the embedded default) every committer is in the daphne process, and the
changes are handed to its event loop directly.

A change is a short list: ["call", call_id], ["member", conference_id, call_id], ... A
process that can no longer be sure it read everything (Redis went away, the stream was
trimmed past it) tells its hub, which makes every browser it serves re-read its page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import threading
from collections.abc import Callable

import redis
import redis.asyncio as aioredis
from django.conf import settings

log = logging.getLogger(__name__)

STREAM_KEY = "switchboard:live"
# Entries kept in Redis: minutes of changes at a hundred webhooks a second. A reader that
# falls further behind than this resyncs its browsers.
STREAM_LENGTH = 20_000
# How long a reader's XREAD blocks, and the read timeout of its connection, which must be
# longer (redis-py 8 times out reads after 5 s by default).
READ_BLOCK_MS = 2_000
READ_TIMEOUT = READ_BLOCK_MS / 1000 + 5
# Waiting before reconnecting after Redis went away.
RECONNECT_AFTER = 1.0

Change = tuple[str, ...]


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


class Publisher:
    """Hands this process's committed changes on, off the committer's path: a slow or
    unreachable Redis delays pushes, never a webhook's answer."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[list[Change] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        # The embedded default's receiver: the hub of this process (console/live_hub.py).
        self.local: Callable[[list[Change]], None] | None = None

    def publish(self, changes: list[Change]) -> None:
        if not uses_redis():
            if self.local is not None:
                self.local(changes)
            return
        self.queue.put(changes)
        self._ensure_running()

    def _ensure_running(self) -> None:
        # Per process: a forked Celery worker child does not inherit its parent's thread.
        if self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid() or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="live-publish", daemon=True)
                self._thread.start()
                self._pid = os.getpid()

    def _run(self) -> None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
        while (first := self.queue.get()) is not None:
            batch, stopping = [first], False
            while True:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            try:
                with client.pipeline(transaction=False) as pipe:
                    for changes in batch:
                        pipe.xadd(STREAM_KEY, {"c": json.dumps(changes)}, maxlen=STREAM_LENGTH, approximate=True)
                    pipe.execute()
            except Exception:
                # Redis refused or went away: the readers lost their connection too (one
                # Redis), and have their browsers re-read.
                log.exception("could not publish %d live changes", len(batch))
            if stopping:
                break
        client.close()

    def stop(self) -> None:
        """Publish what is queued, then end the thread (tests)."""
        if self._thread is not None and self._thread.is_alive():
            self.queue.put(None)
            self._thread.join(timeout=10)
        self._thread = self._pid = None


publisher = Publisher()


async def read_stream(receive: Callable[[list[Change], float], None], lost: Callable[[], None]) -> None:
    """Reads the Redis stream for ever: `receive` gets each published list of changes, in
    order, with when it was published (the entry's id, in Redis's clock: one clock for every
    process); `lost` is called when some may have been missed (after a reconnect)."""
    last_id = None
    while True:
        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=READ_TIMEOUT, socket_connect_timeout=2)
        try:
            if last_id is None:
                last_id = (await client.xinfo_stream(STREAM_KEY))["last-generated-id"] if await client.exists(STREAM_KEY) else "0-0"
            else:
                # Reconnected: what was published meanwhile may be gone (trimmed, or Redis
                # restarted empty). Read on from where we were, and have every page re-read.
                lost()
            while True:
                answer = await client.xread({STREAM_KEY: last_id}, block=READ_BLOCK_MS, count=500)
                for _, entries in answer:
                    for entry_id, fields in entries:
                        last_id = entry_id
                        try:
                            published_at = int(entry_id.split(b"-")[0]) / 1000
                            receive([tuple(change) for change in json.loads(fields[b"c"])], published_at)
                        except Exception:
                            # One bad entry must not stop the reading: its pages re-read.
                            log.exception("live stream: entry %s not handled", entry_id)
                            lost()
        except Exception:
            # Redis went away (or answered what this reader cannot read): read again, and
            # have every page re-read what it may have missed meanwhile.
            log.warning("live stream: reading failed, reconnecting", exc_info=True)
            await asyncio.sleep(RECONNECT_AFTER)
        finally:
            await client.aclose()

