"""The call routes, served from each process's memory: every call's first webhook needs
them, and they change only when an admin edits one.

A process keeps the enabled routes it read and the version of the table they came from: a
counter in Django's cache, shared by every process where the cache is Redis. Saving or
deleting a route moves the counter on and empties this process's copy at once; another
process sees the new counter within CHECK_EVERY. A cache that does not answer (Redis
down) means reading the routes from the database every time, and a copy is read again
after RELOAD_AFTER whatever the counter says (a change whose counter could not be moved
on), so that routes are never stale for long.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from voice.models import Route

log = logging.getLogger(__name__)

VERSION_KEY = "voice.route_table.version"
CHECK_EVERY = 1.0
RELOAD_AFTER = 60.0


class RouteTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: list[Route] | None = None
        self._version: int | None = None
        self._checked = self._loaded = 0.0

    def enabled(self) -> list[Route]:
        """The enabled routes."""
        now = time.monotonic()
        routes = self._routes
        if routes is not None and now - self._checked < CHECK_EVERY:
            return routes
        version = _shared_version()
        with self._lock:
            stale = self._routes is None or version is None or version != self._version
            if stale or now - self._loaded >= RELOAD_AFTER:
                self._routes = list(Route.objects.filter(enabled=True))
                self._version, self._loaded = version, now
            self._checked = now
            return self._routes

    def by_pk(self, pk: object) -> Route | None:
        return next((route for route in self.enabled() if route.pk == pk), None)

    def forget(self) -> None:
        """This process reads the routes again at its next lookup (tests; a route saved)."""
        with self._lock:
            self._routes = None


table = RouteTable()


def _shared_version() -> int | None:
    try:
        return cache.get_or_set(VERSION_KEY, 0, timeout=None)
    except Exception:
        log.warning("the route table's version could not be read from the cache; reading routes from the database")
        return None


def _route_saved(sender, **kwargs) -> None:
    table.forget()
    try:
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)
    except Exception:
        log.warning("the route table's version could not be moved on: other processes see the change within %s s", CHECK_EVERY)


post_save.connect(_route_saved, sender=Route, dispatch_uid="voice.route_table")
post_delete.connect(_route_saved, sender=Route, dispatch_uid="voice.route_table.delete")
