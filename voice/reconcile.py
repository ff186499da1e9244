"""Reconciliation: re-read from Bandwidth's API what webhooks may have missed, and repair.

Bandwidth retries an async webhook once at most, and only on a connection error; a lost
disconnect leaves a call looking live for ever, and no webhook at all reports mute, hold or
coach (https://dev.bandwidth.com/docs/voice/webhooks). So, periodically (Celery beat,
RECONCILE_INTERVAL) and on demand (`manage.py sync_bandwidth`):

- calls started in the last RECONCILE_LOOKBACK are listed (GET /calls, where Bandwidth
  offers it) to find calls no webhook announced, and those that ended unannounced;
- live calls and conferences nothing was heard of for RECONCILE_QUIET_AFTER are re-read
  one by one (getCall; getConference with its activeMembers). A 404 on one Switchboard
  thinks live means Bandwidth no longer knows it (it keeps calls 7 days): it is ended;
- calls up longer than STUCK_CALL_AFTER are counted as stuck (the board flags them).

Only quiet objects are repaired: one with webhooks still arriving is left to them. Every
repair goes through the same conditional updates as webhooks (nothing moves backwards) and
is written to the event log (source reconciliation, outcome repair) with what changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from voice import actions, bandwidth, transcripts
from voice.models import (
    OPEN_ACTION_STATUSES,
    Action,
    ActionKind,
    Call,
    CallState,
    Conference,
    ConferenceMember,
    ConferenceState,
    Event,
    MemberState,
    Recording,
    Transcription,
    TranscriptionStatus,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Listing calls or conferences is not in every Bandwidth (the seed specification has no
# GET /calls): these answers say "not offered here".
NOT_OFFERED = (404, 405, 501)


@dataclass
class Report:
    calls_listed: int | None = None
    conferences_listed: int | None = None
    calls_read: int = 0
    conferences_read: int = 0
    repairs: int = 0
    # Live calls up longer than STUCK_CALL_AFTER, repaired or not.
    stuck: int = 0
    transcripts_refetched: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# A 429 or 5xx in the middle of a run is waited out this many times (Retry-After, at most
# MAX_WAIT seconds each) before the run gives up that step until the next period.
ATTEMPTS = 3
MAX_WAIT = 5.0


def _read(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    attempt = 1
    while True:
        try:
            return call(*args, **kwargs)
        except bandwidth.TransientError as error:
            # Bandwidth asking for a longer wait than a run can afford: honour it by
            # stopping this step until the next period rather than asking again early.
            if attempt >= ATTEMPTS or (error.retry_after or 0) > MAX_WAIT:
                raise
            time.sleep(error.retry_after if error.retry_after is not None else 0.5 * attempt)
            attempt += 1


def _listing(call: Callable[..., list[T]], *args: Any, **kwargs: Any) -> list[T] | None:
    """A listing (_read), or None where this Bandwidth does not offer it (NOT_OFFERED)."""
    try:
        return _read(call, *args, **kwargs)
    except bandwidth.PermanentError as error:
        if error.status not in NOT_OFFERED:
            raise
        return None


# Calls


def repair_call(info: bandwidth.CallInfo) -> bool:
    """Make the mirror of one call agree with Bandwidth's answer; True if anything changed."""
    with transaction.atomic():
        changes = Call.repair(info, read_at=timezone.now())
        if changes:
            Event.repaired("callRepair", payload=info.payload, changes=changes, call_id=info.call_id)
    return bool(changes)


def _old_enough_to_forget(started: datetime | None) -> bool:
    """Bandwidth's call information "may take a few minutes to appear": a 404 for a young
    object says nothing yet. https://dev.bandwidth.com/docs/voice/guides/callInformation"""
    limit = timezone.now() - timedelta(seconds=settings.RECONCILE_FORGET_AFTER)
    return started is not None and started < limit


def forget_call(call: Call, error: bandwidth.PermanentError) -> bool:
    """Bandwidth answered 404 for a call the mirror has live: it no longer knows it."""
    if not _old_enough_to_forget(call.start_time or call.created_at):
        return False
    with transaction.atomic():
        if not call.forget(read_at=timezone.now()):
            return False
        Event.repaired(
            "callRepair",
            payload={"status": error.status, "description": str(error)},
            changes={"state": (call.state, CallState.ENDED)},
            call_id=call.call_id,
        )
    return True


