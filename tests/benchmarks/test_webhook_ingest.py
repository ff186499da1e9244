"""Webhook ingest: how many Bandwidth webhooks a single console process answers, and how
fast, against the physical limits of the same server on the same machine in the same run.

S0 is a bare ASGI app under daphne (read, parse, 204); S1 is a trivial Django view behind the
console's own middleware (tests/benchmarks/django_floor.py); S3 is the console's real path
(Basic auth, the schema, the call written, BXML answered, the event stored, live push after
commit) on PostgreSQL, and on SQLite (the embedded default). The servers run on core 0, the
load generator on core 1. Each stack climbs RATES, stopping after its first step that is
not sustained (an error, or p99 over 100 ms); the sustainable rate is the highest step that
was. Three repetitions, interleaved. Results: printed, and written to
var/benchmarks/webhook-ingest.md for docs/benchmarks.md.

BENCH_COMPARE_REF=main measures the console of that revision too (S3 on PostgreSQL, its
own database), interleaved with the others in the same run: before and after.
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
from tests.benchmarks.stack import source_tree
from tests.support.services import require_postgres
from tests.support.stack import _postgres_database

pytestmark = pytest.mark.benchmark

RATES = (100, 150, 200, 250, 300, 400, 600, 800, 1200, 1600)
SECONDS = 8
REPETITIONS = int(os.environ.get("BENCH_REPETITIONS", "3"))
# A step is sustained with no error and p99 under this.
P99_MS = 100
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
    # -P: the modules come from PYTHONPATH (another revision's source), not from the
    # working directory.
    return lambda port: [sys.executable, "-P", "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), application]


def console_env(tmp: Path, database_url: str | None, source: Path = BASE_DIR) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update(VAR_DIR=str(tmp), LOG_LEVEL="WARNING", PYTHONPATH=str(source))
    if database_url:
        env["DATABASE_URL"] = database_url
    command = manage_command("migrate", "--noinput", "-v", "0") if source == BASE_DIR else [sys.executable, str(source / "manage.py"), "migrate", "--noinput", "-v", "0"]
    subprocess.run(command, env=env, check=True, cwd=source)
    return env


def sustained(result: loadgen.Result) -> bool:
    return result.errors == 0 and result.percentile(99) < P99_MS


def climb(url: str, headers: dict, first_body: int) -> list[loadgen.Result]:
    """The ladder of RATES, up to and including the first step not sustained."""
    loadgen.run(f"{url}/webhooks/voice", headers, lambda i: answer_webhook(first_body + i), 50, 2)  # warm-up
    results, offset = [], first_body + 100
    for rate in RATES:
        result = loadgen.run(f"{url}/webhooks/voice", headers, lambda i, o=offset: answer_webhook(o + i), rate, SECONDS)
        results.append(result)
        offset += rate * SECONDS
        if not sustained(result):
            break
    return results


def _share(part: int, whole: int) -> str:
    # A floor that sustained no step (a machine loaded by other work) gives no ratio, and
    # must not cost the run's table.
    return f"{part / whole:.0%}" if whole else "n/a"


def sustainable(results: list[loadgen.Result]) -> int:
    return max((int(result.rate) for result in results if sustained(result)), default=0)


def test_webhook_ingest_against_the_bare_server_and_django(tmp_path):
    require_postgres()
    os.sched_setaffinity(0, {1})
    logs = tmp_path / "logs"
    logs.mkdir()
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    floor_env = {**os.environ, "PYTHONPATH": str(BASE_DIR)}
    rates: dict[str, list[int]] = {}
    rows = []
    before = os.environ.get("BENCH_COMPARE_REF")
    with _postgres_database() as postgres_url, _postgres_database() as before_url, source_tree(before) as before_source:
        stacks = {
            "S0 bare ASGI": (daphne("tests.benchmarks.bare_app:application"), floor_env),
            "S1 Django view": (daphne("tests.benchmarks.django_floor:application"), console_env(tmp_path / "s1", postgres_url)),
            "S3 console, PostgreSQL": (daphne("console.asgi:application"), console_env(tmp_path / "pg", postgres_url)),
            "S3 console, SQLite": (daphne("console.asgi:application"), console_env(tmp_path / "sqlite", None)),
        }
        if before:
            stacks[f"S3 console, PostgreSQL, before ({before})"] = (
                daphne("console.asgi:application"),
                console_env(tmp_path / "before", before_url, before_source),
            )
        for repetition in range(REPETITIONS):
            for name, (command, env) in stacks.items():
                with server(name.replace(" ", "-").replace(",", ""), command, env, logs) as url:
                    results = climb(url, headers, first_body=(repetition + 1) * 10**7)
                rates.setdefault(name, []).append(sustainable(results))
                rows += [result.row(f"{name} (run {repetition + 1})") for result in results]

    summary = [f"| {name} | {min(runs)} | {sorted(runs)[len(runs) // 2]} | {max(runs)} |" for name, runs in rates.items()]
    medians = {name: sorted(runs)[len(runs) // 2] for name, runs in rates.items()}
    s3 = medians["S3 console, PostgreSQL"]
    table = "\n".join(
        [
            f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}; "
            f"servers on core 0, load on core 1; {SECONDS} s per step, open loop; {datetime.now():%Y-%m-%d %H:%M}.",
            "",
            f"Highest rate sustained (no error, p99 under {P99_MS} ms), per run:",
            "",
            "| stack | min /s | median /s | max /s |",
            "|---|---|---|---|",
            *summary,
            "",
            f"S3 on PostgreSQL, median: {_share(s3, medians['S0 bare ASGI'])} of S0 and {_share(s3, medians['S1 Django view'])} of S1.",
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
    assert min(rates["S3 console, SQLite"]) >= 100
    assert min(rates["S3 console, PostgreSQL"]) >= 100
