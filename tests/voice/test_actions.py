"""Operator actions: sent once, retried as Bandwidth asks, dropped when stale; what each kind
sends to Bandwidth, and how it is confirmed."""

import json
from datetime import timedelta
from unittest import mock
from xml.etree import ElementTree

import pytest
import requests
from django.utils import timezone

from voice import actions
from voice.models import Action, ActionKind, ActionStatus, Call, Conference, ConferenceMember
from tests.support.bandwidth import API

pytestmark = pytest.mark.django_db

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


@pytest.fixture
def call():
    return Call.objects.create(call_id=CALL, direction="inbound", state="answered", start_time=timezone.now())


@pytest.fixture
def enqueued():
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit") as enqueue:
        yield enqueue


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


def mute(mute: bool = True) -> tuple[Action, bool]:
    return actions.request(ActionKind.MUTE, target=f"conf-1/{CALL}", call_id=CALL, params={"mute": mute})


def done(action: Action, seconds_ago: float = 0.0) -> Action:
    action.transition(ActionStatus.SENDING)
    action.transition(ActionStatus.DONE, detail="done")
    Action.objects.filter(pk=action.pk).update(finished_at=timezone.now() - timedelta(seconds=seconds_ago))
    return action


def test_the_same_action_asked_just_after_it_was_done_is_that_action(call, enqueued, settings):
    first = done(mute()[0], seconds_ago=actions.REPEAT_WINDOW.total_seconds() - 1)
    again, created = mute()
    assert (again.pk, created) == (first.pk, False)
    assert enqueued.call_count == 1


def test_the_same_action_asked_after_the_window_or_the_opposite_one_is_sent(call, enqueued):
    first = done(mute()[0], seconds_ago=actions.REPEAT_WINDOW.total_seconds() + 1)
    again, created = mute()
    assert created and again.pk != first.pk
    done(again)
    opposite, created = mute(False)
    assert created and opposite.pk != again.pk
    assert enqueued.call_count == 3


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
    # Bandwidth is asked first whether the hang-up was applied: not yet.
    bandwidth_api.get(f"{API}/calls/{CALL}", json={"callId": CALL, "state": "answered"})
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
    assert actions.sweep().dropped == 1
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


# Conference actions: member updates are confirmed by reading the member back.

CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
MEMBER = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"
OTHER = "c-2a91404e-5d0c965c-b235-4a8f-b33c-9fc4d2644365"
MEMBER_URL = f"{API}/conferences/{CONFERENCE}/members/{MEMBER}"


@pytest.fixture
def member():
    conference = Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=timezone.now())
    return ConferenceMember.objects.create(
        conference=conference, call_id=MEMBER, from_number="+15551112222", joined_at=timezone.now()
    )


def member_read(**fields) -> dict:
    return {"callId": MEMBER, "conferenceId": CONFERENCE, "mute": False, "hold": False, "callIdsToCoach": [], **fields}


def member_action(kind: str, **params) -> Action:
    action, _ = actions.request(kind, target=f"{CONFERENCE}/{MEMBER}", call_id=MEMBER, params=params)
    return action


def sent_json(bandwidth_api, index: int) -> dict:
    return json.loads(bandwidth_api.calls[index].request.body)


def test_a_mute_is_confirmed_by_reading_the_member_back_and_the_mirror_keeps_the_read(member, enqueued, bandwidth_api):
    bandwidth_api.put(MEMBER_URL, status=204)
    bandwidth_api.get(MEMBER_URL, json=member_read(mute=True, hold=True))
    action = member_action(ActionKind.MUTE, mute=True)
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert action.detail == "Muted (read back from Bandwidth)."
    assert sent_json(bandwidth_api, 0) == {"mute": True}
    member.refresh_from_db()
    # Bandwidth's read wins for every field, hold included (someone else held it).
    assert (member.mute, member.hold) == (True, True)


def test_a_member_that_reads_back_unchanged_fails_the_action(member, enqueued, bandwidth_api):
    bandwidth_api.put(MEMBER_URL, status=204)
    bandwidth_api.get(MEMBER_URL, json=member_read(hold=False))
    action = member_action(ActionKind.HOLD, hold=True)
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED
    assert "reads back not on hold" in action.detail
    member.refresh_from_db()
    assert member.hold is False


