"""Listening in from the console: an operator's phone in their profile, Listen in on a
conference's page, then whisper, barge in, listen only and stop; refused with a reason when
it cannot be done; shown to every supervisor; audited."""

from unittest import mock

import pytest
from django.utils import timezone

from console import live, roles
from console.live_frames import group_name
from console.models import AuditEntry, OperatorProfile
from console.phone_numbers import display
from voice import flows
from voice.models import (
    Action,
    ActionKind,
    Call,
    CallState,
    Conference,
    ConferenceMember,
    MemberState,
    Route,
)

CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
MEMBER = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"
OTHER = "c-2a91404e-5d0c965c-b235-4a8f-b33c-9fc4d2644365"
LEG = "c-0a0b0c0d-1e1f2021-2223-4425-8627-28292a2b2c2d"
PHONE = "+15557770001"
LISTEN = f"/conferences/{CONFERENCE}/listen"
MODE = f"/conferences/{CONFERENCE}/listening/mode"
STOP = f"/conferences/{CONFERENCE}/listening/stop"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def enqueued():
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit") as enqueue:
        yield enqueue


@pytest.fixture
def conference(db):
    Route.objects.create(name="sales", number="+19195550100", flow=Route.Flow.CONFERENCE, conference_name="sales-floor")
    conference = Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=timezone.now())
    for call_id, number in ((MEMBER, "+15551110001"), (OTHER, "+15551110002")):
        Call.objects.create(
            call_id=call_id, direction="inbound", state=CallState.ANSWERED, from_number=number,
            to_number="+19195550100", start_time=timezone.now(),
        )
        ConferenceMember.objects.create(
            conference=conference, call_id=call_id, from_number=number, to_number="+19195550100",
            state=MemberState.JOINED, joined_at=timezone.now(),
        )
    return conference


@pytest.fixture
def supervisor(make_operator):
    user = make_operator(roles.SUPERVISOR, "sam")
    OperatorProfile.objects.create(user=user, phone=PHONE)
    return user


@pytest.fixture
def signed_in(client, supervisor):
    client.force_login(supervisor)
    return client


def listening_leg(conference, user, *, mute=True, coaching=()):
    """The operator's leg as the mirror has it once it answered and joined."""
    Call.objects.create(
        call_id=LEG, direction="outbound", state=CallState.ANSWERED, from_number="+19195550100", to_number=PHONE,
        start_time=timezone.now(), tag=flows.monitor_tag(conference.conference_id, user.pk),
    )
    return ConferenceMember.objects.create(
        conference=conference, call_id=LEG, from_number="+19195550100", to_number=PHONE, state=MemberState.JOINED,
        joined_at=timezone.now(), mute=mute, call_ids_to_coach=list(coaching),
    )


# The profile


def test_an_operator_sets_their_phone_and_it_is_audited(client, make_operator):
    user = make_operator(roles.AGENT, "ann")
    client.force_login(user)
    assert "Your phone" in client.get("/profile/").content.decode()
    response = client.post("/profile/", {"phone": "+1 (919) 555-0123"})
    assert response.status_code == 302
    assert OperatorProfile.phone_of(user) == "+19195550123"
    entry = AuditEntry.objects.get()
    assert (entry.actor_name, entry.verb, entry.detail) == ("ann", "set phone", "+19195550123")


@pytest.mark.parametrize("phone", ["sip:sam@pbx.example.com", ""])
def test_a_sip_uri_or_no_phone_is_accepted(client, supervisor, phone):
    client.force_login(supervisor)
    assert client.post("/profile/", {"phone": phone}).status_code == 302
    assert OperatorProfile.phone_of(supervisor) == phone


@pytest.mark.parametrize("phone", ["5551234", "call me", "+0123", "sip:no-host"])
def test_a_phone_neither_e164_nor_sip_is_refused_and_nothing_changes(client, supervisor, phone):
    client.force_login(supervisor)
    response = client.post("/profile/", {"phone": phone})
    assert response.status_code == 422
    assert "E.164" in response.content.decode()
    assert OperatorProfile.phone_of(supervisor) == PHONE
    assert not AuditEntry.objects.exists()


def test_the_profile_needs_a_signed_in_user(client, db):
    assert client.get("/profile/")["Location"].startswith("/login/")


# Listen in


