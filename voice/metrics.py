"""Prometheus metrics (prometheus-client), counted where things happen and served by the
console at /metrics (console/views/health.py).

Production runs several processes (daphne, Celery workers and their children): with
PROMETHEUS_MULTIPROC_DIR set, every process writes its values to files of its own in that
directory, and /metrics adds them up across processes (prometheus-client's multiprocess
mode). `manage.py up` and docker-compose.yml set it; it must be set before the first import
of prometheus_client, and emptied when the processes (re)start. Files are named by host and
pid, so containers sharing the directory do not collide. Without it (the embedded default,
one process) the values live in memory.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection

from prometheus_client import Counter, Histogram, values

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_name() -> str:
    """This process among all that share the directory, containers included."""
    return f"{socket.gethostname()}-{os.getpid()}"


if MULTIPROCESS_DIR:
    # Before any metric exists: each takes its storage from ValueClass when created.
    values.ValueClass = values.MultiProcessValue(process_name)

WEBHOOKS = Counter(
    "switchboard_webhooks_total",
    "Webhooks received, by event type (other for a type Switchboard does not handle) and outcome "
    "(applied, stale, unknown-type, duplicate, refused).",
    ["event_type", "outcome"],
)
ANSWER_SECONDS = Histogram(
    "switchboard_webhook_answer_seconds",
    "From receiving a webhook to having its answer ready (Bandwidth waits at most 15 s for BXML).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0),
)
ACTIONS = Counter(
    "switchboard_actions_total", "Operator actions finished, by kind and outcome (done, failed, dropped).", ["kind", "outcome"]
)
REPAIRS = Counter(
    "switchboard_reconciliation_repairs_total", "Repairs reconciliation made to the mirror, by what it repaired.", ["repair"]
)


def event_type_label(event_type: object, known: Collection[str]) -> str:
    """An event type as a label: one Switchboard handles, else "other" (a label per odd value
    sent from outside would grow the series without end)."""
    return event_type if isinstance(event_type, str) and event_type in known else "other"
