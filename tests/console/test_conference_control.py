"""Supervisors run conferences: the conference page and every action on it, for the roles
allowed and refused; pending at once for every viewer; sent once; audited."""

from datetime import timedelta
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser, Permission
from django.test import Client
from django.utils import timezone

from console import live
from console.live_frames import group_name
from console import roles
from console.consumers import LiveConsumer
from console.models import AuditEntry
from console.phone_numbers import display
from console.routing import websocket_application
from voice.models import (
    Action,
    ActionBatch,
    ActionKind,
    ActionStatus,
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
CALL = MEMBER
ROLES_REFUSED = [None, roles.AGENT]
ROLES_ALLOWED = [roles.SUPERVISOR, roles.ADMIN]

# Every action URL, with a valid body; each creates one Action when allowed.
ACTIONS = {
    "mute": (f"/conferences/{CONFERENCE}/members/{MEMBER}/mute", {"mute": "true"}),
    "hold": (f"/conferences/{CONFERENCE}/members/{MEMBER}/hold", {"hold": "true"}),
    "coach": (f"/conferences/{CONFERENCE}/members/{MEMBER}/coach", {"call_ids": [OTHER]}),
    "remove": (f"/conferences/{CONFERENCE}/members/{MEMBER}/remove", {}),
    "mute all": (f"/conferences/{CONFERENCE}/mute-all", {"mute": "true"}),
    "end": (f"/conferences/{CONFERENCE}/end", {}),
    "recording": (f"/conferences/{CONFERENCE}/recording", {"record": "true"}),
    "dial out": (f"/conferences/{CONFERENCE}/dial-out", {"number": "+15557770001"}),
    "redirect": (f"/calls/{CALL}/redirect", None),  # the route's id, once it exists
}


@pytest.fixture
def conference(db):
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
def route(db):
    return Route.objects.create(
        name="sales", number="+19195550100", flow=Route.Flow.CONFERENCE, conference_name="sales-floor"
    )


@pytest.fixture
def enqueued():
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit") as enqueue:
        yield enqueue


def as_role(client, make_operator, role):
    client.force_login(make_operator(role, role or "visitor"))
    return client


def post(client, name: str, route: Route, **headers):
    url, data = ACTIONS[name]
    return client.post(url, data if data is not None else {"route": route.pk}, headers=headers)


# Permissions


@pytest.mark.parametrize("role", ROLES_REFUSED)
@pytest.mark.parametrize("name", list(ACTIONS))
def test_every_action_is_refused_without_its_permission_and_nothing_is_recorded_or_enqueued(
    client, make_operator, conference, route, enqueued, role, name
):
    as_role(client, make_operator, role)
    assert post(client, name, route, **{"HX-Request": "true"}).status_code == 403
    assert not Action.objects.exists()
    assert not ActionBatch.objects.exists()
    assert not AuditEntry.objects.exists()
    enqueued.assert_not_called()


@pytest.mark.parametrize("role", ROLES_ALLOWED)
@pytest.mark.parametrize("name", list(ACTIONS))
def test_supervisors_and_admins_may_take_every_action(client, make_operator, conference, route, enqueued, role, name):
    as_role(client, make_operator, role)
    response = post(client, name, route, **{"HX-Request": "true"})
    assert response.status_code in (200, 204)
    expected = 2 if name == "mute all" else 1
    assert Action.objects.filter(status=ActionStatus.PENDING).count() == expected
    assert enqueued.call_count == expected
    # A mute all is one audit entry, whatever the number of members.
    assert AuditEntry.objects.filter(actor_name=role).count() == 1


@pytest.mark.parametrize("role", ROLES_REFUSED)
def test_the_conference_page_and_the_coach_form_are_refused_to_agents_and_the_roleless(client, make_operator, conference, role):
    as_role(client, make_operator, role)
    assert client.get(f"/conferences/{CONFERENCE}/").status_code == 403
    assert client.get(f"/conferences/{CONFERENCE}/members/{MEMBER}/coach").status_code == 403


@pytest.mark.parametrize("role", ROLES_ALLOWED)
def test_the_conference_page_is_open_to_supervisors_and_admins(client, make_operator, conference, role):
    as_role(client, make_operator, role)
    html = client.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert "Mute all" in html and "End conference" in html and 'id="dial-out"' in html


def test_dialling_out_also_needs_its_own_permission(client, make_operator, conference, route, enqueued):
    user = make_operator(None, "controller")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="console", codename="control_conference"))
    client.force_login(user)
    assert post(client, "dial out", route).status_code == 403
    assert "dial-out" not in client.get(f"/conferences/{CONFERENCE}/").content.decode().split('id="members"')[1]
    assert not Action.objects.exists()



