"""What each live group's frames hold: a feed reads the rows a set of changes touched and
renders them, once for every browser of the group, as messages of out-of-band elements
(htmx's ws extension swaps each by id).

A frame is one message, or two when it holds table rows and other elements: the browser
parses a message as a template, whose first element decides how the rest is read, and a
<tr> after a <div> is dropped (a member's confirmed row after its conference's summary was).

A feed is asked `concerns(change)` in the event loop, for every change, so that must be
cheap and touch nothing; `prime()` and `render(changes)` run in the hub's render thread and
read the database.
"""

from __future__ import annotations

import hashlib
import re
import time

from django.template.loader import render_to_string

from console import bell, board, live_activity
from console.filters import CallFilterForm
from console.recording_page import RECORDING_ACTIONS
from voice.models import Action, Call, ConferenceMember, Recording

# Channels' group names were limited to this; the names here are only logged and used as
# keys, but an id with markup or of 100 characters is named by a digest all the same.
_GROUP_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,99}")


def stamp() -> int:
    """The moment a push reads its data, in microseconds. A page's own requests and its
    pushes may arrive in either order: the browser keeps the row stamped later
    (static/js/switchboard.js)."""
    return time.time_ns() // 1000


def group_name(kind: str, object_id: str) -> str:
    name = f"live.{kind}.{object_id}"
    if _GROUP_NAME.fullmatch(name):
        return name
    return f"live.{kind}.{hashlib.sha256(object_id.encode()).hexdigest()}"


class Feed:
    name: str

    def concerns(self, change: tuple[str, ...]) -> bool:
        raise NotImplementedError

    def prime(self) -> None:
        """Reads what the feed must know before its first frame."""

    def render(self, changes: set[tuple[str, ...]]) -> list[str]:
        """The frame for these changes: its messages, table rows apart from other elements;
        none when they change nothing shown."""
        raise NotImplementedError


class BoardFeed(Feed):
    """One view of the board (filters, sort, window size): its window of call rows kept
    right. A row that enters the window comes with the id of the row it follows; one that
    leaves it is deleted, or, if its call ended, shown ending (the page lets it fade).
    Counts of the view (total, stuck, long) and the "show more" link come with every frame."""

    CHANGES = {"call", "member", "action"}

    def __init__(self, form: CallFilterForm) -> None:
        self.form = form
        self.name = "live.calls" + (f"?{form.query}" if form.query else "")
        self.shown: list[str] = []
        self.total = 0

    def concerns(self, change: tuple[str, ...]) -> bool:
        # Every call change: a call that leaves or enters the view, or moves in it.
        return change[0] in self.CHANGES and bool(change[-1])

    def prime(self) -> None:
        window = board.call_window(self.form)
        self.shown, self.total = window.call_ids, window.total

    def render(self, changes: set[tuple[str, ...]]) -> list[str]:
        read_at = stamp()
        window = board.call_window(self.form)
        before, now = self.shown, window.call_ids
        self.shown = now
        changed = {change[-1] for change in changes if change[0] in self.CHANGES}
        entered = set(now) - set(before)
        left = set(before) - set(now)
        rows = board.calls_by_id(changed | entered | left)
        items = [
            (rows[call_id], f"call-{now[index - 1]}" if index else "")
            for index, call_id in enumerate(now)
            if call_id in rows and (call_id in changed or call_id in entered)
        ]
        # An ended call is sent whether or not this feed showed it: a page that shows it
        # (its window read at another moment than the feed's) lets it fade, others ignore it.
        leaving = [rows[call_id] for call_id in sorted(changed | left) if call_id in rows and not rows[call_id].call.is_live]
        deleted = sorted(call_id for call_id in left if call_id in rows and rows[call_id].call.is_live)
        if not (items or leaving or deleted) and window.total == self.total:
            return []
        self.total = window.total
        context = {"items": items, "leaving": leaving, "deleted": deleted, "window": window, "stamp": read_at}
        return [render_to_string("console/calls.html#call-frame", context)]


