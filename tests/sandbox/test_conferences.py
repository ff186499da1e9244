"""Conferences: events to the creator's URL, members and their controls, redirect, end,
recordings, and the member limit."""

import pytest

from console.processes import free_port
from tests.sandbox.conftest import HOOK_AUTH, response, sandbox_config, start_sandbox
from voice.sandbox.scenarios import Scenario

pytestmark = pytest.mark.asyncio

JOIN = (
    "<Conference conferenceEventUrl='/conf-events' username='c' password='cp' tag='floor'"
    " callIdsToCoach='{coach}' mute='{mute}'>sales-floor</Conference>"
    "<SpeakSentence>You left the conference</SpeakSentence><Redirect redirectUrl='/after-conference'/>"
)


def join(mute: str = "false", coach: str = "") -> str:
    return response(JOIN.format(mute=mute, coach=coach))


async def members_of(sandbox, conference_id: str) -> list[dict]:
    status, conference, _ = await sandbox.request("GET", f"/conferences/{conference_id}")
    assert status == 200
    return conference["activeMembers"]


async def two_members(sandbox, application):
    application.reply("initiate", join())
    first = await sandbox.offer(from_number="+15550000001")
    await application.wait_for("conferenceMemberJoin")
    second = await sandbox.offer(from_number="+15550000002")
    joins = await application.wait_for("conferenceMemberJoin", count=2)
    return first, second, joins[0].payload["conferenceId"]


async def test_the_first_join_creates_the_conference_and_events_go_to_the_creators_url(sandbox, application):
    first, second, conference_id = await two_members(sandbox, application)

    created, join_one, join_two = [r for r in application.received if r.path == "/conf-events"]

    assert [created.event_type, join_one.event_type, join_two.event_type] == [
        "conferenceCreated",
        "conferenceMemberJoin",
        "conferenceMemberJoin",
    ]
    assert all(r.auth == ("c", "cp") and r.payload["tag"] == "floor" for r in (created, join_one, join_two))
    assert created.payload == {
        "eventType": "conferenceCreated",
        "eventTime": created.payload["eventTime"],
        "conferenceId": conference_id,
        "name": "sales-floor",
        "tag": "floor",
    }
    assert (join_one.payload["callId"], join_two.payload["callId"]) == (first["callId"], second["callId"])
    assert join_two.payload["from"] == "+15550000002" and join_two.payload["to"] == "+19195550100"


async def test_get_conference_lists_its_active_members(sandbox, application):
    first, second, conference_id = await two_members(sandbox, application)

    members = await members_of(sandbox, conference_id)
    _, listed, _ = await sandbox.request("GET", "/conferences?name=sales-floor")

    assert [m["callId"] for m in members] == [first["callId"], second["callId"]]
    assert members[0] == {
        "callId": first["callId"],
        "conferenceId": conference_id,
        "memberUrl": f"{sandbox.api}/conferences/{conference_id}/members/{first['callId']}",
        "mute": False,
        "hold": False,
        "callIdsToCoach": [],
    }
    assert [c["id"] for c in listed] == [conference_id] and len(listed[0]["activeMembers"]) == 2


async def test_mute_hold_and_coach_set_on_a_member_show_in_the_member_and_the_conference(sandbox, application):
    first, second, conference_id = await two_members(sandbox, application)
    member_url = f"/conferences/{conference_id}/members/{first['callId']}"

    updated, _, _ = await sandbox.request("PUT", member_url, json={"mute": True, "hold": True})
    coached, _, _ = await sandbox.request("PUT", member_url, json={"callIdsToCoach": [second["callId"]]})
    partial, _, _ = await sandbox.request("PUT", member_url, json={"hold": False})
    _, member, _ = await sandbox.request("GET", member_url)

    assert (updated, coached, partial) == (204, 204, 204)
    assert (member["mute"], member["hold"], member["callIdsToCoach"]) == (True, False, [second["callId"]])
    assert (await members_of(sandbox, conference_id))[0]["mute"] is True
    # No webhook reports mute, hold or coach.
    assert not [r for r in application.received if r.event_type.startswith("conferenceMember") and r.payload.get("mute")]


async def test_a_conference_has_one_coach_at_most(sandbox, application):
    first, second, conference_id = await two_members(sandbox, application)
    await sandbox.request("PUT", f"/conferences/{conference_id}/members/{first['callId']}", json={"callIdsToCoach": [second["callId"]]})

    status, body, _ = await sandbox.request(
        "PUT", f"/conferences/{conference_id}/members/{second['callId']}", json={"callIdsToCoach": [first["callId"]]}
    )
    cleared, _, _ = await sandbox.request("PUT", f"/conferences/{conference_id}/members/{first['callId']}", json={"callIdsToCoach": []})
    now_free, _, _ = await sandbox.request(
        "PUT", f"/conferences/{conference_id}/members/{second['callId']}", json={"callIdsToCoach": [first["callId"]]}
    )

    assert status == 400 and "coach" in body["description"]
    assert (cleared, now_free) == (204, 204)


