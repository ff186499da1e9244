"""Each BXML verb a call executes, through the webhooks it leads to."""

from datetime import datetime

import pytest

from tests.sandbox.conftest import CALLEE, response

pytestmark = pytest.mark.asyncio

HOLD = "<Pause duration='600'/>"


async def test_gather_sends_the_digits_the_caller_keys_up_to_the_terminating_digit(sandbox, application):
    application.reply(
        "initiate",
        response(
            "<Gather gatherUrl='/gathered' terminatingDigits='#' maxDigits='10' username='g' password='gp'>"
            "<SpeakSentence>Enter your account number</SpeakSentence></Gather><Hangup/>"
        ),
    )
    application.reply("gather", response("<Hangup/>"))
    await sandbox.offer(digits=["4471#"])

    (gather,) = await application.wait_for("gather")

    assert gather.path == "/gathered" and gather.auth == ("g", "gp")
    assert gather.payload["digits"] == "4471" and gather.payload["terminatingDigit"] == "#"


async def test_gather_stops_at_max_digits_and_sends_empty_digits_when_nothing_is_keyed(sandbox, application):
    gather = "<Gather gatherUrl='/gathered' maxDigits='2' firstDigitTimeout='3'/>"
    application.reply("initiate", response(gather))
    application.reply("/gathered", lambda payload: response(gather) if payload["digits"] else response("<Hangup/>"))
    await sandbox.offer(digits=["123", ""])

    first, second = await application.wait_for("gather", count=2)

    assert (first.payload["digits"], first.payload["terminatingDigit"]) == ("12", "")
    assert (second.payload["digits"], second.payload["terminatingDigit"]) == ("", "")


async def test_gather_without_a_url_discards_the_digits_and_runs_the_next_verb(sandbox, application):
    application.reply("initiate", response("<Gather maxDigits='1'/><Redirect redirectUrl='/after'/>"))
    application.reply("redirect", response("<Hangup/>"))
    await sandbox.offer(digits=["5"])

    await application.wait_for("disconnect")

    assert application.types() == ["initiate", "redirect", "disconnect"]


async def test_a_verb_with_an_event_url_ends_the_document(sandbox, application):
    application.reply("initiate", response("<Redirect redirectUrl='/next'/><SpeakSentence>never</SpeakSentence>"))
    application.reply("redirect", response(HOLD))
    call = await sandbox.offer()
    await application.wait_for("redirect")
    await sandbox.settle(2)

    assert not sandbox.sim.calls.by_id[call["callId"]].prompts


async def test_redirect_resolves_a_relative_url_against_the_document_that_named_it(sandbox, application):
    application.reply("initiate", response("<Redirect redirectUrl='step/two' tag='two'/>"))
    application.reply("redirect", response("<Hangup/>"))
    await sandbox.offer(to_number="+19195550101")

    (redirect,) = await application.wait_for("redirect")

    # /initiate + step/two → /step/two
    assert redirect.path == "/step/two" and redirect.payload["tag"] == "two"


async def test_tag_verb_sets_the_tag_of_later_webhooks_and_an_empty_tag_clears_it(sandbox, application):
    application.reply("initiate", response("<Tag>alpha</Tag><Redirect redirectUrl='/r1'/>"))
    application.reply("/r1", response("<Tag/><Redirect redirectUrl='/r2'/>"))
    application.reply("/r2", response("<Hangup/>"))
    await sandbox.offer()

    first, second = await application.wait_for("redirect", count=2)

    assert first.payload["tag"] == "alpha"
    assert "tag" not in second.payload


async def test_speak_play_and_pause_take_simulated_time(sandbox, application):
    application.reply(
        "initiate",
        response("<SpeakSentence>One two three</SpeakSentence><PlayAudio>/hold.wav</PlayAudio><Pause duration='4'/><Hangup/>"),
    )
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    answered = datetime.fromisoformat(disconnect.payload["answerTime"])
    ended = datetime.fromisoformat(disconnect.payload["endTime"])
    # The clock runs 40 times fast: a loaded machine's lag of 50 ms adds 2 simulated seconds.
    assert 7.5 <= (ended - answered).total_seconds() <= 12


async def test_hangup_before_answering_leaves_the_call_unanswered(sandbox, application):
    application.reply("initiate", response("<Hangup/>"))
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert "answerTime" not in disconnect.payload and disconnect.payload["cause"] == "hangup"


async def test_a_verb_the_sandbox_does_not_simulate_ends_the_call_with_application_error(sandbox, application):
    application.reply("initiate", response("<StartTranscription/>"))
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "application-error"


async def test_a_bad_attribute_ends_the_call_with_invalid_bxml(sandbox, application):
    application.reply("initiate", response("<Pause duration='forever'/>"))
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "invalid-bxml"


async def test_forward_rings_another_number_and_the_application_loses_control(sandbox, application):
    await sandbox.callee("+15557770000", holdSeconds=3)
    application.reply("initiate", response("<Forward to='+15557770000'/>"))
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert application.types() == ["initiate", "disconnect"]
    assert disconnect.payload["cause"] == "hangup" and disconnect.payload["answerTime"]


