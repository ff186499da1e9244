"""Reconciliation against canned Bandwidth answers: what it re-reads, what it repairs, and
that every repair is in the event log."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.support.bandwidth import API, payload
from tests.voice.conftest import deliver
from voice import reconcile
from voice.models import (
    Call,
    CallState,
    Conference,
    ConferenceMember,
    ConferenceState,
    Event,
    MemberState,
    Recording,
    RecordingStatus,
)

pytestmark = pytest.mark.django_db

LONG_AGO = "2024-01-01T10:00:00.000Z"
NOT_FOUND = {"type": "validation", "description": "Not Found", "id": None}


@pytest.fixture(autouse=True)
def reconcile_settings(settings):
    settings.RECONCILE_QUIET_AFTER = 30
    settings.RECONCILE_LOOKBACK = 3600
    settings.STUCK_CALL_AFTER = 3600


@pytest.fixture
def no_listings(bandwidth_api):
    """A Bandwidth offering neither list (as the seed specification has no GET /calls)."""
    bandwidth_api.get(f"{API}/calls", status=405, json={"type": "validation", "description": "Method Not Allowed"})
    bandwidth_api.get(f"{API}/conferences", status=404, json=NOT_FOUND)
    bandwidth_api.get(f"{API}/recordings", json=[])
    return bandwidth_api


def call_state(call_id: str, state: str, **fields) -> dict:
    return {
        "callId": call_id,
        "direction": "inbound",
        "from": "+15551112222",
        "to": "+19195550100",
        "state": state,
        "startTime": LONG_AGO,
        "answerTime": "2024-01-01T10:00:01.000Z",
        **fields,
    }


CALL_FROM_FIXTURE = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


def quiet_call(call_id: str, state: str = CallState.ANSWERED, seconds_ago: float = 120, **fields) -> Call:
    moment = timezone.now() - timedelta(seconds=seconds_ago)
    fields = {"start_time": moment, **fields}
    return Call.objects.create(call_id=call_id, direction="inbound", state=state, last_event_at=moment, **fields)


def repairs(**filters) -> list[Event]:
    return list(Event.objects.filter(outcome=Event.Outcome.REPAIR, source=Event.Source.RECONCILIATION, **filters))


def test_a_quiet_live_call_that_ended_unannounced_is_ended_and_the_repair_logged(no_listings):
    quiet_call("c-1")
    no_listings.get(f"{API}/calls/c-1", json=call_state("c-1", "disconnected", endTime="2024-01-01T10:05:00.000Z", disconnectCause="hangup"))
    report = reconcile.run()
    call = Call.objects.get()
    assert call.state == CallState.ENDED
    assert call.disconnect_cause == "hangup"
    assert call.end_time.isoformat() == "2024-01-01T10:05:00+00:00"
    (repair,) = repairs(call_id="c-1")
    assert repair.event_type == "callRepair"
    assert repair.changes["state"] == ["answered", "ended"]
    assert repair.changes["disconnect_cause"] == ["", "hangup"]
    assert repair.payload["state"] == "disconnected"
    assert repair.answer_status is None
    assert report.repairs == 1 and report.calls_read == 1
    assert report.calls_listed is None


def test_the_seed_specifications_completed_state_ends_a_call_too(no_listings):
    quiet_call("c-1")
    no_listings.get(f"{API}/calls/c-1", json=call_state("c-1", "completed"))
    reconcile.run()
    assert Call.objects.get().state == CallState.ENDED


def test_a_call_with_recent_events_is_left_to_its_webhooks(no_listings):
    quiet_call("c-1", seconds_ago=5)
    reconcile.run()
    assert len(no_listings.calls) == 3  # the three listings, no getCall
    assert Call.objects.get().state == CallState.ANSWERED


def test_a_call_bandwidth_no_longer_knows_is_ended(no_listings):
    quiet_call("c-gone", start_time=timezone.now() - timedelta(minutes=20))
    no_listings.get(f"{API}/calls/c-gone", status=404, json={"type": "validation", "description": "Call [c-gone] not found"})
    reconcile.run()
    call = Call.objects.get()
    assert call.state == CallState.ENDED
    assert call.end_time is not None
    (repair,) = repairs()
    assert repair.payload["status"] == 404


def test_a_404_for_a_young_call_is_not_taken_for_its_end(no_listings):
    """Bandwidth's call records can take minutes to appear."""
    quiet_call("c-young")
    no_listings.get(f"{API}/calls/c-young", status=404, json={"type": "validation", "description": "Call [c-young] not found"})
    reconcile.run()
    assert Call.objects.get().state == CallState.ANSWERED
    assert repairs() == []


