"""What one live frame of the board costs, in one process: its reads and its rendering,
without a server, a socket or a browser (the push's own figures come from
test_live_push.py, on quiet cores).

    python -m tests.benchmarks.frame_cpu --migrate          # create the tables first
    python -m tests.benchmarks.frame_cpu --frames 300       # CPU and wall time per frame
    python -m tests.benchmarks.frame_cpu --profile          # and a cProfile of them

The database is the console's own (DATABASE_URL, else the embedded SQLite under VAR_DIR):
its calls are replaced by LIVE answered calls. Each frame is the default board view's
answer to one changed call (BoardFeed.render, as the hub's render thread calls it): the
view's window and counts read, the changed row read, the frame rendered.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--live", type=int, default=10, help="answered calls in the view")
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from console.filters import CallFilterForm
    from console.live_frames import BoardFeed
    from voice.models import Call, CallState

    if args.migrate:
        call_command("migrate", verbosity=0)
    Call.objects.all().delete()
    now = timezone.now()
    calls = Call.objects.bulk_create(
        Call(
            call_id=f"c-frame{n:05d}-0000-0000-0000-000000000000", state=CallState.ANSWERED, direction="inbound",
            from_number=f"+1555{n:07d}", to_number="+19195550100", start_time=now - timedelta(seconds=7 * n), answer_time=now,
        )
        for n in range(args.live)
    )
    ids = [call.call_id for call in calls]
    feed = BoardFeed(CallFilterForm({}))
    feed.prime()

    def frames(count: int) -> None:
        for n in range(count):
            feed.render({("call", ids[n % len(ids)])})

    frames(50)  # warm up: templates compiled, statements built
    with CaptureQueriesContext(connection) as captured:
        frames(1)
    print(f"{len(captured.captured_queries)} statements per frame ({connection.vendor})")
    wall, cpu = time.perf_counter(), time.process_time()
    frames(args.frames)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{args.frames} frames: {cpu / args.frames * 1000:.2f} ms CPU, {wall / args.frames * 1000:.2f} ms wall per frame")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(frames, args.frames)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
