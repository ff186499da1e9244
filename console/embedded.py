"""The embedded default's Celery worker and beat, running inside the console process.

Without REDIS_URL there is no broker to share with a separate worker, so the console
process runs one itself on Celery's in-memory transport: the same task code as production,
asynchronous (an action shows "pending" until the worker has sent it, a retry really waits).
"""

from __future__ import annotations

import logging
import threading

from celery.beat import EmbeddedService
from django.conf import settings

log = logging.getLogger(__name__)
_started = threading.Event()


def start() -> None:
    """Start the worker and beat threads once per process."""
    if _started.is_set():
        return
    _started.set()
    from console.celery import app

    worker = app.WorkController(
        hostname="embedded@switchboard",
        pool_cls="threads",
        concurrency=4,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel="WARNING",
    )
    threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
    # thread=True: beat must share this process's in-memory broker with the worker.
    # The scheduler as `celery beat` takes it from the settings (it notes each tick, for /readyz).
    EmbeddedService(
        app,
        thread=True,
        schedule_filename=str(settings.VAR_DIR / "celerybeat-schedule"),
        scheduler_cls=settings.CELERY_BEAT_SCHEDULER,
    ).start()
    log.info("embedded Celery worker and beat started")