def test_a_late_disconnect_replaces_the_guessed_end_of_a_forgotten_call(no_listings):
    quiet_call(CALL_FROM_FIXTURE, start_time=timezone.now() - timedelta(minutes=20))
    no_listings.get(f"{API}/calls/{CALL_FROM_FIXTURE}", status=404, json={"type": "validation", "description": "gone"})
    reconcile.run()
    assert Call.objects.get().disconnect_cause == ""
    deliver(payload("disconnect"))
    call = Call.objects.get()
    assert call.disconnect_cause == "hangup"
    assert call.end_time.isoformat() == "2019-06-20T15:55:54.123000+00:00"


def test_a_call_that_agrees_is_not_repaired_and_not_read_again_next_run(no_listings):
    quiet_call("c-1", answer_time=timezone.now())
    Call.objects.update(answer_time=None)
    no_listings.get(f"{API}/calls/c-1", json=call_state("c-1", "answered", answerTime=None, startTime=None))
    reconcile.run()
    reconcile.run()
    assert repairs() == []
    assert sum(1 for c in no_listings.calls if c.request.url.endswith("/calls/c-1")) == 1


def test_a_live_call_in_agreement_keeps_its_estimated_answer_time_and_is_not_repaired(no_listings):
    estimate = timezone.now() - timedelta(minutes=2)
    quiet_call("c-1", answer_time=estimate)
    no_listings.get(f"{API}/calls/c-1", json=call_state("c-1", "answered"))
    reconcile.run()
    assert Call.objects.get().answer_time == estimate
    assert repairs() == []


def test_a_live_call_missing_a_fact_has_it_filled(no_listings):
    quiet_call("c-1", start_time=None)
    no_listings.get(f"{API}/calls/c-1", json=call_state("c-1", "answered"))
    reconcile.run()
    assert Call.objects.get().start_time.isoformat() == "2024-01-01T10:00:00+00:00"
    (repair,) = repairs()
    assert repair.changes["start_time"][0] is None


def test_a_live_call_is_never_moved_backwards(no_listings):
    quiet_call("c-1", state=CallState.ANSWERED)
    no_listings.get(f"{API}/calls/c-1", json=call_state("c-1", "initiated", answerTime=None))
    reconcile.run()
    assert Call.objects.get().state == CallState.ANSWERED


def test_the_listing_imports_calls_no_webhook_announced(bandwidth_api):
    bandwidth_api.get(f"{API}/calls", json=[call_state("c-new", "answered"), call_state("c-over", "disconnected", endTime=LONG_AGO)])
    bandwidth_api.get(f"{API}/conferences", json=[])
    bandwidth_api.get(f"{API}/recordings", json=[])
    report = reconcile.run()
    assert dict(Call.objects.values_list("call_id", "state")) == {"c-new": "answered", "c-over": "ended"}
    assert report.calls_listed == 2
    assert {r.call_id for r in repairs()} == {"c-new", "c-over"}