async def test_forward_to_a_busy_number_ends_the_call_busy(sandbox, application):
    await sandbox.callee("+15557770000", outcome="busy")
    application.reply("initiate", response("<Forward to='+15557770000'/>"))
    await sandbox.offer()

    (disconnect,) = await application.wait_for("disconnect")

    assert disconnect.payload["cause"] == "busy"


TRANSFER = (
    "<Transfer transferCallerId='+19195550100' transferCompleteUrl='/complete'>"
    "<PhoneNumber transferAnswerUrl='/b-answer' transferDisconnectUrl='/b-gone' username='b' password='bp'>{number}</PhoneNumber>"
    "</Transfer><Hangup/>"
)


async def test_transfer_bridges_the_b_leg_and_reports_its_end_to_both_legs(sandbox, application):
    await sandbox.callee("+15557770001", holdSeconds=4)
    application.reply("initiate", response(TRANSFER.format(number="+15557770001")))
    application.reply("transferAnswer", response("<SpeakSentence>You have a call</SpeakSentence>"))
    application.reply("transferComplete", response("<Hangup/>"))
    call = await sandbox.offer()

    (answer,) = await application.wait_for("transferAnswer")
    (complete,) = await application.wait_for("transferComplete")
    (b_gone,) = await application.wait_for("transferDisconnect")
    await application.wait_for("disconnect")

    assert answer.path == "/b-answer" and answer.auth == ("b", "bp")
    assert answer.payload["parentCallId"] == call["callId"] and answer.payload["callId"] != call["callId"]
    assert answer.payload["transferTo"] == "+15557770001" and answer.payload["transferCallerId"] == "+19195550100"
    assert answer.payload["direction"] == "outbound"
    assert complete.payload["callId"] == call["callId"] and complete.payload["cause"] == "hangup"
    assert b_gone.payload["callId"] == answer.payload["callId"] and b_gone.payload["cause"] == "hangup"
    assert b_gone.auth == ("b", "bp")
    b_leg = await sandbox.call(answer.payload["callId"])
    assert b_leg["parentCallId"] == call["callId"]


async def test_a_busy_transfer_target_reports_busy_on_transfer_complete(sandbox, application):
    await sandbox.callee("+15557770002", outcome="busy")
    application.reply("initiate", response(TRANSFER.format(number="+15557770002")))
    application.reply("transferComplete", response("<Hangup/>"))
    await sandbox.offer()

    (complete,) = await application.wait_for("transferComplete")
    (b_gone,) = await application.wait_for("transferDisconnect")

    assert complete.payload["cause"] == "busy" and complete.payload["errorMessage"] == "Callee is busy"
    assert b_gone.payload["cause"] == "busy" and "answerTime" not in b_gone.payload
    assert not application.events("transferAnswer")


async def test_when_the_a_leg_hangs_up_the_b_leg_ends_and_no_transfer_complete_is_sent(sandbox, application):
    await sandbox.callee("+15557770003")
    application.reply("initiate", response(TRANSFER.format(number="+15557770003")))
    await sandbox.offer(holdSeconds=5)

    (b_gone,) = await application.wait_for("transferDisconnect")
    await application.wait_for("disconnect")
    await sandbox.settle(1)

    assert b_gone.payload["cause"] == "hangup"
    assert not application.events("transferComplete")


async def test_simultaneous_transfer_targets_the_first_to_answer_wins_and_the_others_are_cancelled(sandbox, application):
    await sandbox.callee("+15557770004", ringSeconds=1, holdSeconds=3)
    await sandbox.callee("+15557770005", ringSeconds=4)
    application.reply(
        "initiate",
        response(
            "<Transfer transferCompleteUrl='/complete'>"
            "<PhoneNumber transferDisconnectUrl='/gone'>+15557770004</PhoneNumber>"
            "<PhoneNumber transferDisconnectUrl='/gone'>+15557770005</PhoneNumber></Transfer>"
        ),
    )
    application.reply("transferComplete", response("<Hangup/>"))
    await sandbox.offer()

    (complete,) = await application.wait_for("transferComplete")
    gone = await application.wait_for("transferDisconnect", count=2)

    assert complete.payload["transferTo"] == "+15557770004"
    assert {g.payload["transferTo"]: g.payload["cause"] for g in gone} == {"+15557770004": "hangup", "+15557770005": "cancel"}


async def test_a_transfer_answer_reply_may_not_hold_a_conference(sandbox, application):
    await sandbox.callee("+15557770006")
    application.reply("initiate", response(TRANSFER.format(number="+15557770006")))
    application.reply("transferAnswer", response("<Conference>nope</Conference>"))
    application.reply("transferComplete", response("<Hangup/>"))
    await sandbox.offer()

    (b_gone,) = await application.wait_for("transferDisconnect")

    assert b_gone.payload["cause"] == "invalid-bxml"


async def test_an_outbound_callee_presses_their_scripted_digits(sandbox, application):
    await sandbox.callee(CALLEE, digits=["9"])
    application.reply("answer", response("<Gather gatherUrl='/g' maxDigits='1'/>"))
    application.reply("gather", response("<Hangup/>"))
    await sandbox.create_call(application)

    (gather,) = await application.wait_for("gather")

    assert gather.payload["digits"] == "9"
