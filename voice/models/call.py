"""A call, as webhooks and reconciliation tell Switchboard about it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from voice import signals
from voice.facts import CallInfo
from voice.models.mirror import Mirrored, MirrorQuerySet, allowed_from, fill_missing, overwrite
from voice.models.upsert import (
    Advance,
    Always,
    Fill,
    Latest,
    Newest,
    When,
    WithMove,
    touch,
    upsert,
)
from voice.schema import (
    ACCOUNT_ID_LENGTH,
    APPLICATION_ID_LENGTH,
    ENUM_LENGTH,
    FROM_LENGTH,
    ID_LENGTH,
    TAG_LENGTH,
    TO_LENGTH,
)

# Calls


class CallState(models.TextChoices):
    QUEUED = "queued", "queued"
    INITIATED = "initiated", "ringing"
    ANSWERED = "answered", "answered"
    # Bandwidth's final state: "disconnected" in the real API, "completed" in the seed spec.
    ENDED = "ended", "ended"

    @classmethod
    def from_bandwidth(cls, status: str) -> CallState | None:
        """A call's state as Bandwidth's API gives it, in both documents (the real API and
        the seed specification); None for one Switchboard does not know, which leaves the
        state alone."""
        return _BANDWIDTH_STATES.get(status)


_BANDWIDTH_STATES = {
    "queued": CallState.QUEUED,
    "initiated": CallState.INITIATED,
    "answered": CallState.ANSWERED,
    "disconnected": CallState.ENDED,
    "completed": CallState.ENDED,
}


# The only moves a call may make. Anything else is an old or duplicated event arriving
# late, and is ignored: a call never moves backwards.
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    CallState.QUEUED: frozenset({CallState.INITIATED, CallState.ANSWERED, CallState.ENDED}),
    CallState.INITIATED: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


class Routed(Protocol):
    """What a BXML reply gave a call (voice.flows.Plan): its route and flow."""

    route_id: int | None
    flow: dict


# How long a live call may be up before the board flags it: long (worth a look), then stuck
# (forgotten on hold, or a far end that never hung up: an agent should act). The one rule,
# stated twice side by side: in SQL (CallQuerySet.long, .stuck) and in Python (Call.standing).
# The thresholds are the board's (STUCK_CALL_AFTER, LONG_CALL_AFTER) unless a caller gives its
# own: an alert rule whose threshold an admin set (console/alert_rules.py).
def stuck_call_cutoff(after: float | None = None) -> datetime:
    return timezone.now() - timedelta(seconds=settings.STUCK_CALL_AFTER if after is None else after)


def long_call_cutoff(after: float | None = None) -> datetime:
    return timezone.now() - timedelta(seconds=settings.LONG_CALL_AFTER if after is None else after)


class StreamState(models.TextChoices):
    """Where the call's talking stream is (<StartStream>, voice/flows.py), as Bandwidth's
    mediaStream* webhooks said: none yet, sending, refused, ended."""

    NONE = "", "no stream"
    STARTED = "started", "streaming"
    REJECTED = "rejected", "rejected"
    STOPPED = "stopped", "stopped"


LIVE_CALL_STATES = [state for state in CallState if state != CallState.ENDED]


class CallQuerySet(MirrorQuerySet):
    def live(self) -> CallQuerySet:
        # An IN on the live states, not "not ended": the (state, start_time) index serves
        # it, and the table holds every call ever made.
        return self.filter(state__in=LIVE_CALL_STATES)

    def ended(self) -> CallQuerySet:
        return self.filter(state=CallState.ENDED)

    def stuck(self, after: float | None = None, *, cutoff: datetime | None = None) -> CallQuerySet:
        """Live calls up longer than STUCK_CALL_AFTER (or `after` seconds): started before
        that long ago, or before `cutoff` (a statement kept and run later, with the moment
        it runs at: voice/models/prepared.py)."""
        return self.live().filter(start_time__lt=cutoff or stuck_call_cutoff(after))

    def long(
        self, after: float | None = None, stuck_after: float | None = None, *, cutoffs: tuple[datetime, datetime] | None = None
    ) -> CallQuerySet:
        """Live calls up longer than LONG_CALL_AFTER (or `after` seconds), not yet stuck;
        `cutoffs`, the long and the stuck one, as stuck()'s."""
        long_cutoff, stuck_cutoff = cutoffs or (long_call_cutoff(after), stuck_call_cutoff(stuck_after))
        return self.live().filter(start_time__lt=long_cutoff, start_time__gte=stuck_cutoff)


