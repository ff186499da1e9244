"""Faults on the way of an action: the hand-over to Celery fails, a worker dies while
sending, Bandwidth's answer is lost. Nothing is lost, and nothing is reported that Bandwidth
does not say: an action whose request may have reached Bandwidth is resolved by reading it."""

from datetime import timedelta
from unittest import mock

import pytest
import requests
from django.utils import timezone

from tests.support.bandwidth import API
from voice import actions
from voice.models import Action, ActionKind, ActionStatus, Call, Conference, ConferenceMember

pytestmark = pytest.mark.django_db

CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
MEMBER = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"
MEMBER_URL = f"{API}/conferences/{CONFERENCE}/members/{MEMBER}"
CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


@pytest.fixture
def member():
    conference = Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=timezone.now())
    return ConferenceMember.objects.create(conference=conference, call_id=MEMBER, joined_at=timezone.now())


def read(**fields) -> dict:
    return {"callId": MEMBER, "conferenceId": CONFERENCE, "mute": False, "hold": False, "callIdsToCoach": [], **fields}


def mute(**changes) -> Action:
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit"):
        action, _ = actions.request(ActionKind.MUTE, target=f"{CONFERENCE}/{MEMBER}", call_id=MEMBER, params={"mute": True})
    Action.objects.filter(pk=action.pk).update(**changes)
    return action


def interrupted(**changes) -> Action:
    """A mute whose worker died while sending it: "sending", its lease run out."""
    long_ago = timezone.now() - actions.CLAIM_LEASE - timedelta(seconds=1)
    return mute(status=ActionStatus.SENDING, claimed_at=long_ago, updated_at=long_ago, attempts=1, **changes)


def outcome(action: Action) -> tuple[str, str]:
    action.refresh_from_db()
    return action.status, action.detail


def test_a_hand_over_that_fails_fails_nothing_and_the_sweep_hands_it_over_again(member, django_capture_on_commit_callbacks):
    with mock.patch("voice.tasks.perform_action.apply_async", side_effect=ConnectionError("Redis is down")) as publish:
        with django_capture_on_commit_callbacks(execute=True):
            action, created = actions.request(
                ActionKind.MUTE, target=f"{CONFERENCE}/{MEMBER}", call_id=MEMBER, params={"mute": True}
            )
    assert created and publish.call_count == 1
    assert action.status == ActionStatus.PENDING
    # Within HANDOVER_AFTER a worker may still pick it up: not handed over twice.
    assert actions.sweep().handed_over == []
    Action.objects.filter(pk=action.pk).update(updated_at=timezone.now() - actions.HANDOVER_AFTER * 2)
    with mock.patch("voice.tasks.perform_action.apply_async") as publish:
        with django_capture_on_commit_callbacks(execute=True):
            assert actions.sweep().handed_over == [action.pk]
    assert publish.call_args.args[0] == (action.pk,)


def test_a_worker_that_died_sending_a_mute_bandwidth_applied_ends_done_from_bandwidths_read(member, bandwidth_api):
    action = interrupted()
    bandwidth_api.get(MEMBER_URL, json=read(mute=True))
    actions.perform(action.pk)
    status, detail = outcome(action)
    assert status == ActionStatus.DONE and "reading the member at Bandwidth" in detail
    # Read, never sent again; the mirror has what Bandwidth read.
    assert [call.request.method for call in bandwidth_api.calls] == ["GET"]
    member.refresh_from_db()
    assert member.mute is True


def test_even_once_stale_an_applied_mute_is_done_not_dropped(member, bandwidth_api):
    action = interrupted(stale_at=timezone.now() - timedelta(minutes=5))
    bandwidth_api.get(MEMBER_URL, json=read(mute=True))
    assert actions.sweep().dropped == 0
    actions.perform(action.pk)
    assert outcome(action)[0] == ActionStatus.DONE


