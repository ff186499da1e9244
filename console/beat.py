"""Celery beat's scheduler with a heartbeat: each tick (at least every few seconds, the
action sweep's period) notes the time in the cache, so that /readyz can tell a stopped beat
from a stopped worker (console/readiness.py). Set by CELERY_BEAT_SCHEDULER, for the embedded
beat and `celery beat` alike."""

from __future__ import annotations

import logging
import time

from celery.beat import PersistentScheduler
from django.core.cache import cache

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "switchboard:beat-heartbeat"


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args, **kwargs):
        try:
            cache.set(HEARTBEAT_KEY, time.time(), timeout=None)
        except Exception as error:
            # Redis away: /readyz says so for Redis; beat keeps scheduling.
            log.warning("beat heartbeat not written: %s", error)
        return super().tick(*args, **kwargs)
