"""A conference and its members."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q, Subquery
from django.utils import timezone

from voice import signals
from voice.facts import ConferenceInfo
from voice.models.call import Call
from voice.models.mirror import Mirrored, MirrorQuerySet, allowed_from, fill_missing, overwrite
from voice.models.prepared import Prepared, one_row
from voice.models.upsert import (
    Advance,
    Always,
    Earliest,
    Fill,
    Latest,
    Newest,
    Rule,
    When,
    WithMove,
    touch,
    upsert,
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


class Conference(Mirrored, models.Model):
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

    @classmethod
    def observe(
        cls,
        info: ConferenceInfo,
        *,
        at: datetime,
        recording: bool | None = None,
        completed: bool = False,
    ) -> tuple[Conference, bool]:
        """A conference event sent at eventTime `at` (conference events carry only the
        id, the name and the creating call's tag): create the conference, or note the
        event on it, in one statement that also locks the row for the transaction, so that
        a member's join and the conference's completion arriving together are applied one
        after the other. Returns the conference as it is now, and whether it was created or
        `recording` (the reply starts or stops the recording, while the conference is live)
        or `completed` changed it.

        Its created time is the earliest event's until reconciliation reads Bandwidth's."""
        rules: dict[str, Rule] = {
            "name": Fill(info.name),
            "tag": Newest(info.tag, at),
            "created_time": Earliest(at),
            "latest_event_time": Latest(at),
            "last_event_at": Always(timezone.now()),
        }
        untracked = list(rules)
        if recording is not None:
            rules["is_recording"] = When(recording, {"state": ConferenceState.ACTIVE})
        if completed:
            # Ending stops its recording.
            move = Advance(ConferenceState.COMPLETED, allowed_from(CONFERENCE_TRANSITIONS, ConferenceState.COMPLETED))
            rules.update(state=move, completed_time=WithMove(at, move), is_recording=WithMove(False, move))
        outcome = upsert(cls, {"conference_id": info.conference_id}, rules, untracked=untracked)
        conference = outcome.row
        if completed and outcome.changed:
            ConferenceMember.close_all(conference.conference_id, at)
        if outcome.changed:
            conference.changed()
        return conference, outcome.changed

    @classmethod
    def repair(cls, info: ConferenceInfo, *, read_at: datetime) -> tuple[Conference, dict[str, tuple]]:
        """Make the conference agree with Bandwidth's answer (reconciliation), holding its
        row for the transaction, as member webhooks do; returns it and what changed,
        {column: (before, after)}. Ending it, Bandwidth's createdTime replaces the earliest
        event's eventTime; otherwise Bandwidth's facts fill gaps only."""
        conference, created = cls.objects.get_or_create(
            conference_id=info.conference_id,
            defaults={"name": info.name, "tag": info.tag, "created_time": info.created_time, "last_synced_at": read_at},
        )
        conference = cls.objects.select_for_update().get(pk=conference.pk)
        before = None if created else conference.state
        mine = cls.objects.filter(pk=conference.pk)
        facts = {"name": info.name, "tag": info.tag, "created_time": info.created_time}
        changes: dict[str, tuple] = {"state": (None, conference.state)} if created else {}
        if info.completed_time is not None and conference.is_live:
            changes.update(overwrite(mine, conference, facts))
            if conference.complete(info.completed_time):
                changes["state"] = (before, conference.state)
        else:
            for name in fill_missing(mine, **facts):
                changes[name] = (getattr(conference, name), facts[name])
        mine.update(last_synced_at=read_at)
        if changes:
            conference.refresh_from_db()
            conference.changed()
        return conference, changes

    def recordings_listed(self) -> None:
        """Reconciliation has listed the ended conference's recordings: once is enough."""
        Conference.objects.filter(pk=self.pk).update(recordings_read_at=timezone.now())

    def complete(self, completed_time: datetime) -> bool:
        """End the conference and close every member still in it at `completed_time`
        (reconciliation: Bandwidth says it completed, or no longer knows it). A
        conferenceCompleted that overtakes the last member's exit leaves no one in the
        conference; the exit, when it arrives, sets that member's own leaving time."""
        moved = Conference.objects.filter(
            pk=self.pk, state__in=allowed_from(CONFERENCE_TRANSITIONS, ConferenceState.COMPLETED)
        ).update(state=ConferenceState.COMPLETED, completed_time=completed_time, is_recording=False, updated_at=timezone.now())
        if not moved:
            return False
        self.refresh_from_db()
        ConferenceMember.close_all(self.conference_id, completed_time)
        self.changed()
        return True


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

    def present_in_newest(self, name: str, *, excluding: str) -> list[str]:
        """The callIds of the members present in the newest live conference named `name`,
        but `excluding`, in one query. Asked on every call's first webhook: its SQL is
        built once (prepared.py; building it cost more than running it)."""
        return [call_id for (call_id,) in _present_in_newest.rows(name, excluding)]

    def count_present(self, conference_id: str) -> int:
        """How many members the conference has now. Asked after every member change
        (console/alerts.py): its SQL is built once."""
        ((count,),) = _count_present.rows(conference_id)
        return count


def _members_present_in_newest(name: str, excluding: str) -> models.QuerySet:
    newest = Conference.objects.filter(name=name, state=ConferenceState.ACTIVE).order_by("-created_time")
    return (
        ConferenceMember.objects.filter(conference_id=Subquery(newest.values("conference_id")[:1]))
        .present()
        .exclude(call_id=excluding)
        .values_list("call_id")
    )


def _members_present(conference_id: str) -> models.QuerySet:
    return one_row(ConferenceMember.objects.present().filter(conference_id=conference_id), n=models.Count("id"))


_present_in_newest = Prepared(_members_present_in_newest)
_count_present = Prepared(_members_present)


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
    def joined(
        cls, conference: Conference, call_id: str, *, at: datetime, from_number: str, to_number: str, flags: dict
    ) -> bool:
        """Apply a conferenceMemberJoin at eventTime `at`, in one statement; the caller holds
        the conference row (Conference.observe), so a concurrent completion cannot slip in
        between. True if anything changed.

        The newest join or exit by eventTime decides whether the member is in: a newer join
        (a coach who left and came back, a call redirected back in) joins with the mute,
        hold and coaching its BXML gave this time (`flags`). A join into a conference
        already completed (its completion overtook the join) leaves the member out."""
        state = MemberState.JOINED if conference.is_live else MemberState.LEFT
        left_at = None if conference.is_live else conference.completed_time
        newer = {"at": at, "ties": False}
        rules = {
            "state": Newest(state, **newer),
            "left_at": Newest(left_at, **newer),
            **{name: Newest(value, **newer) for name, value in flags.items()},
            "latest_event_time": Newest(at, **newer),
            "joined_at": Latest(at),
        }
        return cls._apply(conference, call_id, rules, from_number=from_number, to_number=to_number)

    @classmethod
    def left(cls, conference: Conference, call_id: str, *, at: datetime, from_number: str, to_number: str) -> bool:
        """Apply a conferenceMemberExit at eventTime `at`. An exit that arrives before its
        join records the member as gone, so the join, older, cannot bring a ghost back. On
        equal eventTimes the exit wins."""
        rules = {
            "state": Newest(MemberState.LEFT, at),
            "left_at": Newest(at, at),
            "latest_event_time": Newest(at, at),
        }
        return cls._apply(conference, call_id, rules, from_number=from_number, to_number=to_number)

    @classmethod
    def _apply(cls, conference: Conference, call_id: str, rules: dict[str, Rule], *, from_number: str, to_number: str) -> bool:
        """What a join and an exit share: the member's from and to fill its gaps, and the
        event's arrival is noted."""
        rules = {
            **rules,
            "from_number": Fill(from_number),
            "to_number": Fill(to_number),
            "last_event_at": Always(timezone.now()),
        }
        key = {"conference_id": conference.conference_id, "call_id": call_id}
        outcome = upsert(cls, key, rules, untracked=["last_event_at"])
        if outcome.changed:
            outcome.row.changed()
        return outcome.changed

    def read_gone(self, *, read_at: datetime) -> None:
        """Bandwidth no longer lists the member (reconciliation): it is out, as of the read.
        A join or exit older than the read, delivered late, changes nothing."""
        ConferenceMember.objects.filter(pk=self.pk).update(
            state=MemberState.LEFT, left_at=read_at, latest_event_time=read_at, updated_at=timezone.now()
        )
        self.changed()

    @classmethod
    def read_present(
        cls, conference: Conference, call_id: str, values: dict, *, member: ConferenceMember | None, call: Call | None, read_at: datetime
    ) -> None:
        """Bandwidth lists the member with `values` (state, mute, hold, coaching) that the
        mirror lacks (reconciliation): it is in, as of the read."""
        if "state" in values:
            values = {**values, "left_at": None, "latest_event_time": read_at}
        if member is None:
            member = cls.objects.create(
                conference=conference,
                call_id=call_id,
                joined_at=read_at,
                from_number=call.from_number if call else "",
                to_number=call.to_number if call else "",
                **values,
            )
        else:
            cls.objects.filter(pk=member.pk).update(updated_at=timezone.now(), **values)
        member.changed()

    @classmethod
    def close_all(cls, conference_id: str, at: datetime) -> None:
        """The conference ended at `at`: every member still in it is out."""
        for member in touch(
            cls, {"conference_id": conference_id, "state": MemberState.JOINED}, state=MemberState.LEFT, left_at=at, updated_at=timezone.now()
        ):
            member.changed()