class Call(Mirrored, models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"
        # A value Bandwidth added since (voice/schema.py); the raw one is in the stored event.
        UNKNOWN = "unknown"

    call_id = models.CharField(max_length=ID_LENGTH, unique=True)
    account_id = models.CharField(max_length=ACCOUNT_ID_LENGTH, blank=True)
    application_id = models.CharField(max_length=APPLICATION_ID_LENGTH, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    from_number = models.CharField(max_length=FROM_LENGTH, blank=True)
    to_number = models.CharField(max_length=TO_LENGTH, blank=True)
    state = models.CharField(max_length=16, choices=CallState.choices, default=CallState.INITIATED)
    start_time = models.DateTimeField(null=True, blank=True)
    answer_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    disconnect_cause = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    tag = models.CharField(max_length=TAG_LENGTH, blank=True)
    parent_call_id = models.CharField(max_length=ID_LENGTH, blank=True)
    # machineDetectionComplete's (or a sync answer's) result: human, answering-machine, ...
    machine_detection_result = models.CharField(max_length=ENUM_LENGTH, blank=True)
    # The route whose flow answered this call, and what that flow told Bandwidth (kept as
    # given, since the route may be edited while the call is up): voice/flows.py.
    route = models.ForeignKey("Route", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    flow = models.JSONField(default=dict, blank=True)
    # When Switchboard last heard anything about this call (webhook or repair), by its own
    # clock; and the newest eventTime applied, by Bandwidth's, which orders tag changes.
    last_event_at = models.DateTimeField(null=True, blank=True)
    latest_event_time = models.DateTimeField(null=True, blank=True)
    # When reconciliation last read this call from Bandwidth's API.
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # The stream that shows who is talking: its state, why it ended or was refused, and the
    # eventTime of the webhook that said so (an older one changes nothing).
    talking_stream = models.CharField(max_length=16, choices=StreamState.choices, blank=True, default=StreamState.NONE)
    talking_stream_cause = models.CharField(max_length=64, blank=True)
    talking_stream_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["start_time", "id"]
        indexes = [
            models.Index(fields=["state", "start_time"]),
            # The call history (newest ended first, keyset pages) and the board's figures.
            models.Index(fields=["end_time", "id"]),
            models.Index(fields=["start_time", "id"]),
        ]
        permissions = [("hangup_call", "Can hang up calls")]

    def __str__(self) -> str:
        return self.call_id

    @property
    def is_live(self) -> bool:
        return self.state != CallState.ENDED

    @property
    def standing(self) -> str:
        """"stuck", "long" or "" (CallQuerySet.stuck and .long say the same in SQL)."""
        if not self.is_live or self.start_time is None:
            return ""
        if self.start_time < stuck_call_cutoff():
            return "stuck"
        return "long" if self.start_time < long_call_cutoff() else ""

    @property
    def is_stuck(self) -> bool:
        return self.standing == "stuck"

    @property
    def duration(self) -> timedelta | None:
        if not self.start_time:
            return None
        return (self.end_time or timezone.now()) - self.start_time

    def changed(self) -> None:
        signals.call_changed.send(sender=Call, call_id=self.call_id)

    @classmethod
    def stream_reported(cls, call_id: str, state: str, *, at: datetime, cause: str = "") -> bool:
        """A mediaStream* webhook about the call's talking stream: applied unless an event
        as new or newer was (Bandwidth does not order its webhooks). True if it changed."""
        updated = (
            cls.objects.filter(call_id=call_id)
            .filter(models.Q(talking_stream_at__isnull=True) | models.Q(talking_stream_at__lt=at))
            .update(talking_stream=state, talking_stream_cause=cause[:64], talking_stream_at=at)
        )
        if updated:
            signals.call_changed.send(sender=Call, call_id=call_id)
        return bool(updated)

    @classmethod
    def of(cls, info: CallInfo) -> Call:
        """An unsaved call with Bandwidth's facts: what a BXML reply is planned from."""
        return cls(call_id=info.call_id, **{name: value for name, value in _facts(info).items() if value is not None})

    @classmethod
    def observe(
        cls,
        info: CallInfo,
        state: str,
        *,
        at: datetime,
        answered_at: datetime | None = None,
        detection: str = "",
        call_times: bool = True,
        plan: Routed | None = None,
    ) -> tuple[Call, bool]:
        """A webhook sent at eventTime `at` says the call is in `state`, with `info`: create
        the call, or move it on (never backwards) and fill what it lacks, in one statement.
        Returns the call as it is now, and whether anything an operator sees changed.

        - A fact (from, to, the start) fills a gap, never overwrites: every event repeats
          them, and a dropped or reordered event would have brought the same.
        - What comes with a move (a disconnect's end and cause; the answer time: Bandwidth's
          `answerTime`, else `answered_at`, Switchboard's estimate) is set when the state
          moves, else fills a gap. Bandwidth's own answer time always replaces an estimate.
        - A call ended by reconciliation on a 404 has a guessed end and no cause: a late
          disconnect's end time replaces the guess.
        - The tag of the newest event by eventTime wins: a tag can change during a call, and
          every event carries the tag of its moment (https://dev.bandwidth.com/docs/voice/bxml/tag).
        - Recording events carry the recording's times, not the call's (`call_times` off).
        - `plan`: the route and flow a BXML reply gave the call (voice/flows.py), kept as given."""
        move = Advance(state, allowed_from(CALL_TRANSITIONS, state))
        end = WithMove(info.end_time, move)
        if info.disconnect_cause and info.end_time is not None:
            end = When(info.end_time, {"state": CallState.ENDED, "disconnect_cause": ""}, otherwise=end)
        facts = _facts(info) if call_times else {**_facts(info), "start_time": None}
        rules = {
            "state": move,
            **{name: Fill(value) for name, value in facts.items()},
            "answer_time": Always(info.answer_time) if info.answer_time else WithMove(answered_at, move),
            "end_time": end,
            "disconnect_cause": WithMove(info.disconnect_cause, move),
            "error_message": WithMove(info.error_message, move),
            "machine_detection_result": WithMove(detection, move),
            "tag": Newest(info.tag, at),
            "latest_event_time": Latest(at),
            "last_event_at": Always(timezone.now()),
        }
        untracked = ["latest_event_time", "last_event_at"]
        if plan is not None:
            rules.update(route_id=Always(plan.route_id), flow=Always(plan.flow))
            untracked += ["route_id", "flow"]
        outcome = upsert(cls, {"call_id": info.call_id}, rules, untracked=untracked)
        if outcome.changed:
            outcome.row.changed()
        return outcome.row, outcome.changed

    @classmethod
    def heard(cls, call_id: str) -> Call | None:
        """Something showed the call is still known to Bandwidth (a conference event about
        it) without being about its own facts. Returns the call, if Switchboard has it: its
        flow says how it joined a conference."""
        return next(iter(touch(cls, {"call_id": call_id}, last_event_at=timezone.now())), None)

    @classmethod
    def placed(cls, call_id: str, *, to: str, from_number: str, tag: str) -> bool:
        """An operator placed the call (createCall answered): outbound calls get no
        initiate webhook, so the call is on the board, ringing, from now on."""
        outcome = upsert(
            cls,
            {"call_id": call_id},
            {"last_event_at": Always(timezone.now())},
            new={
                "direction": Call.Direction.OUTBOUND,
                "state": CallState.INITIATED,
                "from_number": from_number,
                "to_number": to,
                "tag": tag,
            },
            untracked=["last_event_at"],
        )
        if outcome.created:
            outcome.row.changed()
        return outcome.created

    @classmethod
    def repair(cls, info: CallInfo, *, read_at: datetime) -> dict[str, tuple]:
        """Make the call agree with Bandwidth's answer (reconciliation); returns what
        changed, {column: (before, after)}.

        Bandwidth's own times and causes replace Switchboard's when the call ends by this
        repair, or has ended (an inbound call's answer time is an estimate until then). A
        live call in the state Bandwidth says missed nothing: only its gaps are filled. A
        concurrent webhook wins: each column is set on the condition it still holds what
        was read."""
        target = CallState.from_bandwidth(info.state)
        facts = _facts(info)
        with transaction.atomic():
            call, created = cls.objects.get_or_create(
                call_id=info.call_id,
                defaults={
                    **{name: value for name, value in facts.items() if value is not None},
                    "state": target or CallState.INITIATED,
                    "last_synced_at": read_at,
                },
            )
            if created:
                call.changed()
                return {"state": (None, call.state)}
            changes: dict[str, tuple] = {}
            if target and target != call.state and cls.advance(call.call_id, target):
                changes["state"] = (call.state, target)
            mine = cls.objects.filter(pk=call.pk)
            ending = {name: facts[name] for name in ENDING_FACTS}
            if changes or target == CallState.ENDED:
                changes.update(overwrite(mine, call, ending))
            else:
                for name in fill_missing(mine, **ending):
                    changes[name] = (getattr(call, name), ending[name])
            mine.update(last_synced_at=read_at)
            # Pushed even unchanged: the board shows when the call was last heard of, and
            # flags a call unheard of for long (mirror.unheard_after).
            call.changed()
            return changes

    def forget(self, *, read_at: datetime) -> bool:
        """Bandwidth answered 404 for a call the mirror has live: it no longer knows it. The
        end is Switchboard's guess, with no cause: a disconnect delivered late still brings
        Bandwidth's own end time and cause (observe)."""
        return self.advance(self.call_id, CallState.ENDED, end_time=self.end_time or read_at, last_synced_at=read_at)

    @classmethod
    def advance(cls, call_id: str, to_state: str, **fields) -> bool:
        """Move a call to `to_state` if its lifecycle allows it, with `fields`; return
        whether it moved. One conditional UPDATE: of two concurrent writers only one can
        match the predecessor states."""
        moved = bool(
            cls.objects.filter(call_id=call_id, state__in=allowed_from(CALL_TRANSITIONS, to_state)).update(
                state=to_state, updated_at=timezone.now(), **fields
            )
        )
        if moved:
            cls(call_id=call_id).changed()
        return moved


# What reconciliation takes from Bandwidth's answer about a call Switchboard has.
ENDING_FACTS = ("start_time", "answer_time", "end_time", "disconnect_cause", "error_message", "parent_call_id", "tag")


def _facts(info: CallInfo) -> dict:
    """Bandwidth's facts about a call as the columns that keep them: the one mapping, for
    webhooks and the API alike."""
    return {
        "account_id": info.account_id,
        "application_id": info.application_id,
        "direction": info.direction,
        "from_number": info.from_number,
        "to_number": info.to_number,
        "parent_call_id": info.parent_call_id,
        "start_time": info.start_time,
        "answer_time": info.answer_time,
        "end_time": info.end_time,
        "disconnect_cause": info.disconnect_cause,
        "error_message": info.error_message,
        "tag": info.tag,
    }