async def test_the_inspection_says_who_hears_whom(sandbox, application):
    """Nobody hears a muted member; a coach is heard by the members it coaches alone."""
    application.reply("initiate", join())
    calls = [await sandbox.offer(from_number=f"+1555000000{n}") for n in range(1, 4)]
    joins = await application.wait_for("conferenceMemberJoin", count=3)
    conference_id = joins[0].payload["conferenceId"]
    first, second, third = (call["callId"] for call in calls)

    async def hearing() -> dict[str, set[str]]:
        _, conferences, _ = await sandbox.request("GET", "/sandbox/conferences")
        (conference,) = [c for c in conferences if c["id"] == conference_id]
        return {m["callId"]: set(m["hears"]) for m in conference["members"] if m["leftTime"] is None}

    assert await hearing() == {first: {second, third}, second: {first, third}, third: {first, second}}
    # The first listens in, muted: heard by nobody.
    await sandbox.request("PUT", f"/conferences/{conference_id}/members/{first}", json={"mute": True})
    assert await hearing() == {first: {second, third}, second: {third}, third: {second}}
    # It whispers to the second: only the second hears it.
    await sandbox.request("PUT", f"/conferences/{conference_id}/members/{first}", json={"mute": False, "callIdsToCoach": [second]})
    assert await hearing() == {first: {second, third}, second: {first, third}, third: {second}}


async def test_joining_muted_and_coaching_by_attribute(sandbox, application):
    application.reply("initiate", join())
    first = await sandbox.offer()
    (first_join,) = await application.wait_for("conferenceMemberJoin")
    application.reply("initiate", join(mute="true", coach=first["callId"]))
    second = await sandbox.offer()
    await application.wait_for("conferenceMemberJoin", count=2)

    _, member, _ = await sandbox.request("GET", f"/conferences/{first_join.payload['conferenceId']}/members/{second['callId']}")

    assert member["mute"] is True and member["callIdsToCoach"] == [first["callId"]]


async def test_a_member_who_hangs_up_leaves_and_the_last_one_out_completes_the_conference(sandbox, application):
    application.reply("initiate", join())
    call = await sandbox.offer(holdSeconds=3)

    (exit_,) = await application.wait_for("conferenceMemberExit")
    (completed,) = await application.wait_for("conferenceCompleted")
    (disconnect,) = await application.wait_for("disconnect")

    assert exit_.payload["callId"] == call["callId"] and exit_.auth == ("c", "cp")
    assert completed.payload["conferenceId"] == exit_.payload["conferenceId"] and "callId" not in completed.payload
    assert disconnect.auth == HOOK_AUTH
    _, conference, _ = await sandbox.request("GET", f"/conferences/{completed.payload['conferenceId']}")
    assert conference["completedTime"] and conference["activeMembers"] == []


async def test_redirecting_a_member_takes_it_out_of_the_conference(sandbox, application):
    first, second, conference_id = await two_members(sandbox, application)
    application.reply("/moved", response("<Pause duration='600'/>"))

    await sandbox.request("POST", f"/calls/{first['callId']}", json={"redirectUrl": application.at("/moved")})
    (exit_,) = await application.wait_for("conferenceMemberExit")

    assert exit_.payload["callId"] == first["callId"]
    assert [m["callId"] for m in await members_of(sandbox, conference_id)] == [second["callId"]]
    member, _, _ = await sandbox.request("GET", f"/conferences/{conference_id}/members/{first['callId']}")
    assert member == 404


async def test_ending_a_conference_ejects_every_member_who_continues_their_own_bxml(sandbox, application):
    first, second, conference_id = await two_members(sandbox, application)
    application.reply("/after-conference", response("<Hangup/>"))

    status, _, _ = await sandbox.request("POST", f"/conferences/{conference_id}", json={"status": "completed"})
    redirects = await application.wait_for("redirect", count=2)
    await application.wait_for("conferenceCompleted")
    exits = application.events("conferenceMemberExit")

    assert status == 204
    assert {r.payload["callId"] for r in redirects} == {first["callId"], second["callId"]}
    assert {r.payload["callId"] for r in exits} == {first["callId"], second["callId"]}
    again, _, _ = await sandbox.request("POST", f"/conferences/{conference_id}", json={"status": "completed"})
    assert again == 404


