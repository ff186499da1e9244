"""The mirror of Bandwidth's objects, the event log, call routes and operator actions.

Webhooks and reconciliation drive the mirror (voice/state.py, voice/reconcile.py);
operators drive Actions (voice/actions.py, performed by voice/tasks.py). Every lifecycle is
a TextChoices status plus one table of allowed transitions, and every change is a
conditional UPDATE, so that two writers (two webhooks, a webhook and a repair, two
workers) cannot both win.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from voice import signals
from voice.schema import (
    ACCOUNT_ID_LENGTH,
    APPLICATION_ID_LENGTH,
    CONFERENCE_NAME_LENGTH,
    ENUM_LENGTH,
    EVENT_TYPE_LENGTH,
    FROM_LENGTH,
    ID_LENGTH,
    RECORDING_NAME_LENGTH,
    TAG_LENGTH,
    TO_LENGTH,
    URL_LENGTH,
    storable,
)


def allowed_from(transitions: dict[str, frozenset[str]], target: str) -> list[str]:
    """The states from which `target` may be reached."""
    return [state for state, targets in transitions.items() if target in targets]


def _is_text(model: type[models.Model], field_name: str) -> bool:
    return isinstance(model._meta.get_field(field_name), (models.CharField, models.TextField))


def _empty(model: type[models.Model], name: str) -> Q:
    empty = Q(**{f"{name}__isnull": True})
    if _is_text(model, name):
        empty |= Q(**{name: ""})
    return empty


def fill_missing(queryset: models.QuerySet, **fields) -> list[str]:
    """Set the given fields where the row has none yet; never overwrite what is there.

    Facts a dropped or reordered event would have brought fill gaps this way whatever the
    arrival order. One read finds the gaps (usually none: every event repeats the call's
    facts), then one UPDATE fills them, each field guarded by its own emptiness so that a
    concurrent writer's value still wins. Returns the names of the fields that changed."""
    given = {name: value for name, value in fields.items() if value not in (None, "")}
    row = queryset.values(*given).first() if given else None
    if row is None:
        return []
    gaps = [name for name in given if row[name] in (None, "")]
    if not gaps:
        return []
    model = queryset.model
    queryset.update(
        **{
            name: models.Case(
                models.When(_empty(model, name), then=models.Value(given[name])),
                default=models.F(name),
                output_field=_column(model, name),
            )
            for name in gaps
        }
    )
    return gaps


def _column(model: type[models.Model], name: str) -> models.Field:
    """The field whose values the column holds: for a foreign key (a recording's call_id),
    the field it points to."""
    field = model._meta.get_field(name)
    return field.target_field if field.is_relation else field


def event_noted(event_time: datetime, tag: str) -> dict:
    """The UPDATE that records an event's arrival on a call or a conference: now, and if it
    is the newest by eventTime, its time and its tag (one statement, whatever the order)."""
    newest = Q(latest_event_time__isnull=True) | Q(latest_event_time__lte=event_time)
    return {
        "last_event_at": timezone.now(),
        "latest_event_time": models.Case(
            models.When(newest, then=models.Value(event_time, output_field=models.DateTimeField())),
            default=models.F("latest_event_time"),
        ),
        "tag": models.Case(
            models.When(newest, then=models.Value(tag, output_field=models.CharField())),
            default=models.F("tag"),
        ),
    }


