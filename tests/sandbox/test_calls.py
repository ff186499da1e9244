"""Calls in time: offered, answered, rung, refused, redirected, hung up; the webhooks each sends."""

import asyncio

import pytest

from tests.sandbox.conftest import APPLICATION_ID, CALLED, CALLEE, CALLER, HOOK_AUTH, Slow, response

pytestmark = pytest.mark.asyncio

HOLD = "<Pause duration='600'/>"


async def test_an_inbound_call_is_offered_to_the_application_answered_and_ends_when_its_bxml_runs_out(sandbox, application):
    application.reply("initiate", response("<SpeakSentence>Hello there</SpeakSentence>"))
    call = await sandbox.offer()

    (initiate,) = await application.wait_for("initiate")
    (disconnect,) = await application.wait_for("disconnect")

    assert initiate.path == "/initiate" and initiate.auth == HOOK_AUTH
    assert initiate.payload["direction"] == "inbound"
    assert initiate.payload["from"] == CALLER and initiate.payload["to"] == CALLED
    assert initiate.payload["callId"] == call["callId"]
    assert initiate.payload["accountId"] == "9900000" and initiate.payload["applicationId"] == APPLICATION_ID
    assert "answerTime" not in initiate.payload and "tag" not in initiate.payload
    assert initiate.payload["callUrl"].endswith(f"/api/v2/accounts/9900000/calls/{call['callId']}")
    assert disconnect.path == "/status" and disconnect.auth == HOOK_AUTH
    assert disconnect.payload["cause"] == "hangup"
    assert disconnect.payload["answerTime"] >= disconnect.payload["startTime"]
    assert disconnect.payload["endTime"].endswith("Z") and len(disconnect.payload["endTime"]) == 24
    ended = await sandbox.call(call["callId"])
    assert ended["state"] == "completed" and ended["disconnectCause"] == "hangup"


async def test_an_outbound_call_rings_is_answered_and_sends_answer_and_disconnect_with_its_credentials(sandbox, application):
    application.reply("answer", response(HOLD))
    call = await sandbox.create_call(application, username="me", password="secret", tag="first")
    assert call["state"] == "initiated"

    (answer,) = await application.wait_for("answer")
    status, body, _ = await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "completed"})
    (disconnect,) = await application.wait_for("disconnect")

    assert status == 200 and body == b""
    assert answer.auth == ("me", "secret") and disconnect.auth == ("me", "secret")
    assert answer.payload["direction"] == "outbound" and answer.payload["tag"] == "first"
    assert answer.payload["enqueuedTime"] and answer.payload["answerTime"]
    assert disconnect.payload["cause"] == "hangup"


@pytest.mark.parametrize(
    ("outcome", "cause"), [("busy", "busy"), ("timeout", "timeout"), ("rejected", "rejected")]
)
async def test_an_outbound_call_that_is_not_answered_ends_with_the_callees_reason_and_no_answer_webhook(
    sandbox, application, outcome, cause
):
    await sandbox.callee(outcome=outcome)
    call = await sandbox.create_call(application, callTimeout=5)

    (disconnect,) = await application.wait_for("disconnect")

    assert application.types() == ["disconnect"]
    assert disconnect.payload["cause"] == cause
    assert "answerTime" not in disconnect.payload
    assert (await sandbox.call(call["callId"]))["disconnectCause"] == cause


async def test_hanging_up_a_ringing_outbound_call_cancels_it(sandbox, application):
    await sandbox.callee(ringSeconds=20)
    call = await sandbox.create_call(application)

    status, _, _ = await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "completed"})
    (disconnect,) = await application.wait_for("disconnect")

    assert status == 200
    assert disconnect.payload["cause"] == "cancel"


async def test_a_caller_who_hangs_up_ends_the_call_with_cause_hangup(sandbox, application):
    application.reply("initiate", response(HOLD))
    await sandbox.offer(holdSeconds=2)

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "hangup"


