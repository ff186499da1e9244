"""Live push: changes published as ids after commit, rendered once per watched group,
throttled, numbered per socket; the socket refuses strangers and closes with its session."""

import asyncio
import re
import threading
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import connections, transaction
from django.utils import timezone

from console import live, live_bus
from console.consumers import LiveConsumer
from console.live_hub import hub
from console.routing import websocket_application
from voice.models import Call, CallState

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


@pytest.fixture(autouse=True)
def memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "console.layers.ThreadSafeInMemoryChannelLayer"}}
    settings.REDIS_URL = ""


def communicator(user, path="/ws/live/calls/", session=None):
    route, _, query = path.partition("?")
    comm = WebsocketCommunicator(LiveConsumer.as_asgi(), path)
    comm.scope["user"] = user
    comm.scope["url_route"] = {"kwargs": {"stream": route.strip("/").split("/")[-1]}}
    if session is not None:
        comm.scope["session"] = session
    return comm


def new_call(call_id=CALL, state=CallState.ANSWERED, started=None):
    """A call that rings, then (committed apart) reaches `state`: the way voice changes one,
    through its model's methods, which emit the change."""
    start = started or timezone.now()
    call = Call.objects.create(call_id=call_id, direction="inbound", state=CallState.INITIATED, start_time=start)
    if state != CallState.INITIATED:
        assert Call.advance(call_id, state)
    return call


async def frames_until(comm, predicate, timeout=3.0) -> list[str]:
    """Frames received until one satisfies `predicate`."""
    frames = []
    try:
        async with asyncio.timeout(timeout):
            while not frames or not predicate(frames[-1]):
                frames.append(await comm.receive_from())
    except TimeoutError:
        raise AssertionError(f"no such frame among {frames}") from None
    return frames


def sequence(frame: str) -> int:
    return int(re.match(r"<!--seq (\d+)-->", frame)[1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_committed_change_reaches_a_connected_browser(make_operator, live_hub):
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user)
    connected, _ = await comm.connect()
    assert connected
    await sync_to_async(new_call)()
    frames = await frames_until(comm, lambda frame: "state-answered" in frame)
    assert f'id="call-{CALL}"' in frames[-1]
    assert [sequence(frame) for frame in frames] == list(range(1, len(frames) + 1))
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_burst_of_changes_is_a_few_frames_each_carrying_many_rows(make_operator, live_hub, settings):
    settings.LIVE_PUSH_INTERVAL = 0.3
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user)
    assert (await comm.connect())[0]

    def burst():
        for n in range(30):
            new_call(f"c-burst-{n:02d}")

    await sync_to_async(burst)()
    frames = await frames_until(comm, lambda frame: 'id="call-c-burst-29"' in frame)
    # The first change goes at once, the rest wait for the interval's end together.
    assert len(frames) <= 3
    assert all(f'id="call-c-burst-{n:02d}"' in "".join(frames) for n in range(30))
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_group_nobody_watches_costs_no_query_and_no_render(make_operator, live_hub, monkeypatch):
    rendered = []
    monkeypatch.setattr("console.live_frames.render_to_string", lambda *args, **kwargs: rendered.append(args) or "")
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user, "/ws/live/conferences/")
    assert (await comm.connect())[0]
    await sync_to_async(new_call)()
    await asyncio.sleep(0.2)
    assert rendered == [] and "live.calls" not in hub.groups
    await comm.disconnect()
    assert hub.groups == {}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_row_entering_the_window_comes_after_the_row_it_follows_and_one_leaving_it_is_deleted(
    make_operator, live_hub
):
    def calls():
        for n in range(3):
            new_call(f"c-w{n}", started=timezone.now() - timedelta(minutes=10 - n))

    await sync_to_async(calls)()
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user, "/ws/live/calls/?rows=2")
    assert (await comm.connect())[0]
    # c-w0 ends: c-w2 enters the window of the two longest, after c-w1.
    await sync_to_async(Call.advance)("c-w0", CallState.ENDED, end_time=timezone.now())
    (frame,) = await frames_until(comm, lambda frame: 'id="call-c-w2"' in frame)
    assert re.search(r'<tr id="call-c-w2"[^>]*data-after="call-c-w1"', frame)
    assert re.search(r'<tr id="call-c-w0"[^>]*leaving', frame)
    assert '<span id="call-count">2 live calls</span>' in frame
    # A new call, newer than the window's: only the counts change.
    await sync_to_async(new_call)("c-w3")
    (frame,) = await frames_until(comm, lambda frame: "3 live calls" in frame)
    assert 'id="call-c-w3"' not in frame
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_hub_that_may_have_missed_changes_skips_a_number(make_operator, live_hub):
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user)
    assert (await comm.connect())[0]
    await sync_to_async(new_call)()
    last = (await frames_until(comm, lambda frame: CALL in frame))[-1]
    hub.lost()  # Redis went away and came back
    skipped = await comm.receive_from(timeout=2)
    assert sequence(skipped) == sequence(last) + 2
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
def test_a_worker_publishes_without_touching_the_database(live_hub, settings, django_assert_num_queries):
    """Celery closes the database pool before and after each task: a worker's push must not
    need it. The change leaves as ids; the daphne process that shows it reads it."""
    call = new_call()
    published = []
    live_bus.publisher.local = published.extend
    connections.close_all()
    with django_assert_num_queries(0):
        live._committed(("call", call.call_id))
    assert published == [("call", call.call_id)]


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


