"""The console's own Prometheus metrics (the live push, the websockets) and the exposition
/metrics serves: every process's values added up in multiprocess mode (voice/metrics.py
says how), this process's otherwise."""

from __future__ import annotations

import atexit

from prometheus_client import REGISTRY, CollectorRegistry, Gauge, Histogram, generate_latest, multiprocess

from voice import metrics as voice_metrics

PUSH_SECONDS = Histogram(
    "switchboard_live_push_seconds",
    "From a change's publication (its commit) to its frame handed to the websockets of a console process.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OPEN_WEBSOCKETS = Gauge("switchboard_open_websockets", "Live websockets open, over every console process.", multiprocess_mode="livesum")


def exposition() -> bytes:
    if voice_metrics.MULTIPROCESS_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


if voice_metrics.MULTIPROCESS_DIR:
    # A process that ends takes its open websockets out of the sum.
    atexit.register(multiprocess.mark_process_dead, voice_metrics.process_name())