def keep_latest(queryset: models.QuerySet, name: str, value: datetime | None) -> bool:
    """Raise a time field to `value` if it is unset or earlier (order-independent maximum)."""
    if value is None:
        return False
    return bool(queryset.filter(Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__lt": value})).update(**{name: value}))


# Calls


class CallState(models.TextChoices):
    QUEUED = "queued", "queued"
    INITIATED = "initiated", "ringing"
    ANSWERED = "answered", "answered"
    # Bandwidth's final state: "disconnected" in the real API, "completed" in the seed spec.
    ENDED = "ended", "ended"


# The only moves a call may make. Anything else is an old or duplicated event arriving
# late, and is ignored: a call never moves backwards.
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    CallState.QUEUED: frozenset({CallState.INITIATED, CallState.ANSWERED, CallState.ENDED}),
    CallState.INITIATED: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


def stuck_call_cutoff() -> datetime:
    return timezone.now() - timedelta(seconds=settings.STUCK_CALL_AFTER)


LIVE_CALL_STATES = [state for state in CallState if state != CallState.ENDED]


class MirrorQuerySet(models.QuerySet):
    """Shared by the objects reconciliation re-reads (calls, conferences), which note when
    they were last heard of (last_event_at) and last read from Bandwidth (last_synced_at)."""

    def quiet(self, since: datetime) -> MirrorQuerySet:
        """Objects neither webhooks nor reconciliation have told us about since `since`."""
        return self.filter(Q(last_event_at__isnull=True) | Q(last_event_at__lt=since)).filter(
            Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=since)
        )


class CallQuerySet(MirrorQuerySet):
    def live(self) -> CallQuerySet:
        # An IN on the live states, not "not ended": the (state, start_time) index serves
        # it, and the table holds every call ever made.
        return self.filter(state__in=LIVE_CALL_STATES)

    def ended(self) -> CallQuerySet:
        return self.filter(state=CallState.ENDED)

    def stuck(self) -> CallQuerySet:
        """Live calls up longer than STUCK_CALL_AFTER: forgotten on hold, or a far end that
        never hung up; an agent should look at them."""
        return self.live().filter(start_time__lt=stuck_call_cutoff())


class Call(models.Model):
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
    def is_stuck(self) -> bool:
        """Up longer than STUCK_CALL_AFTER (the board flags it as the clock passes)."""
        return self.is_live and self.start_time is not None and self.start_time < stuck_call_cutoff()

    @property
    def duration(self) -> timedelta | None:
        if not self.start_time:
            return None
        return (self.end_time or timezone.now()) - self.start_time

    @classmethod
    def advance(cls, call_id: str, to_state: str, **fields) -> bool:
        """Move a call to `to_state` if its lifecycle allows it; return whether it moved.

        One conditional UPDATE: of two concurrent writers only one can match the
        predecessor states, and an event older than the current state matches none.
        """
        moved = cls.objects.filter(
            call_id=call_id, state__in=allowed_from(CALL_TRANSITIONS, to_state)
        ).update(state=to_state, updated_at=timezone.now(), **fields)
        if moved:
            signals.call_changed.send(sender=cls, call_id=call_id)
        return bool(moved)

    @classmethod
    def fill_missing(cls, call_id: str, **fields) -> bool:
        """Set facts the row lacks (an answer time learnt from a late answer event) without
        touching the state or overwriting what a newer event already recorded."""
        changed = fill_missing(cls.objects.filter(call_id=call_id), **fields)
        if changed:
            signals.call_changed.send(sender=cls, call_id=call_id)
        return bool(changed)

    def note_event(self, *, event_time: datetime, tag: str) -> bool:
        """Record that an event about this call arrived now. A tag can change during a
        call, and every event carries the tag set at the time (none when there is none),
        so the tag of the newest event by eventTime wins, whatever the arrival order.
        Returns whether the tag changed (judged from this instance, as read before the
        event was applied; the UPDATE itself is the guard).
        https://dev.bandwidth.com/docs/voice/bxml/tag"""
        call_id = self.call_id
        retagged = (self.latest_event_time is None or self.latest_event_time <= event_time) and self.tag != tag
        Call.objects.filter(call_id=call_id).update(**event_noted(event_time, tag))
        if retagged:
            signals.call_changed.send(sender=Call, call_id=call_id)
        return retagged

    @classmethod
    def heard(cls, call_id: str) -> None:
        """Something showed the call is still known to Bandwidth (a conference event about
        it, say) without being about its own facts."""
        cls.objects.filter(call_id=call_id).update(last_event_at=timezone.now())


# Conferences


class ConferenceState(models.TextChoices):
    ACTIVE = "active", "active"
    COMPLETED = "completed", "completed"


CONFERENCE_TRANSITIONS: dict[str, frozenset[str]] = {
    ConferenceState.ACTIVE: frozenset({ConferenceState.COMPLETED}),
    ConferenceState.COMPLETED: frozenset(),
}

# Bandwidth's limits: https://dev.bandwidth.com/docs/voice/bxml/conference
CONFERENCE_MAX_MEMBERS = 20
CONFERENCE_MAX_AGE = timedelta(hours=24)
# The console warns this close to either limit.
CONFERENCE_MEMBERS_WARNING = 2
CONFERENCE_AGE_WARNING = timedelta(hours=1)
CONFERENCE_NAME = RegexValidator(
    r"^[A-Za-z0-9_.\-]{1,100}$", "Up to 100 letters, digits, '-', '_' or '.' (Bandwidth's rule for conference names)."
)


class ConferenceQuerySet(MirrorQuerySet):
    def live(self) -> ConferenceQuerySet:
        return self.filter(state=ConferenceState.ACTIVE)

    def with_member_count(self) -> ConferenceQuerySet:
        return self.annotate(member_count=models.Count("members", filter=Q(members__state=MemberState.JOINED)))


class Conference(models.Model):
    """A Bandwidth conference. Bandwidth creates one on the first <Conference> of a name and
    ends it when the last member leaves; the name can then be reused by a new conference
    with a new id."""

    conference_id = models.CharField(max_length=ID_LENGTH, unique=True)
    name = models.CharField(max_length=CONFERENCE_NAME_LENGTH, blank=True)
    # The tag of the call that created the conference; every conference event carries it.
    tag = models.CharField(max_length=TAG_LENGTH, blank=True)
    state = models.CharField(max_length=16, choices=ConferenceState.choices, default=ConferenceState.ACTIVE)
    # Bandwidth's createdTime, or until read from the API the earliest event about it.
    created_time = models.DateTimeField(null=True, blank=True)
    completed_time = models.DateTimeField(null=True, blank=True)
    # Set when Switchboard answered conferenceCreated with <StartRecording>; cleared when
    # the conference ends (which stops its recording).
    is_recording = models.BooleanField(default=False)
    last_event_at = models.DateTimeField(null=True, blank=True)
    latest_event_time = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # When reconciliation listed its recordings, once it had ended (voice/reconcile.py).
    recordings_read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConferenceQuerySet.as_manager()

    class Meta:
        ordering = ["created_time", "id"]
        indexes = [models.Index(fields=["state", "created_time"]), models.Index(fields=["name", "state"])]

    def __str__(self) -> str:
        return f"{self.name or '?'} ({self.conference_id})"

    @property
    def is_live(self) -> bool:
        return self.state == ConferenceState.ACTIVE

    @property
    def dom_id(self) -> str:
        return f"conference-{self.conference_id}"

    @property
    def capacity(self) -> int:
        return CONFERENCE_MAX_MEMBERS

    @property
    def age(self) -> timedelta | None:
        if not self.created_time:
            return None
        return (self.completed_time or timezone.now()) - self.created_time

    @property
    def age_limit_at(self) -> datetime | None:
        """When Bandwidth ends the conference, whoever is still in it."""
        return self.created_time + CONFERENCE_MAX_AGE if self.created_time else None

    @property
    def age_warning_at(self) -> datetime | None:
        return self.age_limit_at - CONFERENCE_AGE_WARNING if self.created_time else None

    @property
    def is_nearly_full(self) -> bool:
        """Within CONFERENCE_MEMBERS_WARNING of the limit; needs with_member_count()."""
        return self.member_count >= CONFERENCE_MAX_MEMBERS - CONFERENCE_MEMBERS_WARNING

    @property
    def is_full(self) -> bool:
        """Needs with_member_count()."""
        return self.member_count >= CONFERENCE_MAX_MEMBERS

    def changed(self) -> None:
        signals.conference_changed.send(sender=Conference, conference_id=self.conference_id)

    def complete(self, completed_time: datetime) -> bool:
        """End the conference and close every member still in it at `completed_time`.

        A conferenceCompleted that overtakes the last member's exit leaves no one in the
        conference; the exit, when it arrives, sets that member's own leaving time."""
        moved = Conference.objects.filter(
            pk=self.pk, state__in=allowed_from(CONFERENCE_TRANSITIONS, ConferenceState.COMPLETED)
        ).update(state=ConferenceState.COMPLETED, completed_time=completed_time, is_recording=False, updated_at=timezone.now())
        if not moved:
            return False
        self.refresh_from_db()
        closing = list(self.members.filter(state=MemberState.JOINED).values_list("call_id", flat=True))
        self.members.filter(state=MemberState.JOINED).update(
            state=MemberState.LEFT, left_at=completed_time, updated_at=timezone.now()
        )
        for call_id in closing:
            signals.member_changed.send(sender=ConferenceMember, conference_id=self.conference_id, call_id=call_id)
        self.changed()
        return True

    def note_event(self, *, event_time: datetime, tag: str) -> None:
        """As Call.note_event: the newest event's tag (the creating call's) wins."""
        earliest = Q(created_time__isnull=True) | Q(created_time__gt=event_time)
        Conference.objects.filter(pk=self.pk).update(
            **event_noted(event_time, tag),
            created_time=models.Case(
                models.When(earliest, then=models.Value(event_time, output_field=models.DateTimeField())),
                default=models.F("created_time"),
            ),
        )


class MemberState(models.TextChoices):
    """In or out. Unlike a call's, a member's lifecycle goes both ways (a coach may leave and
    join again), so no table of moves orders it: the newest event by eventTime decides
    (ConferenceMember.record_join and record_exit), whatever the arrival order."""

    JOINED = "joined", "in the conference"
    LEFT = "left", "left"


class ConferenceMemberQuerySet(models.QuerySet):
    def present(self) -> ConferenceMemberQuerySet:
        """Members in the conference now, in the order they joined."""
        return self.filter(state=MemberState.JOINED).order_by("joined_at", "id")


class ConferenceMember(models.Model):
    """One call in one conference. Bandwidth names a member by its callId.

    mute, hold and callIdsToCoach have no webhook: they are set from the <Conference>
    attributes Switchboard answered with, from the API's answer to an operator's change,
    and from reconciliation's reading of getConference activeMembers."""

    conference = models.ForeignKey(
        Conference, to_field="conference_id", db_column="conference_id", on_delete=models.CASCADE, related_name="members"
    )
    # The member's call, by callId; no database constraint, since a member event may arrive
    # before (or without) any event about the call itself.
    call = models.ForeignKey(
        Call,
        to_field="call_id",
        db_column="call_id",
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="memberships",
    )
    from_number = models.CharField(max_length=FROM_LENGTH, blank=True)
    to_number = models.CharField(max_length=TO_LENGTH, blank=True)
    state = models.CharField(max_length=16, choices=MemberState.choices, default=MemberState.JOINED)
    mute = models.BooleanField(default=False)
    hold = models.BooleanField(default=False)
    call_ids_to_coach = models.JSONField(default=list, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    # The eventTime of the newest join or exit applied: an older one changes nothing.
    latest_event_time = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConferenceMemberQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["conference", "call"], name="one_member_per_call_and_conference")]
        indexes = [models.Index(fields=["conference", "state"])]

    def __str__(self) -> str:
        return f"{self.call_id} in {self.conference_id}"

    @property
    def dom_id(self) -> str:
        return f"member-{self.call_id}"

    @property
    def is_present(self) -> bool:
        return self.state == MemberState.JOINED

    @property
    def is_coach(self) -> bool:
        return bool(self.call_ids_to_coach)

    @property
    def duration(self) -> timedelta | None:
        if not self.joined_at:
            return None
        return (self.left_at or timezone.now()) - self.joined_at

    @property
    def action_target(self) -> str:
        """How an Action names this member: Bandwidth's own path, conferenceId/memberId."""
        return f"{self.conference_id}/{self.call_id}"

    def changed(self) -> None:
        signals.member_changed.send(sender=ConferenceMember, conference_id=self.conference_id, call_id=self.call_id)

    @classmethod
    def record_controls(cls, conference_id: str, call_id: str, *, mute: bool, hold: bool, call_ids_to_coach: list[str]) -> bool:
        """Set mute, hold and coaching as Bandwidth reported them just now (the member GET
        after an operator's change); True if the mirror changed."""
        changed = bool(
            cls.objects.filter(conference_id=conference_id, call_id=call_id)
            .exclude(mute=mute, hold=hold, call_ids_to_coach=call_ids_to_coach)
            .update(mute=mute, hold=hold, call_ids_to_coach=call_ids_to_coach, updated_at=timezone.now())
        )
        if changed:
            cls(conference_id=conference_id, call_id=call_id).changed()
        return changed

    @classmethod
    def _heard(
        cls, conference: Conference, call_id: str, *, from_number: str, to_number: str, **defaults
    ) -> tuple[ConferenceMember, models.QuerySet | None, bool]:
        """What a join and an exit share: create the member with `defaults` (announcing it),
        or note the event's arrival on it and fill the from and to it lacks. Returns the
        member; its one-row queryset for the caller's own conditional UPDATE, or None if it
        was just created (nothing more to apply); and whether from or to was filled."""
        member, created = cls.objects.get_or_create(
            conference=conference,
            call_id=call_id,
            defaults=dict(
                from_number=from_number,
                to_number=to_number,
                last_event_at=timezone.now(),
                **defaults,
            ),
        )
        if created:
            member.changed()
            return member, None, True
        mine = cls.objects.filter(pk=member.pk)
        mine.update(last_event_at=timezone.now())
        return member, mine, bool(fill_missing(mine, from_number=from_number, to_number=to_number))

    @classmethod
    def record_join(
        cls, conference: Conference, call_id: str, *, at: datetime, from_number: str = "", to_number: str = "", **flags
    ) -> bool:
        """Apply a conferenceMemberJoin at eventTime `at`; the caller holds the conference row
        locked, so a concurrent conferenceCompleted cannot slip in between.

        The newest join or exit decides whether the member is in. A join into a conference
        already completed (its completion overtook the join) leaves the member out."""
        present = conference.is_live
        state = MemberState.JOINED if present else MemberState.LEFT
        left_at = None if present else conference.completed_time
        member, mine, changed = cls._heard(
            conference,
            call_id,
            from_number=from_number,
            to_number=to_number,
            state=state,
            joined_at=at,
            left_at=left_at,
            latest_event_time=at,
            **flags,
        )
        if mine is None:
            return True
        changed |= keep_latest(mine, "joined_at", at)
        # A newer join (a coach who left and came back, a call redirected back in) joins
        # with the mute, hold and coaching its BXML gave this time.
        changed |= bool(
            mine.filter(Q(latest_event_time__isnull=True) | Q(latest_event_time__lt=at)).update(
                state=state, left_at=left_at, latest_event_time=at, updated_at=timezone.now(), **flags
            )
        )
        if changed:
            member.changed()
        return changed

    @classmethod
    def record_exit(cls, conference: Conference, call_id: str, *, at: datetime, from_number: str = "", to_number: str = "") -> bool:
        """Apply a conferenceMemberExit at eventTime `at`. An exit that arrives before its
        join records the member as gone, so the join, older, cannot bring a ghost back. On
        equal eventTimes the exit wins."""
        member, mine, changed = cls._heard(
            conference,
            call_id,
            from_number=from_number,
            to_number=to_number,
            state=MemberState.LEFT,
            left_at=at,
            latest_event_time=at,
        )
        if mine is None:
            return True
        changed |= bool(
            mine.filter(Q(latest_event_time__isnull=True) | Q(latest_event_time__lte=at))
            .exclude(state=MemberState.LEFT, left_at=at)
            .update(state=MemberState.LEFT, left_at=at, latest_event_time=at, updated_at=timezone.now())
        )
        if changed:
            member.changed()
        return changed


