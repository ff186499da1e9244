"""What the live board and a conference's page show: calls with the operator action last
taken on each and the conference each is in; conferences with their members, the actions
under way on them, and the progress of a batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from console import directory, listening, live_activity
from console.filters import CallFilterForm
from voice import flows
from voice.models import (
    OPEN_ACTION_STATUSES,
    Action,
    ActionBatch,
    ActionKind,
    ActionStatus,
    Call,
    Conference,
    ConferenceMember,
    ConferenceState,
    MemberState,
    StreamState,
    unheard_after,
)
from voice.models.call import long_call_cutoff, stuck_call_cutoff
from voice.models.prepared import Prepared, one_row

# Actions on a call itself, whose state its row shows (a member's mute is its member row's).
CALL_ACTIONS = (ActionKind.HANGUP, ActionKind.REDIRECT)
MEMBER_ACTIONS = (ActionKind.MUTE, ActionKind.HOLD, ActionKind.COACH, ActionKind.REMOVE_MEMBER, ActionKind.MONITOR_MODE)
# A dial-out and a listening leg ringing are the conference's: its page shows how they go.
PLACING = (ActionKind.DIAL_OUT, ActionKind.LISTEN)
CONFERENCE_ACTIONS = (ActionKind.END_CONFERENCE, ActionKind.CONFERENCE_RECORDING, *PLACING)
# Actions a conference's summary shows while they are under way (a listening leg's mode
# shows beside its operator's name there, not only in its member row).
SUMMARY_ACTIONS = (*CONFERENCE_ACTIONS, ActionKind.MONITOR_MODE)
# How long a finished batch, dial-out or failure stays on a conference's page.
RECENT = timedelta(minutes=5)
FAILED = (ActionStatus.FAILED, ActionStatus.DROPPED)


@dataclass(frozen=True)
class CallRow:
    call: Call
    # The latest hang-up or redirect of this call, shown as pending, done or failed in its row.
    action: Action | None
    # The live conference the call is in, if any.
    conference: Conference | None = None

    @property
    def dom_id(self) -> str:
        return f"call-{self.call.call_id}"

    @property
    def flag(self) -> str:
        """"stuck", "long" or "": voice's rule (Call.standing)."""
        return self.call.standing

    @property
    def long_after(self) -> timedelta:
        return timedelta(seconds=settings.LONG_CALL_AFTER)

    @property
    def stuck_after(self) -> timedelta:
        return timedelta(seconds=settings.STUCK_CALL_AFTER)

    @property
    def last_heard_at(self):
        return self.call.last_heard_at

    @property
    def unheard_after(self) -> timedelta:
        return unheard_after()

    @property
    def unheard_at(self):
        """When the row is flagged as unheard of for too long, if nothing is heard before."""
        heard = self.call.last_heard_at
        return heard + unheard_after() if heard and self.call.is_live else None

    @property
    def long_at(self):
        """When the row turns long and stuck as the clock passes: the browser switches its
        class at these moments, holding no rule of its own."""
        start = self.call.start_time
        return start + timedelta(seconds=settings.LONG_CALL_AFTER) if start and self.call.is_live else None

    @property
    def stuck_at(self):
        start = self.call.start_time
        return start + timedelta(seconds=settings.STUCK_CALL_AFTER) if start and self.call.is_live else None


def call_rows(calls: Iterable[Call]) -> list[CallRow]:
    calls = list(calls)
    ids = [call.call_id for call in calls]
    latest: dict[str, Action] = {}
    for action in _call_actions.objects(ids):
        latest[action.call_id] = action
    conferences = {member.call_id: member.conference for member in _conferences_joined.objects(ids)}
    return [CallRow(call, latest.get(call.call_id), conferences.get(call.call_id)) for call in calls]


def call_row(call_id: str) -> CallRow | None:
    return calls_by_id([call_id]).get(call_id)


def calls_by_id(call_ids: Iterable[str]) -> dict[str, CallRow]:
    return {row.call.call_id: row for row in call_rows(_calls.objects(sorted(set(call_ids))))}


