"""A CSV export of 100,000 calls streams with bounded memory."""

import tracemalloc
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from console import roles
from voice.models import Call, CallState

pytestmark = pytest.mark.django_db

ROWS = 100_000


def test_exporting_100000_calls_holds_a_small_fraction_of_the_export_in_memory(client, make_operator):
    start = datetime(2026, 1, 1, tzinfo=dt_timezone.utc)
    Call.objects.bulk_create(
        (
            Call(
                call_id=f"c-{i:08d}-0000-0000-0000-000000000000",
                direction="inbound",
                state=CallState.ENDED,
                from_number=f"+1555{i:07d}",
                to_number="+19195550100",
                start_time=start + timedelta(seconds=i),
                answer_time=start + timedelta(seconds=i + 2),
                end_time=start + timedelta(seconds=i + 90),
                disconnect_cause="hangup",
            )
            for i in range(ROWS)
        ),
        batch_size=5000,
    )
    client.force_login(make_operator(roles.SUPERVISOR))

    tracemalloc.start()
    try:
        response = client.get("/history/calls.csv")
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert lines == ROWS + 1
    assert size > 10_000_000
    # Everything at once would hold 100,000 row objects, several times the export's size;
    # streaming holds one chunk of rows (a few MB, whatever the number of rows).
    assert peak < size / 2, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB export"
