"""Live push: rendered once after commit, delivered to the group; the socket refuses strangers."""

import threading

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from console import live
from console.routing import websocket_application
from console.consumers import LiveConsumer
from voice.models import Call, CallState

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


@pytest.fixture(autouse=True)
def memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "console.layers.ThreadSafeInMemoryChannelLayer"}}


def communicator(user, path="/ws/live/calls/"):
    comm = WebsocketCommunicator(LiveConsumer.as_asgi(), path)
    comm.scope["user"] = user
    comm.scope["url_route"] = {"kwargs": {"stream": path.strip("/").split("/")[-1]}}
    return comm


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_committed_change_reaches_a_connected_browser(make_operator, pusher_thread):
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user)
    connected, _ = await comm.connect()
    assert connected
    await sync_to_async(Call.objects.create)(
        call_id=CALL, direction="inbound", state=CallState.INITIATED, start_time=timezone.now()
    )
    await sync_to_async(Call.advance)(CALL, CallState.ANSWERED, answer_time=timezone.now())
    html = await comm.receive_from(timeout=2)
    assert f'id="call-{CALL}"' in html
    assert "answered" in html
    await comm.disconnect()


@pytest.mark.asyncio
async def test_anonymous_users_are_refused():
    comm = communicator(AnonymousUser())
    connected, _ = await comm.connect()
    assert not connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_unknown_stream_is_refused(make_operator):
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user, "/ws/live/secrets/")
    connected, _ = await comm.connect()
    assert not connected


@pytest.mark.asyncio
async def test_another_origin_is_refused():
    comm = WebsocketCommunicator(websocket_application, "/ws/live/calls/", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await comm.connect()
    assert not connected


@pytest.mark.django_db
def test_changes_in_one_transaction_push_once(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, html: sent.append((group, html)))
    with django_capture_on_commit_callbacks(execute=True):
        Call.objects.create(call_id=CALL, direction="inbound", state=CallState.INITIATED, start_time=timezone.now())
        Call.advance(CALL, CallState.ANSWERED)
        Call.advance(CALL, CallState.ENDED, end_time=timezone.now())
    live.drain()
    assert len(sent) == 1
    assert sent[0][0] == live.CALLS_GROUP
    assert "leaving" in sent[0][1]


@pytest.mark.django_db
def test_nothing_is_pushed_before_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, html: sent.append(html))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Call.objects.create(call_id=CALL, direction="inbound", state=CallState.INITIATED)
        Call.advance(CALL, CallState.ANSWERED)
    assert sent == []
    assert callbacks


@pytest.mark.django_db
def test_a_failing_push_never_breaks_the_change(monkeypatch, django_capture_on_commit_callbacks):
    def broken(group, html):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(live, "send", broken)
    with django_capture_on_commit_callbacks(execute=True):
        Call.objects.create(call_id=CALL, direction="inbound", state=CallState.INITIATED)
        assert Call.advance(CALL, CallState.ANSWERED)
    live.drain()
    assert Call.objects.get().state == CallState.ANSWERED


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_pushes_nothing(monkeypatch):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, html: sent.append(html))
    with pytest.raises(RuntimeError), transaction.atomic():
        Call.objects.create(call_id="c-gone", direction="inbound", state=CallState.INITIATED)
        Call.advance("c-gone", CallState.ANSWERED)
        raise RuntimeError
    Call.objects.create(call_id=CALL, direction="inbound", state=CallState.INITIATED)
    Call.advance(CALL, CallState.ANSWERED)
    live.drain()
    assert len(sent) == 1 and f'id="call-{CALL}"' in sent[0]


@pytest.mark.django_db(transaction=True)
def test_the_committer_never_waits_for_a_push(monkeypatch, pusher_thread):
    """A webhook's answer does not wait for Redis: the pusher thread sends, and a burst of
    changes to one call is one push."""
    redis_answers = threading.Event()
    sent = []

    def slow_send(group, html):
        redis_answers.wait(timeout=10)
        sent.append(html)

    monkeypatch.setattr(live, "send", slow_send)
    Call.objects.create(call_id=CALL, direction="inbound", state=CallState.INITIATED)
    with transaction.atomic():
        Call.advance(CALL, CallState.ANSWERED, answer_time=timezone.now())
        Call.advance(CALL, CallState.ENDED, end_time=timezone.now())
    assert sent == []  # committed twice while the first push is still waiting on Redis
    redis_answers.set()
    pusher_thread.stop()
    assert 1 <= len(sent) <= 2 and "leaving" in sent[-1]
