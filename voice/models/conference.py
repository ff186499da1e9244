"""A conference and its members."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from voice import signals
from voice.models.call import Call
from voice.models.mirror import (
    MirrorQuerySet,
    allowed_from,
    event_noted,
    fill_missing,
    keep_latest,
)
from voice.schema import (
    CONFERENCE_NAME_LENGTH,
    FROM_LENGTH,
    ID_LENGTH,
    TAG_LENGTH,
    TO_LENGTH,
)

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