# Recordings and transcriptions


class RecordingStatus(models.TextChoices):
    # recordComplete seen: the recording exists but is not downloadable yet.
    PROCESSING = "processing", "processing"
    COMPLETE = "complete", "complete"
    # Downloadable, with gaps.
    PARTIAL = "partial", "partial"
    ERROR = "error", "error"
    DELETED = "deleted", "deleted"


# The statuses in which Bandwidth has the media to download.
DOWNLOADABLE_RECORDING_STATUSES = (RecordingStatus.COMPLETE, RecordingStatus.PARTIAL)

RECORDING_TRANSITIONS: dict[str, frozenset[str]] = {
    RecordingStatus.PROCESSING: frozenset(
        {RecordingStatus.COMPLETE, RecordingStatus.PARTIAL, RecordingStatus.ERROR, RecordingStatus.DELETED}
    ),
    RecordingStatus.COMPLETE: frozenset({RecordingStatus.DELETED}),
    RecordingStatus.PARTIAL: frozenset({RecordingStatus.DELETED}),
    RecordingStatus.ERROR: frozenset({RecordingStatus.DELETED}),
    RecordingStatus.DELETED: frozenset(),
}


# Bandwidth keeps recordings and transcriptions 30 days
# (https://dev.bandwidth.com/docs/voice/guides/recordingGuide); an archived copy outlives it.
RECORDING_RETENTION = timedelta(days=30)
# Bandwidth transcribes call recordings longer than 0.5 s and shorter than 4 h
# (https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/transcribeCallRecording).
TRANSCRIBABLE_SECONDS = (0.5, 4 * 3600.0)