# A row's reads, asked for every changed row of every live frame: built once (prepared.py).
_calls = Prepared(lambda ids: Call.objects.filter(call_id__in=ids))
_call_actions = Prepared(
    lambda ids: Action.objects.filter(call_id__in=ids, kind__in=CALL_ACTIONS).select_related("requested_by").order_by("created_at", "id")
)
_conferences_joined = Prepared(
    lambda ids: ConferenceMember.objects.filter(
        call_id__in=ids, state=MemberState.JOINED, conference__state=ConferenceState.ACTIVE
    ).select_related("conference")
)


@dataclass(frozen=True)
class CallWindow:
    """The part of a view of the live calls the board shows: the first rows in the view's
    order, and how many the view holds."""

    form: CallFilterForm
    call_ids: list[str]
    total: int
    stuck: int
    long: int

    @property
    def more(self) -> int:
        return self.total - len(self.call_ids)


def call_window(form: CallFilterForm) -> CallWindow:
    reads = _window_reads(form)
    long_cutoff, stuck_cutoff = long_call_cutoff(), stuck_call_cutoff()
    # No row at all when the view can match nothing (a name that names no number).
    total, stuck, long = next(iter(reads.counts.rows(stuck_cutoff, long_cutoff)), (0, 0, 0))
    ids = [call_id for (call_id,) in reads.ids.rows(stuck_cutoff)]
    return CallWindow(form, ids, total, stuck, long)


@dataclass(frozen=True)
class _WindowReads:
    """A view's two reads, built once for the view (the board's page and each of its live
    frames ask them), and what they were built from besides the view: the number filter
    looks names up in the directory, and reads numbers in the home region."""

    built_from: tuple
    counts: Prepared
    ids: Prepared


def _window_reads(form: CallFilterForm) -> _WindowReads:
    # Read before building: a copy loaded meanwhile only builds them once more.
    named = form.is_valid() and form.cleaned_data["number"]
    built_from = (directory.directory.generation(), settings.PHONE_HOME_REGION) if named else ()
    reads = _windows.get(form.query)
    if reads is None or reads.built_from != built_from:
        if len(_windows) >= 100:
            _windows.clear()
        reads = _windows[form.query] = _WindowReads(built_from, *_window_statements(form))
    return reads


def _window_statements(form: CallFilterForm) -> tuple[Prepared, Prepared]:
    def counts(stuck_cutoff, long_cutoff):
        calls = form.apply(Call.objects.live(), stuck_cutoff=stuck_cutoff)
        stuck = Call.objects.stuck(cutoff=stuck_cutoff).values("pk")
        long = Call.objects.long(cutoffs=(long_cutoff, stuck_cutoff)).values("pk")
        return one_row(calls, total=Count("pk"), stuck=Count("pk", filter=Q(pk__in=stuck)), long=Count("pk", filter=Q(pk__in=long)))

    def ids(stuck_cutoff):
        return form.ordered(Call.objects.live(), stuck_cutoff=stuck_cutoff).values_list("call_id")[: form.window_rows]

    return Prepared(counts), Prepared(ids)


# The reads of the views asked for lately, by the view's query string.
_windows: dict[str, _WindowReads] = {}


def live_conferences() -> list[Conference]:
    return _with_listeners(list(Conference.objects.live().with_member_count().order_by("created_time", "id")))


def conference(conference_id: str) -> Conference | None:
    return next(iter(_with_listeners(list(Conference.objects.with_member_count().filter(conference_id=conference_id)))), None)


def _with_listeners(conferences: list[Conference]) -> list[Conference]:
    """Each conference with `listeners`: the operators listening in, for every supervisor
    to see on the board's list."""
    found = listening.listeners(conference.conference_id for conference in conferences)
    for conference in conferences:
        conference.listeners = found.get(conference.conference_id, [])
    return conferences


def conference_of(action: Action) -> str | None:
    """The conference an action is about: its target is the conference's id, or the
    conference's id and a member (or a dialled number) after a slash."""
    if action.kind not in (*MEMBER_ACTIONS, *CONFERENCE_ACTIONS):
        return None
    return action.target.split("/", 1)[0]