async def test_redirecting_a_call_sends_redirect_and_runs_its_reply_instead_of_the_current_bxml(sandbox, application):
    application.reply("initiate", response(HOLD))
    application.reply("/elsewhere", response("<SpeakSentence>Moved</SpeakSentence><Hangup/>"))
    call = await sandbox.offer()
    await application.wait_for("initiate")
    await sandbox.settle()

    status, _, _ = await sandbox.request(
        "POST",
        f"/calls/{call['callId']}",
        json={"redirectUrl": application.at("/elsewhere"), "username": "r", "password": "rp", "tag": "moved"},
    )
    (redirect,) = await application.wait_for("redirect")
    (disconnect,) = await application.wait_for("disconnect")

    assert status == 200
    assert redirect.path == "/elsewhere" and redirect.auth == ("r", "rp")
    assert redirect.payload["tag"] == "moved"
    assert disconnect.payload["cause"] == "hangup" and disconnect.payload["tag"] == "moved"


async def test_new_bxml_put_on_a_call_replaces_the_running_document(sandbox, application):
    application.reply("initiate", response(HOLD))
    call = await sandbox.offer()
    await application.wait_for("initiate")
    await sandbox.settle()

    status, _, _ = await sandbox.request(
        "PUT",
        f"/calls/{call['callId']}/bxml",
        data="<?xml version='1.0'?><Bxml><Redirect redirectUrl='/next'/></Bxml>",
        headers={"Content-Type": "application/xml"},
    )
    (redirect,) = await application.wait_for("redirect")

    assert status == 204
    # A relative URL resolves against the URL that served the call's last document.
    assert redirect.path == "/next"


async def test_bxml_put_on_a_call_must_be_a_bxml_document(sandbox, application):
    application.reply("initiate", response(HOLD))
    call = await sandbox.offer()
    await application.wait_for("initiate")
    await sandbox.settle()

    wrong_root, _, _ = await sandbox.request("PUT", f"/calls/{call['callId']}/bxml", data="<Response/>")
    broken, body, _ = await sandbox.request("PUT", f"/calls/{call['callId']}/bxml", data="<Bxml><Pause>")

    assert wrong_root == 400 and broken == 400
    assert body["type"] == "validation"


async def test_invalid_bxml_ends_the_call_with_cause_invalid_bxml(sandbox, application):
    application.reply("initiate", "<Response><Dance/></Response>")
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "invalid-bxml"
    assert "Dance" in disconnect.payload["errorMessage"] and disconnect.payload["errorId"]


async def test_a_failing_bxml_webhook_is_retried_on_the_fallback_url(sandbox, application):
    application.reply("/answer", 503)
    application.reply("/answer-fallback", response("<Hangup/>"))
    await sandbox.create_call(
        application, answerFallbackUrl=application.at("/answer-fallback"), fallbackUsername="fb", fallbackPassword="fbp"
    )

    (disconnect,) = await application.wait_for("disconnect")

    answers = application.events("answer")
    assert [a.path for a in answers] == ["/answer", "/answer-fallback"]
    assert answers[1].auth == ("fb", "fbp")
    assert disconnect.payload["cause"] == "hangup"


async def test_a_bxml_webhook_that_times_out_twice_ends_the_call_with_callback_error(sandbox, application):
    application.reply("/answer", Slow(1.5))
    application.reply("/answer-fallback", Slow(1.5))
    await sandbox.create_call(application, callbackTimeout=1, answerFallbackUrl=application.at("/answer-fallback"))

    (disconnect,) = await application.wait_for("disconnect", timeout=8)

    assert len(application.events("answer")) == 2
    assert disconnect.payload["cause"] == "callback-error"


async def test_a_bxml_webhook_without_fallback_that_fails_ends_the_call_with_callback_error(sandbox, application):
    application.reply("initiate", 500)
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "callback-error"


async def test_an_async_webhook_is_retried_once_on_a_connection_error_only(sandbox, application, unused_tcp_port):
    application.reply("answer", response("<Hangup/>"))
    await sandbox.create_call(application, disconnectUrl=f"http://127.0.0.1:{unused_tcp_port}/gone")
    await application.wait_for("answer")
    await sandbox.settle(2)

    attempts = [w for w in sandbox.sim.sender.history if w.event_type == "disconnect"]
    assert len(attempts) == 2 and all(w.status is None for w in attempts)


async def test_an_async_webhook_answered_with_an_error_is_not_retried(sandbox, application):
    application.reply("answer", response("<Hangup/>"))
    application.reply("disconnect", 500)
    await sandbox.create_call(application)
    await application.wait_for("disconnect")
    await sandbox.settle(2)

    assert len(application.events("disconnect")) == 1


