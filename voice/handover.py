"""Handing recorded work to Celery: after its transaction commits, from a thread of the
process, never from the request that recorded it.

The database is the record of what must happen (an Action row, a transcript to fetch);
Celery's queue is only the fast way to a worker. So publishing may fail, or wait, without
failing or holding the request that recorded the work: a stalled or stopped Redis delays the
hand-over, never an operator's click or Bandwidth's answer. A publish that fails is logged
and dropped; the periodic sweep (voice.actions.sweep, voice.transcripts.refetch_overdue)
finds the work in the database and hands it over again.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from functools import partial
from typing import Any

from celery import Task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


class HandOver:
    """The process's hand-over thread and its queue of (task, args, options)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[Task, tuple, dict] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def put(self, task: Task, args: tuple, options: dict) -> None:
        if not settings.HANDOVER_IN_BACKGROUND:
            publish(task, args, options)
            return
        self.queue.put((task, args, options))
        # Per process: a forked worker child does not inherit its parent's thread.
        if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="celery-handover", daemon=True)
                    self._thread.start()
                    self._pid = os.getpid()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            publish(*item)


def publish(task: Task, args: tuple, options: dict) -> bool:
    """Send the task to the broker once (no retry: the sweep is the retry); True if sent."""
    try:
        task.apply_async(args, retry=False, **options)
    except Exception as error:
        log.warning("%s%s not handed to a worker (the sweep will): %s", task.name, args, error)
        return False
    return True


handover = HandOver()


class HandedOverTask(DjangoTask):
    """Every task of the project (console/celery.py): its *_on_commit methods hand it to the
    hand-over thread once the transaction commits, instead of publishing from the request."""

    def apply_async_on_commit(self, args: tuple | None = None, kwargs: dict | None = None, **options: Any) -> None:
        if kwargs:
            options["kwargs"] = kwargs
        transaction.on_commit(partial(handover.put, self, tuple(args or ()), options), robust=True)

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        self.apply_async_on_commit(args, kwargs)