def test_a_call_just_starting_is_left_to_its_initiate(bandwidth_api):
    just_now = timezone.now().isoformat()
    bandwidth_api.get(f"{API}/calls", json=[call_state("c-ringing", "initiated", startTime=just_now, answerTime=None)])
    bandwidth_api.get(f"{API}/conferences", json=[])
    bandwidth_api.get(f"{API}/recordings", json=[])
    reconcile.run()
    assert not Call.objects.exists()


def test_the_listing_repairs_quiet_calls_without_reading_them_one_by_one(bandwidth_api):
    quiet_call("c-1")
    bandwidth_api.get(f"{API}/calls", json=[call_state("c-1", "disconnected", endTime=LONG_AGO)])
    bandwidth_api.get(f"{API}/conferences", json=[])
    bandwidth_api.get(f"{API}/recordings", json=[])
    reconcile.run()
    assert Call.objects.get().state == CallState.ENDED
    assert [c.request.url.split("?")[0] for c in bandwidth_api.calls] == [
        f"{API}/calls",
        f"{API}/conferences",
        f"{API}/recordings",
    ]


def test_bandwidths_answer_time_replaces_switchboards_estimate_once(bandwidth_api):
    quiet_call("c-1", state=CallState.ENDED, answer_time=timezone.now())
    bandwidth_api.get(f"{API}/calls", json=[call_state("c-1", "disconnected")])
    bandwidth_api.get(f"{API}/conferences", json=[])
    bandwidth_api.get(f"{API}/recordings", json=[])
    reconcile.run()
    reconcile.run()
    assert Call.objects.get().answer_time.isoformat() == "2024-01-01T10:00:01+00:00"
    assert len(repairs()) == 1


def test_a_brief_429_is_waited_out(bandwidth_api):
    bandwidth_api.get(f"{API}/calls", status=429, headers={"Retry-After": "0"}, json={"description": "slow down"})
    bandwidth_api.get(f"{API}/calls", json=[call_state("c-1", "answered")])
    bandwidth_api.get(f"{API}/conferences", json=[])
    bandwidth_api.get(f"{API}/recordings", json=[])
    report = reconcile.run()
    assert report.errors == []
    assert Call.objects.get().call_id == "c-1"


def test_a_transient_error_is_reported_and_the_next_step_still_runs(bandwidth_api):
    bandwidth_api.get(f"{API}/calls", status=429, headers={"Retry-After": "0"}, json={"description": "slow down"})
    bandwidth_api.get(f"{API}/conferences", json=[{"id": "conf-1", "name": "x", "createdTime": LONG_AGO, "completedTime": LONG_AGO}])
    bandwidth_api.get(f"{API}/recordings", json=[])
    bandwidth_api.get(f"{API}/conferences/conf-1/recordings", json=[])
    report = reconcile.run()
    assert report.errors and "slow down" in report.errors[0]
    assert sum(1 for c in bandwidth_api.calls if c.request.url.split("?")[0] == f"{API}/calls") == reconcile.ATTEMPTS
    assert Conference.objects.get().state == ConferenceState.COMPLETED


# Conferences


def quiet_conference(conference_id: str = "conf-1", seconds_ago: float = 120) -> Conference:
    moment = timezone.now() - timedelta(seconds=seconds_ago)
    return Conference.objects.create(conference_id=conference_id, name="sales-floor", created_time=moment, last_event_at=moment)


def conference_state(conference_id: str = "conf-1", members=(), **fields) -> dict:
    return {
        "id": conference_id,
        "name": "sales-floor",
        "createdTime": LONG_AGO,
        "completedTime": None,
        "activeMembers": [
            {"callId": call_id, "conferenceId": conference_id, "mute": mute, "hold": False, "callIdsToCoach": None}
            for call_id, mute in members
        ],
        **fields,
    }