def test_an_anonymous_action_goes_to_sign_in_and_records_nothing(client, conference, route, enqueued):
    response = post(client, "mute", route)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not Action.objects.exists()


def test_every_action_needs_a_csrf_token(make_operator, conference, route, enqueued):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_operator(roles.SUPERVISOR))
    for name in ACTIONS:
        assert post(browser, name, route).status_code == 403, name
    assert not Action.objects.exists()


def test_the_board_links_conferences_only_for_those_who_may_control_them(client, make_operator, conference):
    agent_html = as_role(client, make_operator, roles.AGENT).get("/").content.decode()
    assert "can-control-conference" not in agent_html.split("<body", 1)[1].split(">", 1)[0]
    supervisor = Client()
    supervisor.force_login(make_operator(roles.SUPERVISOR))
    supervisor_html = supervisor.get("/").content.decode()
    assert "can-control-conference" in supervisor_html.split("<body", 1)[1].split(">", 1)[0]
    # The rows are pushed to everyone alike: the link is there, shown only to controllers.
    assert f'class="requires-conference-control" href="/conferences/{CONFERENCE}/"' in agent_html


# What the page shows


def test_a_mute_shows_pending_at_once_and_is_sent_once_on_a_double_click(supervisor_client, conference, route, enqueued):
    first = post(supervisor_client, "mute", route, **{"HX-Request": "true"})
    second = post(supervisor_client, "mute", route, **{"HX-Request": "true"})
    assert "Muting…" in first.content.decode() and "Muting…" in second.content.decode()
    assert Action.objects.count() == 1
    assert AuditEntry.objects.count() == 1
    enqueued.assert_called_once()


def test_an_opposite_click_while_a_change_is_under_way_gets_that_change(supervisor_client, conference, enqueued):
    url = f"/conferences/{CONFERENCE}/members/{MEMBER}/mute"
    supervisor_client.post(url, {"mute": "true"})
    supervisor_client.post(url, {"mute": "false"})
    assert list(Action.objects.values_list("params", flat=True)) == [{"mute": True}]


def test_a_member_flag_must_be_true_or_false(supervisor_client, conference, enqueued):
    response = supervisor_client.post(f"/conferences/{CONFERENCE}/members/{MEMBER}/mute", {"mute": "yes"})
    assert response.status_code == 400
    assert not Action.objects.exists()


def test_nothing_is_sent_for_a_member_who_has_left(supervisor_client, conference, route, enqueued):
    ConferenceMember.objects.filter(call_id=MEMBER).update(state=MemberState.LEFT, left_at=timezone.now())
    for name in ("mute", "hold", "coach", "remove"):
        post(supervisor_client, name, route)
    assert not Action.objects.exists()


def test_mute_all_is_one_batch_of_one_action_per_member_and_a_double_click_adds_nothing(
    supervisor_client, conference, route, enqueued
):
    html = post(supervisor_client, "mute all", route, **{"HX-Request": "true"}).content.decode()
    post(supervisor_client, "mute all", route, **{"HX-Request": "true"})
    batch = ActionBatch.objects.get()
    assert sorted(batch.actions.values_list("call_id", flat=True)) == sorted([MEMBER, OTHER])
    assert Action.objects.count() == 2
    assert "0/2 muted" in html and "Muting all…" in html


