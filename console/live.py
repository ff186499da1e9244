"""Live push: after a change commits, render the changed row once and send it to every viewer.

voice emits signals (voice/signals.py); the receivers here queue the changed ids when the
transaction commits (a rolled-back change pushes nothing), and a background thread of the
process renders each row with the same partial the page uses and sends it to the stream's
group. The htmx ws extension swaps it in by id. The thread, not the committer, pushes: the
commit is the only thing on a webhook's critical path, and a slow or unreachable Redis
delays the pushes, never Bandwidth's answer. The thread takes what has queued in a short
window at once, so that a burst of changes to one row pushes it once. A push that fails is
logged, never raised: the database, not the socket, is the source of truth, and a browser
that reconnects re-reads the page (pushes still queued when the process stops are lost the
same way).

Streams and their groups:
- "calls" → live.calls: call rows (console/calls.html#call-row);
- "conferences" → live.conferences: conference rows (console/conferences.html#conference-row);
- "conference-<conferenceId>" → live.conference.<conferenceId>: that conference's member rows
  (console/conference.html#member-row, id member-<callId>) and its summary with the actions
  under way on it (console/conference.html#conference-summary). Only for users who may
  control conferences: the page is theirs alone.
- "recording-<recordingId>" → live.recording.<recordingId>, for operators who may view
  recordings: the recording's state (console/recording.html#recording-state, id
  recording-<recordingId>) when it, its transcript or an action on it changes; the page then
  re-reads its own region, whose buttons depend on the viewer's permissions.

An action's change pushes what shows it: its call's row, its member's row, its
conference's summary (batch progress, dial-outs, ending, recording), its recording's state.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.dispatch import receiver
from django.template.loader import render_to_string

from console import board
from console.ids import BANDWIDTH_ID
from console.recording_page import RECORDING_ACTIONS
from voice import signals
from voice.models import Action, Conference, Recording

log = logging.getLogger(__name__)

CALLS_GROUP = "live.calls"
CONFERENCES_GROUP = "live.conferences"
# The streams a page may follow, as console/routing.py routes them (ids as console/ids.py has them).
STREAM = rf"calls|conferences|(?P<kind>conference|recording)-(?P<object_id>{BANDWIDTH_ID})"
_STREAM = re.compile(STREAM)
# Channels' group names: under 100 characters of letters, digits, '-', '_' and '.'.
_GROUP_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,99}")

# How long the pusher waits after a change for the rest of its burst (a transaction's changes
# arrive one after another as it commits).
COALESCE_SECONDS = 0.02
# The pusher thread's own event loop.
_sending = threading.local()


def _group(kind: str, object_id: str) -> str:
    """The group of one object's viewers. An id of 100 characters would make too long a
    name, and a mirror row may hold an id no group name can (a change to it is still
    pushed, to a group no one can join): those are named by a digest."""
    name = f"live.{kind}.{object_id}"
    if _GROUP_NAME.fullmatch(name):
        return name
    return f"live.{kind}.{hashlib.sha256(object_id.encode()).hexdigest()}"


def conference_group(conference_id: str) -> str:
    return _group("conference", conference_id)


def recording_group(recording_id: str) -> str:
    return _group("recording", recording_id)


def group_for_stream(stream: str, user) -> str | None:
    """The group a websocket on `stream` joins, or None if this user may not follow it."""
    match = _STREAM.fullmatch(stream)
    if match is None or not user.is_authenticated:
        return None
    if stream == "calls":
        return CALLS_GROUP
    if stream == "conferences":
        return CONFERENCES_GROUP
    object_id = match["object_id"]
    if (
        match["kind"] == "conference"
        and user.has_perm("console.control_conference")
        and Conference.objects.filter(conference_id=object_id).exists()
    ):
        return conference_group(object_id)
    if (
        match["kind"] == "recording"
        and user.has_perm("console.view_recordings")
        and Recording.objects.filter(recording_id=object_id).exists()
    ):
        return recording_group(object_id)
    return None


def _schedule(*push: str) -> None:
    transaction.on_commit(partial(pusher.put, push), robust=True)


class Pusher:
    """The process's push thread: it takes the queued pushes, a burst at a time, and sends them."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def put(self, push: tuple) -> None:
        self.queue.put(push)
        if settings.LIVE_PUSH_IN_BACKGROUND:
            self._ensure_running()

    def _ensure_running(self) -> None:
        # Per process: a forked Celery worker child does not inherit its parent's thread.
        if self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid() or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="live-push", daemon=True)
                self._thread.start()
                self._pid = os.getpid()

    def _run(self) -> None:
        # One event loop for the thread's sends: async_to_sync would make one per send, at
        # twenty times the cost, and channels_redis keeps its connections per loop.
        _sending.loop = asyncio.new_event_loop()
        while (first := self.queue.get()) is not None:
            time.sleep(COALESCE_SECONDS)
            pushes, stopping = self.take({first})
            try:
                push_all(pushes)
            except Exception:
                log.exception("live pushes failed")
            finally:
                # A thread outside any request: nothing else replaces a broken or old connection.
                close_old_connections()
            if stopping:
                break
        connections.close_all()
        _sending.loop.close()

    def take(self, pushes: set[tuple] | None = None) -> tuple[set[tuple], bool]:
        """Everything queued now, and whether a stop was among it."""
        pushes = set(pushes or ())
        while True:
            try:
                push = self.queue.get_nowait()
            except queue.Empty:
                return pushes, False
            if push is None:
                return pushes, True
            pushes.add(push)

    def stop(self) -> None:
        """Push what is queued, then end the thread (tests)."""
        if self._thread is not None and self._thread.is_alive():
            self.queue.put(None)
            self._thread.join(timeout=10)
        self._thread = self._pid = None


