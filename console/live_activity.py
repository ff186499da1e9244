"""What each member's stream said last (speaking, level, noisy line, or ended), kept in this
process's memory for the pages it renders: a member's row shows it from its first paint.

Activity is ephemeral: it changes several times a second while someone talks, matters only
while it is live, and a page that reopens needs only the current state. So it is not written
to the database: it travels as a change on the live bus (console/live.py, ["activity",
callId, ...], values and all, so that no process reads anything to render it), and each
process keeps the latest per call here, from the changes it publishes and those it reads
(the analysis repeats each state every few seconds, console/talking.py, so a process that
started reading later catches up). What lasts is in the database: whether the stream was
started, refused or stopped (Call.talking_stream, from Bandwidth's webhooks).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

# Calls remembered at most (the oldest forgotten first): far more than live streams.
KEPT = 10_000

SPEAKING, SILENT, ENDED = "speaking", "silent", "ended"


@dataclass(frozen=True)
class Shown:
    """A member's activity as a page shows it."""

    state: str
    level: int = 0
    noisy: bool = False
    stamp: int = 0

    @property
    def known(self) -> bool:
        return self.state in (SPEAKING, SILENT)


def change(call_id: str, state: str, level: int, noisy: bool, stamp: int) -> tuple[str, ...]:
    """The live change that carries a member's activity."""
    return ("activity", call_id, state, str(level), "noisy" if noisy else "", str(stamp))


def read(change: tuple[str, ...]) -> tuple[str, Shown]:
    _, call_id, state, level, noisy, stamp = change
    return call_id, Shown(state, int(level), bool(noisy), int(stamp))


_latest: OrderedDict[str, Shown] = OrderedDict()


def record(activity_change: tuple[str, ...]) -> None:
    call_id, shown = read(activity_change)
    known = _latest.get(call_id)
    if known is not None and known.stamp > shown.stamp:
        return
    _latest[call_id] = shown
    _latest.move_to_end(call_id)
    while len(_latest) > KEPT:
        _latest.popitem(last=False)


def of(call_id: str) -> Shown | None:
    return _latest.get(call_id)


def forget() -> None:
    """Tests."""
    _latest.clear()
