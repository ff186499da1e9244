"""From webhook to every browser, and the board's first paint, in the production profile
(daphne and a separate Celery worker on PostgreSQL and Redis, pinned to core 0; the load
and the clients on core 1).

Webhook to browser: 50 websocket clients signed in on the board; call webhooks (each call
answered, then ended ten calls later) sent open loop at 20, 50 and 100 a second, three
repetitions each. For every change and every client: the time from the webhook's scheduled
send to the first frame showing the call in its new state, and whether it ever came.

First paint: the board with 500 and 5,000 live calls, asked for by a signed-in browser
(gzip accepted): server time (to the last byte, loopback) and bytes on the wire.

BENCH_COMPARE_REF=main measures that revision too, in the same run (before and after).
Results: printed, and written to var/benchmarks/live-push.md for docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time

import aiohttp
import pytest

from console.processes import BASE_DIR
from tests.benchmarks import live_clients
from tests.benchmarks.stack import production_stack, source_tree
from tests.support.services import require_postgres, require_redis
from tests.support.websockets import sign_in

pytestmark = pytest.mark.benchmark

CLIENTS = 50
RATES = (20, 50, 100)
# Shorter runs for trying the harness out: BENCH_SECONDS=2 BENCH_REPETITIONS=1.
REPETITIONS = int(os.environ.get("BENCH_REPETITIONS", 3))
SECONDS = float(os.environ.get("BENCH_SECONDS", 10))
BOARD_SIZES = (500, 5000)
PAINTS = 10


def spread(values: list[float], digits: int = 1) -> str:
    """min / median / max."""
    return " / ".join(f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))


async def push_step_results(stack) -> dict[int, list[live_clients.StepResult]]:
    cookies = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=cookies) as session:
        await sign_in(session, stack.url, "agent", stack.passwords["agent"])
    clients, handles = await live_clients.open_clients(stack.url, "/ws/live/calls/", cookies, CLIENTS)
    auth = (stack.env["WEBHOOK_USERNAME"], stack.env["WEBHOOK_PASSWORD"])
    try:
        await live_clients.run_step(stack.url, clients, auth, 20, 2, "warm")
        results: dict[int, list[live_clients.StepResult]] = {rate: [] for rate in RATES}
        for repetition in range(REPETITIONS):
            for rate in RATES:
                step = await live_clients.run_step(
                    stack.url, clients, auth, rate, SECONDS, f"r{repetition}x{rate:03d}", stack.daphne_cpu_seconds
                )
                results[rate].append(step)
                await asyncio.sleep(2)
        return results
    finally:
        await live_clients.close_clients(handles)


BOARD_CALLS = """
from datetime import timedelta
from django.utils import timezone
from voice.models import Call
now = timezone.now()
Call.objects.filter(call_id__startswith="c-board").delete()
Call.objects.bulk_create([
    Call(call_id=f"c-board{{n:06d}}-0000-0000-0000-000000000000", direction="inbound" if n % 3 else "outbound",
         from_number=f"+1919555{{n:04d}}", to_number="+19195550100", state="answered",
         start_time=now - timedelta(seconds=7 * n), answer_time=now - timedelta(seconds=7 * n - 2),
         last_event_at=now - timedelta(seconds=n % 90), tag="queue-" + str(n % 7))
    for n in range({count})
], batch_size=1000)
"""


async def first_paint(stack, calls: int) -> tuple[list[float], int]:
    stack.manage("shell", "-c", BOARD_CALLS.format(count=calls))
    cookies = aiohttp.CookieJar(unsafe=True)
    timings, size = [], 0
    async with aiohttp.ClientSession(cookie_jar=cookies) as session:
        await sign_in(session, stack.url, "agent", stack.passwords["agent"])
    # Bytes as they cross the wire: not decompressed.
    async with aiohttp.ClientSession(cookie_jar=cookies, auto_decompress=False) as session:
        for n in range(PAINTS + 1):
            began = time.perf_counter()
            async with session.get(f"{stack.url}/", headers={"Accept-Encoding": "gzip, br"}) as page:
                body = await page.read()
                assert page.status == 200
            if n:  # the first warms the process up
                timings.append((time.perf_counter() - began) * 1000)
                size = len(body)
    return timings, size


def measure(source, tmp) -> tuple[dict, dict]:
    with production_stack(source, tmp) as stack:
        pushes = asyncio.run(push_step_results(stack))
        paints = {calls: asyncio.run(first_paint(stack, calls)) for calls in BOARD_SIZES}
        over_capacity = sum(path.read_text().count("over capacity") for path in stack.logs.glob("daphne*.log"))
    return pushes, paints | {"over capacity": over_capacity}


def test_webhook_to_browser_and_first_paint(tmp_path):
    require_postgres()
    require_redis()
    os.sched_setaffinity(0, {1})
    versions = {"after (this checkout)": None}
    if os.environ.get("BENCH_COMPARE_REF"):
        versions = {f"before ({os.environ['BENCH_COMPARE_REF']})": os.environ["BENCH_COMPARE_REF"], **versions}
    measured = {}
    for name, ref in versions.items():
        with source_tree(ref) as source:
            measured[name] = measure(source, tmp_path / name.split()[0])

    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}; daphne and the "
        f"worker on core 0, load and {CLIENTS} websocket clients on core 1; {SECONDS} s per step, open loop, "
        f"{REPETITIONS} repetitions (min / median / max over them).",
        "",
        "| version | webhooks/s | p50 ms | p99 ms | worst client's p99 ms | changes lost (all clients) | superseded | frames per client per s (max) | daphne CPU ms per webhook | webhook errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (pushes, _) in measured.items():
        for rate, steps in pushes.items():
            lines.append(
                f"| {name} | {rate} | {spread([s.percentile(50) for s in steps])} | {spread([s.percentile(99) for s in steps])} "
                f"| {spread([s.worst_client(99) for s in steps])} "
                f"| {spread([sum(s.lost) for s in steps], 0)} | {spread([s.superseded for s in steps], 0)} "
                f"| {spread([max(s.frames_per_second) for s in steps])} | {spread([s.cpu_ms_per_webhook for s in steps])} "
                f"| {spread([s.errors for s in steps], 0)} |"
            )
    lines += ["", "| version | live calls | server ms (min / median / max of 10) | bytes on the wire |", "|---|---|---|---|"]
    for name, (_, paints) in measured.items():
        for calls in BOARD_SIZES:
            timings, size = paints[calls]
            lines.append(f"| {name} | {calls} | {spread(timings)} | {size:,} |")
    lines += ["", "Log lines 'over capacity' (channels_redis dropping): "
              + ", ".join(f"{name}: {paints['over capacity']}" for name, (_, paints) in measured.items())]
    table = "\n".join(lines)
    out = BASE_DIR / "var" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "live-push.md").write_text(table + "\n")
    print("\n" + table)
    after_pushes, after_paints = measured["after (this checkout)"]
    assert all(sum(step.lost) == 0 for steps in after_pushes.values() for step in steps)