def test_a_conference_that_completed_unannounced_is_closed_with_no_one_left(no_listings):
    conference = quiet_conference()
    ConferenceMember.objects.create(conference=conference, call_id="c-1", state=MemberState.JOINED, joined_at=conference.created_time)
    no_listings.get(f"{API}/conferences/conf-1", json=conference_state(completedTime="2024-01-01T11:00:00.000Z", activeMembers=[]))
    reconcile.run()
    conference.refresh_from_db()
    assert conference.state == ConferenceState.COMPLETED
    assert conference.created_time.isoformat() == "2024-01-01T10:00:00+00:00"
    member = ConferenceMember.objects.get()
    assert member.state == MemberState.LEFT
    assert member.left_at == conference.completed_time
    (repair,) = repairs(conference_id="conf-1")
    assert repair.event_type == "conferenceRepair"
    assert repair.changes["state"] == ["active", "completed"]


def test_a_live_conference_in_agreement_is_not_repaired_for_its_estimated_creation_time(no_listings):
    conference = quiet_conference()
    no_listings.get(f"{API}/conferences/conf-1", json=conference_state())
    reconcile.run()
    assert Conference.objects.get().created_time == conference.created_time
    assert repairs() == []


def test_members_are_made_to_agree_with_active_members(no_listings):
    conference = quiet_conference()
    ConferenceMember.objects.create(conference=conference, call_id="c-ghost", state=MemberState.JOINED)
    ConferenceMember.objects.create(conference=conference, call_id="c-kept", state=MemberState.JOINED, mute=False)
    Call.objects.create(call_id="c-missed", direction="inbound", state=CallState.ENDED, from_number="+15550001111")
    no_listings.get(f"{API}/conferences/conf-1", json=conference_state(members=[("c-kept", True), ("c-missed", False)]))
    reconcile.run()
    members = {m.call_id: m for m in ConferenceMember.objects.all()}
    assert members["c-ghost"].state == MemberState.LEFT
    assert members["c-kept"].mute is True
    assert members["c-missed"].state == MemberState.JOINED
    assert members["c-missed"].from_number == "+15550001111"
    logged = {r.call_id: r.changes for r in repairs(event_type="memberRepair")}
    assert logged["c-ghost"] == {"state": ["joined", "left"]}
    assert logged["c-kept"] == {"mute": [False, True]}
    assert logged["c-missed"]["state"] == [None, "joined"]


def test_a_late_join_older_than_a_repair_brings_no_ghost_back(no_listings):
    conference = quiet_conference(conference_id="conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3")
    ConferenceMember.objects.create(conference=conference, call_id="c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d", state=MemberState.JOINED)
    no_listings.get(f"{API}/conferences/{conference.conference_id}", json=conference_state(conference.conference_id))
    reconcile.run()
    deliver(payload("conferenceMemberJoin"))
    assert ConferenceMember.objects.get().state == MemberState.LEFT


def test_a_conference_bandwidth_no_longer_knows_is_completed(no_listings):
    quiet_conference(seconds_ago=20 * 60)
    no_listings.get(f"{API}/conferences/conf-1", status=404, json=NOT_FOUND)
    reconcile.run()
    assert Conference.objects.get().state == ConferenceState.COMPLETED
    assert len(repairs()) == 1


def test_a_404_for_a_young_conference_leaves_it_live(no_listings):
    quiet_conference()
    no_listings.get(f"{API}/conferences/conf-1", status=404, json=NOT_FOUND)
    reconcile.run()
    assert Conference.objects.get().state == ConferenceState.ACTIVE


def test_the_conference_listing_imports_a_live_conference_with_its_members(bandwidth_api):
    bandwidth_api.get(f"{API}/calls", json=[])
    bandwidth_api.get(f"{API}/conferences", json=[{**conference_state(), "activeMembers": None}])
    bandwidth_api.get(f"{API}/recordings", json=[])
    bandwidth_api.get(f"{API}/conferences/conf-1", json=conference_state(members=[("c-1", False), ("c-2", True)]))
    report = reconcile.run()
    conference = Conference.objects.get()
    assert conference.state == ConferenceState.ACTIVE
    assert sorted(conference.members.values_list("call_id", "mute")) == [("c-1", False), ("c-2", True)]
    assert report.conferences_listed == 1 and report.conferences_read == 1


