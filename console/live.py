"""Live push: after a change commits, render the changed row once and send it to every viewer.

voice emits signals (voice/signals.py); the receivers here collect the changed ids during
the transaction and, once it has committed, render each row with the same partial the page
uses and send it to the stream's group. The htmx ws extension swaps it in by id. A push that
fails is logged, never raised: the database, not the socket, is the source of truth, and a
browser that reconnects re-reads the page.
"""

from __future__ import annotations

import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import receiver
from django.template.loader import render_to_string

from console import board
from voice import signals

log = logging.getLogger(__name__)

CALLS_GROUP = "live.calls"

_pending = threading.local()


def group_for_stream(stream: str, user) -> str | None:
    """The group a websocket on `stream` joins, or None if this user may not follow it."""
    if stream == "calls" and user.is_authenticated:
        return CALLS_GROUP
    return None


def _pending_calls() -> set[str]:
    if not hasattr(_pending, "calls"):
        _pending.calls = set()
    return _pending.calls


def _schedule_call(call_id: str) -> None:
    _pending_calls().add(call_id)
    # Several changes in one transaction push once: the first flush takes them all.
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    call_ids = list(_pending_calls())
    _pending_calls().clear()
    for call_id in call_ids:
        try:
            push_call(call_id)
        except Exception:
            log.exception("live push of call %s failed", call_id)


def send(group: str, html: str) -> None:
    async_to_sync(get_channel_layer().group_send)(group, {"type": "live.html", "html": html})


def push_call(call_id: str) -> None:
    row = board.call_row(call_id)
    if row is None:
        return
    send(CALLS_GROUP, render_to_string("console/calls.html#call-row", {"row": row}))


@receiver(signals.call_changed)
def _call_changed(sender, call_id: str, **kwargs) -> None:
    _schedule_call(call_id)


@receiver(signals.action_changed)
def _action_changed(sender, action_id: int, call_id: str = "", **kwargs) -> None:
    if call_id:
        _schedule_call(call_id)
