"""A CSV export of 100,000 calls streams with bounded memory, under ASGI (daphne, where
Django would read a synchronous iterator to the end first) and under WSGI."""

import tracemalloc
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from console import roles
from voice.models import Call, CallState

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 100_000


@pytest.fixture
def many_calls():
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


def measure(consume) -> tuple[int, int, int]:
    """(bytes, lines, peak traced memory) of consuming one export."""
    tracemalloc.start()
    try:
        size, lines = consume()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return size, lines, peak


def assert_bounded(size: int, lines: int, peak: int) -> None:
    assert lines == ROWS + 1
    assert size > 10_000_000
    # Everything at once would hold 100,000 row objects, several times the export's size;
    # streaming holds one chunk of rows (a few MB, whatever the number of rows).
    assert peak < size / 2, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB export"


def test_the_export_streams_with_bounded_memory_under_asgi_and_under_wsgi(many_calls, client, make_operator):
    operator = make_operator(roles.SUPERVISOR)
    asgi = AsyncClient()
    asgi.force_login(operator)
    client.force_login(operator)

    async def through_asgi() -> tuple[int, int]:
        response = await asgi.get("/history/calls.csv")
        assert response.is_async
        size = lines = 0
        async for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        return size, lines

    def through_wsgi() -> tuple[int, int]:
        response = client.get("/history/calls.csv")
        assert not response.is_async
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        return size, lines

    assert_bounded(*measure(async_to_sync(through_asgi)))
    assert_bounded(*measure(through_wsgi))