class CallFeed(Feed):
    """A call's page: its row when the call, its membership or an action on it changes (the
    page re-reads its own region, data-refresh-on). The board's window may not hold it."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.name = group_name("call", call_id)

    def concerns(self, change: tuple[str, ...]) -> bool:
        return change[0] in BoardFeed.CHANGES and change[-1] == self.call_id

    def render(self, changes: set[tuple[str, ...]]) -> list[str]:
        read_at = stamp()
        row = board.call_row(self.call_id)
        if row is None:
            return []
        return [render_to_string("console/calls.html#call-row", {"row": row, "stamp": read_at})]


class ConferenceListFeed(Feed):
    name = "live.conferences"

    def concerns(self, change: tuple[str, ...]) -> bool:
        return change[0] in ("conference", "member")

    def render(self, changes: set[tuple[str, ...]]) -> list[str]:
        read_at = stamp()
        html = []
        for conference_id in sorted({change[1] for change in changes}):
            conference = board.conference(conference_id)
            if conference is not None:
                context = {"conference": conference, "stamp": read_at}
                html.append(render_to_string("console/conferences.html#conference-row", context))
        return _messages("".join(html))


class ConferenceFeed(Feed):
    """A conference's page: its members' rows and its summary with what operators do to it,
    and who is talking (a member's activity, carried by its change: nothing to read)."""

    def __init__(self, conference_id: str) -> None:
        self.conference_id = conference_id
        self.name = group_name("conference", conference_id)
        # The calls that are or were members: whose activity this page shows.
        self.member_ids: set[str] = set()

    def concerns(self, change: tuple[str, ...]) -> bool:
        if change[0] in ("conference", "member"):
            return change[1] == self.conference_id
        if change[0] == "activity":
            return change[1] in self.member_ids
        # An action's target, or whether a call is one of its dial-outs, is read in render.
        return change[0] in ("action", "call")

    def prime(self) -> None:
        members = ConferenceMember.objects.filter(conference_id=self.conference_id).values_list("call_id", flat=True)
        self.member_ids.update(members)

    def render(self, changes: set[tuple[str, ...]]) -> list[str]:
        read_at = stamp()
        activity = self._activity(changes)
        members = {change[2] for change in changes if change[0] == "member"}
        self.member_ids.update(members)
        # A member's call changed: its stream's state (started, refused, stopped) shows in its row.
        members |= {change[1] for change in changes if change[0] == "call" and change[1] in self.member_ids}
        summary = any(change[0] in ("conference", "member") for change in changes)
        action_ids = [change[1] for change in changes if change[0] == "action"]
        for action in Action.objects.filter(pk__in=action_ids):
            if board.conference_of(action) != self.conference_id:
                continue
            if action.kind in board.MEMBER_ACTIONS:
                members.add(action.call_id)
            if action.kind in board.SUMMARY_ACTIONS or action.batch_id:
                summary = True
        call_ids = [change[1] for change in changes if change[0] == "call"]
        # A dial-out's call shows on the summary (ringing, busy, no answer).
        summary = summary or any(
            board.dialled_into(call) == self.conference_id for call in Call.objects.filter(call_id__in=call_ids)
        )
        rows, panel = [], ""
        for call_id in sorted(members):
            row = board.member_row(self.conference_id, call_id)
            if row is not None:
                rows.append(render_to_string("console/conference.html#member-row", {"row": row, "stamp": read_at}))
        if summary:
            conference = board.conference(self.conference_id)
            if conference is not None:
                context = {"panel": board.conference_panel(conference), "stamp": read_at}
                panel = render_to_string("console/conference.html#conference-summary", context)
        return _messages("".join(rows), panel + activity)

    def _activity(self, changes: set[tuple[str, ...]]) -> str:
        """The speaking indicators, meters and noisy hints of the members whose activity
        changed since the last frame, the newest of each (the analysis sends only changes,
        and each state again every few seconds for pages opened meanwhile)."""
        newest: dict[str, live_activity.Shown] = {}
        for change in changes:
            if change[0] == "activity":
                call_id, shown = live_activity.read(change)
                if call_id not in newest or newest[call_id].stamp < shown.stamp:
                    newest[call_id] = shown
        html = []
        for call_id, shown in sorted(newest.items()):
            html.append(render_to_string("console/conference.html#member-activity", {"call_id": call_id, "talking": board.talking(shown), "oob": True}))
        return "".join(html)


class RecordingFeed(Feed):
    """A recording's page: its state, when it, its transcript or an action on it changes
    (the page then re-reads its own region, whose buttons depend on the viewer)."""

    def __init__(self, recording_id: str) -> None:
        self.recording_id = recording_id
        self.name = group_name("recording", recording_id)

    def concerns(self, change: tuple[str, ...]) -> bool:
        return (change[0] == "recording" and change[1] == self.recording_id) or change[0] == "action"

    def render(self, changes: set[tuple[str, ...]]) -> list[str]:
        touched = any(change[0] == "recording" for change in changes) or Action.objects.filter(
            pk__in=[change[1] for change in changes if change[0] == "action"],
            kind__in=RECORDING_ACTIONS,
            target=self.recording_id,
        ).exists()
        recording = Recording.objects.filter(recording_id=self.recording_id).first() if touched else None
        if recording is None:
            return []
        return [render_to_string("console/recording.html#recording-state", {"recording": recording})]


class AlertFeed(Feed):
    """The bell on every page: its count and its list of open alerts, whole (a few dozen at
    most), when one fires, clears or is acknowledged."""

    name = "live.alerts"

    def concerns(self, change: tuple[str, ...]) -> bool:
        return change[0] == "alert"

    def render(self, changes: set[tuple[str, ...]]) -> list[str]:
        context = {"bell": bell.Bell.now(stamp())}
        return [render_to_string("console/alerts.html#bell-content", context)]


def _messages(*parts: str) -> list[str]:
    return [part for part in parts if part.strip()]