# Recordings


def recording_metadata(recording_id: str = "r-1", **fields) -> dict:
    return {
        "recordingId": recording_id,
        "callId": "c-1",
        "accountId": "9900000",
        "direction": "inbound",
        "from": "+15551112222",
        "to": "+19195550150",
        "duration": "PT12.5S",
        "channels": 1,
        "startTime": LONG_AGO,
        "endTime": "2024-01-01T10:00:12.500Z",
        "fileFormat": "wav",
        "status": "complete",
        "mediaUrl": f"{API}/calls/c-1/recordings/{recording_id}/media",
        **fields,
    }


def test_a_recording_whose_webhooks_were_lost_is_stored_with_its_transcription(no_listings, enqueued_fetches):
    transcription = {"id": "t-1", "status": "available", "completedTime": LONG_AGO, "url": f"{API}/calls/c-1/recordings/r-1/transcription"}
    no_listings.replace("GET", f"{API}/recordings", json=[recording_metadata(transcription=transcription)])
    report = reconcile.run()
    recording = Recording.objects.get()
    assert (recording.status, recording.duration_seconds, recording.call_id) == ("complete", 12.5, "c-1")
    assert recording.transcription.status == "available"
    assert enqueued_fetches == [recording.transcription.pk]
    (repair,) = repairs(event_type="recordingRepair")
    assert repair.changes["status"] == [None, "complete"]
    assert report.repairs == 1
    reconcile.run()
    assert len(repairs()) == 1


def test_a_recording_the_mirror_already_has_costs_one_read_and_no_write(no_listings):
    transcription = {"id": "t-1", "status": "available", "completedTime": LONG_AGO}
    no_listings.replace("GET", f"{API}/recordings", json=[recording_metadata(transcription=transcription)])
    reconcile.run()
    known = Recording.objects.get()
    with CaptureQueriesContext(connection) as queries:
        reconcile._reconcile_recordings(
            reconcile.bandwidth.client(), reconcile.Report(), since=timezone.now(), lookback=None
        )
    assert [q["sql"] for q in queries if not q["sql"].startswith("SELECT")] == []
    assert Recording.objects.get().updated_at == known.updated_at


def test_a_recording_just_finished_is_left_to_its_webhook(no_listings):
    ended = timezone.now().isoformat()
    no_listings.replace("GET", f"{API}/recordings", json=[recording_metadata(endTime=ended)])
    reconcile.run()
    assert not Recording.objects.exists()


def test_a_processing_recording_becomes_available(no_listings):
    Recording.objects.create(recording_id="r-1", call_id="c-1", status=RecordingStatus.PROCESSING)
    no_listings.replace("GET", f"{API}/recordings", json=[recording_metadata()])
    reconcile.run()
    assert Recording.objects.get().status == RecordingStatus.COMPLETE


def test_an_ended_conferences_recordings_are_read_once(no_listings):
    ended = timezone.now() - timedelta(minutes=5)
    Conference.objects.create(
        conference_id="conf-1", name="support-bridge", state=ConferenceState.COMPLETED, completed_time=ended, last_event_at=ended
    )
    no_listings.get(
        f"{API}/conferences/conf-1/recordings",
        json=[recording_metadata("r-conf", callId=None, name="support-bridge", mediaUrl=f"{API}/conferences/conf-1/recordings/r-conf/media")],
    )
    reconcile.run()
    reconcile.run()
    recording = Recording.objects.get()
    assert recording.conference_id == "conf-1" and recording.call_id is None
    assert sum(1 for c in no_listings.calls if c.request.url.endswith("/conferences/conf-1/recordings")) == 1


