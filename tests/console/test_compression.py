"""Pages travel compressed (the board is mostly repeated markup); streaming exports stay
streaming, compressed chunk by chunk."""

import gzip
from datetime import timedelta

import pytest
from django.utils import timezone

from voice.models import Call, CallState

pytestmark = pytest.mark.django_db


def test_the_board_is_compressed_for_a_browser_that_accepts_gzip(agent_client):
    now = timezone.now()
    Call.objects.bulk_create(
        Call(call_id=f"c-{n:04d}", direction="inbound", state=CallState.ANSWERED, start_time=now - timedelta(seconds=n))
        for n in range(100)
    )
    plain = agent_client.get("/").content
    response = agent_client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content).count(b'class="call-row') == 100
    assert len(response.content) * 5 < len(plain)


def test_a_csv_export_stays_streaming_when_compressed(client, make_operator):
    client.force_login(make_operator("supervisor"))
    Call.objects.create(call_id="c-1", direction="inbound", state=CallState.ENDED, start_time=timezone.now(), end_time=timezone.now())
    response = client.get("/history/calls.csv", headers={"Accept-Encoding": "gzip"})
    assert response.streaming
    assert response["Content-Encoding"] == "gzip"
    assert b"c-1" in gzip.decompress(b"".join(response.streaming_content))
