"""What Bandwidth is told after an operator acts: a dialled-out call joins its conference,
a redirect gets the route the operator chose, a conference redirect starts or stops its
recording; and reconciliation leaves an operator's change to a member alone."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from tests.support.bandwidth import payload
from tests.voice.conftest import deliver
from voice import bandwidth, flows, reconcile
from voice.models import Action, ActionKind, ActionStatus, Call, Conference, ConferenceMember, Route

pytestmark = pytest.mark.django_db

CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
DIALLED = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"  # the answer fixture's call


@pytest.fixture
def conference():
    return Conference.objects.create(conference_id=CONFERENCE, name="thisConference", created_time=timezone.now())


def sent(kind: str, target: str, call_id: str = "", **params) -> Action:
    """An action the worker has claimed and sent (or finished)."""
    now = timezone.now()
    return Action.objects.create(
        kind=kind, target=target, call_id=call_id, params=params, status=ActionStatus.DONE,
        claimed_at=now, finished_at=now, stale_at=now + timedelta(seconds=30),
    )


def answered(tag: str) -> ElementTree.Element:
    answer = deliver(payload("answer", tag=tag, **{"from": "+19195550100", "to": "+15557770001"}))
    assert answer.status == 200
    return ElementTree.fromstring(answer.body)


def test_a_dialled_out_call_joins_its_conference_whatever_route_its_number_has(conference):
    Route.objects.create(name="sales", number="+19195550100", flow=Route.Flow.SPEAK_HANGUP, sentence="Sales.")
    document = answered(f"{flows.DIAL_OUT_TAG}{CONFERENCE}")
    assert document.find("Conference").text == "thisConference"
    deliver(payload("conferenceMemberJoin", callId=DIALLED))
    member = ConferenceMember.objects.get(call_id=DIALLED)
    assert member.conference_id == CONFERENCE and not member.mute


def test_a_dialled_out_call_whose_conference_ended_hears_so_and_is_hung_up(conference):
    Conference.objects.filter(pk=conference.pk).update(state="completed", completed_time=timezone.now())
    document = answered(f"{flows.DIAL_OUT_TAG}{CONFERENCE}")
    assert document.find("Conference") is None
    assert [verb.tag for verb in document] == ["SpeakSentence", "Hangup"]


def test_a_redirect_an_operator_sent_gets_the_flow_of_the_route_they_chose():
    Route.objects.create(name="own", number="+15553334444", flow=Route.Flow.SPEAK_HOLD, sentence="Hold on.")
    chosen = Route.objects.create(name="goodbye", number="+15550000000", flow=Route.Flow.SPEAK_HANGUP, sentence="Bye.")
    deliver(payload("answer"))
    sent(ActionKind.REDIRECT, DIALLED, DIALLED, route=chosen.pk, route_name=chosen.name)
    document = ElementTree.fromstring(deliver(payload("redirect")).body)
    assert [verb.tag for verb in document] == ["SpeakSentence", "Hangup"]
    assert document.find("SpeakSentence").text == "Bye."
    assert Call.objects.get(call_id=DIALLED).route == chosen


def test_a_redirect_no_operator_sent_runs_the_calls_own_route_again():
    Route.objects.create(name="own", number="+15551112222", flow=Route.Flow.SPEAK_HANGUP, sentence="Own route.")
    deliver(payload("answer"))
    document = ElementTree.fromstring(deliver(payload("redirect")).body)
    assert document.find("SpeakSentence").text == "Own route."


@pytest.mark.parametrize(("record", "verb", "recording"), [(True, "StartRecording", True), (False, "StopRecording", False)])
def test_a_conference_redirect_starts_or_stops_the_recording_as_the_operator_asked(conference, record, verb, recording):
    Conference.objects.filter(pk=conference.pk).update(is_recording=not record)
    sent(ActionKind.CONFERENCE_RECORDING, CONFERENCE, record=record)
    answer = deliver(payload("conferenceRedirect"))
    assert [element.tag for element in ElementTree.fromstring(answer.body)] == [verb]
    conference.refresh_from_db()
    assert conference.is_recording is recording


def test_a_conference_redirect_no_operator_sent_is_answered_with_nothing(conference):
    assert deliver(payload("conferenceRedirect")).status == 204
    conference.refresh_from_db()
    assert conference.is_recording is False


# Reconciliation and an operator's change to a member


def muted_member(conference) -> ConferenceMember:
    return ConferenceMember.objects.create(conference=conference, call_id=DIALLED, joined_at=timezone.now(), mute=True)


def read_unmuted(read_at) -> int:
    info = bandwidth.ConferenceInfo.read(
        {"id": CONFERENCE, "name": "thisConference", "activeMembers": [{"callId": DIALLED, "mute": False, "hold": True}]}
    )
    return reconcile.repair_conference(info, read_at=read_at)


def test_reconciliation_leaves_the_mute_of_a_member_with_an_action_under_way(conference):
    member = muted_member(conference)
    Action.objects.create(
        kind=ActionKind.MUTE, target=member.action_target, call_id=DIALLED, params={"mute": True},
        stale_at=timezone.now() + timedelta(seconds=30),
    )
    read_unmuted(timezone.now())
    member.refresh_from_db()
    # Its mute is the action's to confirm; its hold, no one is changing: repaired.
    assert (member.mute, member.hold) == (True, True)


def test_reconciliation_leaves_a_change_confirmed_after_its_read(conference):
    member = muted_member(conference)
    read_at = timezone.now()
    sent(ActionKind.MUTE, member.action_target, DIALLED, mute=True)
    read_unmuted(read_at)
    member.refresh_from_db()
    assert member.mute is True


def test_reconciliation_repairs_a_mute_changed_outside_switchboard(conference):
    member = muted_member(conference)
    sent(ActionKind.MUTE, member.action_target, DIALLED, mute=True)
    read_unmuted(timezone.now())
    member.refresh_from_db()
    assert member.mute is False
