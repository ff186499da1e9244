"""Live push: every committed change reaches every browser that shows it, at a bounded rate.

How a change travels
--------------------
1. voice emits a signal inside the committing transaction (voice/signals.py). The receivers
   here turn it into a change of ids (["call", call_id], ["member", conference_id, call_id],
   ...) published when the transaction commits (a rolled-back change publishes nothing).
2. The committing process, a daphne or a Celery worker, publishes the ids, and only the ids,
   on the bus (console/live_bus.py: a Redis stream; in the embedded default, a hand-over to
   the process's own event loop). It reads nothing and renders nothing: the commit stays the
   only thing on a webhook's critical path, and a worker's push never touches the database
   pool that Celery closes before and after each task.
3. Every daphne process reads the stream; its hub (console/live_hub.py) hands each change to
   the groups its own websockets watch and that the change concerns (console/live_frames.py).
   A group nobody watches in a process does not exist there: no query, no render.
4. Per group, a leading-edge throttle: a change is rendered and sent at once if the group
   sent nothing in the last LIVE_PUSH_INTERVAL, otherwise it waits, with every change after
   it, for the interval's end. A frame is rendered once for the group and carries every row
   those changes touched (htmx's ws extension swaps each out-of-band element by id), so a
   browser gets at most one frame per interval per stream, whatever the event rate. (A
   conference's frame is two messages when it holds member rows and its summary: a browser
   drops a <tr> that follows other elements in one message.)
5. Each socket numbers its messages (<!--seq N-->). A browser that sees a number skipped
   re-reads its live regions; the hub skips a number when it may have missed changes (it
   lost Redis) or failed to render them. A socket that (re)opens re-reads too: what was sent
   before it opened never reached it.

Why ids on a stream, rendered in each daphne process
----------------------------------------------------
Before, the committing process rendered every changed row (three queries and a render, even
with no browser connected: 26% of daphne's CPU per webhook) and sent it through Channels'
group_send, one message per change per socket. At a hundred webhooks a second with fifty
browsers that was 5,000 channel-layer messages a second, each dispatched through a thread
hop; channels_redis drops what overflows a process's queue (capacity 100) silently, and a
third of the changes never reached the browsers. Rendering in the committer cannot coalesce
across committers (each webhook may land on another process), cannot know whether anyone
watches, and in a Celery worker it shares the database pool Celery closes under it.
Publishing ids costs the committer one Redis write off its path; each daphne process then
coalesces, reads once per group and interval, and hands the frame to its own sockets in
memory, where nothing is dropped for want of room. With several daphne processes a frame is
rendered once per group in each process that has watchers: a few renders per interval,
bounded by the number of processes, not of browsers or events.

Measured (docs/benchmarks.md, 50 browsers on the board, one daphne on one core): no change
lost at 20, 50 or 100 webhooks a second (thousands were before); at 20/s p50 22-27 ms and
p99 36-85 ms, at 50/s p50 38-65 ms, against 59-69 ms and 2.1-3.2 s before. At 100/s the
process is saturated by the webhooks' own handling (about 10 ms of CPU each with no browser
connected), not by the push, whose cost follows the frame rate: about 3.5 ms to read and
render a board frame and 3 ms to hand it to fifty sockets.

Streams and their feeds (who may follow them is checked when the socket opens, and again
when the session or the user's permissions change: console/consumers.py):
- "calls" with the board's query (filters, sort, window size; console/filters.py): the call
  rows of that view's window, the rows entering and leaving it, and its counts.
- "call-<callId>": that call's row, for its page (which re-reads itself when it comes).
- "conferences": conference rows (console/conferences.html#conference-row).
- "conference-<conferenceId>": that conference's member rows and its summary with the actions
  under way on it, and who is talking: ["activity", callId, state, level, noisy, stamp] changes
  published by the media consumer (no database change: console/live_activity.py says why),
  rendered from their own values. Only for users who may control conferences.
- "recording-<recordingId>", for operators who may view recordings: the recording's state;
  the page then re-reads its own region, whose buttons depend on the viewer's permissions.
- "alerts", on every page: the bell's open alerts (console/alerts.py), when one fires, clears
  or is acknowledged.

An action's change pushes what shows it: its call's row, its member's row, its conference's
summary (batch progress, dial-outs, ending, recording), its recording's state.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import get_user_model, user_logged_out
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from console import board, live_activity, live_bus
from console.filters import CallFilterForm
from console.ids import BANDWIDTH_ID
from console.live_frames import AlertFeed, BoardFeed, CallFeed, ConferenceFeed, ConferenceListFeed, Feed, RecordingFeed, stamp
from console.recording_page import RECORDING_ACTIONS
from voice import signals
from voice.models import Action, Call, Conference, ConferenceMember, Recording

__all__ = ["STREAM", "activity_changed", "alert_changed", "feed_for", "group_for_stream", "drain", "discard", "send", "stamp"]

# The streams a page may follow, as console/routing.py routes them (ids as console/ids.py has them).
STREAM = rf"calls|conferences|alerts|(?P<kind>call|conference|recording)-(?P<object_id>{BANDWIDTH_ID})"
_STREAM = re.compile(STREAM)


def feed_for(stream: str, query: dict[str, list[str]], user) -> Feed | None:
    """The feed a websocket on `stream` follows, or None if this user may not follow it."""
    match = _STREAM.fullmatch(stream)
    if match is None or not user.is_authenticated or not user.is_active:
        return None
    if stream == "calls":
        return BoardFeed(CallFilterForm({name: values[-1] for name, values in query.items()}))
    if stream == "conferences":
        return ConferenceListFeed()
    if stream == "alerts":
        return AlertFeed()
    object_id = match["object_id"]
    if match["kind"] == "call" and Call.objects.filter(call_id=object_id).exists():
        return CallFeed(object_id)
    if (
        match["kind"] == "conference"
        and user.has_perm("console.control_conference")
        and Conference.objects.filter(conference_id=object_id).exists()
    ):
        return ConferenceFeed(object_id)
    if (
        match["kind"] == "recording"
        and user.has_perm("console.view_recordings")
        and Recording.objects.filter(recording_id=object_id).exists()
    ):
        return RecordingFeed(object_id)
    return None


def group_for_stream(stream: str, user, query: dict[str, list[str]] | None = None) -> str | None:
    """The name of the group a websocket on `stream` joins, or None if this user may not follow it."""
    feed = feed_for(stream, query or {}, user)
    return feed.name if feed is not None else None


# Changes out

# Where LIVE_PUSH_IN_BACKGROUND is off (tests), committed changes wait here for drain().
_held: list[tuple[str, ...]] = []


def _publish(*change: str) -> None:
    # A function with a name, not a partial: Django names a robust callback that failed.
    def committed() -> None:
        _committed(change)

    transaction.on_commit(committed, robust=True)


def _committed(change: tuple[str, ...]) -> None:
    if settings.LIVE_PUSH_IN_BACKGROUND:
        live_bus.publisher.publish([change])
    else:
        _held.append(change)


def activity_changed(call_id: str, state: str, level: int = 0, noisy: bool = False) -> None:
    """A member's activity, from the analysis of its stream (console/media_consumer.py): not a
    database change, so it goes on the bus at once, values and all (console/live_activity.py
    says why), and is remembered in this process for its pages."""
    change = live_activity.change(call_id, state, level, noisy, stamp())
    live_activity.record(change)
    _committed(change)


def drain() -> None:
    """Renders what the held changes push to every group they concern, watched or not, and
    gives each frame to send() (tests: LIVE_PUSH_IN_BACKGROUND off)."""
    changes, _held[:] = set(_held), []
    feeds: list[Feed] = [BoardFeed(CallFilterForm({})), ConferenceListFeed(), AlertFeed()]
    conferences = {change[1] for change in changes if change[0] in ("conference", "member")}
    actions = list(Action.objects.filter(pk__in=[change[1] for change in changes if change[0] == "action"]))
    conferences |= {board.conference_of(action) for action in actions} - {None}
    calls = Call.objects.filter(call_id__in=[change[1] for change in changes if change[0] == "call"])
    conferences |= {board.dialled_into(call) for call in calls} - {None}
    talking = [change[1] for change in changes if change[0] in ("activity", "call")]
    conferences |= set(ConferenceMember.objects.filter(call_id__in=talking).present().values_list("conference_id", flat=True))
    feeds += [ConferenceFeed(conference_id) for conference_id in sorted(conferences)]
    recordings = {change[1] for change in changes if change[0] == "recording"}
    recordings |= {action.target for action in actions if action.kind in RECORDING_ACTIONS}
    feeds += [RecordingFeed(recording_id) for recording_id in sorted(recordings)]
    for feed in feeds:
        # Primed first, as a hub's group is before any change reaches it (a conference's
        # feed knows its members, whose activity concerns it).
        feed.prime()
        concerned = {change for change in changes if feed.concerns(change)}
        if concerned:
            for message in feed.render(concerned):
                send(feed.name, message)


def discard() -> None:
    """Forgets the held changes (tests)."""
    _held.clear()


def send(group: str, body: str) -> None:
    """Where drain() delivers (tests replace it)."""


@receiver(signals.call_changed)
def _call_changed(sender, call_id: str, **kwargs) -> None:
    _publish("call", call_id)


@receiver(signals.conference_changed)
def _conference_changed(sender, conference_id: str, **kwargs) -> None:
    _publish("conference", conference_id)


@receiver(signals.member_changed)
def _member_changed(sender, conference_id: str, call_id: str, **kwargs) -> None:
    # Also the conference's member count, and the call's row (it shows its conference).
    _publish("member", conference_id, call_id)


@receiver(signals.action_changed)
def _action_changed(sender, action_id: int, call_id: str = "", **kwargs) -> None:
    _publish("action", str(action_id), call_id)


@receiver(signals.recording_changed)
def _recording_changed(sender, recording_id: str, **kwargs) -> None:
    _publish("recording", recording_id)


def alert_changed(alert_id: int) -> None:
    """An alert fired, cleared or was acknowledged (console/alerts.py)."""
    _publish("alert", str(alert_id))


# Sessions: a socket lives no longer than what allowed it to open


@receiver(user_logged_out)
def _signed_out(sender, request, **kwargs) -> None:
    if request is not None and request.session.session_key:
        _publish("session-ended", request.session.session_key)


User = get_user_model()


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
@receiver(post_delete, sender=Group)
@receiver(m2m_changed, sender=Group.permissions.through)
@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
def _operators_changed(sender, update_fields=None, action: str = "post_", **kwargs) -> None:
    """A user deactivated, deleted or with a new password, a role or a user given other
    permissions: every hub checks its sockets again. (A sign-in only saves last_login.)"""
    if update_fields == frozenset({"last_login"}) or not action.startswith("post_"):
        return
    _publish("operators-changed")