def _reconcile_calls(client: bandwidth.BandwidthClient, report: Report, *, since: datetime, lookback: datetime | None) -> None:
    listed: set[str] = set()
    infos = _listing(client.list_calls, min_start_time=lookback)
    if infos is None:
        infos = []
    else:
        report.calls_listed = len(infos)
    known = {call.call_id: call for call in Call.objects.filter(call_id__in=[info.call_id for info in infos])}
    for info in infos:
        listed.add(info.call_id)
        call = known.get(info.call_id)
        if call is None:
            # A call no webhook announced; one just starting has its webhooks on the way.
            if info.start_time is None or info.start_time < since:
                report.repairs += repair_call(info)
        elif call.is_quiet(since) and (call.is_live or call.last_synced_at is None):
            report.repairs += repair_call(info)

    for call in Call.objects.live().quiet(since).exclude(call_id__in=listed):
        report.calls_read += 1
        try:
            info = _read(client.get_call, call.call_id)
        except bandwidth.PermanentError as error:
            if error.status == 404:
                report.repairs += forget_call(call, error)
                continue
            raise
        report.repairs += repair_call(info)


# Conferences


def _member_changes(member: ConferenceMember | None, info: bandwidth.MemberInfo) -> dict[str, tuple]:
    wanted = {
        "state": MemberState.JOINED,
        "mute": info.mute,
        "hold": info.hold,
        "call_ids_to_coach": info.call_ids_to_coach,
    }
    if member is None:
        return {name: (None, value) for name, value in wanted.items()}
    return {name: (getattr(member, name), value) for name, value in wanted.items() if getattr(member, name) != value}


# The member fields an operator changes, by action kind; each action confirms its own
# change from a read-back of the member.
MEMBER_CONTROLS = {ActionKind.MUTE: "mute", ActionKind.HOLD: "hold", ActionKind.COACH: "call_ids_to_coach"}


def _fields_under_change(conference_id: str, read_at: datetime) -> dict[str, set[str]]:
    """Per member, the fields with an operator's change under way, or finished after
    Bandwidth was read: this read may predate the change, which the action's own read-back
    has put in the mirror."""
    actions = Action.objects.filter(kind__in=MEMBER_CONTROLS, target__startswith=f"{conference_id}/").filter(
        Q(status__in=OPEN_ACTION_STATUSES) | Q(finished_at__gte=read_at)
    )
    fields: dict[str, set[str]] = {}
    for kind, target in actions.values_list("kind", "target"):
        fields.setdefault(target.split("/", 1)[1], set()).add(MEMBER_CONTROLS[kind])
    return fields


def _repair_members(conference: Conference, members: list[bandwidth.MemberInfo], payload: dict, read_at: datetime) -> int:
    """Members Bandwidth lists are in, with its mute, hold and coach; the others are out.

    The caller holds the conference row locked, as member webhooks do, so none is applied
    in between, and has checked that no event arrived since Bandwidth was read. A repaired
    member's latest_event_time becomes the moment of that read: a join or exit older than
    what Bandwidth said then, delivered late, changes nothing. Mute, hold and coaching of a
    member an operator is changing are left to that change."""
    repairs = 0
    under_change = _fields_under_change(conference.conference_id, read_at)
    active = {member.call_id: member for member in members}
    known = {member.call_id: member for member in conference.members.all()}
    for call_id, member in known.items():
        if member.state != MemberState.JOINED or call_id in active:
            continue
        member.read_gone(read_at=read_at)
        Event.repaired(
            "memberRepair",
            payload=payload,
            changes={"state": (MemberState.JOINED, MemberState.LEFT)},
            call_id=call_id,
            conference_id=conference.conference_id,
        )
        repairs += 1
    calls = {call.call_id: call for call in Call.objects.filter(call_id__in=[c for c in active if c not in known])}
    for call_id, info in active.items():
        member = known.get(call_id)
        changes = _member_changes(member, info)
        if member is not None:
            changes = {name: change for name, change in changes.items() if name not in under_change.get(call_id, ())}
        if not changes:
            continue
        ConferenceMember.read_present(
            conference,
            call_id,
            {name: after for name, (_, after) in changes.items()},
            member=member,
            call=calls.get(call_id),
            read_at=read_at,
        )
        Event.repaired("memberRepair", payload=payload, changes=changes, call_id=call_id, conference_id=conference.conference_id)
        repairs += 1
    return repairs


def repair_conference(info: bandwidth.ConferenceInfo, *, read_at: datetime) -> int:
    """Make the mirror of one conference (and its members, when listed) agree with
    Bandwidth's answer, read at `read_at`; returns the number of repairs."""
    with transaction.atomic():
        conference, changes = Conference.repair(info, read_at=timezone.now())
        repairs = 0
        if changes:
            Event.repaired("conferenceRepair", payload=info.payload, changes=changes, conference_id=conference.conference_id)
            repairs += 1
        # A member event that arrived after Bandwidth was read is newer than this answer's
        # member list (a list read before the run's loop, say): the next run reads again.
        heard_since = conference.last_event_at is not None and conference.last_event_at >= read_at
        if info.completed_time is None and info.active_members is not None and not heard_since:
            repairs += _repair_members(conference, info.active_members, info.payload, read_at)
        return repairs


