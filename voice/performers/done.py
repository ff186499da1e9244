"""What a performer reports, and the one rule for a request whose target is already gone."""

from __future__ import annotations

from dataclasses import dataclass

from voice.bandwidth import PermanentError


@dataclass(frozen=True)
class Done:
    """What happened, in words for operators, and Bandwidth's status."""

    detail: str
    status: int | None = None


# 404: Bandwidth no longer knows it (ended, or past its retention); 409: it has ended and can
# no longer be changed. https://dev.bandwidth.com/apis/voice/#tag/Calls/operation/updateCall
GONE = (404, 409)


def already_gone(error: PermanentError, what: str, statuses: tuple[int, ...] = GONE) -> Done:
    """An action whose goal is to end something (hang up, remove, end, delete) has met its
    goal when Bandwidth says `what` is gone: Done, saying so. Any other refusal is raised
    again. A kind for which one of GONE means something else passes its own `statuses`."""
    if error.status in statuses:
        return Done(f"{what} had already ended ({error}).", error.status)
    raise error
