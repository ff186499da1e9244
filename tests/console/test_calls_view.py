"""The live calls page and the hang-up action."""

from unittest import mock

import pytest
from django.utils import timezone

from console import roles
from voice.models import Action, ActionStatus, Call, CallState

pytestmark = pytest.mark.django_db

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


@pytest.fixture
def call():
    return Call.objects.create(
        call_id=CALL, direction="inbound", state=CallState.ANSWERED, from_number="+15551112222",
        to_number="+15553334444", start_time=timezone.now(),
    )


@pytest.fixture
def enqueued():
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit") as enqueue:
        yield enqueue


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_board_lists_live_calls_only(agent_client, call):
    Call.objects.create(call_id="c-ended", direction="inbound", state=CallState.ENDED, start_time=timezone.now())
    response = agent_client.get("/")
    html = response.content.decode()
    assert f'id="call-{CALL}"' in html
    assert "+15551112222" in html
    assert "c-ended" not in html
    assert 'ws-connect="/ws/live/calls/"' in html


def test_an_htmx_request_gets_only_the_view_and_its_counts(agent_client, call):
    response = agent_client.get("/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.strip().startswith('<div id="call-view"')
    assert '<span id="call-count">1 live call</span>' in html
    assert "<html" not in html


def test_an_agent_hangs_up_and_sees_it_pending_at_once(agent_client, call, enqueued):
    response = agent_client.post(f"/calls/{CALL}/hangup", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert '<span class="status status-pending" role="status"><span class="spinner" aria-hidden="true"></span>Hanging up…' in response.content.decode()
    assert Action.objects.get().status == ActionStatus.PENDING
    enqueued.assert_called_once()


def test_a_double_click_sends_one_action(agent_client, call, enqueued):
    agent_client.post(f"/calls/{CALL}/hangup", headers={"HX-Request": "true"})
    agent_client.post(f"/calls/{CALL}/hangup", headers={"HX-Request": "true"})
    assert Action.objects.count() == 1
    enqueued.assert_called_once()


def test_a_user_without_a_role_is_refused_and_nothing_is_enqueued(client, make_operator, call, enqueued):
    client.force_login(make_operator(None, "visitor"))
    response = client.post(f"/calls/{CALL}/hangup")
    assert response.status_code == 403
    assert not Action.objects.exists()
    enqueued.assert_not_called()


@pytest.mark.parametrize("role", [roles.AGENT, roles.SUPERVISOR, roles.ADMIN])
def test_every_role_may_hang_up(client, make_operator, call, enqueued, role):
    client.force_login(make_operator(role))
    assert client.post(f"/calls/{CALL}/hangup").status_code == 302
    assert Action.objects.count() == 1


def test_hangup_needs_a_csrf_token(make_operator, call, enqueued):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_operator(roles.AGENT))
    assert browser.post(f"/calls/{CALL}/hangup").status_code == 403
    assert not Action.objects.exists()


def test_anonymous_htmx_action_redirects_the_page_to_sign_in(client, call, enqueued):
    response = client.post(f"/calls/{CALL}/hangup", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/login/")
    assert not Action.objects.exists()


def test_hanging_up_an_ended_call_sends_nothing(agent_client, call, enqueued):
    Call.objects.filter(pk=call.pk).update(state=CallState.ENDED)
    agent_client.post(f"/calls/{CALL}/hangup")
    assert not Action.objects.exists()


def test_an_unknown_call_is_404(agent_client, enqueued):
    assert agent_client.post("/calls/c-nope/hangup").status_code == 404
