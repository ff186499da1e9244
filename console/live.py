"""Live push: after a change commits, render the changed row once and send it to every viewer.

voice emits signals (voice/signals.py); the receivers here collect the changed ids during
the transaction and, once it has committed, render each row with the same partial the page
uses and send it to the stream's group. The htmx ws extension swaps it in by id. A push that
fails is logged, never raised: the database, not the socket, is the source of truth, and a
browser that reconnects re-reads the page.

Streams and their groups:
- "calls" → live.calls: call rows (console/calls.html#call-row);
- "conferences" → live.conferences: conference rows (console/conferences.html#conference-row);
- "conference-<conferenceId>" → live.conference.<conferenceId>: that conference's member rows
  (console/conference.html#member-row, id member-<callId>) and its summary
  (console/conference.html#conference-summary).
- "recording-<recordingId>" → live.recording.<recordingId>, for operators who may view
  recordings: the recording's state (console/recording.html#recording-state, id
  recording-<recordingId>) when it, its transcript or an action on it changes; the page then
  re-reads its own region, whose buttons depend on the viewer's permissions.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import receiver
from django.template.loader import render_to_string

from console import board
from console.recordings import RECORDING_ACTIONS
from voice import signals
from voice.models import Action, Conference, Recording

log = logging.getLogger(__name__)

CALLS_GROUP = "live.calls"
CONFERENCES_GROUP = "live.conferences"
# Channels' group names: under 100 characters of letters, digits, '-', '_' and '.'.
_CONFERENCE_STREAM = re.compile(r"^conference-(?P<conference_id>[A-Za-z0-9_.\-]{1,80})$")
_RECORDING_STREAM = re.compile(r"^recording-(?P<recording_id>[A-Za-z0-9_.\-]{1,80})$")

_pending = threading.local()


def conference_group(conference_id: str) -> str:
    return f"live.conference.{conference_id}"


def recording_group(recording_id: str) -> str:
    return f"live.recording.{recording_id}"


def group_for_stream(stream: str, user) -> str | None:
    """The group a websocket on `stream` joins, or None if this user may not follow it."""
    if not user.is_authenticated:
        return None
    if stream == "calls":
        return CALLS_GROUP
    if stream == "conferences":
        return CONFERENCES_GROUP
    match = _CONFERENCE_STREAM.match(stream)
    if match and Conference.objects.filter(conference_id=match["conference_id"]).exists():
        return conference_group(match["conference_id"])
    match = _RECORDING_STREAM.match(stream)
    if (
        match
        and user.has_perm("console.view_recordings")
        and Recording.objects.filter(recording_id=match["recording_id"]).exists()
    ):
        return recording_group(match["recording_id"])
    return None


def _pending_pushes() -> set[tuple]:
    if not hasattr(_pending, "pushes"):
        _pending.pushes = set()
    return _pending.pushes


def _schedule(*push: str) -> None:
    _pending_pushes().add(push)
    # Several changes in one transaction push once: the first flush takes them all.
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    pushes = sorted(_pending_pushes())
    _pending_pushes().clear()
    for kind, *ids in pushes:
        try:
            PUSHERS[kind](*ids)
        except Exception:
            log.exception("live push of %s %s failed", kind, ids)


def send(group: str, html: str) -> None:
    async_to_sync(get_channel_layer().group_send)(group, {"type": "live.html", "html": html})


def push_call(call_id: str) -> None:
    row = board.call_row(call_id)
    if row is None:
        return
    send(CALLS_GROUP, render_to_string("console/calls.html#call-row", {"row": row}))


def push_conference(conference_id: str) -> None:
    conference = board.conference(conference_id)
    if conference is None:
        return
    context = {"conference": conference}
    send(CONFERENCES_GROUP, render_to_string("console/conferences.html#conference-row", context))
    send(conference_group(conference_id), render_to_string("console/conference.html#conference-summary", context))


def push_member(conference_id: str, call_id: str) -> None:
    member = board.member(conference_id, call_id)
    if member is None:
        return
    send(conference_group(conference_id), render_to_string("console/conference.html#member-row", {"member": member}))


def push_recording(recording_id: str) -> None:
    recording = Recording.objects.filter(recording_id=recording_id).first()
    if recording is None:
        return
    html = render_to_string("console/recording.html#recording-state", {"recording": recording})
    send(recording_group(recording_id), html)


def push_recording_action(action_id: int) -> None:
    action = Action.objects.filter(pk=action_id, kind__in=RECORDING_ACTIONS).first()
    if action is not None:
        push_recording(action.target)


PUSHERS: dict[str, Callable[..., None]] = {
    "call": push_call,
    "conference": push_conference,
    "member": push_member,
    "recording": push_recording,
    "recording-action": push_recording_action,
}


@receiver(signals.call_changed)
def _call_changed(sender, call_id: str, **kwargs) -> None:
    _schedule("call", call_id)


@receiver(signals.conference_changed)
def _conference_changed(sender, conference_id: str, **kwargs) -> None:
    _schedule("conference", conference_id)


@receiver(signals.member_changed)
def _member_changed(sender, conference_id: str, call_id: str, **kwargs) -> None:
    _schedule("member", conference_id, call_id)
    # The conference's member count changed with it.
    _schedule("conference", conference_id)


@receiver(signals.action_changed)
def _action_changed(sender, action_id: int, call_id: str = "", **kwargs) -> None:
    if call_id:
        _schedule("call", call_id)


@receiver(signals.recording_changed)
def _recording_changed(sender, recording_id: str, **kwargs) -> None:
    _schedule("recording", recording_id)


@receiver(signals.action_changed)
def _recording_action_changed(sender, action_id: int, **kwargs) -> None:
    # Which recording, if any, is read after commit: the signal carries the call only.
    _schedule("recording-action", action_id)
