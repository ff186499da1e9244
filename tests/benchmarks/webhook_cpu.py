"""CPU per webhook, in one process, with no server and no network between: a call's and a
conference's webhook lifecycle driven through the console's ASGI application, the way
daphne hands it a request.

Wall-clock benchmarks (test_webhook_ingest.py, test_live_push.py) need quiet cores; CPU time
and instruction counts do not, so this is what a change to the webhook path is measured
with while the machine is shared. It reports the CPU time per webhook (process time: every
thread, the live-push publisher's and the embedded worker's included), the SQL statements
per webhook, and with --profile a cProfile of the measured rounds, grouped by where the time
goes (middleware, URL resolution, parsing, validation, the ORM, psycopg, ...).

    python -m tests.benchmarks.webhook_cpu --migrate            # create the tables first
    python -m tests.benchmarks.webhook_cpu --rounds 200         # CPU per webhook
    python -m tests.benchmarks.webhook_cpu --rounds 200 --profile
    python -m tests.benchmarks.webhook_cpu --sql                # the statements of one round

The database is the console's own (DATABASE_URL, else the embedded SQLite under VAR_DIR).
A round is one conference's life and an outbound call's (tests/support/webhook_rounds.py).

Instructions: `perf stat` cannot count them on this machine kind (no PMU in the
container), so count them with callgrind, by difference, so that start-up cancels out:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python -m tests.benchmarks.webhook_cpu --rounds 5
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python -m tests.benchmarks.webhook_cpu --rounds 25
    (I(25) - I(5)) / (20 rounds x WEBHOOKS_PER_ROUND)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import io
import json
import os
import pstats
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import timedelta

from tests.support.webhook_rounds import EPOCH, WEBHOOKS_PER_ROUND, lifecycle

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

class Driver:
    """Hands requests to the ASGI application as daphne does (one event loop, the body in
    one message), and checks every answer."""

    def __init__(self, application, authorization: str) -> None:
        self.application = application
        self.headers = [
            (b"host", b"127.0.0.1"),
            (b"authorization", authorization.encode()),
            (b"content-type", b"application/json"),
        ]

    async def post(self, body: bytes) -> int:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/webhooks/voice", "raw_path": b"/webhooks/voice", "root_path": "", "query_string": b"",
            "headers": [*self.headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
        }
        sent = {"body": False}
        answer = {}

        async def receive():
            if not sent["body"]:
                sent["body"] = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]

        await self.application(scope, receive, send)
        return answer["status"]


async def drive(driver: Driver, rounds: int, *, first: int, by_type: dict | None = None) -> None:
    for n in range(rounds):
        round_id = f"{uuid.uuid4().hex[:8]}-{first + n:04d}"
        for event in lifecycle(round_id, EPOCH + timedelta(minutes=first + n)):
            started = time.process_time()
            status = await driver.post(json.dumps(event).encode())
            if by_type is not None:
                by_type[event["eventType"]].append(time.process_time() - started)
            assert status in (200, 204), (status, event)


# Where the time goes: the first of these found on a profiled function's file path.
AREAS = [
    ("tests/benchmarks", "harness"),
    ("asgiref/", "asgiref (sync/async hops)"),
    ("django/core/handlers", "django request handling"),
    ("django/middleware", "middleware (django)"),
    ("django/contrib/sessions", "middleware (sessions)"),
    ("django/contrib/auth", "middleware (auth)"),
    ("django/contrib/messages", "middleware (messages)"),
    ("csp/", "middleware (csp)"),
    ("axes/", "middleware (axes)"),
    ("django_htmx/", "middleware (htmx)"),
    ("whitenoise/", "middleware (whitenoise)"),
    ("console/middleware", "middleware (console)"),
    ("django/urls", "URL resolution"),
    ("django/http", "request/response objects"),
    ("django/db/models/sql", "ORM query building"),
    ("django/db/models", "ORM models"),
    ("django/db/backends", "database backend"),
    ("django/db/transaction", "transactions"),
    ("django/db/utils", "database backend"),
    ("django/db/", "database backend"),
    ("psycopg_pool", "psycopg pool"),
    ("psycopg", "psycopg"),
    ("sqlite3", "sqlite3"),
    ("pydantic", "pydantic validation"),
    ("django/dispatch", "signals"),
    ("django/utils", "django utils"),
    ("django/", "django other"),
    ("console/live", "live push"),
    ("redis", "live push (redis)"),
    ("voice/models", "voice models"),
    ("voice/", "voice"),
    ("console/", "console"),
    ("logging", "logging"),
    ("celery", "celery (embedded worker)"),
    ("kombu", "celery (embedded worker)"),
    ("threading", "threads"),
    ("asyncio", "asyncio"),
    ("concurrent", "threads"),
    ("json", "json"),
]


def area(filename: str) -> str:
    for needle, name in AREAS:
        if needle in filename:
            return name
    return "other" if filename != "~" else "builtins"


class ThreadProfiles:
    """cProfile of every thread, not only the one that enables it: each request's view
    runs on a thread asgiref starts for it, the live push and the worker on their own."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []

    def _start_in_thread(self, *args) -> None:
        # CPU time of the thread, not wall time: waiting for PostgreSQL or for another
        # thread is not the webhook's cost in CPU.
        profile = cProfile.Profile(time.thread_time_ns, 1e-9)
        self.profiles.append(profile)
        profile.enable()

    def enable(self) -> None:
        threading.setprofile(self._start_in_thread)
        self._start_in_thread()

    def disable(self) -> None:
        threading.setprofile(None)
        self.profiles[0].disable()

    def stats(self) -> pstats.Stats:
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        return stats