async def test_a_conference_redirect_runs_conference_verbs_and_can_record(sandbox, application):
    first, second, conference_id = await two_members(sandbox, application)
    application.reply(
        "conferenceRedirect",
        response("<SpeakSentence>This call is recorded</SpeakSentence><StartRecording recordingAvailableUrl='/conf-rec'/>"),
    )

    status, _, _ = await sandbox.request(
        "POST", f"/conferences/{conference_id}", json={"redirectUrl": application.at("/conf-redirect"), "username": "r", "password": "rp"}
    )
    (redirect,) = await application.wait_for("conferenceRedirect")
    await sandbox.settle(5)
    await sandbox.request("POST", f"/conferences/{conference_id}", json={"status": "completed"})
    (available,) = await application.wait_for("conferenceRecordingAvailable")

    assert status == 204
    assert redirect.path == "/conf-redirect" and redirect.auth == ("r", "rp")
    assert redirect.payload["conferenceId"] == conference_id and redirect.payload["name"] == "sales-floor"
    recording_id = available.payload["recordingId"]
    assert available.payload["channels"] == 1 and available.payload["status"] == "complete"
    assert available.payload["mediaUrl"].endswith(f"/conferences/{conference_id}/recordings/{recording_id}/media")
    _, recordings, _ = await sandbox.request("GET", f"/conferences/{conference_id}/recordings")
    _, one, _ = await sandbox.request("GET", f"/conferences/{conference_id}/recordings/{recording_id}")
    media, _, headers = await sandbox.request("GET", f"/conferences/{conference_id}/recordings/{recording_id}/media")
    assert [r["recordingId"] for r in recordings] == [recording_id] and one["conferenceId"] == conference_id
    assert media == 200 and headers["Content-Type"] == "audio/wav"
    transcribe, body, _ = await sandbox.request(
        "POST", f"/calls/{first['callId']}/recordings/{recording_id}/transcription", json={}
    )
    assert transcribe == 400 and "Conference recordings cannot be transcribed" in body["description"]


async def test_conference_bxml_with_a_call_verb_is_refused_whole(sandbox, application):
    _, _, conference_id = await two_members(sandbox, application)

    refused, body, _ = await sandbox.request(
        "PUT", f"/conferences/{conference_id}/bxml", data="<Bxml><SpeakSentence>Hi</SpeakSentence><Hangup/></Bxml>"
    )
    accepted, _, _ = await sandbox.request(
        "PUT", f"/conferences/{conference_id}/bxml", data="<Bxml><StartRecording recordingAvailableUrl='/r'/></Bxml>"
    )
    await sandbox.settle(1)

    assert refused == 400 and "Hangup" in body["description"]
    assert accepted == 204
    assert sandbox.sim.conferences.by_id[conference_id].recorder is not None


async def test_a_conference_event_reply_with_a_call_verb_is_not_run(sandbox, application):
    application.reply("conferenceMemberJoin", response("<StartRecording/><Hangup/>"))
    _, _, conference_id = await two_members(sandbox, application)
    await sandbox.settle(1)

    assert sandbox.sim.conferences.by_id[conference_id].recorder is None
    assert len(await members_of(sandbox, conference_id)) == 2


async def test_a_later_joiners_event_url_is_ignored(sandbox, application):
    application.reply("initiate", join())
    await sandbox.offer()
    await application.wait_for("conferenceMemberJoin")
    application.reply("initiate", response("<Conference conferenceEventUrl='/mine'>sales-floor</Conference>"))
    await sandbox.offer()

    await application.wait_for("conferenceMemberJoin", count=2)

    assert not [r for r in application.received if r.path == "/mine"]


async def test_the_member_after_the_limit_cannot_join(application):
    port = free_port()
    server, sandbox = await start_sandbox(sandbox_config(application, port, max_conference_members=2), Scenario(), port)
    try:
        application.reply("initiate", join())
        for number in ("+15550000001", "+15550000002", "+15550000003"):
            await sandbox.offer(from_number=number)
        (refused,) = await application.wait_for("disconnect")
        conference_id = application.events("conferenceMemberJoin")[0].payload["conferenceId"]

        assert refused.payload["from"] == "+15550000003"
        assert refused.payload["cause"] == "application-error" and "full" in refused.payload["errorMessage"]
        assert len(await members_of(sandbox, conference_id)) == 2
    finally:
        await sandbox.session.close()
        await server.close()


async def test_the_inspection_api_shows_members_past_and_present(sandbox, application):
    first, second, conference_id = await two_members(sandbox, application)
    await sandbox.request("POST", f"/calls/{first['callId']}", json={"state": "completed"})
    await application.wait_for("conferenceMemberExit")

    _, conferences, _ = await sandbox.request("GET", "/sandbox/conferences")

    (conference,) = conferences
    assert conference["id"] == conference_id and conference["name"] == "sales-floor"
    members = {m["callId"]: m for m in conference["members"]}
    assert members[first["callId"]]["leftTime"] and members[second["callId"]]["leftTime"] is None
    assert members[second["callId"]]["joinedTime"] and members[second["callId"]]["mute"] is False
