"""The console process as daphne loads it (console/asgi.py)."""

import os
import subprocess
import sys

from django.conf import settings


def test_what_the_process_loads_at_start_is_out_of_the_collectors_sight(tmp_path):
    """A full collection walked all of Django with the event loop held (70 to 140 ms, every
    live frame late by as much); frozen at start, it walks what requests created since. (A
    Redis URL, never connected to, keeps the embedded worker from starting.)"""
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/15", "VAR_DIR": str(tmp_path)}
    frozen = subprocess.run(
        [sys.executable, "-c", "import gc, console.asgi; print(gc.get_freeze_count())"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert int(frozen) > 50_000