def test_a_member_update_bandwidth_refuses_fails_with_its_text(member, enqueued, bandwidth_api):
    text = f"Member [{MEMBER}] not found in conference [{CONFERENCE}]"
    bandwidth_api.put(MEMBER_URL, status=404, json={"type": "validation", "description": text, "id": ""})
    action = member_action(ActionKind.MUTE, mute=True)
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED
    assert action.detail == text
    assert len(bandwidth_api.calls) == 1


def test_coaching_sends_the_coached_calls_and_an_empty_list_ends_it(member, enqueued, bandwidth_api):
    bandwidth_api.put(MEMBER_URL, status=204)
    bandwidth_api.get(MEMBER_URL, json=member_read(callIdsToCoach=[OTHER]))
    bandwidth_api.get(MEMBER_URL, json=member_read())
    coach = member_action(ActionKind.COACH, callIdsToCoach=[OTHER])
    actions.perform(coach.pk)
    member.refresh_from_db()
    assert member.call_ids_to_coach == [OTHER]
    stop = member_action(ActionKind.COACH, callIdsToCoach=[])
    actions.perform(stop.pk)
    assert sent_json(bandwidth_api, 0) == {"callIdsToCoach": [OTHER]}
    assert sent_json(bandwidth_api, 2) == {"callIdsToCoach": []}
    member.refresh_from_db()
    assert member.call_ids_to_coach == []
    assert Action.objects.filter(status=ActionStatus.DONE).count() == 2


def test_removing_a_member_gives_its_call_goodbye_bxml_rather_than_a_redirect(member, enqueued, bandwidth_api):
    bandwidth_api.put(f"{API}/calls/{MEMBER}/bxml", status=204)
    action = member_action(ActionKind.REMOVE_MEMBER)
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    request = bandwidth_api.calls[0].request
    assert request.headers["Content-Type"] == "application/xml"
    document = ElementTree.fromstring(request.body)
    assert document.tag == "Bxml"
    assert [verb.tag for verb in document] == ["SpeakSentence", "Hangup"]


@pytest.mark.parametrize("status", [404, 409])
def test_removing_a_member_whose_call_has_ended_is_done(member, enqueued, bandwidth_api, status):
    bandwidth_api.put(f"{API}/calls/{MEMBER}/bxml", status=status, json={"type": "validation", "description": "gone"})
    action = member_action(ActionKind.REMOVE_MEMBER)
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert "already ended" in action.detail


def test_ending_a_conference_sends_status_completed(member, enqueued, bandwidth_api):
    bandwidth_api.post(f"{API}/conferences/{CONFERENCE}", status=204)
    action, _ = actions.request(ActionKind.END_CONFERENCE, target=CONFERENCE)
    actions.perform(action.pk)
    assert sent_json(bandwidth_api, 0) == {"status": "completed"}
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


def test_a_recording_change_redirects_the_conference_to_the_webhook(member, enqueued, bandwidth_api, settings):
    settings.PUBLIC_URL = "https://switchboard.test"
    bandwidth_api.post(f"{API}/conferences/{CONFERENCE}", status=204)
    action, _ = actions.request(ActionKind.CONFERENCE_RECORDING, target=CONFERENCE, params={"record": True})
    actions.perform(action.pk)
    body = sent_json(bandwidth_api, 0)
    assert body["status"] == "active"
    assert body["redirectUrl"] == "https://switchboard.test/webhooks/voice"
    assert body["username"] == settings.WEBHOOK_USERNAME
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


def dial_out(**params) -> Action:
    params = {"conference": CONFERENCE, "to": "+15557770001", "from": "+19195550100", **params}
    action, _ = actions.request(ActionKind.DIAL_OUT, target=f"{CONFERENCE}/{params['to']}", params=params)
    return action


def test_a_dial_out_places_a_call_tagged_with_its_conference_and_shows_it_ringing(member, enqueued, bandwidth_api):
    bandwidth_api.post(f"{API}/calls", status=201, json={"callId": "c-dialled", "callUrl": f"{API}/calls/c-dialled"})
    action = dial_out()
    actions.perform(action.pk)
    body = sent_json(bandwidth_api, 0)
    assert body["to"] == "+15557770001" and body["from"] == "+19195550100"
    assert body["tag"] == f"dial-out:{CONFERENCE}"
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert action.call_id == "c-dialled"
    placed = Call.objects.get(call_id="c-dialled")
    assert (placed.direction, placed.state, placed.tag) == ("outbound", "initiated", f"dial-out:{CONFERENCE}")


