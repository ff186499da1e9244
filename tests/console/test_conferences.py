"""The conference list on the board, a conference's page, and their live pushes."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from console import live
from console.live_frames import group_name
from console.consumers import LiveConsumer
from tests.support.bandwidth import payload
from tests.voice.conftest import deliver
from voice.models import Call, CallState, Conference, ConferenceMember, MemberState

CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
MEMBER = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"


@pytest.fixture
def conference(db):
    conference = Conference.objects.create(
        conference_id=CONFERENCE, name="sales-floor", created_time=timezone.now() - timedelta(minutes=3), is_recording=True
    )
    ConferenceMember.objects.create(
        conference=conference, call_id=MEMBER, from_number="+15559998765", state=MemberState.JOINED,
        joined_at=timezone.now(), mute=True,
    )
    ConferenceMember.objects.create(conference=conference, call_id="c-gone", state=MemberState.LEFT)
    return conference


@pytest.fixture
def pushed(monkeypatch):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, html: sent.append((group, html)))
    return sent


def test_the_board_lists_live_conferences_with_their_member_count(agent_client, conference):
    Conference.objects.create(conference_id="conf-over", name="over", state="completed")
    html = agent_client.get("/").content.decode()
    assert f'id="conference-{CONFERENCE}"' in html
    assert "1/20" in html
    assert "recording" in html
    assert "conf-over" not in html
    assert 'ws-connect="/ws/live/conferences/"' in html


def test_the_conference_list_resyncs_its_table_body(agent_client, conference):
    html = agent_client.get("/conferences/", headers={"HX-Request": "true"}).content.decode()
    assert html.strip().startswith('<tbody id="conference-rows"')
    assert "sales-floor" in html


def test_a_conference_page_lists_the_members_in_it(supervisor_client, conference):
    html = supervisor_client.get(f"/conferences/{CONFERENCE}/").content.decode()
    assert f'id="member-{MEMBER}"' in html
    assert "muted" in html
    assert "member-c-gone" not in html
    assert f'ws-connect="/ws/live/conference-{CONFERENCE}/"' in html


def test_a_conference_page_resyncs_its_summary_and_members_together(supervisor_client, conference):
    html = supervisor_client.get(f"/conferences/{CONFERENCE}/", headers={"HX-Request": "true"}).content.decode()
    assert html.strip().startswith('<div id="conference-detail"')
    assert 'id="conference-summary"' in html and f'id="member-{MEMBER}"' in html


def test_an_unknown_conference_is_404(supervisor_client, db):
    assert supervisor_client.get("/conferences/conf-nope/").status_code == 404


def test_a_conference_page_needs_a_signed_in_user(client, conference):
    response = client.get(f"/conferences/{CONFERENCE}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# Live push


def test_a_member_join_pushes_its_row_and_the_conferences_count(db, pushed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload("conferenceMemberJoin"))
    live.drain()
    groups = [group for group, _ in pushed]
    assert groups.count("live.conferences") == 1
    member_rows = [html for group, html in pushed if group == group_name("conference", CONFERENCE) and "member-row" in html]
    assert len(member_rows) == 1 and f'id="member-{MEMBER}"' in member_rows[0]
    (row,) = [html for group, html in pushed if group == "live.conferences"]
    assert f'id="conference-{CONFERENCE}"' in row and "1/20" in row


def test_a_completion_pushes_the_conference_leaving_and_its_members_out(db, pushed, django_capture_on_commit_callbacks):
    deliver(payload("conferenceMemberJoin"))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload("conferenceCompleted"))
    live.drain()
    (row,) = [html for group, html in pushed if group == "live.conferences"]
    assert "leaving" in row and "0/20" in row
    member = [html for group, html in pushed if f'id="member-{MEMBER}"' in html]
    assert len(member) == 1 and "leaving" in member[0]
    summary = [html for group, html in pushed if 'id="conference-summary"' in html]
    assert len(summary) == 1 and "completed" in summary[0]


def test_a_duplicate_pushes_nothing(db, pushed, django_capture_on_commit_callbacks):
    deliver(payload("conferenceMemberJoin"))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(payload("conferenceMemberJoin"))
    live.drain()
    assert pushed == []


def test_a_repair_is_pushed_like_a_webhook(db, pushed, django_capture_on_commit_callbacks):
    from voice import reconcile
    from voice.bandwidth import CallInfo

    Call.objects.create(call_id="c-1", direction="inbound", state=CallState.ANSWERED)
    info = CallInfo.read({"callId": "c-1", "state": "disconnected", "endTime": "2024-01-01T10:00:00Z"})
    with django_capture_on_commit_callbacks(execute=True):
        reconcile.repair_call(info)
    live.drain()
    ((group, html),) = [(group, html) for group, html in pushed if "<tr" in html]
    assert group == "live.calls" and 'id="call-c-1"' in html and "leaving" in html


@pytest.mark.parametrize(
    ("stream", "group"),
    [
        ("calls", "live.calls"),
        ("conferences", "live.conferences"),
        (f"conference-{CONFERENCE}", f"live.conference.{CONFERENCE}"),
        ("conference-conf-unknown", None),
        ("conference-../../etc", None),
        ("conference-", None),
        ("secrets", None),
    ],
)
def test_the_streams_a_supervisor_may_follow(conference, make_operator, stream, group):
    assert live.group_for_stream(stream, make_operator("supervisor")) == group


def test_an_agent_may_follow_calls_and_the_conference_list_but_no_conference(conference, make_operator):
    agent = make_operator("agent")
    assert live.group_for_stream("calls", agent) == "live.calls"
    assert live.group_for_stream("conferences", agent) == "live.conferences"
    assert live.group_for_stream(f"conference-{CONFERENCE}", agent) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_member_change_reaches_a_browser_on_the_conference_page(make_operator, live_hub):
    await sync_to_async(deliver)(payload("conferenceCreated"))
    user = await sync_to_async(make_operator)("supervisor")
    comm = WebsocketCommunicator(LiveConsumer.as_asgi(), f"/ws/live/conference-{CONFERENCE}/")
    comm.scope["user"] = user
    comm.scope["url_route"] = {"kwargs": {"stream": f"conference-{CONFERENCE}"}}
    connected, _ = await comm.connect()
    assert connected
    await sync_to_async(deliver)(payload("conferenceMemberJoin"))
    received = await comm.receive_from(timeout=2)
    while 'id="conference-summary"' not in received or f'id="member-{MEMBER}"' not in received:
        received += await comm.receive_from(timeout=2)  # one frame, or two if the join committed in two steps
    assert "1/20" in received
    await comm.disconnect()


@pytest.mark.parametrize("path", ["/", "/conferences/", f"/conferences/{CONFERENCE}/", f"/calls/{MEMBER}"])
def test_a_live_page_answers_head_so_a_closed_socket_can_check_the_session(client, make_operator, conference, path):
    Call.objects.create(call_id=MEMBER, direction="inbound", state=CallState.ANSWERED, start_time=timezone.now())
    assert client.head(path).status_code == 302
    client.force_login(make_operator("supervisor"))
    assert client.head(path).status_code == 200
