"""A small table kept in each process's memory and read again when it changes: the call
routes (every call's first webhook needs them) and the console's directory (every number
shown is looked up in it). Both change only when an admin edits them.

A process keeps its copy and the version of the table it came from: a counter in Django's
cache, shared by every process where the cache is Redis. Saving or deleting a row moves
the counter on and empties this process's copy at once; another process sees the new
counter within CHECK_EVERY. A cache that does not answer (Redis down) means reading the
table from the database every time, and a copy is read again after RELOAD_AFTER whatever
the counter says (a change whose counter could not be moved on), so that it is never stale
for long.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import models
from django.db.models.signals import post_delete, post_save

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0
RELOAD_AFTER = 60.0

T = TypeVar("T")


class SharedCopy(Generic[T]):
    def __init__(self, model: type[models.Model], load: Callable[[], T], version_key: str) -> None:
        self._load = load
        self.version_key = version_key
        self._lock = threading.Lock()
        self._copy: T | None = None
        self._version: int | None = None
        self._checked = self._loaded = 0.0
        # How many copies this process has loaded: what was built from one copy is stale
        # once this moves on (console/board.py's kept reads).
        self._generation = 0
        post_save.connect(self._saved, sender=model, weak=False, dispatch_uid=version_key)
        post_delete.connect(self._saved, sender=model, weak=False, dispatch_uid=f"{version_key}.delete")

    def get(self) -> T:
        now = time.monotonic()
        copy = self._copy
        if copy is not None and now - self._checked < CHECK_EVERY:
            return copy
        version = self._shared_version()
        with self._lock:
            stale = self._copy is None or version is None or version != self._version
            if stale or now - self._loaded >= RELOAD_AFTER:
                self._copy = self._load()
                self._version, self._loaded = version, now
                self._generation += 1
            self._checked = now
            return self._copy

    def generation(self) -> int:
        """Which copy get() gives now: a number that moves on with every copy loaded."""
        self.get()
        return self._generation

    def forget(self) -> None:
        """This process reads the table again at its next lookup (tests; a row saved)."""
        with self._lock:
            self._copy = None

    def _shared_version(self) -> int | None:
        try:
            return cache.get_or_set(self.version_key, 0, timeout=None)
        except Exception:
            log.warning("%s could not be read from the cache; reading the table from the database", self.version_key)
            return None

    def _saved(self, sender, **kwargs) -> None:
        self.changed()

    def changed(self) -> None:
        """Every process reads the table again (a signal-less write, such as bulk_create)."""
        self.forget()
        try:
            cache.set(self.version_key, time.time_ns(), timeout=None)
        except Exception:
            log.warning("%s could not be moved on: other processes see the change within %s s", self.version_key, RELOAD_AFTER)