@pytest.fixture
def pushed(monkeypatch):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, html: sent.append((group, html)))
    return sent


@pytest.mark.django_db
def test_changes_in_one_transaction_push_once(pushed, django_capture_on_commit_callbacks):
    new_call(state=CallState.INITIATED)
    with django_capture_on_commit_callbacks(execute=True):
        Call.advance(CALL, CallState.ANSWERED)
        Call.advance(CALL, CallState.ENDED, end_time=timezone.now())
    live.drain()
    ((group, html),) = pushed
    assert group == "live.calls"
    assert "leaving" in html and 'id="call-count"' in html


@pytest.mark.django_db
def test_nothing_is_pushed_before_commit(pushed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        new_call(state=CallState.INITIATED)
        Call.advance(CALL, CallState.ANSWERED)
    live.drain()
    assert pushed == []
    assert callbacks


@pytest.mark.django_db
def test_a_failing_publish_never_breaks_the_change(settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.LIVE_PUSH_IN_BACKGROUND = True

    def broken(changes):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(live_bus.publisher, "publish", broken)
    with django_capture_on_commit_callbacks(execute=True):
        new_call(state=CallState.INITIATED)
        assert Call.advance(CALL, CallState.ANSWERED)
    assert Call.objects.get().state == CallState.ANSWERED


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_pushes_nothing(pushed):
    with pytest.raises(RuntimeError), transaction.atomic():
        new_call("c-gone", state=CallState.INITIATED)
        Call.advance("c-gone", CallState.ANSWERED)
        raise RuntimeError
    new_call(state=CallState.INITIATED)
    Call.advance(CALL, CallState.ANSWERED)
    live.drain()
    ((group, html),) = [(group, html) for group, html in pushed if "<tr" in html]
    assert f'id="call-{CALL}"' in html and "c-gone" not in html


@pytest.mark.django_db(transaction=True)
def test_the_committer_never_waits_for_redis(settings, monkeypatch):
    """A webhook's answer does not wait for Redis: the publishing thread does."""
    settings.REDIS_URL = "redis://127.0.0.1:6379/11"
    settings.LIVE_PUSH_IN_BACKGROUND = True
    redis_answers = threading.Event()
    def hanging(*args, **kwargs):
        redis_answers.wait(10)
        raise live_bus.redis.ConnectionError("gone")

    monkeypatch.setattr(live_bus.redis.Redis, "pipeline", hanging)
    try:
        new_call()
        with transaction.atomic():
            Call.advance(CALL, CallState.ENDED, end_time=timezone.now())
        assert Call.objects.get().state == CallState.ENDED  # committed while Redis hangs
    finally:
        redis_answers.set()
        live_bus.publisher.stop()


# A socket lives no longer than what allowed it to open


async def signed_in_socket(client, user, path="/ws/live/calls/"):
    from importlib import import_module

    from django.conf import settings as django_settings

    await sync_to_async(client.force_login)(user)
    session = import_module(django_settings.SESSION_ENGINE).SessionStore(client.cookies["sessionid"].value)
    comm = communicator(user, path, session=session)
    assert (await comm.connect())[0]
    return comm


async def closed_with(comm) -> int:
    async with asyncio.timeout(3):
        while True:
            output = await comm.receive_output()
            if output["type"] == "websocket.close":
                return output["code"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_signing_out_closes_the_sessions_sockets_and_no_other(client, make_operator, live_hub):
    from django.test import Client

    agent = await sync_to_async(make_operator)("agent")
    comm = await signed_in_socket(client, agent)
    other = await signed_in_socket(Client(), agent)
    await sync_to_async(client.post)("/logout/")
    assert await closed_with(comm) == 4401
    assert await other.receive_nothing(timeout=0.3)
    await other.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_deactivated_users_sockets_close(client, make_operator, live_hub):
    agent = await sync_to_async(make_operator)("agent")
    comm = await signed_in_socket(client, agent)
    agent.is_active = False
    await sync_to_async(agent.save)()
    assert await closed_with(comm) == 4401


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_supervisor_who_loses_the_permission_loses_the_conference_stream(client, make_operator, live_hub):
    from voice.models import Conference

    await sync_to_async(Conference.objects.create)(conference_id="conf-1", name="floor", state="active")
    supervisor = await sync_to_async(make_operator)("supervisor")
    comm = await signed_in_socket(client, supervisor, "/ws/live/conference-conf-1/")
    board = await signed_in_socket(client, supervisor)
    await sync_to_async(supervisor.groups.clear)()
    assert await closed_with(comm) == 4401
    # The board needs no permission beyond being signed in: it stays.
    assert await board.receive_nothing(timeout=0.3)
    await board.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_expired_sessions_sockets_close(client, make_operator, live_hub, settings):
    settings.LIVE_SESSION_CHECK_INTERVAL = 0.2
    agent = await sync_to_async(make_operator)("agent")
    comm = await signed_in_socket(client, agent)

    def expire():
        session = client.session
        session.set_expiry(-1)
        session.save()

    await sync_to_async(expire)()
    assert await closed_with(comm) == 4401


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_calls_page_follows_its_call_even_outside_every_boards_window(make_operator, live_hub, settings):
    await sync_to_async(new_call)("c-page", started=timezone.now() - timedelta(hours=1))
    for n in range(3):
        await sync_to_async(new_call)(f"c-older-{n}", started=timezone.now() - timedelta(hours=2))
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user, "/ws/live/call-c-page/")
    assert (await comm.connect())[0]
    await sync_to_async(Call.advance)("c-page", CallState.ENDED, end_time=timezone.now())
    (frame,) = await frames_until(comm, lambda frame: 'id="call-c-page"' in frame)
    assert "state-ended" in frame and "c-older" not in frame
    await comm.disconnect()


@pytest.mark.asyncio
async def test_the_stream_reader_reads_on_past_an_entry_it_cannot_handle_and_has_pages_reread(settings):
    from tests.support.services import REDIS_URL, require_redis

    require_redis()
    settings.REDIS_URL = REDIS_URL
    client = live_bus.redis.Redis.from_url(REDIS_URL)
    received, lost, published = [], [], []

    def receive(changes, published_at):
        if changes == [("call", "c-bad")]:
            raise ValueError("unreadable")
        received.extend(changes)
        published.append(published_at)

    reader = asyncio.ensure_future(live_bus.read_stream(receive, lambda: lost.append(True)))
    await asyncio.sleep(0.3)  # it starts after what the stream already holds
    for call_id in ("c-bad", "c-good"):
        client.xadd(live_bus.STREAM_KEY, {"c": f'[["call", "{call_id}"]]'})
    async with asyncio.timeout(5):
        while not received:
            await asyncio.sleep(0.05)
    reader.cancel()
    assert received == [("call", "c-good")] and lost == [True]
    # When it was published, by Redis's clock (the push lag in /metrics starts there).
    assert abs(published[0] - time.time()) < 5
