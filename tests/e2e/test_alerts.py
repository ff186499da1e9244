"""Alerts and the console's health in the production profile (daphne, a separate Celery
worker and beat, PostgreSQL, Redis), one stack for both:

- an admin lowers a rule's threshold, a call in the sandbox crosses it, the alert reaches
  every open page's bell without a reload (with a notification for the operator who opted
  in), an operator acknowledges it, every page sees who did, and the alert clears from every
  bell when the call ends (cleared by the worker's evaluation, pushed through Redis);
- /readyz is ready with every process up, then not ready, naming the part, when the worker
  stops and when Redis stops; /metrics adds up what every process wrote."""

import subprocess

import pytest
import requests
from playwright.sync_api import Page, expect

from console.processes import free_port, wait_for_port
from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from tests.support.services import require_postgres, require_redis
from tests.support.stack import PRODUCTION_SECRETS, Stack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.production]

TOKEN = "metrics-t0ken"

# Records the notifications the page shows, as a granted Notification would show them.
RECORD_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
};
"""


def admin_sets_thresholds(page: Page, stack: Stack, **values: int) -> None:
    sign_in(page, stack, "admin")
    page.locator("#alert-bell summary").click()
    page.get_by_role("link", name="Rules and destinations").click()
    for rule, value in values.items():
        page.fill(f"#id_{rule.replace('_', '-')}-threshold", str(value))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Saved.")


def an_alert_reaches_every_bell_and_is_acknowledged(page: Page, second_page: Page, stack: Stack) -> None:
    # One member is "nearly full": the first caller into a conference fires it, on the event.
    # (And no call is long for the length of the test: the demo's is a minute.)
    admin_sets_thresholds(page, stack, conference_nearly_full=1, call_long=3600)
    page.goto(stack.url + "/")
    wait_until_live(page)

    second_page.add_init_script(RECORD_NOTIFICATIONS)
    sign_in(second_page, stack, "agent")
    second_page.goto(stack.url + "/profile/")
    second_page.check("#id_alert_notifications")
    second_page.get_by_role("button", name="Save").click()
    second_page.goto(stack.url + "/")
    wait_until_live(second_page)
    for each in (page, second_page):
        each.evaluate("window.__noReload = true")
        expect(each.locator("#alert-count")).to_have_text("0")

    call = stack.sandbox.offer_inbound(from_number="+15551230077", to_number="+19195550100", hold_seconds=600)
    alert = second_page.locator("#alert-list .alert-item", has_text="sales-floor")
    expect(alert).to_contain_text("has 1 of Bandwidth's 20 members", timeout=20_000)
    expect(page.locator("#alert-list .alert-item", has_text="sales-floor")).to_contain_text("has 1 of Bandwidth's 20 members")
    expect(second_page.locator("#alert-count")).to_have_text("1")
    assert alert.locator("a").get_attribute("href").startswith("/conferences/")
    notifications = second_page.evaluate("window.__notifications")
    assert [note["title"] for note in notifications] == ["Switchboard alert"]
    assert "sales-floor" in notifications[0]["body"]
    assert page.evaluate("window.__notifications || []") == []  # the admin did not opt in

    second_page.locator("#alert-bell summary").click()
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_contain_text("seen by agent")
    expect(page.locator("#alert-list .alert-item", has_text="sales-floor")).to_contain_text("seen by agent")
    for each in (page, second_page):
        expect(each.locator("#alert-count")).to_have_text("0")
        assert each.evaluate("window.__noReload") is True

    # The call is hung up (as another client of the account would): the conference ends, and
    # the alert clears from every bell.
    hang_up = f"{stack.sandbox.api_url}/accounts/{PRODUCTION_SECRETS['BANDWIDTH_ACCOUNT_ID']}/calls/{call['callId']}"
    requests.post(hang_up, json={"state": "completed"}, auth=stack.sandbox.auth, timeout=5).raise_for_status()
    for each in (page, second_page):
        expect(each.locator("#alert-list .alert-item")).to_have_count(0, timeout=20_000)
        assert each.evaluate("window.__noReload") is True


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of the test's own, which the test may stop (never the machine's)."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    assert wait_for_port("127.0.0.1", port, 10)
    yield server, f"redis://127.0.0.1:{port}/0"
    server.kill()
    server.wait()


def readiness(url: str) -> tuple[int, dict]:
    response = requests.get(f"{url}/readyz", timeout=15)
    return response.status_code, response.json()


def ready_then_not_when_the_worker_or_redis_stops(stack: Stack, redis_server: subprocess.Popen, metrics_dir) -> None:
    wait_until(lambda: readiness(stack.url)[0] == 200, timeout=60, message="the console never became ready")
    _, body = readiness(stack.url)
    assert body["checks"]["worker"]["detail"] == "1 answering"

    # Counted by the console process that took each webhook, summed over every process's file.
    metrics = requests.get(f"{stack.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).text
    assert 'switchboard_webhooks_total{event_type="initiate",outcome="applied"} 1.0' in metrics
    assert "switchboard_live_push_seconds_count" in metrics
    assert any(path.name.startswith("counter_") for path in metrics_dir.iterdir())

    stack.kill("worker")
    status, body = readiness(stack.url)
    assert status == 503 and "worker" in body["failed"], body
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]

    redis_server.kill()
    redis_server.wait()
    status, body = readiness(stack.url)
    assert status == 503 and {"redis", "worker"} <= set(body["failed"]), body
    assert body["checks"]["database"]["ok"]


def test_alerts_reach_every_bell_and_readyz_names_what_is_down(page, second_page, tmp_path, monkeypatch, own_redis):
    require_postgres()
    require_redis()
    redis_server, redis_url = own_redis
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    monkeypatch.setenv("ALERT_INTERVAL", "1")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    with running_stack(tmp_path, production=True, redis_url=redis_url) as stack:
        an_alert_reaches_every_bell_and_is_acknowledged(page, second_page, stack)
        ready_then_not_when_the_worker_or_redis_stops(stack, redis_server, metrics_dir)
