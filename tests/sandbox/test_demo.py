"""The demo scenario, with the numbers the sandbox command gives it, against an application
routing calls as the console's demo routes do."""

import random
from dataclasses import dataclass

import pytest

from console.processes import free_port
from tests.sandbox.conftest import response, sandbox_config, start_sandbox
from voice.demo import (
    ANNOUNCEMENT_NUMBER,
    DEMO_CONFERENCES,
    SUPERVISOR_PHONE,
    VOICEMAIL_NUMBER,
)
from voice.management.commands.sandbox import DEMO_NUMBERS
from voice.sandbox.scenarios import Demo

# A simulated ten minutes pass in about four real seconds.
DEMO_SPEED = 150.0
# Six simulated hours pass in twelve real seconds.
LONG_RUN_SPEED = 1800.0
# The conference the console's demo routes record, and the one they join muted.
RECORDED_CONFERENCE = "support-bridge"
MUTED_CONFERENCE = "exec-briefing"


def route(payload: dict) -> str:
    """What the console's demo routes answer to initiate (inbound), answer (dial-outs, routed by
    the account's number they were placed from) and conferenceCreated (recording one)."""
    if payload["eventType"] == "conferenceCreated" and payload["name"] == RECORDED_CONFERENCE:
        return response("<StartRecording recordingAvailableUrl='/conference'/>")
    if payload["eventType"] not in ("initiate", "answer"):
        return ""
    number = payload["from"] if payload["direction"] == "outbound" else payload["to"]
    if number in DEMO_CONFERENCES:
        name = DEMO_CONFERENCES[number]
        muted = "true" if name == MUTED_CONFERENCE else "false"
        return response(f"<Conference mute='{muted}' conferenceEventUrl='/conference'>{name}</Conference>")
    if number == VOICEMAIL_NUMBER:
        return response(
            "<SpeakSentence>Please leave a message after the tone.</SpeakSentence>"
            "<Record recordCompleteUrl='/voicemail' recordingAvailableUrl='/voicemail' transcribe='true'"
            " transcriptionAvailableUrl='/voicemail'/>"
        )
    if number == ANNOUNCEMENT_NUMBER:
        return response("<SpeakSentence>Our offices are closed today.</SpeakSentence><Hangup/>")
    return response("<SpeakSentence>Please hold.</SpeakSentence><Pause duration='3600'/>")


async def run_demo(application, seed: int, simulated_seconds: float, speed: float = DEMO_SPEED):
    port = free_port()
    config = sandbox_config(application, port, speed=speed, seed=seed)
    server, sandbox = await start_sandbox(config, Demo(numbers=DEMO_NUMBERS), port)
    try:
        await sandbox.settle(simulated_seconds)
        return sandbox.sim
    finally:
        await sandbox.session.close()
        await server.close()


@pytest.mark.asyncio
async def test_the_demo_fills_conferences_records_voicemail_and_dials_out(application):
    application.reply("initiate", route)
    application.reply("answer", route)
    application.reply("recordComplete", response("<SpeakSentence>Thank you, goodbye.</SpeakSentence><Hangup/>"))

    sim = await run_demo(application, seed=11, simulated_seconds=900)

    sizes = {c.name: len(c.members) + len(c.former_members) for c in sim.conferences.by_id.values()}
    assert set(sizes) == {"sales-floor", "support-bridge", "exec-briefing"}
    assert all(size >= 3 for size in sizes.values()), sizes
    assert max(len(c.members) for c in sim.conferences.by_id.values()) <= 20
    assert all(m.mute for c in sim.conferences.by_id.values() if c.name == MUTED_CONFERENCE for m in c.members.values())
    assert application.events("recordingAvailable") and application.events("transcriptionAvailable")
    transcript = application.events("transcriptionAvailable")[0].payload["recordingId"]
    assert sim.recordings.by_id[transcript].transcription.transcripts[0]["text"]
    dial_outs = [c for c in sim.calls.by_id.values() if c.direction == "outbound" and c.tag == "demo-dial-out"]
    assert dial_outs
    assert all(c.answer_target.url == application.at("/status") for c in dial_outs)
    assert any(c.disconnect_cause in ("busy", "timeout", "rejected") for c in dial_outs)
    stuck = [c for c in sim.calls.by_id.values() if c.direction == "inbound" and (c.party.hold_seconds or 0) > 3600]
    assert stuck and not any(c.is_over for c in stuck)
    answered_dial_outs = application.events("answer", tag="demo-dial-out")
    assert all(a.auth == ("hooks", "hooks-password") for a in answered_dial_outs)


def most_at_once(spans) -> int:
    """The most (start, end) spans that overlap at any moment; an end of None is still going."""
    steps = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans if end is not None])
    most = current = 0
    for _, step in steps:
        current += step
        most = max(most, current)
    return most