async def test_get_webhooks_carry_the_fields_in_the_query_string(sandbox, application):
    application.reply("answer", response("<Hangup/>"))
    await sandbox.create_call(application, answerMethod="GET", disconnectMethod="GET")

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.method == "GET" and application.events("answer")[0].method == "GET"
    assert disconnect.payload["cause"] == "hangup" and disconnect.payload["to"] == CALLEE


async def test_a_call_that_ended_cannot_be_updated(sandbox, application):
    application.reply("answer", response("<Hangup/>"))
    call = await sandbox.create_call(application)
    await application.wait_for("disconnect")

    status, body, _ = await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "completed"})

    assert status == 409
    assert body == {"type": "validation", "description": f"Call [{call['callId']}] cannot be modified in its current state", "id": ""}


async def test_a_ringing_call_cannot_be_redirected(sandbox, application):
    await sandbox.callee(ringSeconds=30)
    call = await sandbox.create_call(application, callTimeout=60)

    status, _, _ = await sandbox.request("POST", f"/calls/{call['callId']}", json={"redirectUrl": application.at("/x")})

    assert status == 409


async def test_the_application_settings_decide_where_inbound_webhooks_go(sandbox, application):
    status, settings, _ = await sandbox.request(
        "PUT",
        "/sandbox/application",
        json={"callInitiatedCallbackUrl": application.at("/other"), "callbackUsername": "u2", "callInitiatedMethod": "GET"},
    )
    application.reply("/other", response("<Hangup/>"))
    await sandbox.offer()
    (initiate,) = await application.wait_for("initiate")

    assert status == 200
    assert settings["callInitiatedCallbackUrl"] == application.at("/other")
    assert settings["callStatusCallbackUrl"] == application.at("/status")
    assert initiate.path == "/other" and initiate.method == "GET" and initiate.auth == ("u2", HOOK_AUTH[1])


async def test_application_settings_refuse_bad_values_whole(sandbox):
    status, body, _ = await sandbox.request(
        "PUT", "/sandbox/application", json={"callbackUsername": "x", "callbackTimeout": 99}
    )
    _, settings, _ = await sandbox.request("GET", "/sandbox/application")

    assert status == 400 and "callbackTimeout" in body["description"]
    assert settings["callbackUsername"] == "hooks"


async def test_the_inbound_initiate_falls_back_to_the_applications_fallback_url(sandbox, application):
    await sandbox.request("PUT", "/sandbox/application", json={"callInitiatedFallbackUrl": application.at("/fallback")})
    application.reply("/initiate", 500)
    application.reply("/fallback", response("<Hangup/>"))
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert [r.path for r in application.events("initiate")] == ["/initiate", "/fallback"]
    assert application.events("initiate")[1].auth == HOOK_AUTH
    assert disconnect.payload["cause"] == "hangup"


async def test_calls_are_listed_with_filters_and_pages(sandbox, application):
    application.reply("initiate", response(HOLD))
    for number in ("+15550000001", "+15550000002", "+15550000003"):
        await sandbox.offer(from_number=number)

    status, first, headers = await sandbox.request("GET", "/calls?pageSize=2")
    _, second, _ = await sandbox.request("GET", headers["Link"].split(";")[0].strip("<>"))
    _, filtered, _ = await sandbox.request("GET", "/calls?from=%2B15550000002")
    bad, _, _ = await sandbox.request("GET", "/calls?minStartTime=yesterday")

    assert status == 200 and len(first) == 2 and len(second) == 1
    assert 'rel="next"' in headers["Link"]
    assert [c["from"] for c in first + second] == ["+15550000001", "+15550000002", "+15550000003"]
    assert [c["from"] for c in filtered] == ["+15550000002"]
    assert bad == 400


async def test_ending_a_call_cancels_its_pending_work_at_once(sandbox, application):
    application.reply("initiate", response(HOLD))
    call = await sandbox.offer()
    await application.wait_for("initiate")
    await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "completed"})
    await application.wait_for("disconnect")
    await asyncio.sleep(0.05)

    assert not sandbox.sim.calls.by_id[call["callId"]].tasks
