"""/readyz in the production profile: ready with every process up, then not ready, naming
the part, when the Celery worker stops and when Redis stops; /metrics adds up the values
every process wrote (prometheus-client's multiprocess mode)."""

import subprocess

import pytest
import requests

from console.processes import free_port, wait_for_port
from tests.support.sandbox import wait_until
from tests.support.services import require_postgres, require_redis
from tests.support.stack import running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.production]

TOKEN = "metrics-t0ken"


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


def test_not_ready_when_the_worker_or_redis_stops(tmp_path, monkeypatch, own_redis):
    require_postgres()
    require_redis()
    redis_server, redis_url = own_redis
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    with running_stack(tmp_path, production=True, redis_url=redis_url) as stack:
        wait_until(lambda: readiness(stack.url)[0] == 200, timeout=60, message="the console never became ready")
        _, body = readiness(stack.url)
        assert body["checks"]["worker"]["detail"] == "1 answering"

        stack.sandbox.offer_inbound(from_number="+15551230088", to_number="+19195550199")
        headers = {"Authorization": f"Bearer {TOKEN}"}
        wait_until(
            lambda: 'switchboard_webhooks_total{event_type="initiate",outcome="applied"} 1.0'
            in requests.get(f"{stack.url}/metrics", headers=headers, timeout=5).text,
            timeout=30,
        )
        assert any(path.name.startswith("counter_") for path in metrics_dir.iterdir())

        worker = stack.processes.processes["worker"]
        worker.terminate()
        worker.wait(30)
        status, body = readiness(stack.url)
        assert status == 503 and "worker" in body["failed"], body
        assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]

        redis_server.kill()
        redis_server.wait()
        status, body = readiness(stack.url)
        assert status == 503 and {"redis", "worker"} <= set(body["failed"]), body
        assert body["checks"]["database"]["ok"]
