"""Playing and downloading recordings through the console: the Range handling of the proxy
to Bandwidth and of the archive, and what goes into the audit log.

Served the way daphne serves it (ASGI, Django's async test client), where the body streams
from an asynchronous iterator."""

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from console import roles
from console.models import AuditEntry
from tests.support.recordings import recording, serve_media, wav_bytes
from voice.models import RecordingStatus

# The async client's views run in another thread, on another database connection: the data
# they read must be committed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

BODY = wav_bytes(1.0)
SIZE = len(BODY)


@pytest.fixture
def boss(make_operator):
    return make_operator(roles.ADMIN, "boss")


@pytest_asyncio.fixture
async def signed_in(async_client, boss):
    await async_client.aforce_login(boss)
    return async_client


@pytest.fixture
def at_bandwidth(bandwidth_api, db):
    made = recording()
    return serve_media(bandwidth_api, made, BODY)


@pytest.fixture
def archived(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    made = recording(status=RecordingStatus.COMPLETE)
    name = default_storage.save("recordings/r-0001.wav", ContentFile(BODY))
    made.store_archive(name, SIZE)
    return made


async def body(response) -> bytes:
    return b"".join([chunk async for chunk in response.streaming_content])


async def get(client, path: str, byte_range: str | None = None):
    headers = {"Range": byte_range} if byte_range else {}
    return await client.get(path, headers=headers)


@pytest.mark.parametrize(
    "byte_range, start, end",
    [("bytes=0-99", 0, 100), (f"bytes={SIZE // 2}-{SIZE // 2 + 9}", SIZE // 2, SIZE // 2 + 10), ("bytes=-10", SIZE - 10, SIZE), (f"bytes={SIZE - 5}-", SIZE - 5, SIZE)],
    ids=["first", "middle", "last", "open-ended"],
)
async def test_a_range_through_the_proxy_is_206_with_bandwidths_bytes(signed_in, at_bandwidth, byte_range, start, end):
    response = await get(signed_in, "/recordings/r-0001/media", byte_range)
    assert response.status_code == 206
    assert await body(response) == BODY[start:end]
    assert response["Content-Range"] == f"bytes {start}-{end - 1}/{SIZE}"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/wav"
    assert at_bandwidth == [byte_range]


async def test_an_unsatisfiable_range_through_the_proxy_is_416(signed_in, at_bandwidth):
    response = await get(signed_in, "/recordings/r-0001/media", f"bytes={SIZE + 10}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


async def test_without_a_range_the_proxy_sends_the_whole_file(signed_in, at_bandwidth):
    response = await get(signed_in, "/recordings/r-0001/media")
    assert response.status_code == 200
    assert await body(response) == BODY
    assert at_bandwidth == [""]


async def test_several_ranges_are_ignored_and_the_whole_file_sent(signed_in, at_bandwidth):
    response = await get(signed_in, "/recordings/r-0001/media", "bytes=0-1,5-6")
    assert response.status_code == 200
    assert at_bandwidth == [""]


async def test_the_proxy_asks_bandwidths_own_host_whatever_the_media_url_says(signed_in, bandwidth_api):
    made = await sync_to_async(recording)(media_url="https://attacker.example/steal")
    received = await sync_to_async(serve_media)(bandwidth_api, made, BODY)
    response = await get(signed_in, "/recordings/r-0001/media", "bytes=0-3")
    assert response.status_code == 206 and received == ["bytes=0-3"]
    assert all(call.request.url.startswith("https://bandwidth.test/") for call in bandwidth_api.calls)


async def test_a_recording_bandwidth_no_longer_has_is_404_and_says_why(signed_in, bandwidth_api):
    made = await sync_to_async(recording)()
    from tests.support.recordings import media_url

    bandwidth_api.get(media_url(made), status=404, json={"type": "not-found", "description": "Recording not found"})
    response = await get(signed_in, "/recordings/r-0001/media")
    assert response.status_code == 404
    assert "no longer has this recording" in response.content.decode()


async def test_a_deleted_recording_is_not_served(signed_in, bandwidth_api):
    await sync_to_async(recording)(status=RecordingStatus.DELETED)
    response = await get(signed_in, "/recordings/r-0001/media")
    assert response.status_code == 410
    assert not bandwidth_api.calls


@pytest.mark.parametrize(
    "byte_range, start, end",
    [("bytes=0-99", 0, 100), (f"bytes={SIZE // 2}-{SIZE // 2 + 9}", SIZE // 2, SIZE // 2 + 10), ("bytes=-10", SIZE - 10, SIZE)],
    ids=["first", "middle", "last"],
)
async def test_archived_media_honours_ranges_the_same_without_bandwidth(signed_in, archived, bandwidth_api, byte_range, start, end):
    response = await get(signed_in, "/recordings/r-0001/media", byte_range)
    assert response.status_code == 206
    assert await body(response) == BODY[start:end]
    assert response["Content-Range"] == f"bytes {start}-{end - 1}/{SIZE}"
    assert response["Content-Length"] == str(end - start)
    assert not bandwidth_api.calls


async def test_archived_media_without_a_range_is_the_whole_file_and_beyond_its_end_is_416(signed_in, archived):
    whole = await get(signed_in, "/recordings/r-0001/media")
    assert whole.status_code == 200 and await body(whole) == BODY
    beyond = await get(signed_in, "/recordings/r-0001/media", f"bytes={SIZE}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{SIZE}"


async def test_an_archived_recording_plays_after_bandwidths_copy_is_gone(signed_in, archived, bandwidth_api):
    await sync_to_async(type(archived).objects.filter(pk=archived.pk).update)(
        start_time=archived.start_time.replace(year=2020), end_time=archived.end_time.replace(year=2020)
    )
    response = await get(signed_in, "/recordings/r-0001/media", "bytes=0-9")
    assert response.status_code == 206 and await body(response) == BODY[:10]


async def test_archived_media_needs_the_same_permission(async_client, archived, make_operator):
    agent = await sync_to_async(make_operator)(roles.AGENT)
    await async_client.aforce_login(agent)
    response = await get(async_client, "/recordings/r-0001/media", "bytes=0-9")
    assert response.status_code == 403


async def test_a_play_is_audited_once_however_often_it_seeks(signed_in, at_bandwidth):
    for byte_range in ("bytes=0-", "bytes=4000-", "bytes=9000-"):
        await body(await get(signed_in, "/recordings/r-0001/media", byte_range))
    entries = await sync_to_async(list)(AuditEntry.objects.values_list("actor_name", "verb", "target", "outcome"))
    assert entries == [("boss", "play recording", "r-0001", "ok")]


async def test_a_download_is_an_attachment_with_a_meaningful_name_and_audited(signed_in, at_bandwidth):
    response = await get(signed_in, "/recordings/r-0001/download")
    assert response.status_code == 200 and await body(response) == BODY
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "_+15551112222_to_+19195550150_r-0001.wav" in disposition
    entry = await sync_to_async(AuditEntry.objects.get)()
    assert (entry.verb, entry.target, entry.outcome) == ("download recording", "r-0001", "ok")


async def test_a_failed_play_is_audited_as_failed(signed_in, bandwidth_api):
    made = await sync_to_async(recording)()
    from tests.support.recordings import media_url

    bandwidth_api.get(media_url(made), status=503, body="down")
    response = await get(signed_in, "/recordings/r-0001/media")
    assert response.status_code == 503
    entry = await sync_to_async(AuditEntry.objects.get)()
    assert (entry.verb, entry.outcome) == ("play recording", "failed")