pusher = Pusher()


def drain() -> None:
    """Push what is queued, now, in this thread: where LIVE_PUSH_IN_BACKGROUND is off (tests)."""
    pushes, _ = pusher.take()
    push_all(pushes)


def push_all(pending: set[tuple]) -> None:
    pushes: set[tuple] = set()
    for push in pending:
        pushes |= _action_pushes(push[1]) if push[0] == "action" else {push}
    # A conference's push sends its summary too.
    pushes -= {("summary", push[1]) for push in pushes if push[0] == "conference"}
    for kind, *ids in sorted(pushes):
        try:
            PUSHERS[kind](*ids)
        except Exception:
            log.exception("live push of %s %s failed", kind, ids)


def send(group: str, html: str) -> None:
    layer, message = get_channel_layer(), {"type": "live.html", "html": html}
    loop = getattr(_sending, "loop", None)
    if loop is not None:
        loop.run_until_complete(layer.group_send(group, message))
    else:
        async_to_sync(layer.group_send)(group, message)


def stamp() -> int:
    """The moment a push reads its data, in microseconds. Threads and processes push
    concurrently, so two pushes of one element may arrive in either order: the browser
    keeps the one stamped later (static/js/switchboard.js)."""
    return time.time_ns() // 1000


def push_call(call_id: str) -> None:
    read_at = stamp()
    row = board.call_row(call_id)
    if row is None:
        return
    send(CALLS_GROUP, render_to_string("console/calls.html#call-row", {"row": row, "stamp": read_at}))
    dialled_into = board.dialled_into(row.call)
    if dialled_into:
        # Its conference's page shows how the dial-out goes (ringing, busy, no answer).
        push_conference_summary(dialled_into)


def push_conference(conference_id: str) -> None:
    read_at = stamp()
    conference = board.conference(conference_id)
    if conference is None:
        return
    context = {"conference": conference, "stamp": read_at}
    send(CONFERENCES_GROUP, render_to_string("console/conferences.html#conference-row", context))
    _send_summary(conference, read_at)


def push_conference_summary(conference_id: str) -> None:
    read_at = stamp()
    conference = board.conference(conference_id)
    if conference is not None:
        _send_summary(conference, read_at)


def _send_summary(conference: Conference, read_at: int) -> None:
    context = {"panel": board.conference_panel(conference), "stamp": read_at}
    send(conference_group(conference.conference_id), render_to_string("console/conference.html#conference-summary", context))


def push_member(conference_id: str, call_id: str) -> None:
    read_at = stamp()
    row = board.member_row(conference_id, call_id)
    if row is None:
        return
    context = {"row": row, "stamp": read_at}
    send(conference_group(conference_id), render_to_string("console/conference.html#member-row", context))


def _action_pushes(action_id: str) -> set[tuple]:
    """What shows an action besides its call's row: its member's row, its conference's
    summary, its recording's state. Resolved before pushing (the signal carries the call
    only), so that the ten actions of a batch push one summary."""
    action = Action.objects.filter(pk=action_id).first()
    if action is not None and action.kind in RECORDING_ACTIONS:
        return {("recording", action.target)}
    conference_id = board.conference_of(action) if action is not None else None
    if conference_id is None:
        return set()
    pushes = set()
    if action.kind in board.MEMBER_ACTIONS:
        pushes.add(("member", conference_id, action.call_id))
    if action.kind in board.CONFERENCE_ACTIONS or action.batch_id:
        pushes.add(("summary", conference_id))
    return pushes


def push_recording(recording_id: str) -> None:
    recording = Recording.objects.filter(recording_id=recording_id).first()
    if recording is None:
        return
    html = render_to_string("console/recording.html#recording-state", {"recording": recording})
    send(recording_group(recording_id), html)


PUSHERS: dict[str, Callable[..., None]] = {
    "call": push_call,
    "conference": push_conference,
    "summary": push_conference_summary,
    "member": push_member,
    "recording": push_recording,
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
    # The conference's member count changed with it, and the call's row shows its conference.
    _schedule("conference", conference_id)
    _schedule("call", call_id)


@receiver(signals.action_changed)
def _action_changed(sender, action_id: int, call_id: str = "", **kwargs) -> None:
    if call_id:
        _schedule("call", call_id)
    _schedule("action", str(action_id))


@receiver(signals.recording_changed)
def _recording_changed(sender, recording_id: str, **kwargs) -> None:
    _schedule("recording", recording_id)
