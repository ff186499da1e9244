"""How long to wait before asking Bandwidth again: one rule for actions, tasks and
reconciliation."""

from __future__ import annotations

import random

from voice.bandwidth import TransientError


def delay(error: TransientError, attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait before try `attempt` + 1: Bandwidth's Retry-After when it gave one,
    else exponential backoff from `base`, capped at `cap`, with full jitter, so that the
    retries of many actions failing together spread out (AWS Architecture Blog,
    "Exponential Backoff And Jitter")."""
    if error.retry_after is not None:
        return error.retry_after
    return backoff(attempt, base=base, cap=cap)


def backoff(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff from `base`, capped at `cap`, with full jitter."""
    return random.uniform(0, min(cap, base * 2**attempt))
