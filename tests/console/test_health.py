"""/readyz names what is not ready; /metrics counts webhooks, answers, actions and repairs,
for a bearer token or a staff user only. (The production profile's /readyz, with Redis and
the worker really stopped: tests/e2e/test_readiness.py.)"""

import threading
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from console.beat import HEARTBEAT_KEY
from tests.console.test_live import communicator, frames_until, new_call
from tests.support.bandwidth import API, payload, post_event
from voice.models import Action, ActionKind, ActionStatus, Event


@pytest.fixture
def embedded_worker():
    """A thread standing for the embedded Celery worker (console/embedded.py names it so)."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="celery-worker", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


@pytest.fixture
def bandwidth_answers(bandwidth_api):
    bandwidth_api.get(f"{API}/conferences", json=[])
    return bandwidth_api


def test_ready_when_every_part_answers(db, client, embedded_worker, bandwidth_answers):
    cache.set(HEARTBEAT_KEY, time.time())
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True and body["failed"] == []
    assert body["checks"]["redis"]["detail"] == "not used (embedded default)"


def test_not_ready_names_each_part_that_failed(db, client, bandwidth_api):
    bandwidth_api.get(f"{API}/conferences", status=401, json={"message": "bad credentials"})
    cache.set(HEARTBEAT_KEY, time.time() - 120)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["worker", "beat", "bandwidth"]
    assert body["checks"]["beat"]["detail"] == "RuntimeError: beat last ticked 120 s ago"
    assert body["checks"]["database"]["ok"] is True


def test_metrics_need_a_token_or_a_staff_user(db, client, agent_client, settings):
    settings.METRICS_TOKEN = "t0ken"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert agent_client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer t0ken"}).status_code == 200


def _samples(client) -> dict:
    text = client.get("/metrics", headers={"Authorization": "Bearer t0ken"}).content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_webhooks_are_counted_by_type_and_outcome_with_their_answer_time(db, client, settings, django_capture_on_commit_callbacks):
    settings.METRICS_TOKEN = "t0ken"
    before = _samples(client)
    post_event(client, payload("answer"))
    post_event(client, payload("answer"))
    post_event(client, {**payload("answer"), "eventType": "x" * 40, "callId": "a/b"})
    after = _samples(client)

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("switchboard_webhooks_total", event_type="answer", outcome="applied") == 1
    assert grew("switchboard_webhooks_total", event_type="answer", outcome="duplicate") == 1
    assert grew("switchboard_webhooks_total", event_type="other", outcome="refused") == 1
    assert grew("switchboard_webhook_answer_seconds_count") == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_open_websockets_and_the_push_lag_are_measured(make_operator, live_hub, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "console.layers.ThreadSafeInMemoryChannelLayer"}}
    settings.REDIS_URL = ""
    pushes_before = _sample("switchboard_live_push_seconds_count")
    open_before = _sample("switchboard_open_websockets")
    user = await sync_to_async(make_operator)("agent")
    comm = communicator(user)
    assert (await comm.connect())[0]
    assert _sample("switchboard_open_websockets") == open_before + 1
    await sync_to_async(new_call)()
    await frames_until(comm, lambda frame: "state-answered" in frame)
    assert _sample("switchboard_live_push_seconds_count") > pushes_before
    await comm.disconnect()
    assert _sample("switchboard_open_websockets") == open_before


def _sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_actions_and_repairs_are_counted_once_committed(db, django_capture_on_commit_callbacks):
    failed = {"kind": "hangup", "outcome": "failed"}
    failed_before = REGISTRY.get_sample_value("switchboard_actions_total", failed) or 0.0
    repairs_before = REGISTRY.get_sample_value("switchboard_reconciliation_repairs_total", {"repair": "callRepair"}) or 0.0
    action = Action.objects.create(kind=ActionKind.HANGUP, target="c-1", call_id="c-1", stale_at=timezone.now() + timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):
        action.claim(timedelta(seconds=30))
        action.transition(ActionStatus.FAILED, detail="Bandwidth answered 403")
        Event.repaired("callRepair", payload={}, changes={"state": ("answered", "ended")}, call_id="c-1")
    assert REGISTRY.get_sample_value("switchboard_actions_total", failed) == failed_before + 1
    assert REGISTRY.get_sample_value("switchboard_reconciliation_repairs_total", {"repair": "callRepair"}) == repairs_before + 1
