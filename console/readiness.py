"""/readyz: whether this console can do its work now. Each part is checked with a short
timeout, and named with what failed: the database, Redis (the production profile's channel
layer, broker and cache), a Celery worker answering, beat ticking, and Bandwidth's API
answering with the console's credentials. /healthz (the load balancer's) checks none of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from console.beat import HEARTBEAT_KEY
from console.celery import app
from voice import bandwidth

# Beat ticks at least every few seconds (the action sweep's period); a heartbeat older than
# this means it stopped.
BEAT_LATE_AFTER = 30.0
TIMEOUT = 1.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "answers"


def redis_server() -> str:
    if not settings.REDIS_URL:
        return "not used (embedded default)"
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()
    return "answers"


def worker() -> str:
    if settings.CELERY_EMBEDDED_WORKER:
        if not any(thread.name == "celery-worker" and thread.is_alive() for thread in threading.enumerate()):
            raise RuntimeError("the embedded worker is not running in this process")
        return "embedded, running"
    replies = app.control.ping(timeout=TIMEOUT)
    if not replies:
        raise RuntimeError(f"no worker answered a ping within {TIMEOUT:.0f} s")
    return f"{len(replies)} answering"


def beat() -> str:
    last = cache.get(HEARTBEAT_KEY)
    if last is None:
        raise RuntimeError("beat has not ticked")
    age = time.time() - last
    if age > BEAT_LATE_AFTER:
        raise RuntimeError(f"beat last ticked {age:.0f} s ago")
    return f"ticked {age:.0f} s ago"


def bandwidth_api() -> str:
    # A list of conferences created from now on: the cheapest read that needs the credentials.
    bandwidth.client().list_conferences(min_created_time=timezone.now())
    return "answers"


CHECKS: dict[str, Callable[[], str]] = {
    "database": database,
    "redis": redis_server,
    "worker": worker,
    "beat": beat,
    "bandwidth": bandwidth_api,
}


def check_all() -> list[Check]:
    results = []
    for name, check in CHECKS.items():
        try:
            results.append(Check(name, True, check()))
        except Exception as error:
            results.append(Check(name, False, f"{type(error).__name__}: {error}"[:300]))
    return results