class RecordingQuerySet(models.QuerySet):
    def listed(self) -> RecordingQuerySet:
        """What the recordings list pages through: every recording with a start time (each
        of Bandwidth's recording events and listings carries one)."""
        return self.filter(start_time__isnull=False)


class Recording(models.Model):
    """A recording of a call (<Record>, <StartRecording>) or of a conference.

    Metadata, and optionally an archived copy of the media in Switchboard's own storage;
    otherwise the console streams the media from Bandwidth on demand, which keeps it 30 days
    (https://dev.bandwidth.com/docs/voice/guides/recordingGuide)."""

    recording_id = models.CharField(max_length=ID_LENGTH, unique=True)
    # The recorded call; empty for a conference recording. No database constraint: the
    # recording's events may arrive before any event about the call.
    call = models.ForeignKey(
        Call,
        to_field="call_id",
        db_column="call_id",
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="recordings",
    )
    conference = models.ForeignKey(
        Conference,
        to_field="conference_id",
        db_column="conference_id",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recordings",
    )
    account_id = models.CharField(max_length=ACCOUNT_ID_LENGTH, blank=True)
    parent_call_id = models.CharField(max_length=ID_LENGTH, blank=True)
    direction = models.CharField(max_length=8, blank=True)
    from_number = models.CharField(max_length=FROM_LENGTH, blank=True)
    to_number = models.CharField(max_length=TO_LENGTH, blank=True)
    # recordingName (newer API), or the conference's name for a conference recording.
    name = models.CharField(max_length=RECORDING_NAME_LENGTH, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    file_format = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.PROCESSING)
    media_url = models.CharField(max_length=URL_LENGTH, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    tag = models.CharField(max_length=TAG_LENGTH, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # Switchboard's own copy of the media (Django's default storage), so that it outlives
    # Bandwidth's retention: voice/recordings.py.
    archive_name = models.CharField(max_length=255, blank=True)
    archive_size = models.PositiveBigIntegerField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The waveform the player draws: peak levels (0 to 100) of equal slices of the audio,
    # computed once from the media; null until then.
    peaks = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        # Lists page through recordings by (start_time, id) in either direction.
        ordering = ["start_time", "id"]
        indexes = [models.Index(fields=["start_time", "id"], name="recording_start_keyset")]

    def __str__(self) -> str:
        return self.recording_id

    @property
    def is_conference(self) -> bool:
        return not self.call_id

    @property
    def is_deleted(self) -> bool:
        return self.status == RecordingStatus.DELETED

    @property
    def is_archived(self) -> bool:
        return bool(self.archive_name)

    @property
    def is_at_bandwidth(self) -> bool:
        """Downloadable from Bandwidth, as far as Switchboard knows: processed, not deleted,
        and within the retention period."""
        return (
            self.status in DOWNLOADABLE_RECORDING_STATUSES
            and not (self.expires_at and self.expires_at <= timezone.now())
        )

    @property
    def is_playable(self) -> bool:
        return not self.is_deleted and (self.is_archived or self.is_at_bandwidth)

    @property
    def expires_at(self) -> datetime | None:
        """When Bandwidth's retention ends (counted from the end of the recording)."""
        moment = self.end_time or self.start_time
        return moment + RECORDING_RETENTION if moment else None

    @property
    def can_be_transcribed(self) -> bool:
        low, high = TRANSCRIBABLE_SECONDS
        return (
            not self.is_conference
            and self.is_at_bandwidth
            and (self.duration_seconds is None or low < self.duration_seconds < high)
        )

    @property
    def can_be_deleted(self) -> bool:
        """At Bandwidth: only call recordings have a DELETE
        (https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/deleteRecording)."""
        return not self.is_conference and not self.is_deleted

    def changed(self) -> None:
        signals.recording_changed.send(sender=Recording, recording_id=self.recording_id)

    def mark_deleted(self) -> bool:
        """Bandwidth deleted it (or no longer has it). What Switchboard derived from its
        content goes too: the transcript's text and the waveform. The archived copy, if any,
        is removed by the caller, which owns the storage."""
        moved = Recording.advance(self.recording_id, RecordingStatus.DELETED, deleted_at=timezone.now(), peaks=None)
        if moved:
            Transcription.objects.filter(recording=self).update(text="", confidence=None, updated_at=timezone.now())
        self.refresh_from_db()
        if moved:
            self.changed()
        return moved

    def store_archive(self, name: str, size: int) -> bool:
        """Keep the archived copy's name, once; False if another run archived it first."""
        now = timezone.now()
        stored = Recording.objects.filter(pk=self.pk, archive_name="").exclude(status=RecordingStatus.DELETED).update(
            archive_name=name, archive_size=size, archived_at=now, updated_at=now
        )
        self.refresh_from_db()
        if stored:
            self.changed()
        return bool(stored)

    def forget_archive(self) -> str:
        """Drop the reference to the archived copy; returns its name for the caller to delete."""
        name = self.archive_name
        if name and Recording.objects.filter(pk=self.pk, archive_name=name).update(
            archive_name="", archive_size=None, archived_at=None, updated_at=timezone.now()
        ):
            self.refresh_from_db()
            self.changed()
            return name
        return ""

    def store_peaks(self, peaks: list[int]) -> bool:
        stored = Recording.objects.filter(pk=self.pk, peaks__isnull=True).update(peaks=peaks, updated_at=timezone.now())
        self.refresh_from_db()
        if stored:
            self.changed()
        return bool(stored)

    @classmethod
    def advance(cls, recording_id: str, to_status: str, **fields) -> bool:
        return bool(
            cls.objects.filter(
                recording_id=recording_id, status__in=allowed_from(RECORDING_TRANSITIONS, to_status)
            ).update(status=to_status, updated_at=timezone.now(), **fields)
        )

    @classmethod
    def store(
        cls, recording_id: str, status: str, *, call_id: str = "", conference: Conference | None = None, **facts
    ) -> tuple[Recording, dict[str, tuple]]:
        """Create the recording, or move it to `status` and fill the facts it lacks; returns
        it with what changed ({field: (before, after)}), whatever told us (an event, the API)."""
        facts = {name: value for name, value in facts.items() if value not in (None, "")}
        recording, created = cls.objects.get_or_create(
            recording_id=recording_id,
            defaults={
                **facts,
                "call_id": call_id or None,
                "conference": conference,
                "status": status,
                "last_event_at": timezone.now(),
            },
        )
        if created:
            recording.changed()
            return recording, {"status": (None, status)}
        mine = cls.objects.filter(pk=recording.pk)
        mine.update(last_event_at=timezone.now())
        changes: dict[str, tuple] = {}
        if status != recording.status and cls.advance(recording_id, status):
            changes["status"] = (recording.status, status)
        for name in fill_missing(mine, call_id=call_id or None, **facts):
            changes[name] = (getattr(recording, name), facts.get(name, call_id))
        if conference is not None and mine.filter(conference__isnull=True).update(conference=conference):
            changes["conference_id"] = (None, conference.conference_id)
        recording.refresh_from_db()
        if changes:
            recording.changed()
        return recording, changes


class TranscriptionStatus(models.TextChoices):
    """Bandwidth's values (https://dev.bandwidth.com/docs/voice/webhooks/transcriptionAvailable)."""

    NONE = "none", "none"
    # Requested (<Record transcribe="true">), not announced yet.
    PROCESSING = "processing", "transcribing"
    AVAILABLE = "available", "available"
    ERROR = "error", "error"
    TIMEOUT = "timeout", "timed out"
    FILE_SIZE_TOO_BIG = "file-size-too-big", "recording too long"
    FILE_SIZE_TOO_SMALL = "file-size-too-small", "recording too short"
    # A status Bandwidth added since: the raw one is in the stored event.
    UNKNOWN = "unknown", "status unknown"


_TRANSCRIPTION_FINAL = frozenset(
    {
        TranscriptionStatus.AVAILABLE,
        TranscriptionStatus.ERROR,
        TranscriptionStatus.TIMEOUT,
        TranscriptionStatus.FILE_SIZE_TOO_BIG,
        TranscriptionStatus.FILE_SIZE_TOO_SMALL,
        TranscriptionStatus.UNKNOWN,
    }
)
TRANSCRIPTION_TRANSITIONS: dict[str, frozenset[str]] = {
    TranscriptionStatus.NONE: frozenset({TranscriptionStatus.PROCESSING, *_TRANSCRIPTION_FINAL}),
    TranscriptionStatus.PROCESSING: _TRANSCRIPTION_FINAL,
    **{status: frozenset() for status in _TRANSCRIPTION_FINAL},
    # An operator may ask again after a transcription that failed or timed out.
    TranscriptionStatus.ERROR: frozenset({TranscriptionStatus.PROCESSING}),
    TranscriptionStatus.TIMEOUT: frozenset({TranscriptionStatus.PROCESSING}),
    TranscriptionStatus.UNKNOWN: frozenset({TranscriptionStatus.PROCESSING}),
}
# Failed in a way a new request may cure.
TRANSCRIPTION_RETRYABLE = frozenset(
    {TranscriptionStatus.NONE, TranscriptionStatus.ERROR, TranscriptionStatus.TIMEOUT, TranscriptionStatus.UNKNOWN}
)


class Transcription(models.Model):
    """The transcript of a call recording; its text is kept for search.

    Bandwidth's transcriptionAvailable carries only metadata: the text is fetched by a
    task (voice.tasks.fetch_transcription), and `fetched_at` says it has been."""

    recording = models.OneToOneField(Recording, on_delete=models.CASCADE, related_name="transcription")
    transcription_id = models.CharField(max_length=ID_LENGTH, blank=True)
    status = models.CharField(max_length=24, choices=TranscriptionStatus.choices, default=TranscriptionStatus.PROCESSING)
    url = models.CharField(max_length=URL_LENGTH, blank=True)
    completed_time = models.DateTimeField(null=True, blank=True)
    text = models.TextField(blank=True)
    # The mean confidence over the transcript's parts, 0 to 1.
    confidence = models.FloatField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"transcription of {self.recording_id}"

    @classmethod
    def advance(cls, recording: Recording, to_status: str, **fields) -> bool:
        return bool(
            cls.objects.filter(recording=recording, status__in=allowed_from(TRANSCRIPTION_TRANSITIONS, to_status)).update(
                status=to_status, updated_at=timezone.now(), **fields
            )
        )

    @classmethod
    def store(cls, recording: Recording, status: str, **metadata) -> tuple[Transcription, dict[str, tuple]]:
        """As Recording.store, for a recording's transcription (its metadata, not its text)."""
        metadata = {name: value for name, value in metadata.items() if value not in (None, "")}
        transcription, created = cls.objects.get_or_create(recording=recording, defaults={**metadata, "status": status})
        if created:
            recording.changed()
            return transcription, {"transcription": (None, status)}
        changes: dict[str, tuple] = {}
        if status != transcription.status and cls.advance(recording, status):
            changes["transcription"] = (transcription.status, status)
        for name in fill_missing(cls.objects.filter(pk=transcription.pk), **metadata):
            changes[f"transcription.{name}"] = (getattr(transcription, name), metadata[name])
        transcription.refresh_from_db()
        if changes:
            recording.changed()
        return transcription, changes

    @classmethod
    def requested(cls, recording: Recording) -> bool:
        """Bandwidth accepted an operator's request to transcribe: transcribing until
        transcriptionAvailable says how it went. A failed earlier attempt is started over."""
        transcription, created = cls.objects.get_or_create(
            recording=recording, defaults={"status": TranscriptionStatus.PROCESSING}
        )
        moved = created or cls.advance(
            recording,
            TranscriptionStatus.PROCESSING,
            transcription_id="",
            url="",
            completed_time=None,
            text="",
            confidence=None,
            fetched_at=None,
            fetch_error="",
        )
        if moved:
            recording.changed()
        return moved

    @property
    def wants_text(self) -> bool:
        """Available at Bandwidth, not fetched yet: voice.tasks.fetch_transcription's job."""
        return self.status == TranscriptionStatus.AVAILABLE and self.fetched_at is None

    def store_text(self, text: str, confidence: float | None) -> bool:
        """Keep the fetched transcript, once (a second delivery of the task changes nothing)."""
        now = timezone.now()
        stored = Transcription.objects.filter(pk=self.pk, fetched_at__isnull=True).update(
            text=text, confidence=confidence, fetched_at=now, fetch_error="", updated_at=now
        )
        # Before the refresh, which would drop the cached recording (and cost a SELECT).
        if stored:
            self.recording.changed()
        self.refresh_from_db()
        return bool(stored)


# Call flows


class Route(models.Model):
    """Which BXML a call gets: the flow of the most specific route matching its number.

    An inbound call is routed by the number it called (`to`); an outbound call, answered,
    by the account number it was placed from (`from`), so that a call placed from the sales
    line gets the sales flow. Exact beats prefix, a longer prefix beats a shorter one, then
    the lower priority number wins; a default route catches the rest (voice/flows.py)."""

    class Match(models.TextChoices):
        EXACT = "exact", "the number exactly"
        PREFIX = "prefix", "numbers starting with"
        DEFAULT = "default", "any number (default route)"

    class Flow(models.TextChoices):
        CONFERENCE = "conference", "join a conference"
        SPEAK_HANGUP = "speak-hangup", "speak, then hang up"
        SPEAK_HOLD = "speak-hold", "speak, then hold"
        RECORD = "record", "record a message"
        FORWARD = "forward", "forward to a number"

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    match = models.CharField(max_length=16, choices=Match.choices, default=Match.EXACT)
    number = models.CharField(
        max_length=64,
        blank=True,
        help_text="E.164 (+19195550100) for an exact match, or its beginning (+1919555) for a prefix.",
    )
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Among equally specific routes, the lowest number wins."
    )
    flow = models.CharField(max_length=16, choices=Flow.choices)
    sentence = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Spoken first (before joining, recording, hanging up or holding). Not spoken before a forward.",
    )
    conference_name = models.CharField(max_length=100, blank=True, validators=[CONFERENCE_NAME])
    join_muted = models.BooleanField(default=False, help_text="Heard by no one, hears everyone.")
    join_on_hold = models.BooleanField(default=False, help_text="Neither hears nor is heard.")
    join_as_coach = models.BooleanField(
        default=False, help_text="Coaches the members in the conference when the call joins (heard only by them)."
    )
    record_conference = models.BooleanField(default=False, help_text="Record the conference from its creation.")
    max_record_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(10800)]
    )
    transcribe = models.BooleanField(default=True, help_text="Transcribe the recorded message.")
    forward_to = models.CharField(max_length=128, blank=True, help_text="E.164 number or SIP URI.")
    forward_from = models.CharField(max_length=64, blank=True, help_text="Caller ID to show; the caller's if empty.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["match", "number", "priority", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.match == self.Match.DEFAULT and self.number:
            errors["number"] = "A default route matches every number; leave this empty."
        if self.match != self.Match.DEFAULT and not self.number:
            errors["number"] = "Give the number (or its beginning) this route matches."
        if self.flow == self.Flow.CONFERENCE and not self.conference_name:
            errors["conference_name"] = "Name the conference to join."
        if self.flow == self.Flow.FORWARD and not self.forward_to:
            errors["forward_to"] = "Give the number to forward to."
        if self.flow in (self.Flow.SPEAK_HANGUP, self.Flow.SPEAK_HOLD) and not self.sentence:
            errors["sentence"] = "Give the sentence to speak."
        if errors:
            raise ValidationError(errors)

    def specificity(self, number: str) -> tuple | None:
        """How well this route matches `number` (smaller is better), or None."""
        if not self.enabled:
            return None
        if self.match == self.Match.EXACT and number == self.number:
            return (0, 0, self.priority, self.pk or 0)
        if self.match == self.Match.PREFIX and self.number and number.startswith(self.number):
            return (1, -len(self.number), self.priority, self.pk or 0)
        if self.match == self.Match.DEFAULT:
            return (2, 0, self.priority, self.pk or 0)
        return None


# The event log


class Event(models.Model):
    """Every webhook Switchboard received, stored before it is applied, and every repair
    reconciliation made.

    Bandwidth sends no event id, so the dedupe key is built from the fields that identify
    one occurrence (voice/events.py): a redelivery hits the unique constraint, changes
    nothing, and is answered with the answer stored here.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied"
        # Valid but changed nothing: an old event arriving after a newer one.
        STALE = "stale"
        UNKNOWN_TYPE = "unknown-type"
        REPAIR = "repair"
        # Not a webhook Switchboard could read (voice/events.py): answered 400 and applied
        # to nothing. Kept so that operators see them: a misconfigured Bandwidth
        # application shows up first as refusals.
        REFUSED = "refused"

    class Source(models.TextChoices):
        WEBHOOK = "webhook"
        RECONCILIATION = "reconciliation"

    dedupe_key = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=EVENT_TYPE_LENGTH)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEBHOOK)
    call_id = models.CharField(max_length=ID_LENGTH, blank=True, db_index=True)
    conference_id = models.CharField(max_length=ID_LENGTH, blank=True, db_index=True)
    recording_id = models.CharField(max_length=ID_LENGTH, blank=True, db_index=True)
    event_time = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.APPLIED)
    # A repair's changes: {"field": [before, after], ...}.
    changes = models.JSONField(default=dict, blank=True)
    # The HTTP status Bandwidth got; none for a repair, which answered no one.
    answer_status = models.PositiveSmallIntegerField(null=True, blank=True, default=204)
    answer_body = models.TextField(blank=True)
    # Time from receiving the request to having the answer ready (the BXML budget is 15 s).
    answer_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["event_type", "received_at"]), models.Index(fields=["outcome", "received_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.call_id or self.conference_id}"

    @classmethod
    def refused(cls, *, event_type: str, reason: str, received: str, answer: str) -> Event:
        """Note a webhook refused for `reason`: what it said it was, and the start of what
        was received (made storable: it may hold what no column can)."""
        return cls.objects.create(
            dedupe_key=f"refused:{uuid.uuid4().hex}",
            event_type=storable(event_type)[:EVENT_TYPE_LENGTH],
            outcome=cls.Outcome.REFUSED,
            payload={"reason": storable(reason)[:1000], "received": storable(received)[:2000]},
            answer_status=400,
            answer_body=answer,
        )


class ActionKind(models.TextChoices):
    """What an operator asked Bandwidth to do. Kinds that set a state carry it in params
    (mute: {"mute": bool}), so that one open action per kind and target also means one
    pending intent: a second operator's opposite click waits for the first to finish."""

    HANGUP = "hangup", "Hang up"
    REDIRECT = "redirect", "Redirect"
    MUTE = "mute", "Mute"
    HOLD = "hold", "Hold"
    COACH = "coach", "Coach"
    REMOVE_MEMBER = "remove-member", "Remove from conference"
    END_CONFERENCE = "end-conference", "End conference"
    DIAL_OUT = "dial-out", "Dial out"
    CONFERENCE_RECORDING = "conference-recording", "Conference recording"
    TRANSCRIBE = "transcribe", "Request transcription"
    DELETE_RECORDING = "delete-recording", "Delete recording"
    ARCHIVE_RECORDING = "archive-recording", "Archive recording"


class ActionStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"
    # Not performed: it waited longer than ACTION_STALE_AFTER, so applying it now could act
    # on a situation the operator no longer sees.
    DROPPED = "dropped"


ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    ActionStatus.PENDING: frozenset({ActionStatus.SENDING, ActionStatus.DROPPED}),
    ActionStatus.RETRYING: frozenset({ActionStatus.SENDING, ActionStatus.DROPPED}),
    # SENDING -> SENDING: re-claimed once its lease ran out, after a worker died mid-task
    # and Celery redelivered it (acks_late); see Action.claim.
    ActionStatus.SENDING: frozenset(
        {ActionStatus.SENDING, ActionStatus.DONE, ActionStatus.FAILED, ActionStatus.RETRYING, ActionStatus.DROPPED}
    ),
    ActionStatus.DONE: frozenset(),
    ActionStatus.FAILED: frozenset(),
    ActionStatus.DROPPED: frozenset(),
}
OPEN_ACTION_STATUSES = [ActionStatus.PENDING, ActionStatus.SENDING, ActionStatus.RETRYING]


