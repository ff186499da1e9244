"""The simulation's background tasks: every one is known, so that shutting down cancels them all.

A task may also belong to an owner (a call's set of tasks), which ending the call cancels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

log = logging.getLogger("sandbox")


class Scheduler:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coroutine: Coroutine, owner: set[asyncio.Task] | None = None) -> asyncio.Task:
        """Run `coroutine` in the background, in `owner` too while it runs."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if owner is not None:
            owner.add(task)
            task.add_done_callback(owner.discard)
        task.add_done_callback(_log_failure)
        return task

    async def shutdown(self) -> None:
        """Cancel every task, then those the cancelled ones started as they stopped (a
        conference its last member left publishes its recording), until none is left: none
        outlives the webhook client."""
        while tasks := [task for task in self._tasks if not task.done()]:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("sandbox task failed", exc_info=task.exception())