def forget_conference(conference: Conference, error: bandwidth.PermanentError) -> bool:
    if not _old_enough_to_forget(conference.created_time or conference.created_at):
        return False
    with transaction.atomic():
        locked = Conference.objects.select_for_update().get(pk=conference.pk)
        if not locked.complete(timezone.now()):
            return False
        Event.repaired(
            "conferenceRepair",
            payload={"status": error.status, "description": str(error)},
            changes={"state": (conference.state, locked.state)},
            conference_id=conference.conference_id,
        )
    return True


def _reconcile_conferences(
    client: bandwidth.BandwidthClient, report: Report, *, since: datetime, lookback: datetime | None
) -> None:
    to_read: dict[str, Conference | None] = {}
    listed_at = timezone.now()
    infos = _listing(client.list_conferences, min_created_time=lookback)
    if infos is None:
        infos = []
    else:
        report.conferences_listed = len(infos)
    known = {c.conference_id: c for c in Conference.objects.filter(conference_id__in=[i.conference_id for i in infos])}
    listed = set()
    for info in infos:
        listed.add(info.conference_id)
        conference = known.get(info.conference_id)
        if conference is not None and not (conference.is_live and conference.is_quiet(since)):
            continue
        if conference is None and not info.is_final and info.created_time is not None and info.created_time >= since:
            continue  # just created: its events are on their way
        if info.is_final or info.active_members is not None:
            report.repairs += repair_conference(info, read_at=listed_at)
        else:
            # Live, and listed without its members (as Bandwidth lists): getConference has them.
            to_read[info.conference_id] = conference
    for conference in Conference.objects.live().quiet(since).exclude(conference_id__in=listed):
        to_read[conference.conference_id] = conference

    for conference_id, conference in to_read.items():
        report.conferences_read += 1
        read_at = timezone.now()
        try:
            info = _read(client.get_conference, conference_id)
        except bandwidth.PermanentError as error:
            if error.status == 404 and conference is not None:
                report.repairs += forget_conference(conference, error)
                continue
            raise
        report.repairs += repair_conference(info, read_at=read_at)


# Recordings


def repair_recording(info: bandwidth.RecordingInfo, conference: Conference | None = None) -> int:
    """Store a recording (and its transcription's metadata) webhooks did not bring."""
    with transaction.atomic():
        recording, changes = Recording.observe(info, info.status, conference=conference)
        actions.archive_when_available(recording, changes)
        part = info.transcription
        if part is not None and part.status and part.status != TranscriptionStatus.NONE:
            changes.update(Transcription.observe(recording, part.status, part))
        if not changes:
            return 0
        Event.repaired(
            "recordingRepair",
            payload=info.payload,
            changes=changes,
            call_id=info.call_id,
            conference_id=info.conference_id,
        )
        return 1


def _repair_conference_recordings(client: bandwidth.BandwidthClient, conference: Conference) -> Iterator[int]:
    """List one conference's recordings and repair each in turn, yielding for each listed
    recording whether it was repaired (1) or not (0). A conference Bandwidth no longer
    knows (404) has none to list: raised, it stopped the step at every run, and the
    conferences after it were never read."""
    try:
        listed = _read(client.list_conference_recordings, conference.conference_id)
    except bandwidth.PermanentError as error:
        if error.status != 404:
            raise
        log.info("reconciliation: conference %s is unknown to Bandwidth: no recordings to list", conference.conference_id)
        return
    for info in listed:
        yield repair_recording(info, conference)


def _recording_state(info: bandwidth.RecordingInfo) -> tuple[str, str]:
    """What a listing can tell the mirror about a recording it already has."""
    status = info.transcription.status if info.transcription else ""
    return info.status, "" if status == TranscriptionStatus.NONE else status


def _mirrored_recordings(recording_ids: list[str]) -> dict[str, tuple[str, str]]:
    rows = Recording.objects.filter(recording_id__in=recording_ids).values_list(
        "recording_id", "status", "transcription__status"
    )
    return {recording_id: (status, transcription or "") for recording_id, status, transcription in rows}


