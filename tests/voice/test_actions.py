"""Operator actions: sent once, retried as Bandwidth asks, dropped when stale."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from voice import actions
from voice.models import Action, ActionKind, ActionStatus, Call
from tests.support.bandwidth import API

pytestmark = pytest.mark.django_db

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


@pytest.fixture
def call():
    return Call.objects.create(call_id=CALL, direction="inbound", state="answered", start_time=timezone.now())


@pytest.fixture
def enqueued():
    with mock.patch("voice.actions.perform_action_task") as task:
        yield task.apply_async_on_commit


def hangup(**kwargs) -> Action:
    action, _ = actions.request(ActionKind.HANGUP, target=CALL, call_id=CALL, **kwargs)
    return action


def test_a_request_is_recorded_pending_and_enqueued_once(call, enqueued):
    action = hangup()
    assert action.status == ActionStatus.PENDING
    enqueued.assert_called_once()
    assert enqueued.call_args.args == ((action.pk,),)


def test_a_second_request_while_one_is_under_way_gets_the_same_action(call, enqueued):
    first, second = hangup(), hangup()
    assert first.pk == second.pk
    assert Action.objects.count() == 1
    assert enqueued.call_count == 1


def test_after_an_action_finished_a_new_request_is_a_new_action(call, enqueued):
    first = hangup()
    first.transition(ActionStatus.SENDING)
    first.transition(ActionStatus.FAILED, detail="no")
    assert hangup().pk != first.pk


def test_success_is_done_with_bandwidths_status(call, enqueued, bandwidth_api):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=200)
    action = hangup()
    assert actions.perform(action.pk).retry_in is None
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert action.response_status == 200
    assert action.attempts == 1


@pytest.mark.parametrize("status", [404, 409])
def test_a_hangup_of_a_call_already_gone_is_done(call, enqueued, bandwidth_api, status):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=status, json={"type": "validation", "description": "gone"})
    action = hangup()
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert "already ended" in action.detail


def test_429_waits_for_retry_after(call, enqueued, bandwidth_api):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=429, json={"description": "rate"}, headers={"Retry-After": "2"})
    action = hangup()
    assert actions.perform(action.pk).retry_in == 2.0
    action.refresh_from_db()
    assert action.status == ActionStatus.RETRYING
    assert action.response_status == 429


def test_5xx_backs_off_then_succeeds(call, enqueued, bandwidth_api):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=503, body="busy")
    bandwidth_api.post(f"{API}/calls/{CALL}", status=200)
    action = hangup()
    first = actions.perform(action.pk)
    assert first.retry_in is not None and 0 <= first.retry_in <= 8
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert action.attempts == 2


def test_a_rejected_request_fails_with_bandwidths_text(call, enqueued, bandwidth_api):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=400, json={"type": "validation", "description": "Bad Request"})
    action = hangup()
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED
    assert action.detail == "Bad Request"


def test_a_stale_action_is_dropped_and_never_sent(call, enqueued, bandwidth_api):
    action = hangup()
    Action.objects.filter(pk=action.pk).update(stale_at=timezone.now() - timedelta(seconds=1))
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DROPPED
    assert len(bandwidth_api.calls) == 0


def test_a_retry_after_beyond_the_deadline_drops_the_action(call, enqueued, bandwidth_api, settings):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=429, json={"description": "rate"}, headers={"Retry-After": "120"})
    action = hangup()
    assert actions.perform(action.pk).retry_in is None
    action.refresh_from_db()
    assert action.status == ActionStatus.DROPPED


def test_attempts_are_bounded(call, enqueued, bandwidth_api, settings):
    settings.ACTION_MAX_ATTEMPTS = 2
    bandwidth_api.post(f"{API}/calls/{CALL}", status=503)
    action = hangup()
    actions.perform(action.pk)
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED
    assert len(bandwidth_api.calls) == 2


def test_an_action_claimed_by_another_worker_is_not_sent_twice(call, enqueued, bandwidth_api):
    action = hangup()
    assert action.claim(actions.CLAIM_LEASE)
    actions.perform(action.pk)
    assert len(bandwidth_api.calls) == 0


def test_a_claim_whose_worker_died_is_taken_over_after_the_lease(call, enqueued, bandwidth_api):
    bandwidth_api.post(f"{API}/calls/{CALL}", status=200)
    action = hangup()
    action.claim(actions.CLAIM_LEASE)
    Action.objects.filter(pk=action.pk).update(claimed_at=timezone.now() - actions.CLAIM_LEASE - timedelta(seconds=1))
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


def test_the_task_retries_with_the_countdown_perform_asks_for(call, enqueued):
    from celery.exceptions import Retry

    from voice import tasks

    with mock.patch("voice.actions.perform", return_value=actions.Attempt(retry_in=3.0)):
        with mock.patch.object(tasks.perform_action, "retry", side_effect=Retry()) as retry:
            with pytest.raises(Retry):
                tasks.perform_action.run(1)
    retry.assert_called_once_with(countdown=3.0)


def test_open_actions_whose_task_never_ran_are_dropped(call, enqueued):
    action = hangup()
    Action.objects.filter(pk=action.pk).update(stale_at=timezone.now() - timedelta(minutes=5))
    assert actions.drop_stale() == 1
    action.refresh_from_db()
    assert action.status == ActionStatus.DROPPED


def test_an_unexpected_error_fails_the_action_instead_of_leaving_it_sending(call, enqueued):
    action = hangup()
    with mock.patch.dict(actions.PERFORMERS, {ActionKind.HANGUP: mock.Mock(side_effect=KeyError("oops"))}):
        actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED
    assert "KeyError" in action.detail


def test_an_action_kind_nothing_performs_is_refused_up_front(call, enqueued):
    with mock.patch.dict(actions.PERFORMERS, clear=True):
        with pytest.raises(ValueError):
            hangup()
    assert not Action.objects.exists()