class ActionQuerySet(models.QuerySet):
    def open(self) -> ActionQuerySet:
        return self.filter(status__in=OPEN_ACTION_STATUSES)


class ActionBatch(models.Model):
    """One operator request carried out as an Action per conference member (mute all,
    unmute all; Bandwidth updates members one by one). Its progress is its actions'
    outcomes. At most one open batch of a kind per conference (a partial unique
    constraint), so a double click or a second operator gets the batch under way; it closes
    when its last action finishes."""

    kind = models.CharField(max_length=32, choices=ActionKind.choices)
    conference = models.ForeignKey(
        Conference, to_field="conference_id", db_column="conference_id", on_delete=models.CASCADE, related_name="batches"
    )
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "conference"],
                condition=Q(closed_at__isnull=True),
                name="one_open_batch_per_kind_and_conference",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} all in {self.conference_id}"

    def close_if_finished(self) -> bool:
        open_actions = Action.objects.open().filter(batch=models.OuterRef("pk"))
        return bool(
            ActionBatch.objects.filter(pk=self.pk, closed_at__isnull=True)
            .exclude(models.Exists(open_actions))
            .update(closed_at=timezone.now())
        )


class Action(models.Model):
    """An operator's request to Bandwidth, recorded before it is sent.

    At most one open action of a kind per target (a partial unique constraint): a double
    click, or two operators acting at once, gets the action already under way.
    """

    kind = models.CharField(max_length=32, choices=ActionKind.choices)
    target = models.CharField(max_length=200, help_text="callId, or conferenceId/memberId")
    call_id = models.CharField(max_length=100, blank=True, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=ActionStatus.choices, default=ActionStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    stale_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What Bandwidth answered on the last attempt.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    detail = models.TextField(blank=True, help_text="The outcome in words, shown to operators")
    batch = models.ForeignKey(ActionBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target"],
                condition=Q(status__in=OPEN_ACTION_STATUSES),
                name="one_open_action_per_kind_and_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES

    @property
    def is_stale(self) -> bool:
        return timezone.now() >= self.stale_at

    def claim(self, lease: timedelta) -> bool:
        """Take this action for sending; False if another worker holds it or it is finished."""
        now = timezone.now()
        claimable = Q(status__in=[ActionStatus.PENDING, ActionStatus.RETRYING]) | Q(
            status=ActionStatus.SENDING, claimed_at__lt=now - lease
        )
        moved = Action.objects.filter(claimable, pk=self.pk).update(
            status=ActionStatus.SENDING, claimed_at=now, attempts=models.F("attempts") + 1, updated_at=now
        )
        self.refresh_from_db()
        if moved:
            signals.action_changed.send(sender=Action, action_id=self.pk, call_id=self.call_id)
        return bool(moved)

    def transition(self, to_status: str, **fields) -> bool:
        """Conditionally move this action to `to_status`; refresh and return whether it moved."""
        if to_status not in OPEN_ACTION_STATUSES:
            fields.setdefault("finished_at", timezone.now())
        moved = Action.objects.filter(pk=self.pk, status__in=allowed_from(ACTION_TRANSITIONS, to_status)).update(
            status=to_status, updated_at=timezone.now(), **fields
        )
        self.refresh_from_db()
        if moved and self.batch_id and not self.is_open:
            self.batch.close_if_finished()
        if moved:
            signals.action_changed.send(sender=Action, action_id=self.pk, call_id=self.call_id)
        return bool(moved)