def dialled_into(call: Call) -> str | None:
    """The conference an operator dialled this call into (a dial-out, or their own phone
    to listen in), if they did."""
    listening_to = flows.monitoring(call.tag)
    return listening_to[0] if listening_to else flows.dialled_into(call.tag)


# A conference's members


@dataclass(frozen=True)
class Talking:
    """Whether a member is talking, as its row shows it: speaking or silent with a level (0 to
    5) and a noisy-line hint; waiting for its stream's first analysis; or unknown, its stream
    refused or ended (with why)."""

    state: str
    level: int = 0
    noisy: bool = False
    stamp: int = 0
    reason: str = ""

    @property
    def known(self) -> bool:
        return self.state in (live_activity.SPEAKING, live_activity.SILENT)

    @property
    def label(self) -> str:
        return {"speaking": "speaking", "silent": "silent", "waiting": "listening…"}.get(self.state, "activity unknown")


def talking(shown: live_activity.Shown | None, stream: str = StreamState.STARTED, cause: str = "") -> Talking | None:
    """What a member's row shows of its activity (None: its route does not stream it). The
    one rule: a stream Bandwidth refused or stopped, or that ended, makes it unknown."""
    if stream in (StreamState.REJECTED, StreamState.STOPPED):
        return Talking("unknown", reason=f"the stream was {StreamState(stream).label}" + (f" ({cause})" if cause else ""))
    if shown is None:
        return Talking("waiting") if stream == StreamState.STARTED else None
    if not shown.known:
        return Talking("unknown", stamp=shown.stamp, reason="the stream ended")
    return Talking(shown.state, shown.level, shown.noisy, shown.stamp)


@dataclass(frozen=True)
class MemberRow:
    member: ConferenceMember
    # The latest action of each kind on this member.
    actions: dict[str, Action] = field(default_factory=dict)
    # Whose listening leg the member is, and in which mode; None for a caller.
    listener: listening.Listener | None = None
    # Who is talking (None: the member's route does not show it).
    talking: Talking | None = None
    # The numbers of the members it coaches, as a person reads them.
    coached: tuple[str, ...] = ()

    @property
    def dom_id(self) -> str:
        return self.member.dom_id

    @property
    def mute_action(self) -> Action | None:
        return self.actions.get(ActionKind.MUTE)

    @property
    def hold_action(self) -> Action | None:
        return self.actions.get(ActionKind.HOLD)

    @property
    def coach_action(self) -> Action | None:
        return self.actions.get(ActionKind.COACH)

    @property
    def remove_action(self) -> Action | None:
        return self.actions.get(ActionKind.REMOVE_MEMBER)

    @property
    def failure(self) -> Action | None:
        """The latest action on the member, if it failed or was dropped (a later success
        clears it)."""
        latest = max(self.actions.values(), key=lambda action: (action.created_at, action.pk), default=None)
        return latest if latest is not None and latest.status in FAILED else None


def member_rows(members: Iterable[ConferenceMember]) -> list[MemberRow]:
    members = list(members)
    targets = [member.action_target for member in members]
    actions: dict[str, dict[str, Action]] = {target: {} for target in targets}
    for action in Action.objects.filter(target__in=targets, kind__in=MEMBER_ACTIONS).order_by("created_at", "id"):
        actions[action.target][action.kind] = action
    legs = {
        listener.member.action_target: listener
        for found in listening.listeners({member.conference_id for member in members}).values()
        for listener in found
    }
    streams = {
        call_id: (state, cause)
        for call_id, state, cause in Call.objects.filter(call_id__in=[member.call_id for member in members]).values_list(
            "call_id", "talking_stream", "talking_stream_cause"
        )
    }
    coached_ids = {call_id for member in members for call_id in _coached(member)}
    numbers = dict(
        ConferenceMember.objects.filter(call_id__in=coached_ids).values_list("call_id", "from_number")
    ) if coached_ids else {}
    return [
        MemberRow(
            member,
            actions[member.action_target],
            legs.get(member.action_target),
            talking(live_activity.of(member.call_id), *streams.get(member.call_id, (StreamState.NONE, ""))),
            coached=tuple(numbers.get(call_id) or call_id for call_id in _coached(member)),
        )
        for member in members
    ]


