"""Keeping the sandbox's long-lived loops alive: a failure in one round is logged, and the
loop goes on (a conference's events, the demo's traffic, the retention sweep). A call's own
tasks are guarded in call_lifecycle.Calls.spawn: there a failure ends the call."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("sandbox")


@contextmanager
def survives(what: str) -> Iterator[None]:
    """Run one round of a loop; an unexpected exception is logged with `what` failed, not raised."""
    try:
        yield
    except Exception:
        log.exception("%s failed; the sandbox goes on", what)