def test_listen_in_rings_the_operators_phone_from_the_conferences_number_once(signed_in, supervisor, conference, enqueued):
    html = signed_in.post(LISTEN, headers=HTMX).content.decode()
    assert f"Ringing your phone, {display(PHONE)}" in html
    signed_in.post(LISTEN, headers=HTMX)  # a double click
    action = Action.objects.get()
    assert action.kind == ActionKind.LISTEN
    assert action.params == {"conference": CONFERENCE, "to": PHONE, "from": "+19195550100", "user": supervisor.pk}
    assert enqueued.call_count == 1
    assert AuditEntry.objects.get().verb == "listen in"


def test_listen_in_without_a_phone_says_where_to_set_it(client, make_operator, conference, enqueued):
    client.force_login(make_operator(roles.SUPERVISOR, "no-phone"))
    html = client.post(LISTEN, headers=HTMX).content.decode()
    assert "Set your phone in your profile first" in html and 'href="/profile/"' in html
    assert not Action.objects.exists()


def test_listen_in_to_a_full_conference_is_refused_as_bandwidth_would(signed_in, conference, enqueued):
    for n in range(18):
        ConferenceMember.objects.create(conference=conference, call_id=f"c-{n}", state=MemberState.JOINED)
    html = signed_in.post(LISTEN, headers=HTMX).content.decode()
    assert "The conference is full (20/20)" in html
    assert not Action.objects.exists()


def test_listen_in_while_listening_already_is_refused(signed_in, supervisor, conference, enqueued):
    listening_leg(conference, supervisor)
    assert "listening to this conference already" in signed_in.post(LISTEN, headers=HTMX).content.decode()
    assert not Action.objects.exists()


def test_listen_in_without_htmx_is_a_400_with_the_reason(client, make_operator, conference, enqueued):
    client.force_login(make_operator(roles.SUPERVISOR, "no-phone"))
    assert client.post(LISTEN).status_code == 400


@pytest.mark.parametrize("url", [LISTEN, MODE, STOP])
@pytest.mark.parametrize("role", [None, roles.AGENT])
def test_listening_is_refused_without_the_permission_to_control_conferences(client, make_operator, conference, enqueued, url, role):
    user = make_operator(role, role or "visitor")
    OperatorProfile.objects.create(user=user, phone=PHONE)
    client.force_login(user)
    assert client.post(url, {"mode": "barge"}, headers=HTMX).status_code == 403
    assert not Action.objects.exists() and not AuditEntry.objects.exists()


def test_an_ended_conference_offers_no_listen_in(signed_in, conference):
    assert "Listen in" in signed_in.get(f"/conferences/{CONFERENCE}/").content.decode()
    conference.complete(timezone.now())
    assert "Listen in" not in signed_in.get(f"/conferences/{CONFERENCE}/").content.decode()


# Whisper, barge in, listen only, stop


def test_whisper_makes_the_leg_the_coach_of_the_members_picked(signed_in, supervisor, conference, enqueued):
    listening_leg(conference, supervisor)
    form = signed_in.get(MODE).content.decode()
    assert f'value="{MEMBER}"' in form and f'value="{OTHER}"' in form and f'value="{LEG}"' not in form
    response = signed_in.post(MODE, {"mode": "whisper", "call_ids": [MEMBER]}, headers=HTMX)
    assert response.status_code == 204
    action = Action.objects.get()
    assert (action.kind, action.target, action.params) == (
        ActionKind.MONITOR_MODE, f"{CONFERENCE}/{LEG}", {"mode": "whisper", "callIdsToCoach": [MEMBER]}
    )
    assert AuditEntry.objects.get().verb == "whisper"


def test_a_whisper_to_no_one_or_to_a_stranger_is_refused(signed_in, supervisor, conference, enqueued):
    listening_leg(conference, supervisor)
    assert "Pick the members" in signed_in.post(MODE, {"mode": "whisper"}, headers=HTMX).content.decode()
    assert "not one of the available choices" in signed_in.post(
        MODE, {"mode": "whisper", "call_ids": ["c-stranger"]}, headers=HTMX
    ).content.decode()
    assert not Action.objects.exists()


def test_a_whisper_is_refused_while_another_member_coaches(signed_in, supervisor, conference, enqueued):
    listening_leg(conference, supervisor)
    ConferenceMember.objects.filter(call_id=OTHER).update(call_ids_to_coach=[MEMBER])
    html = signed_in.post(MODE, {"mode": "whisper", "call_ids": [MEMBER]}, headers=HTMX).content.decode()
    assert f"{display('+15551110002')} is coaching" in html
    assert not Action.objects.exists()