def test_a_mute_bandwidth_did_not_apply_is_sent_again_while_it_is_fresh(member, bandwidth_api):
    action = interrupted()
    bandwidth_api.get(MEMBER_URL, json=read(mute=False))
    bandwidth_api.put(MEMBER_URL, status=204)
    bandwidth_api.get(MEMBER_URL, json=read(mute=True))
    actions.perform(action.pk)
    assert outcome(action)[0] == ActionStatus.DONE
    assert [call.request.method for call in bandwidth_api.calls] == ["GET", "PUT", "GET"]


def test_a_stale_mute_bandwidth_did_not_apply_says_so(member, bandwidth_api):
    action = interrupted(stale_at=timezone.now() - timedelta(minutes=5))
    bandwidth_api.get(MEMBER_URL, json=read(mute=False))
    actions.perform(action.pk)
    status, detail = outcome(action)
    assert status == ActionStatus.DROPPED
    assert "Bandwidth shows it was not applied" in detail
    assert [call.request.method for call in bandwidth_api.calls] == ["GET"]


def test_the_sweep_hands_over_an_action_whose_worker_died(member, django_capture_on_commit_callbacks):
    action = interrupted()
    with mock.patch("voice.tasks.perform_action.apply_async") as publish, django_capture_on_commit_callbacks(execute=True):
        assert actions.sweep().handed_over == [action.pk]
    publish.assert_called_once()


def test_a_mute_whose_answer_timed_out_is_confirmed_by_reading(member, bandwidth_api):
    action = mute()
    bandwidth_api.put(MEMBER_URL, body=requests.ReadTimeout("no answer"))
    bandwidth_api.get(MEMBER_URL, json=read(mute=True))
    actions.perform(action.pk)
    status, detail = outcome(action)
    assert status == ActionStatus.DONE and "reading the member" in detail


def test_a_hang_up_whose_worker_died_is_done_when_bandwidth_says_the_call_ended(bandwidth_api):
    Call.objects.create(call_id=CALL, direction="inbound", state="answered", start_time=timezone.now())
    long_ago = timezone.now() - actions.CLAIM_LEASE - timedelta(seconds=1)
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit"):
        action, _ = actions.request(ActionKind.HANGUP, target=CALL, call_id=CALL)
    Action.objects.filter(pk=action.pk).update(status=ActionStatus.SENDING, claimed_at=long_ago, attempts=1)
    bandwidth_api.get(f"{API}/calls/{CALL}", json={"callId": CALL, "state": "disconnected"})
    actions.perform(action.pk)
    assert outcome(action)[0] == ActionStatus.DONE


def dial_out() -> Action:
    Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=timezone.now())
    params = {"to": "+15550001111", "from": "+19195550100", "conference": CONFERENCE}
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit"):
        action, _ = actions.request(ActionKind.DIAL_OUT, target=f"{CONFERENCE}/+15550001111", params=params)
    return action


def test_a_dial_out_whose_answer_was_lost_is_found_at_bandwidth_and_never_placed_twice(bandwidth_api):
    action = dial_out()
    bandwidth_api.post(f"{API}/calls", body=requests.ConnectionError("reset after sending"))
    bandwidth_api.get(
        f"{API}/calls",
        json=[{"callId": "c-placed", "to": "+15550001111", "from": "+19195550100", "tag": f"dial-out:{CONFERENCE}", "state": "initiated"}],
    )
    actions.perform(action.pk)
    status, detail = outcome(action)
    assert status == ActionStatus.DONE and "found at Bandwidth" in detail
    assert Action.objects.get().call_id == "c-placed"
    assert Call.objects.filter(call_id="c-placed").exists()
    assert [call.request.method for call in bandwidth_api.calls] == ["POST", "GET"]


def test_a_dial_out_whose_answer_was_lost_and_that_bandwidth_does_not_show_failed_saying_so(bandwidth_api):
    action = dial_out()
    bandwidth_api.post(f"{API}/calls", body=requests.ConnectionError("reset after sending"))
    bandwidth_api.get(f"{API}/calls", json=[])
    actions.perform(action.pk)
    status, detail = outcome(action)
    assert status == ActionStatus.FAILED and "not placed" in detail
