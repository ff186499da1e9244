"""Listening in: an operator's own phone dialled into a conference as a listening leg, muted
and unannounced; then whispering to some members, barging in, listening only again."""

import json
from unittest import mock
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from tests.support.bandwidth import API, payload
from tests.voice.conftest import deliver
from voice import actions, flows
from voice.models import ActionKind, ActionStatus, Call, Conference, ConferenceMember

pytestmark = pytest.mark.django_db

CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
LEG = "c-0a0b0c0d-1e1f2021-2223-4425-8627-28292a2b2c2d"
MEMBER = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"
OPERATOR_PHONE = "+15557770001"


@pytest.fixture
def conference():
    return Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=timezone.now())


def leg_answers(tag: str) -> ElementTree.Element:
    answer = deliver(payload("answer", callId=LEG, to=OPERATOR_PHONE, tag=tag))
    return ElementTree.fromstring(answer.body)


def test_a_listening_leg_joins_muted_and_unannounced(conference):
    document = leg_answers(flows.monitor_tag(CONFERENCE, 7))
    assert [element.tag for element in document] == ["Conference", "SpeakSentence", "Hangup"]
    joined = document.find("Conference")
    assert joined.text == "sales-floor" and joined.get("mute") == "true"
    assert Call.objects.get(call_id=LEG).flow == {"flow": "monitor", "conference_id": CONFERENCE, "user": 7, "conference": "sales-floor", "mute": True, "hold": False, "callIdsToCoach": [], "talking": False}


def test_a_leg_that_answers_after_the_conference_ended_is_told_and_hung_up(conference):
    conference.complete(timezone.now())
    document = leg_answers(flows.monitor_tag(CONFERENCE, 7))
    assert [element.tag for element in document] == ["SpeakSentence", "Hangup"]


def test_the_leg_joins_the_mirror_muted_as_its_flow_asked(conference):
    leg_answers(flows.monitor_tag(CONFERENCE, 7))
    deliver(payload("conferenceMemberJoin", conferenceId=CONFERENCE, name="sales-floor", callId=LEG))
    assert ConferenceMember.objects.get(call_id=LEG).mute is True


def test_a_listen_places_a_call_to_the_operators_phone_tagged_as_a_listening_leg(conference, bandwidth_api):
    bandwidth_api.post(f"{API}/calls", status=201, json={"callId": LEG})
    params = {"to": OPERATOR_PHONE, "from": "+19195550100", "conference": CONFERENCE, "user": 7}
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit"):
        action, _ = actions.request(ActionKind.LISTEN, target=f"{CONFERENCE}/listen-7", params=params)
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE and action.call_id == LEG
    sent = json.loads(bandwidth_api.calls[0].request.body)
    assert (sent["to"], sent["tag"]) == (OPERATOR_PHONE, f"monitor:{CONFERENCE}:7")
    assert Call.objects.get(call_id=LEG).tag == f"monitor:{CONFERENCE}:7"


@pytest.mark.parametrize(
    ("mode", "coached", "sent"),
    [
        ("whisper", [MEMBER], {"mute": False, "callIdsToCoach": [MEMBER]}),
        ("barge", [MEMBER], {"mute": False, "callIdsToCoach": []}),
        ("listen", [], {"mute": True, "callIdsToCoach": []}),
    ],
)
def test_a_mode_is_set_on_the_leg_and_confirmed_by_reading_it_back(conference, bandwidth_api, mode, coached, sent):
    ConferenceMember.objects.create(conference=conference, call_id=LEG, mute=True, joined_at=timezone.now())
    url = f"{API}/conferences/{CONFERENCE}/members/{LEG}"
    bandwidth_api.put(url, status=204)
    bandwidth_api.get(url, json={"callId": LEG, "mute": sent["mute"], "hold": False, "callIdsToCoach": sent["callIdsToCoach"]})
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit"):
        action, _ = actions.request(
            ActionKind.MONITOR_MODE, target=f"{CONFERENCE}/{LEG}", call_id=LEG, params={"mode": mode, "callIdsToCoach": coached}
        )
    actions.perform(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE, action.detail
    assert json.loads(bandwidth_api.calls[0].request.body) == sent
    member = ConferenceMember.objects.get(call_id=LEG)
    assert (member.mute, member.call_ids_to_coach) == (sent["mute"], sent["callIdsToCoach"])


def test_the_monitor_tag_names_the_conference_and_the_operator():
    assert flows.monitoring(flows.monitor_tag(CONFERENCE, 12)) == (CONFERENCE, 12)
    assert flows.monitoring("dial-out:conf-1") is None
    assert flows.monitoring("monitor:garbage") is None