def _reconcile_recordings(
    client: bandwidth.BandwidthClient, report: Report, *, since: datetime, lookback: datetime | None
) -> None:
    """Recordings whose recordingAvailable (or transcriptionAvailable) was lost. Call
    recordings are listed for the account; a conference's are read once, when it has been
    over for RECONCILE_QUIET_AFTER (a recording is listed once processed)."""
    infos = _read(client.list_recordings, min_start_time=lookback)
    mirrored = _mirrored_recordings([info.recording_id for info in infos])
    for info in infos:
        if info.end_time is not None and info.end_time >= since:
            continue  # just finished: its recordingAvailable is on the way
        if mirrored.get(info.recording_id) == _recording_state(info):
            continue  # nothing to learn: no write, every run, for the whole lookback
        report.repairs += repair_recording(info)
    settled = Conference.objects.filter(
        state=ConferenceState.COMPLETED, completed_time__lt=since, recordings_read_at__isnull=True
    )
    if lookback is not None:
        settled = settled.filter(completed_time__gte=lookback)
    for conference in settled:
        for repaired in _repair_conference_recordings(client, conference):
            report.repairs += repaired
        conference.recordings_listed()


# listAccountCallRecordings answers at most 1000 recordings and has no further pages
# (https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/listAccountCallRecordings):
# a window that comes back full is split in two and each half listed again.
RECORDINGS_LIST_CAP = 1000
SMALLEST_WINDOW = timedelta(seconds=1)


@dataclass
class RecordingSync:
    listed: int = 0
    imported: int = 0
    windows: int = 0
    conferences: int = 0


def sync_recordings(since: datetime, until: datetime) -> RecordingSync:
    """Import the recordings started between `since` and `until` that the mirror lacks or
    has incomplete (a lost recordingAvailable, transcriptionAvailable or
    conferenceRecordingAvailable): `manage.py sync_recordings`. Idempotent. Call recordings
    are listed by minStartTime/maxStartTime (from/to differ between the two documents);
    conference recordings per conference, for those created in the window."""
    client = bandwidth.client()
    report = RecordingSync()
    windows = [(since, until)]
    while windows:
        low, high = windows.pop()
        infos = _read(client.list_recordings, min_start_time=low, max_start_time=high)
        report.windows += 1
        if len(infos) >= RECORDINGS_LIST_CAP and high - low > SMALLEST_WINDOW:
            middle = low + (high - low) / 2
            windows += [(middle, high), (low, middle)]
            continue
        report.listed += len(infos)
        for info in infos:
            report.imported += repair_recording(info)
    for conference in _conferences_created(client, since, until):
        report.conferences += 1
        for repaired in _repair_conference_recordings(client, conference):
            report.listed += 1
            report.imported += repaired
    return report


def _conferences_created(client: bandwidth.BandwidthClient, since: datetime, until: datetime) -> list[Conference]:
    """As Bandwidth lists them (repaired into the mirror), or where it does not list
    conferences, as the mirror knows them."""
    listed_at = timezone.now()
    infos = _listing(client.list_conferences, min_created_time=since)
    if infos is None:
        return list(Conference.objects.filter(created_time__gte=since, created_time__lt=until))
    listed = [info for info in infos if info.created_time is None or info.created_time < until]
    for info in listed:
        repair_conference(info, read_at=listed_at)
    return list(Conference.objects.filter(conference_id__in=[info.conference_id for info in listed]))


RUN_LOCK = "voice.reconcile.running"


def run_alone() -> dict:
    """One periodic run, unless another is still going: a slow run (many reads, Bandwidth
    asking to wait) must not overlap the next one and read everything twice."""
    if not cache.add(RUN_LOCK, True, timeout=max(60, int(settings.RECONCILE_INTERVAL * 5))):
        log.info("reconciliation: the previous run is still going; skipped")
        return {"skipped": True}
    try:
        return run().as_dict()
    finally:
        cache.delete(RUN_LOCK)


def run(*, full: bool = False) -> Report:
    """One reconciliation. `full` (manage.py sync_bandwidth) re-reads every live object
    and lists everything Bandwidth still keeps, as for a first import of an account."""
    now = timezone.now()
    since = now if full else now - timedelta(seconds=settings.RECONCILE_QUIET_AFTER)
    lookback = None if full else now - timedelta(seconds=settings.RECONCILE_LOOKBACK)
    client = bandwidth.client()
    report = Report()
    for step in (_reconcile_calls, _reconcile_conferences, _reconcile_recordings):
        try:
            step(client, report, since=since, lookback=lookback)
        except bandwidth.BandwidthError as error:
            # The next run tries again; what was repaired so far stays repaired.
            log.warning("reconciliation: %s stopped: %s", step.__name__, error)
            report.errors.append(f"{step.__name__}: {error}")
    report.transcripts_refetched = transcripts.refetch_overdue()
    report.stuck = Call.objects.stuck().count()
    return report