def _coached(member: ConferenceMember) -> list[str]:
    """The call ids a member coaches; a mirror row holding anything but a list of ids
    (written before its shape was checked) coaches no one the page can name."""
    ids = member.call_ids_to_coach
    return [call_id for call_id in ids if isinstance(call_id, str)] if isinstance(ids, list) else []


def present_members(conference: Conference) -> list[MemberRow]:
    return member_rows(conference.members.present())


def member_row(conference_id: str, call_id: str) -> MemberRow | None:
    member = ConferenceMember.objects.filter(conference_id=conference_id, call_id=call_id).first()
    return member_rows([member])[0] if member else None


# A conference's own actions


@dataclass(frozen=True)
class BatchProgress:
    batch: ActionBatch
    total: int
    done: int
    # The actions that failed or were dropped, with the member's number.
    failures: list[tuple[str, Action]]

    @property
    def finished(self) -> bool:
        return self.done + len(self.failures) == self.total

    @property
    def verb(self) -> str:
        return "muted" if self.batch.params.get("mute") else "unmuted"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def batch_progress(batch: ActionBatch) -> BatchProgress:
    actions = list(batch.actions.all())
    numbers = dict(
        ConferenceMember.objects.filter(
            conference_id=batch.conference_id, call_id__in=[action.call_id for action in actions]
        ).values_list("call_id", "from_number")
    )
    return BatchProgress(
        batch=batch,
        total=len(actions),
        done=sum(action.status == ActionStatus.DONE for action in actions),
        failures=[(numbers.get(action.call_id, action.call_id), action) for action in actions if action.status in FAILED],
    )


@dataclass(frozen=True)
class DialOut:
    action: Action
    # The call it placed, once placed.
    call: Call | None

    @property
    def number(self) -> str:
        return self.action.params.get("to", "")


@dataclass(frozen=True)
class ConferencePanel:
    """A conference's summary with what operators are doing to it."""

    conference: Conference
    # The latest end and recording change, if under way or recently failed.
    ending: Action | None
    recording: Action | None
    batch: BatchProgress | None
    dial_outs: list[DialOut]
    # Operators listening in (their legs present), and legs still ringing or just failed.
    listeners: list[listening.Listener] = field(default_factory=list)
    listens: list[DialOut] = field(default_factory=list)


def _showing(action: Action | None, since) -> Action | None:
    """An action worth showing: under way, or failed recently."""
    if action is None:
        return None
    if action.is_open or (action.status in FAILED and action.updated_at >= since):
        return action
    return None


def conference_panel(conference: Conference) -> ConferencePanel:
    since = timezone.now() - RECENT
    actions = Action.objects.filter(
        Q(target=conference.conference_id) | Q(kind__in=PLACING, target__startswith=f"{conference.conference_id}/"),
        kind__in=CONFERENCE_ACTIONS,
    ).filter(Q(status__in=OPEN_ACTION_STATUSES) | Q(updated_at__gte=since))
    latest: dict[str, Action] = {}
    placing: list[Action] = []
    for action in actions.order_by("created_at", "id"):
        latest[action.kind] = action
        if action.kind in PLACING:
            placing.append(action)
    calls = {call.call_id: call for call in Call.objects.filter(call_id__in=[a.call_id for a in placing if a.call_id])}
    listeners = listening.listeners([conference.conference_id]).get(conference.conference_id, [])
    present = {listener.member.call_id for listener in listeners}
    batch = (
        conference.batches.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=since)).order_by("-created_at", "-id").first()
    )
    return ConferencePanel(
        conference=conference,
        ending=_showing(latest.get(ActionKind.END_CONFERENCE), since),
        recording=_showing(latest.get(ActionKind.CONFERENCE_RECORDING), since),
        batch=batch_progress(batch) if batch else None,
        dial_outs=[DialOut(action, calls.get(action.call_id)) for action in reversed(placing) if action.kind == ActionKind.DIAL_OUT],
        listeners=listeners,
        # A leg is shown ringing until it joins; then it is a listener.
        listens=[
            DialOut(action, calls.get(action.call_id))
            for action in reversed(placing)
            if action.kind == ActionKind.LISTEN and action.call_id not in present
        ],
    )