def test_unmute_all_while_mute_all_runs_is_refused_with_its_reason(supervisor_client, conference, route, enqueued):
    post(supervisor_client, "mute all", route, **{"HX-Request": "true"})
    response = supervisor_client.post(
        f"/conferences/{CONFERENCE}/mute-all", {"mute": "false"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409 and response["HX-Retarget"] == "#flash"
    assert "Unmute all was not started" in response.content.decode()
    assert ActionBatch.objects.get().params == {"mute": True} and Action.objects.count() == 2


def test_mute_all_progress_counts_done_and_lists_failures(supervisor_client, conference, route, enqueued):
    post(supervisor_client, "mute all", route)
    first, second = ActionBatch.objects.get().actions.order_by("id")
    for action, status, detail in ((first, ActionStatus.DONE, "Muted."), (second, ActionStatus.FAILED, "Member gone")):
        action.transition(ActionStatus.SENDING)
        action.transition(status, detail=detail)
    html = supervisor_client.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert "1/2 muted" in html
    assert f'{display("+15551110002")}</span></span>: Member gone' in html
    assert ActionBatch.objects.get().closed_at is not None


def test_a_second_coach_is_refused_before_anything_is_sent(supervisor_client, conference, enqueued):
    ConferenceMember.objects.filter(call_id=OTHER).update(call_ids_to_coach=[MEMBER])
    response = supervisor_client.post(
        f"/conferences/{CONFERENCE}/members/{MEMBER}/coach", {"call_ids": [OTHER]}, headers={"HX-Request": "true"}
    )
    assert "one coach at most" in response.content.decode()
    assert not Action.objects.exists()


def test_the_coach_may_stop_coaching_with_an_empty_choice(supervisor_client, conference, enqueued):
    ConferenceMember.objects.filter(call_id=MEMBER).update(call_ids_to_coach=[OTHER])
    response = supervisor_client.post(
        f"/conferences/{CONFERENCE}/members/{MEMBER}/coach", {}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204 and "close-dialog" in response["HX-Trigger"]
    assert Action.objects.get().params == {"callIdsToCoach": []}


def test_the_coach_form_lists_the_other_members_present(supervisor_client, conference):
    html = supervisor_client.get(f"/conferences/{CONFERENCE}/members/{MEMBER}/coach").content.decode()
    assert f'value="{OTHER}"' in html and f'value="{MEMBER}"' not in html


@pytest.mark.parametrize("number", ["5551234", "+0123", "call me"])
def test_a_dial_out_to_a_number_not_in_e164_is_refused(supervisor_client, conference, route, enqueued, number):
    html = supervisor_client.post(
        f"/conferences/{CONFERENCE}/dial-out", {"number": number}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "E.164" in html
    assert not Action.objects.exists()


def test_a_dial_out_into_a_full_conference_is_refused(supervisor_client, conference, route, enqueued):
    for n in range(18):
        ConferenceMember.objects.create(conference=conference, call_id=f"c-{n}", state=MemberState.JOINED)
    html = supervisor_client.post(
        f"/conferences/{CONFERENCE}/dial-out", {"number": "+15557770001"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "The conference is full (20/20)" in html
    assert not Action.objects.exists()


def test_a_dial_out_is_placed_from_the_number_that_routes_into_the_conference(supervisor_client, conference, route, enqueued):
    html = supervisor_client.post(
        f"/conferences/{CONFERENCE}/dial-out", {"number": "+1 (555) 777-0001"}, headers={"HX-Request": "true"}
    ).content.decode()
    # Its progress is shown in the conference's activity (out of band), not in the form.
    assert "Dial-out to" in html and display("+15557770001") in html and "Dialling" not in html
    assert Action.objects.get().params == {"conference": CONFERENCE, "to": "+15557770001", "from": "+19195550100"}


def test_the_page_shows_the_limits_and_warns_near_them(supervisor_client, conference):
    for n in range(16):
        ConferenceMember.objects.create(conference=conference, call_id=f"c-{n}", state=MemberState.JOINED)
    html = supervisor_client.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert "18/20 members" in html and "Close to Bandwidth's limit of 20" in html
    assert "24 h limit" in html and "data-warn-at=" in html


def test_an_ended_conference_offers_no_actions(supervisor_client, conference, route, enqueued):
    Conference.objects.filter(pk=conference.pk).update(state="completed", completed_time=timezone.now())
    html = supervisor_client.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert "Mute all" not in html and "End conference" not in html
    for name in ("mute all", "end", "recording", "dial out"):
        post(supervisor_client, name, route)
    assert not Action.objects.exists()


# The call page and the board


def test_the_call_page_offers_redirect_to_supervisors_only(client, make_operator, conference, route):
    assert "Redirect to the route" in as_role(client, make_operator, roles.SUPERVISOR).get(f"/calls/{CALL}").content.decode()
    agent = Client()
    agent.force_login(make_operator(roles.AGENT))
    assert "Redirect to the route" not in agent.get(f"/calls/{CALL}").content.decode()


def test_a_redirect_to_an_unknown_or_disabled_route_is_refused(supervisor_client, conference, route, enqueued):
    Route.objects.filter(pk=route.pk).update(enabled=False)
    assert supervisor_client.post(f"/calls/{CALL}/redirect", {"route": route.pk}).status_code == 400
    assert supervisor_client.post(f"/calls/{CALL}/redirect", {"route": 9999}).status_code == 400
    assert not Action.objects.exists()


def test_a_calls_row_shows_its_conference_and_says_redirecting_while_one_is_under_way(supervisor_client, conference, route, enqueued):
    supervisor_client.post(f"/calls/{CALL}/redirect", {"route": route.pk})
    html = supervisor_client.get("/").content.decode()
    row = html.split(f'id="call-{CALL}"', 1)[1].split("</tr>", 1)[0]
    assert "sales-floor" in row and "Redirecting…" in row


def test_a_members_mute_does_not_show_on_its_calls_hang_up_button(supervisor_client, conference, route, enqueued):
    post(supervisor_client, "mute", route)
    row = supervisor_client.get("/").content.decode().split(f'id="call-{CALL}"', 1)[1].split("</tr>", 1)[0]
    assert "status-pending" not in row and ">Hang up</button>" in row


def test_the_board_counts_conferences_and_their_members(agent_client, conference):
    html = agent_client.get("/").content.decode()
    assert 'data-figure="active-conferences">1<' in html
    assert 'data-figure="members">2<' in html


# Live: pending for every viewer, and only viewers who may control conferences


@pytest.fixture
def pushed(monkeypatch):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, html: sent.append((group, html)))
    return sent


def test_an_action_pushes_its_member_row_pending_to_the_conference(
    supervisor_client, conference, route, enqueued, pushed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(supervisor_client, "mute", route)
    live.drain()
    rows = [html for group, html in pushed if group == group_name("conference", CONFERENCE) and f'id="member-{MEMBER}"' in html]
    assert len(rows) == 1 and "Muting…" in rows[0] and "data-stamp=" in rows[0]


def test_a_batch_pushes_its_summary_once_with_its_members_rows(
    supervisor_client, conference, route, enqueued, pushed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(supervisor_client, "mute all", route)
    live.drain()
    group = [html for name, html in pushed if name == group_name("conference", CONFERENCE)]
    summaries = [html for html in group if 'id="conference-summary"' in html]
    assert len(summaries) == 1 and "0/2 muted" in summaries[0]
    assert sum(html.count('class="member-row') for html in group) == 2


def test_a_member_confirmed_pushes_its_row_done(conference, enqueued, pushed, django_capture_on_commit_callbacks):
    action = Action.objects.create(
        kind=ActionKind.MUTE, target=f"{CONFERENCE}/{MEMBER}", call_id=MEMBER, params={"mute": True},
        stale_at=timezone.now() + timedelta(seconds=30),
    )
    with django_capture_on_commit_callbacks(execute=True):
        ConferenceMember.record_controls(CONFERENCE, MEMBER, mute=True, hold=False, call_ids_to_coach=[])
        action.transition(ActionStatus.SENDING)
        action.transition(ActionStatus.DONE, detail="Muted.")
    live.drain()
    (row,) = {html for group, html in pushed if f'id="member-{MEMBER}"' in html and "chip-muted" in html and "Unmute" in html}
    assert "Muting…" not in row


def communicator(user, stream: str):
    comm = WebsocketCommunicator(LiveConsumer.as_asgi(), f"/ws/live/{stream}/")
    comm.scope["user"] = user
    comm.scope["url_route"] = {"kwargs": {"stream": stream}}
    return comm


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(("role", "allowed"), [(None, False), (roles.AGENT, False), (roles.SUPERVISOR, True), (roles.ADMIN, True)])
async def test_a_conference_stream_is_refused_to_users_who_may_not_control_conferences(make_operator, settings, role, allowed):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    await sync_to_async(Conference.objects.create)(conference_id=CONFERENCE, name="sales-floor")
    user = await sync_to_async(make_operator)(role, role or "visitor")
    comm = communicator(user, f"conference-{CONFERENCE}")
    connected, _ = await comm.connect()
    assert connected is allowed
    await comm.disconnect()


@pytest.mark.asyncio
async def test_a_conference_stream_is_refused_to_anonymous_users():
    connected, _ = await communicator(AnonymousUser(), f"conference-{CONFERENCE}").connect()
    assert not connected


@pytest.mark.asyncio
async def test_a_conference_stream_is_refused_to_another_origin():
    comm = WebsocketCommunicator(
        websocket_application, f"/ws/live/conference-{CONFERENCE}/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await comm.connect()
    assert not connected