def test_a_dial_out_whose_connection_broke_after_sending_fails_and_is_not_sent_again(member, enqueued, bandwidth_api):
    bandwidth_api.post(f"{API}/calls", body=requests.ConnectionError("reset by peer"))
    # Asked whether it placed the call anyway, Bandwidth shows none.
    bandwidth_api.get(f"{API}/calls", json=[])
    action = dial_out()
    assert actions.perform(action.pk).retry_in is None
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED
    assert [call.request.method for call in bandwidth_api.calls] == ["POST", "GET"]


def test_a_redelivered_dial_out_that_placed_its_call_never_dials_twice(member, enqueued, bandwidth_api):
    action = dial_out()
    action.claim(actions.CLAIM_LEASE)
    # Its worker died after placing the call; the lease ran out; the task is delivered again.
    Action.objects.filter(pk=action.pk).update(
        call_id="c-dialled", claimed_at=timezone.now() - actions.CLAIM_LEASE - timedelta(seconds=1)
    )
    actions.perform(action.pk)
    assert len(bandwidth_api.calls) == 0
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


def test_a_redirect_asks_bandwidth_for_the_webhook(call, enqueued, bandwidth_api, settings):
    settings.PUBLIC_URL = "https://switchboard.test"
    bandwidth_api.post(f"{API}/calls/{CALL}", status=200)
    action, _ = actions.request(ActionKind.REDIRECT, target=CALL, call_id=CALL, params={"route": 1, "route_name": "sales"})
    actions.perform(action.pk)
    body = sent_json(bandwidth_api, 0)
    assert body["state"] == "active" and body["redirectUrl"] == "https://switchboard.test/webhooks/voice"
    action.refresh_from_db()
    assert action.detail == "Redirected to the route sales."


def test_a_redirect_of_a_call_not_answered_yet_fails_with_bandwidths_text(call, enqueued, bandwidth_api):
    text = f"Call [{CALL}] cannot be modified in its current state"
    bandwidth_api.post(f"{API}/calls/{CALL}", status=409, json={"type": "validation", "description": text, "id": ""})
    action, _ = actions.request(ActionKind.REDIRECT, target=CALL, call_id=CALL, params={"route": 1, "route_name": "sales"})
    actions.perform(action.pk)
    action.refresh_from_db()
    assert (action.status, action.detail) == (ActionStatus.FAILED, text)


# Batches


def test_a_batch_is_one_action_per_member_and_closes_when_the_last_finishes(member, enqueued, bandwidth_api):
    other = ConferenceMember.objects.create(conference=member.conference, call_id=OTHER, joined_at=timezone.now())
    batch, created = actions.request_batch(
        ActionKind.MUTE, conference=member.conference, members=[member, other], params={"mute": True}
    )
    assert [action.target for action in created] == [member.action_target, other.action_target]
    assert enqueued.call_count == 2
    first, second = created
    first.transition(ActionStatus.DROPPED, detail="stale")
    batch.refresh_from_db()
    assert batch.closed_at is None
    second.transition(ActionStatus.DROPPED, detail="stale")
    batch.refresh_from_db()
    assert batch.closed_at is not None


def test_a_second_batch_while_one_is_under_way_gets_that_one_and_sends_nothing_more(member, enqueued):
    first, created = actions.request_batch(ActionKind.MUTE, conference=member.conference, members=[member], params={"mute": True})
    second, again = actions.request_batch(
        ActionKind.MUTE, conference=member.conference, members=[member], params={"mute": False}
    )
    assert second.pk == first.pk and len(created) == 1 and again == []
    assert Action.objects.count() == 1
    assert enqueued.call_count == 1


def test_a_member_with_a_change_under_way_keeps_it_and_the_batch_without_actions_closes(member, enqueued):
    under_way = member_action(ActionKind.MUTE, mute=True)
    batch, created = actions.request_batch(ActionKind.MUTE, conference=member.conference, members=[member], params={"mute": True})
    assert created == []
    under_way.refresh_from_db()
    assert under_way.batch is None
    batch.refresh_from_db()
    assert batch.closed_at is not None


def test_a_hang_up_requested_after_one_is_done_returns_that_one_and_sends_nothing(call, enqueued):
    """A second operator's click lands after the first hang-up was sent, before the
    disconnect webhook tells the mirror the call ended."""
    first = hangup()
    first.transition(ActionStatus.SENDING)
    first.transition(ActionStatus.DONE, detail="Hung up.")
    second, created = actions.request(ActionKind.HANGUP, target=CALL, call_id=CALL)
    assert (second.pk, created) == (first.pk, False)
    assert enqueued.call_count == 1
