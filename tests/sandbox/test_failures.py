"""What goes wrong, in an application's reply or inside the sandbox, ends the call it concerns
and leaves nothing stranded: no call stays up for ever, no conference stops sending events."""

import asyncio
import logging

import pytest
from aiohttp import web

from console.processes import free_port
from tests.sandbox.conftest import response, sandbox_config, start_sandbox
from voice.sandbox import bxml_parser, bxml_verbs
from voice.sandbox.scenarios import Scenario

pytestmark = pytest.mark.asyncio

HOLD = "<Pause duration='600'/>"


@pytest.mark.parametrize("verb", ["<Gather maxDigits='nan' gatherUrl='/gather'/>", "<Pause duration='nan'/>", "<Record maxDuration='NaN'/>"])
async def test_a_number_attribute_that_is_not_finite_ends_the_call_with_invalid_bxml(sandbox, application, verb):
    application.reply("initiate", response(verb))
    call = await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "invalid-bxml"
    assert "must be a number" in disconnect.payload["errorMessage"]
    assert (await sandbox.call(call["callId"]))["state"] == "completed"


async def test_a_reply_that_is_not_the_utf8_it_claims_is_read_with_replacement_characters(sandbox, application):
    latin1 = "<Response><SpeakSentence>Bienvenue au caf\u00e9</SpeakSentence><Hangup/></Response>".encode("latin-1")
    application.reply("initiate", lambda payload: web.Response(body=latin1, content_type="application/xml", charset="utf-8"))
    call = await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "hangup"
    assert [text for _, text in sandbox.sim.calls.by_id[call["callId"]].prompts] == ["Bienvenue au caf\ufffd"]


async def test_an_async_webhook_answered_with_undecodable_text_is_delivered_all_the_same(sandbox, application):
    application.reply("initiate", response("<Hangup/>"))
    application.reply("disconnect", lambda payload: web.Response(body=b"\xff\xfe", content_type="text/plain", charset="utf-8"))
    await sandbox.offer()

    await application.wait_for("disconnect")
    await sandbox.settle(1)

    (delivery,) = [d for d in sandbox.sim.sender.history if d.event_type == "disconnect"]
    assert delivery.status == 200 and delivery.error == ""


async def test_a_failure_inside_the_sandbox_ends_the_call_with_application_error_and_is_logged(
    sandbox, application, monkeypatch, caplog
):
    async def broken(interpreter, call, verb, base_url):
        raise RuntimeError("the simulation tripped")

    monkeypatch.setitem(bxml_verbs.VERBS, "Pause", broken)
    application.reply("initiate", response(HOLD))
    call = await sandbox.offer()

    with caplog.at_level(logging.ERROR, logger="sandbox"):
        (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "application-error"
    assert "RuntimeError: the simulation tripped" in disconnect.payload["errorMessage"]
    assert (await sandbox.call(call["callId"]))["state"] == "completed"
    assert call["callId"] not in {live.call_id for live in sandbox.sim.calls.live.values()}
    assert any("the simulation tripped" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


async def test_a_failure_handling_one_conference_event_does_not_stop_the_next_ones(sandbox, application, monkeypatch):
    real = bxml_parser.only_conference_verbs
    failures = []

    def fails_once(verbs):
        if not failures:
            failures.append(True)
            raise RuntimeError("the simulation tripped")
        return real(verbs)

    monkeypatch.setattr(bxml_parser, "only_conference_verbs", fails_once)
    application.reply("initiate", response("<Conference conferenceEventUrl='/conference'>sales-floor</Conference>"))
    application.reply("conferenceMemberJoin", response("<SpeakSentence>Welcome</SpeakSentence>"))
    await sandbox.offer(holdSeconds=5)

    await application.wait_for("conferenceCompleted")

    assert failures
    assert [r.event_type for r in application.received if r.path == "/conference"] == [
        "conferenceCreated",
        "conferenceMemberJoin",
        "conferenceMemberExit",
        "conferenceCompleted",
    ]
    (conference,) = sandbox.sim.conferences.by_id.values()
    assert [text for _, text in conference.prompts] == ["Welcome"]


async def test_stopping_the_sandbox_in_the_middle_of_a_recorded_conference_logs_no_failure(application, caplog):
    port = free_port()
    server, sandbox = await start_sandbox(sandbox_config(application, port), Scenario(), port)
    application.reply("initiate", response("<Conference conferenceEventUrl='/conference'>sales-floor</Conference>"))
    application.reply("conferenceCreated", response("<StartRecording recordingAvailableUrl='/recorded'/>"))
    await sandbox.offer()
    await application.wait_for("conferenceMemberJoin")
    await sandbox.settle(2)
    await sandbox.session.close()

    with caplog.at_level(logging.ERROR, logger="sandbox"):
        await server.close()
        # Long enough for a recording published on the way out to try to send its webhook.
        await asyncio.sleep(0.5)

    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
