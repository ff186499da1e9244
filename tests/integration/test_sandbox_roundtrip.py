"""The console and the sandbox over real HTTP: calls placed, answered, hung up, mirrored."""

import pytest
from django.conf import settings

from voice import actions, bandwidth
from voice.models import Action, ActionKind, ActionStatus, Call, CallState, Event
from tests.support.sandbox import running_sandbox, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(live_server, settings, tmp_path):
    with running_sandbox(public_url=live_server.url, log_dir=tmp_path, speed=4) as handle:
        settings.BANDWIDTH_API_URL = handle.api_url
        yield handle


def place_call(live_server) -> str:
    return (
        bandwidth.client()
        .create_call(
            to="+15553334444",
            from_number="+19195550100",
            answer_url=f"{live_server.url}/webhooks/voice",
            disconnect_url=f"{live_server.url}/webhooks/voice",
            application_id=settings.BANDWIDTH_APPLICATION_ID,
            username=settings.WEBHOOK_USERNAME,
            password=settings.WEBHOOK_PASSWORD,
        )
        .call_id
    )


def state_of(call_id: str) -> str | None:
    call = Call.objects.filter(call_id=call_id).first()
    return call.state if call else None


def test_a_placed_call_is_answered_then_hung_up_and_the_mirror_follows(sandbox, live_server):
    call_id = place_call(live_server)
    wait_until(lambda: state_of(call_id) == CallState.ANSWERED, message="the answer webhook")
    assert sandbox.call(call_id)["state"] == "answered"

    bandwidth.client().hang_up(call_id)
    wait_until(lambda: state_of(call_id) == CallState.ENDED, message="the disconnect webhook")

    call = Call.objects.get(call_id=call_id)
    assert call.disconnect_cause == "hangup"
    assert call.direction == "outbound"
    assert call.answer_time is not None and call.end_time >= call.answer_time
    assert list(Event.objects.filter(call_id=call_id).values_list("event_type", flat=True)) == ["answer", "disconnect"]
    assert sandbox.call(call_id)["state"] == "completed"


def test_hanging_up_an_ended_call_is_a_conflict(sandbox, live_server):
    call_id = place_call(live_server)
    wait_until(lambda: state_of(call_id) == CallState.ANSWERED)
    bandwidth.client().hang_up(call_id)
    with pytest.raises(bandwidth.PermanentError) as raised:
        bandwidth.client().hang_up(call_id)
    assert raised.value.status == 409


def test_an_inbound_call_hung_up_by_an_action_ends_in_the_mirror(sandbox):
    call_id = sandbox.offer_inbound()["callId"]
    wait_until(lambda: state_of(call_id) == CallState.ANSWERED, message="the initiate webhook")

    action, created = actions.request(ActionKind.HANGUP, target=call_id, call_id=call_id)
    assert created
    actions.perform(action.pk)

    assert Action.objects.get(pk=action.pk).status == ActionStatus.DONE
    wait_until(lambda: state_of(call_id) == CallState.ENDED, message="the disconnect webhook")
    hangups = [r for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith(call_id)]
    assert len(hangups) == 1


def test_the_sandbox_refuses_wrong_credentials(sandbox):
    wrong = bandwidth.BandwidthClient(api_url=sandbox.api_url, account_id="9900000", username="x", password="y")
    with pytest.raises(bandwidth.PermanentError) as raised:
        wrong.get_call("c-anything")
    assert raised.value.status == 401
