"""Webhook ingest: how many Bandwidth webhooks a single console process answers, and how
fast, against the physical limit of the same server on the same machine in the same run.

S0 is a bare ASGI app under daphne (read, parse, 204); S3 is the console's real path (Basic
auth, validation, the event stored under its dedupe key, the call created, BXML answered,
live push after commit) on SQLite (embedded default) and on PostgreSQL. The servers run on
core 0, the load generator on core 1. Results: printed, and written to
var/benchmarks/webhook-ingest.md for docs/benchmarks.md.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from console.processes import BASE_DIR, ProcessGroup, free_port, manage_command, wait_for_port
from tests.benchmarks import loadgen
from tests.support.services import require_postgres
from tests.support.stack import _postgres_database

pytestmark = pytest.mark.benchmark

RATES = (50, 100, 200, 400)
SECONDS = 8
AUTH = "Basic " + base64.b64encode(b"bandwidth:webhook-password").decode()
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def answer_webhook(i: int) -> bytes:
    """A documented answer webhook, a new call each time (nothing deduplicated away)."""
    at = (EPOCH + timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "eventType": "answer",
            "eventTime": at,
            "accountId": "9900000",
            "applicationId": "04e88489-df02-4e34-a0ee-27a91849555f",
            "from": "+19195550100",
            "to": f"+1555{i:07d}",
            "direction": "outbound",
            "callId": f"c-bench{i:04d}-{os.getpid():08d}-0000-0000-0000-000000000000",
            "callUrl": "https://voice.bandwidth.com/api/v2/accounts/9900000/calls/c-bench",
            "startTime": at,
            "answerTime": at,
        }
    ).encode()


@contextmanager
def server(name: str, command: list[str], env: dict, logs: Path):
    port = free_port()
    group = ProcessGroup(env=env)
    with (logs / f"{name}.log").open("w") as output:
        process = group.start(name, ["taskset", "-c", "0", *command(port)], stdout=output, stderr=subprocess.STDOUT)
        try:
            assert wait_for_port("127.0.0.1", port, 30, alive=lambda: process.poll() is None), (logs / f"{name}.log").read_text()
            yield f"http://127.0.0.1:{port}"
        finally:
            group.stop()


def daphne(application: str):
    return lambda port: [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), application]


def console_env(tmp: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update(VAR_DIR=str(tmp), LOG_LEVEL="WARNING", PYTHONPATH=str(BASE_DIR))
    if database_url:
        env["DATABASE_URL"] = database_url
    subprocess.run(manage_command("migrate", "--noinput", "-v", "0"), env=env, check=True, cwd=BASE_DIR)
    return env


def test_webhook_ingest_against_the_bare_server(tmp_path):
    require_postgres()
    os.sched_setaffinity(0, {1})
    logs = tmp_path / "logs"
    logs.mkdir()
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    rows = []
    with _postgres_database() as postgres_url:
        stacks = {
            "S0 bare ASGI": (daphne("tests.benchmarks.bare_app:application"), {**os.environ, "PYTHONPATH": str(BASE_DIR)}),
            "S3 console, SQLite": (daphne("console.asgi:application"), console_env(tmp_path / "sqlite", None)),
            "S3 console, PostgreSQL": (daphne("console.asgi:application"), console_env(tmp_path / "pg", postgres_url)),
        }
        results: dict[str, dict[int, loadgen.Result]] = {name: {} for name in stacks}
        for name, (command, env) in stacks.items():
            with server(name.split()[0] + name.split()[-1], command, env, logs) as url:
                loadgen.run(f"{url}/webhooks/voice", headers, lambda i: answer_webhook(10**6 + i), 50, 2)  # warm-up
                offset = 0
                for rate in RATES:
                    results[name][rate] = loadgen.run(
                        f"{url}/webhooks/voice", headers, lambda i, o=offset: answer_webhook(o + i), rate, SECONDS
                    )
                    offset += rate * SECONDS
        for rate in RATES:
            for name in stacks:
                rows.append(results[name][rate].row(name))

    table = "\n".join(
        [
            f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}; "
            f"servers on core 0, load on core 1; {SECONDS} s per step, open loop.",
            "",
            "| stack | offered /s | achieved /s | p50 ms | p90 ms | p99 ms | max ms | errors |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    out = BASE_DIR / "var" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "webhook-ingest.md").write_text(table + "\n")
    print("\n" + table)
    # At Bandwidth's default account limits (5 calls/s: a few dozen webhooks/s), every
    # webhook must be answered, well within Bandwidth's 15 s timeout.
    assert results["S3 console, SQLite"][50].errors == 0
    assert results["S3 console, SQLite"][50].percentile(99) < 1000
