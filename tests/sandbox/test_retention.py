"""What Bandwidth keeps, and for how long: call records 7 days after the call ended,
recordings 30 days, completed conferences (the sandbox's choice) as long as their calls.
The sweep runs on the simulation clock; most tests here sweep at a chosen moment instead."""

from datetime import timedelta

import pytest

from console.processes import free_port
from tests.sandbox.conftest import response, sandbox_config, start_sandbox
from voice.sandbox import retention
from voice.sandbox.scenarios import Scenario

pytestmark = pytest.mark.asyncio

HOLD = "<Pause duration='600'/>"
JOIN = "<Conference conferenceEventUrl='/conference'>sales-floor</Conference>"
SECOND = timedelta(seconds=1)


async def ended_call(sandbox, application) -> dict:
    application.reply("initiate", response("<Hangup/>"))
    call = await sandbox.offer()
    await application.wait_for("disconnect", callId=call["callId"])
    return call


async def test_an_ended_call_is_kept_seven_days_then_forgotten(sandbox, application):
    call = await ended_call(sandbox, application)
    ended = sandbox.sim.calls.by_id[call["callId"]].end_time

    retention.sweep(sandbox.sim, ended + timedelta(days=7) - SECOND)
    kept, _, _ = await sandbox.request("GET", f"/calls/{call['callId']}")
    retention.sweep(sandbox.sim, ended + timedelta(days=7) + SECOND)
    gone, body, _ = await sandbox.request("GET", f"/calls/{call['callId']}")
    _, listed, _ = await sandbox.request("GET", "/calls")
    _, inspected, _ = await sandbox.request("GET", "/sandbox/calls")

    assert kept == 200
    assert gone == 404 and body["description"] == f"Call [{call['callId']}] not found"
    assert listed == [] and inspected == []


async def test_a_live_call_is_never_forgotten(sandbox, application):
    application.reply("initiate", response(HOLD))
    call = await sandbox.offer()
    await application.wait_for("initiate")

    retention.sweep(sandbox.sim, sandbox.sim.clock.now() + timedelta(days=365))

    assert (await sandbox.call(call["callId"]))["state"] == "answered"
    assert [live.call_id for live in sandbox.sim.calls.live.values()] == [call["callId"]]


async def test_a_recording_outlives_its_call_and_is_forgotten_thirty_days_after_it_ended(sandbox, application):
    application.reply("initiate", response("<StartRecording recordingAvailableUrl='/available'/><Pause duration='3'/><Hangup/>"))
    call = await sandbox.offer()
    (available,) = await application.wait_for("recordingAvailable")
    recording_id = available.payload["recordingId"]
    recording = f"/calls/{call['callId']}/recordings/{recording_id}"
    ended = sandbox.sim.recordings.by_id[recording_id].end_time

    retention.sweep(sandbox.sim, ended + timedelta(days=8))
    call_after_a_week, _, _ = await sandbox.request("GET", f"/calls/{call['callId']}")
    metadata, _, _ = await sandbox.request("GET", recording)
    media, _, _ = await sandbox.request("GET", f"{recording}/media")
    _, listed, _ = await sandbox.request("GET", f"/calls/{call['callId']}/recordings")
    transcribing, _, _ = await sandbox.request("POST", f"{recording}/transcription", json={"callbackUrl": application.at("/transcribed")})
    (transcribed,) = await application.wait_for("transcriptionAvailable")
    retention.sweep(sandbox.sim, ended + timedelta(days=30) + SECOND)
    metadata_after_a_month, _, _ = await sandbox.request("GET", recording)
    listed_after_a_month, _, _ = await sandbox.request("GET", f"/calls/{call['callId']}/recordings")

    assert call_after_a_week == 404
    assert (metadata, media, transcribing) == (200, 200, 200)
    assert [r["recordingId"] for r in listed] == [recording_id]
    assert transcribed.payload["callId"] == call["callId"] and transcribed.payload["recordingId"] == recording_id
    assert metadata_after_a_month == 404 and listed_after_a_month == 404


async def test_a_completed_conference_is_kept_seven_days_then_forgotten(sandbox, application):
    application.reply("initiate", response(JOIN))
    await sandbox.offer(holdSeconds=2)
    (completed,) = await application.wait_for("conferenceCompleted")
    conference_id = completed.payload["conferenceId"]
    ended = sandbox.sim.conferences.by_id[conference_id].completed_time

    retention.sweep(sandbox.sim, ended + timedelta(days=7) - SECOND)
    kept, _, _ = await sandbox.request("GET", f"/conferences/{conference_id}")
    retention.sweep(sandbox.sim, ended + timedelta(days=7) + SECOND)
    gone, _, _ = await sandbox.request("GET", f"/conferences/{conference_id}")
    _, listed, _ = await sandbox.request("GET", "/conferences")

    assert kept == 200
    assert gone == 404 and listed == []


async def test_members_who_left_a_live_conference_are_forgotten_seven_days_after_they_left(sandbox, application):
    application.reply("initiate", response(JOIN + HOLD))
    leaving = await sandbox.offer(holdSeconds=2)
    staying = await sandbox.offer()
    (exit_,) = await application.wait_for("conferenceMemberExit")
    conference = sandbox.sim.conferences.by_id[exit_.payload["conferenceId"]]
    left = conference.former_members[0].left_time

    retention.sweep(sandbox.sim, left + timedelta(days=7) - SECOND)
    before = [m["callId"] for m in (await sandbox.request("GET", "/sandbox/conferences"))[1][0]["members"]]
    retention.sweep(sandbox.sim, left + timedelta(days=7) + SECOND)
    after = [m["callId"] for m in (await sandbox.request("GET", "/sandbox/conferences"))[1][0]["members"]]

    assert before == [leaving["callId"], staying["callId"]]
    assert after == [staying["callId"]]


async def test_the_sweep_runs_on_the_simulation_clock(application):
    port = free_port()
    # A simulated week passes in 0.6 real seconds.
    server, sandbox = await start_sandbox(sandbox_config(application, port, speed=1_000_000), Scenario(), port)
    try:
        call = await ended_call(sandbox, application)
        statuses = [(await sandbox.request("GET", f"/calls/{call['callId']}"))[0]]
        while statuses[-1] == 200 and len(statuses) < 100:
            await sandbox.settle(timedelta(hours=6).total_seconds())
            statuses.append((await sandbox.request("GET", f"/calls/{call['callId']}"))[0])
    finally:
        await sandbox.session.close()
        await server.close()

    assert statuses[0] == 200 and statuses[-1] == 404