@pytest.mark.parametrize(("mode", "verb"), [("barge", "barge in"), ("listen", "listen only")])
def test_barge_in_and_listen_only_need_no_choice(signed_in, supervisor, conference, enqueued, mode, verb):
    listening_leg(conference, supervisor)
    assert signed_in.post(MODE, {"mode": mode, "call_ids": [MEMBER]}, headers=HTMX).status_code == 204
    assert Action.objects.get().params == {"mode": mode, "callIdsToCoach": []}
    assert AuditEntry.objects.get().verb == verb


def test_an_unknown_mode_is_refused(signed_in, supervisor, conference, enqueued):
    listening_leg(conference, supervisor)
    assert signed_in.post(MODE, {"mode": "shout"}).status_code == 400
    assert not Action.objects.exists()


def test_stop_listening_hangs_the_leg_up(signed_in, supervisor, conference, enqueued):
    listening_leg(conference, supervisor)
    signed_in.post(STOP, headers=HTMX)
    action = Action.objects.get()
    assert (action.kind, action.call_id) == (ActionKind.HANGUP, LEG)
    assert AuditEntry.objects.get().verb == "stop listening"


def test_another_supervisors_leg_is_not_theirs_to_change(client, make_operator, supervisor, conference, enqueued):
    listening_leg(conference, supervisor)
    client.force_login(make_operator(roles.SUPERVISOR, "other"))
    assert client.post(MODE, {"mode": "barge"}, headers=HTMX).status_code == 404
    assert client.post(STOP, headers=HTMX).status_code == 404
    assert not Action.objects.exists()


# What others see


def test_every_supervisor_sees_who_listens_in_which_mode_and_the_leg_is_marked(client, make_operator, supervisor, conference):
    listening_leg(conference, supervisor, mute=False, coaching=[MEMBER])
    client.force_login(make_operator(roles.SUPERVISOR, "other"))
    html = client.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert f'data-owner="{supervisor.pk}"' in html
    assert f'sam</span> whispering to <span class="party"><span class="number" title="+15551110001">{display("+15551110001")}</span></span>' in html
    assert "sam · whispering" in html  # the leg's member row
    assert "3/20 members" in html  # the leg counts toward Bandwidth's 20


def test_a_ringing_leg_shows_on_the_page_until_it_joins(signed_in, supervisor, conference, enqueued):
    signed_in.post(LISTEN, headers=HTMX)
    assert "Ringing the phone of sam" in signed_in.get(f"/conferences/{CONFERENCE}/").content.decode()
    Action.objects.update(call_id=LEG)
    listening_leg(conference, supervisor)
    html = signed_in.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert "Ringing the phone of sam" not in html and "sam</span> listening" in html


def test_the_call_page_says_whether_a_call_can_be_listened_to(signed_in, supervisor, conference):
    html = signed_in.get(f"/calls/{MEMBER}").content.decode()
    assert "Possible: the call is in" in html and f'href="/conferences/{CONFERENCE}/"' in html
    Call.objects.create(
        call_id="c-alone", direction="inbound", state=CallState.ANSWERED, from_number="+15551110009",
        to_number="+19195550142", start_time=timezone.now(),
    )
    html = signed_in.get("/calls/c-alone").content.decode()
    assert "Not possible: the call is in no conference" in html
    assert "its route's flow is Conference" in html
    listening_leg(conference, supervisor)
    assert "A listening leg: sam's phone" in signed_in.get(f"/calls/{LEG}").content.decode()


def test_a_change_of_mode_shows_pending_and_then_its_failure(signed_in, supervisor, conference, enqueued):
    listening_leg(conference, supervisor)
    signed_in.post(MODE, {"mode": "barge"}, headers=HTMX)
    html = signed_in.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert "barge in…" in html
    Action.objects.update(status="failed", detail="Bandwidth answered 404")
    html = signed_in.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert "barge in…" not in html and "failed: Bandwidth answered 404" in html


def test_the_boards_conference_list_says_who_listens(client, make_operator, supervisor, conference):
    listening_leg(conference, supervisor)
    client.force_login(make_operator(roles.AGENT, "agent"))
    html = client.get("/").content.decode()
    assert "sam · listening" in html


def test_a_change_of_mode_asked_pushes_the_summary_pending_to_every_viewer(
    supervisor, signed_in, conference, enqueued, monkeypatch, django_capture_on_commit_callbacks
):
    listening_leg(conference, supervisor)
    pushed = []
    monkeypatch.setattr(live, "send", lambda group, html: pushed.append((group, html)))
    live.discard()
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(MODE, {"mode": "barge"}, headers=HTMX)
    live.drain()
    summaries = [html for group, html in pushed if group == group_name("conference", CONFERENCE) and 'id="conference-summary"' in html]
    assert len(summaries) == 1 and "barge in…" in summaries[0]