@pytest.mark.asyncio
async def test_the_demo_stays_lively_and_within_bounds_for_hours(application):
    for event in ("initiate", "answer", "conferenceCreated"):
        application.reply(event, route)
    application.reply("recordComplete", response("<SpeakSentence>Thank you, goodbye.</SpeakSentence><Hangup/>"))

    sim = await run_demo(application, seed=11, simulated_seconds=6 * 3600, speed=LONG_RUN_SPEED)

    calls = list(sim.calls.by_id.values())
    stuck = [c for c in calls if (c.party.hold_seconds or 0) > 3600]
    conferences = list(sim.conferences.by_id.values())
    members = {
        name: [(m.joined_time, m.left_time) for c in conferences if c.name == name for m in [*c.former_members, *c.members.values()]]
        for name in DEMO_CONFERENCES.values()
    }
    largest = {name: most_at_once(spans) for name, spans in members.items()}
    completed = {name: sum(1 for c in conferences if c.name == name and c.is_over) for name in DEMO_CONFERENCES.values()}
    recorded = application.events("conferenceRecordingAvailable", name=RECORDED_CONFERENCE)

    assert most_at_once([(c.start_time, c.end_time) for c in calls]) <= 40
    assert 1 <= most_at_once([(c.start_time, c.end_time) for c in stuck]) <= 3
    # Lively, and far from the limit of 20: nobody was refused a place ("full").
    assert all(4 <= most <= 13 for most in largest.values()), largest
    assert not [c for c in calls if c.disconnect_cause == "application-error"]
    # Each conference emptied now and then, and the recorded one's recordings came.
    assert all(count >= 2 for count in completed.values()), completed
    assert len(recorded) >= 3


@pytest.mark.asyncio
async def test_the_same_seed_gives_the_same_callers(application):
    application.reply("initiate", route)
    # Long enough for dial-outs to interleave with the callers (the first dial-out and the
    # sixth caller are both due ten seconds in).
    first = await run_demo(application, seed=5, simulated_seconds=90)
    second = await run_demo(application, seed=5, simulated_seconds=90)

    def callers(sim):
        return [(c.from_number, c.to_number, c.party.utterance) for c in sim.calls.by_id.values() if c.direction == "inbound"][:10]

    assert callers(first) == callers(second)
    assert len(callers(first)) == 10


@dataclass
class FailsOnce(Demo):
    """The demo, with the second caller and the first dial-out failing inside the sandbox."""

    callers: int = 0
    dial_outs: int = 0

    def caller(self, rng, to_number):
        self.callers += 1
        if self.callers == 2:
            raise RuntimeError("the simulation tripped")
        return super().caller(rng, to_number)

    def dial_out(self, sim, rng, elapsed):
        self.dial_outs += 1
        if self.dial_outs == 1:
            raise RuntimeError("the simulation tripped")
        super().dial_out(sim, rng, elapsed)


@pytest.mark.asyncio
async def test_a_caller_or_a_dial_out_that_fails_does_not_stop_the_demos_traffic(application):
    application.reply("initiate", route)
    port = free_port()
    server, sandbox = await start_sandbox(sandbox_config(application, port, speed=DEMO_SPEED, seed=3), FailsOnce(numbers=DEMO_NUMBERS), port)
    try:
        await sandbox.settle(120)
        calls = list(sandbox.sim.calls.by_id.values())
    finally:
        await sandbox.session.close()
        await server.close()

    assert len([c for c in calls if c.direction == "inbound"]) >= 8
    assert [c for c in calls if c.tag == "demo-dial-out"]


def test_the_demo_supervisors_phone_always_answers_at_once_and_stays_until_hung_up():
    demo = Demo(numbers=DEMO_NUMBERS)
    rng = random.Random(3)
    phones = [demo.callee(rng, SUPERVISOR_PHONE) for _ in range(200)]
    assert {(phone.outcome, phone.ring_seconds, phone.hold_seconds) for phone in phones} == {("answer", 1.0, None)}
    others = [demo.callee(rng, "+15551230000") for _ in range(200)]
    assert {other.outcome for other in others} > {"answer"}


@pytest.mark.asyncio
async def test_calls_up_since_long_before_the_start_are_there_at_once_so_long_and_stuck_calls_show(application):
    application.reply("initiate", route)
    sim = await run_demo(application, seed=7, simulated_seconds=30)

    now = sim.clock.now()
    up_for = sorted((now - c.start_time).total_seconds() for c in sim.calls.live.values())
    # Past the console's default thresholds: long after 30 minutes, stuck after 2 hours.
    assert sum(1800 < seconds < 7200 for seconds in up_for) >= 3, up_for
    assert sum(seconds > 7200 for seconds in up_for) >= 2, up_for
    initiates = {event.payload["callId"]: event.payload for event in application.events("initiate")}
    backdated = [c for c in sim.calls.live.values() if (now - c.start_time).total_seconds() > 1800]
    assert all(initiates[c.call_id]["startTime"].startswith(c.start_time.strftime("%Y-%m-%dT%H:%M")) for c in backdated)


@pytest.mark.asyncio
async def test_some_demo_callers_are_the_regulars_the_directory_names(application):
    application.reply("initiate", route)
    sim = await run_demo(application, seed=3, simulated_seconds=600)

    callers = [c.from_number for c in sim.calls.by_id.values() if c.direction == "inbound"]
    regulars = [number for number in callers if number in DEMO_NUMBERS.regulars]
    assert regulars and len(regulars) < len(callers) / 2