def test_an_ended_conference_bandwidth_no_longer_knows_has_no_recordings_to_read(no_listings):
    # One such conference used to stop the step at every run, and the conferences after it
    # never had their recordings read.
    ended = timezone.now() - timedelta(minutes=5)
    for conference_id in ("conf-gone", "conf-1"):
        Conference.objects.create(
            conference_id=conference_id, name=conference_id, state=ConferenceState.COMPLETED, completed_time=ended, last_event_at=ended
        )
    no_listings.get(f"{API}/conferences/conf-gone/recordings", status=404, json={"type": "not-found", "description": "Conference not found"})
    no_listings.get(
        f"{API}/conferences/conf-1/recordings",
        json=[recording_metadata("r-conf", callId=None, name="conf-1", mediaUrl=f"{API}/conferences/conf-1/recordings/r-conf/media")],
    )
    reconcile.run()
    reconcile.run()
    assert Recording.objects.get().conference_id == "conf-1"
    assert not Conference.objects.filter(recordings_read_at__isnull=True).exists()
    assert sum(1 for c in no_listings.calls if c.request.url.endswith("/conferences/conf-gone/recordings")) == 1


# Stuck calls, the command, the schedule


def test_calls_up_longer_than_the_threshold_are_counted_stuck(no_listings, settings):
    settings.STUCK_CALL_AFTER = 600
    stuck = quiet_call("c-stuck", seconds_ago=5, start_time=timezone.now() - timedelta(seconds=700))
    fresh = quiet_call("c-fresh", seconds_ago=5)
    assert stuck.is_stuck and not fresh.is_stuck
    assert reconcile.run().stuck == 1
    assert list(Call.objects.stuck().values_list("call_id", flat=True)) == ["c-stuck"]


def test_an_ended_call_is_never_stuck(settings):
    settings.STUCK_CALL_AFTER = 1
    call = Call(call_id="c-1", state=CallState.ENDED, start_time=timezone.now() - timedelta(hours=3))
    assert not call.is_stuck


def test_sync_bandwidth_re_reads_every_live_call_even_a_recent_one(no_listings, capsys):
    quiet_call("c-recent", seconds_ago=1)
    no_listings.get(f"{API}/calls/c-recent", json=call_state("c-recent", "disconnected"))
    call_command("sync_bandwidth")
    assert Call.objects.get().state == CallState.ENDED
    output = capsys.readouterr().out
    assert "calls listed:        not offered by this Bandwidth" in output
    assert "repairs:             1" in output


def test_reconciliation_is_scheduled_every_interval(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile"]
    assert entry["task"] == "voice.tasks.reconcile"
    assert entry["schedule"] == settings.RECONCILE_INTERVAL


def test_the_task_runs_a_reconciliation(no_listings):
    from voice.tasks import reconcile as task

    quiet_call("c-1")
    no_listings.get(f"{API}/calls/c-1", json=call_state("c-1", "disconnected"))
    assert task.run()["repairs"] == 1


def test_a_periodic_run_is_skipped_while_another_is_going(no_listings):
    from django.core.cache import cache

    cache.add(reconcile.RUN_LOCK, True, timeout=60)
    try:
        assert reconcile.run_alone() == {"skipped": True}
    finally:
        cache.delete(reconcile.RUN_LOCK)
    assert reconcile.run_alone()["errors"] == []


def test_a_member_list_read_before_a_newer_event_does_not_undo_it():
    from voice import bandwidth

    read_at = timezone.now() - timedelta(seconds=5)
    conference = quiet_conference()
    ConferenceMember.objects.create(conference=conference, call_id="c-1", state=MemberState.LEFT, left_at=timezone.now())
    # The member's exit arrived after Bandwidth's list was read.
    Conference.objects.filter(pk=conference.pk).update(last_event_at=timezone.now())
    stale = bandwidth.ConferenceInfo.read(conference_state(members=[("c-1", False)]))
    reconcile.repair_conference(stale, read_at=read_at)
    assert ConferenceMember.objects.get().state == MemberState.LEFT
    assert not repairs(event_type="memberRepair")