def renew_webhook_threads() -> None:
    """A profile reaches the threads started after it: the webhooks' pool, started in the
    warm-up, is started again."""
    from concurrent.futures import ThreadPoolExecutor

    from console import asgi

    try:
        from console import webhook_path
    except ImportError:  # a revision from before it (BENCH_COMPARE_REF)
        return
    http = asgi.application.application_mapping["http"]
    if isinstance(http, webhook_path.WebhookPath):
        http.executor.shutdown()
        http.executor = ThreadPoolExecutor(max_workers=webhook_path.THREADS, thread_name_prefix="webhook")


def report_profile(profiles: ThreadProfiles, webhooks: int, top: int) -> str:
    stats = profiles.stats()
    by_area: Counter = Counter()
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        by_area[area(filename)] += own
    total = sum(by_area.values())
    # Stable where CPU time is not (a shared machine): the work counted in calls.
    calls = sum(primitive for (primitive, _, _, _, _) in stats.stats.values())
    lines = [f"Python function calls per webhook (every thread): {calls / webhooks:.0f}"]
    lines += [
        f"Own time by area (cProfile in every thread, {webhooks} webhooks, {total / webhooks * 1000:.2f} ms per webhook,"
        " CPU time of each thread, inflated by the profiler itself):"
    ]
    lines += [f"  {name:32} {seconds / webhooks * 1000:7.3f} ms  {seconds / total:6.1%}" for name, seconds in by_area.most_common()]
    # Waiting is not work: the event loop's poll and the threads' locks.
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(top)
    lines += ["", out.getvalue()]
    return "\n".join(lines)


def setup(migrate: bool):
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        call_command("demo_data", verbosity=0)
    from django.conf import settings

    from console.asgi import application

    authorization = "Basic " + base64.b64encode(f"{settings.WEBHOOK_USERNAME}:{settings.WEBHOOK_PASSWORD}".encode()).decode()
    return Driver(application, authorization)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrate", action="store_true", help="create the tables and the demo routes first")
    parser.add_argument("--rounds", type=int, default=100, help="measured rounds (after 5 of warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile the measured rounds with cProfile")
    parser.add_argument("--top", type=int, default=40, help="functions listed in the profile")
    parser.add_argument("--sql", action="store_true", help="print the statements of one round")
    args = parser.parse_args(argv)
    driver = setup(args.migrate)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(drive(driver, args.warmup, first=0))
    if args.sql:
        count_statements(loop, driver)
        return
    by_type: dict[str, list[float]] = defaultdict(list)
    profile = ThreadProfiles() if args.profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
        renew_webhook_threads()
    loop.run_until_complete(drive(driver, args.rounds, first=args.warmup, by_type=by_type))
    if profile:
        profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    webhooks = args.rounds * WEBHOOKS_PER_ROUND
    print(f"{webhooks} webhooks ({args.rounds} rounds): {cpu / webhooks * 1000:.3f} ms CPU per webhook, {wall / webhooks * 1000:.3f} ms wall")
    for event_type, times in sorted(by_type.items()):
        times.sort()
        print(f"  {event_type:22} n={len(times):5} median {times[len(times) // 2] * 1000:.3f} ms CPU")
    if profile:
        print(report_profile(profile, webhooks, args.top))


def count_statements(loop, driver: Driver) -> None:
    """The statements of one round, per webhook. Each request's view runs on a thread of its
    own (asgiref), so they are caught where every cursor executes, whatever the thread."""
    from django.db.backends import utils

    captured: list[str] = []
    execute, executemany = utils.CursorWrapper._execute, utils.CursorWrapper._executemany

    def caught(method):
        def wrapper(self, sql, *args, **kwargs):
            captured.append(sql)
            return method(self, sql, *args, **kwargs)

        return wrapper

    utils.CursorWrapper._execute, utils.CursorWrapper._executemany = caught(execute), caught(executemany)
    total = 0
    try:
        for event in lifecycle(f"{uuid.uuid4().hex[:8]}-sql", EPOCH + timedelta(days=1)):
            captured.clear()
            loop.run_until_complete(driver.post(json.dumps(event).encode()))
            total += len(captured)
            print(f"{event['eventType']}: {len(captured)} statements")
            for sql in captured:
                print(f"    {sql[:160]}")
    finally:
        utils.CursorWrapper._execute, utils.CursorWrapper._executemany = execute, executemany
    print(f"{total / WEBHOOKS_PER_ROUND:.2f} statements per webhook over the round")


if __name__ == "__main__":
    sys.exit(main())
