"""Fault injection, switched on and off while the sandbox runs: 429 and 5xx answers, added
latency, and duplicated, reordered and dropped webhooks."""

import time

import pytest

from tests.sandbox.conftest import response

pytestmark = pytest.mark.asyncio

HOLD = "<Pause duration='600'/>"


async def set_faults(sandbox, **faults) -> dict:
    status, body, _ = await sandbox.request("PUT", "/sandbox/faults", json=faults)
    assert status == 200, body
    return body


async def test_faults_are_read_and_set_as_a_whole_and_refused_when_out_of_range(sandbox):
    _, initial, _ = await sandbox.request("GET", "/sandbox/faults")
    changed = await set_faults(sandbox, errorRate429=0.25, latencyMs=10)
    refused = [
        (await sandbox.request("PUT", "/sandbox/faults", json=body))[0]
        for body in ({"errorRate5xx": 1.5}, {"latencyMs": -1}, {"webhookDrop": "half"}, {"surprise": 1}, [1])
    ]
    _, after, _ = await sandbox.request("GET", "/sandbox/faults")

    assert initial == {
        "errorRate429": 0.0,
        "errorRate5xx": 0.0,
        "latencyMs": 0,
        "webhookDuplicate": 0.0,
        "webhookReorder": 0.0,
        "webhookDrop": 0.0,
    }
    assert changed == {**initial, "errorRate429": 0.25, "latencyMs": 10}
    assert refused == [400] * 5
    assert after == changed


async def test_every_request_answers_429_with_retry_after_while_the_share_is_one_and_none_after(sandbox, application):
    await set_faults(sandbox, errorRate429=1)
    limited, body, headers = await sandbox.request("GET", "/calls")
    inspection, _, _ = await sandbox.request("GET", "/sandbox/calls")
    await set_faults(sandbox, errorRate429=0)
    normal, _, _ = await sandbox.request("GET", "/calls")

    assert limited == 429 and headers["Retry-After"] == "1" and body["type"] == "error"
    assert inspection == 200
    assert normal == 200


async def test_an_injected_server_error_changes_nothing(sandbox, application):
    await set_faults(sandbox, errorRate5xx=1)

    status, body, _ = await sandbox.request(
        "POST",
        "/calls",
        json={"from": "+19195550100", "to": "+15553334444", "applicationId": sandbox.config.application_id, "answerUrl": application.at("/a")},
    )

    assert status in (500, 503) and body["type"] in ("internal-error", "system-overloaded")
    assert not sandbox.sim.calls.by_id


async def test_error_shares_apply_to_about_that_share_of_requests(sandbox):
    await set_faults(sandbox, errorRate429=0.2, errorRate5xx=0.1)

    statuses = [(await sandbox.request("GET", "/calls"))[0] for _ in range(300)]

    assert 0.12 < statuses.count(429) / 300 < 0.28
    assert 0.04 < sum(s >= 500 for s in statuses) / 300 < 0.16
    assert statuses.count(200) + statuses.count(429) + sum(s >= 500 for s in statuses) == 300


async def test_latency_delays_every_api_answer(sandbox):
    await set_faults(sandbox, latencyMs=250)
    started = time.monotonic()
    await sandbox.request("GET", "/calls")
    slow = time.monotonic() - started
    await set_faults(sandbox, latencyMs=0)
    started = time.monotonic()
    await sandbox.request("GET", "/calls")

    assert slow >= 0.25
    assert time.monotonic() - started < 0.2


async def test_a_dropped_webhook_never_arrives_and_bxml_webhooks_are_never_dropped(sandbox, application):
    await set_faults(sandbox, webhookDrop=1)
    application.reply("initiate", response("<Hangup/>"))
    call = await sandbox.offer()
    await application.wait_for("initiate")
    await sandbox.settle(3)

    assert application.types() == ["initiate"]
    (dropped,) = [w for w in sandbox.sim.sender.history if w.event_type == "disconnect"]
    assert dropped.fault == "dropped" and dropped.status is None
    assert (await sandbox.call(call["callId"]))["state"] == "completed"
    _, webhooks, _ = await sandbox.request("GET", "/sandbox/webhooks")
    assert [w["fault"] for w in webhooks if w["eventType"] == "disconnect"] == ["dropped"]


async def test_a_duplicated_webhook_arrives_twice_with_the_same_body(sandbox, application):
    await set_faults(sandbox, webhookDuplicate=1)
    application.reply("initiate", response("<Hangup/>"))
    await sandbox.offer()

    first, second = await application.wait_for("disconnect", count=2)

    assert first.payload == second.payload
    assert len(application.events("initiate")) == 1


async def test_a_held_back_webhook_is_overtaken_by_a_later_one(sandbox, application):
    application.reply("initiate", response(HOLD))
    early = await sandbox.offer(from_number="+15550000001")
    late = await sandbox.offer(from_number="+15550000002")
    await application.wait_for("initiate", count=2)

    await set_faults(sandbox, webhookReorder=1)
    await sandbox.request("POST", f"/calls/{early['callId']}", json={"state": "completed"})
    await sandbox.settle(0.1)
    await set_faults(sandbox, webhookReorder=0)
    await sandbox.request("POST", f"/calls/{late['callId']}", json={"state": "completed"})

    first, second = await application.wait_for("disconnect", count=2, timeout=8)

    assert (first.payload["callId"], second.payload["callId"]) == (late["callId"], early["callId"])
    assert first.payload["eventTime"] > second.payload["eventTime"]
