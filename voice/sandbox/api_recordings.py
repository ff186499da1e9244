"""Recordings: metadata, media (with HTTP Range), deletion and transcription, for calls and
conferences, and the account-wide list.
https://dev.bandwidth.com/apis/voice/#tag/Recordings"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from aiohttp import web

from voice.sandbox.api_common import (
    API_PREFIX,
    NotFound,
    call_of,
    conference_of,
    date_time_parameter,
    json_body,
    no_content,
    simulation,
)
from voice.sandbox.recording_lifecycle import MIN_TRANSCRIBABLE_SECONDS
from voice.sandbox.request_fields import (
    Invalid,
    credentials,
    method_field,
    number_field,
    text_field,
    url_field,
)
from voice.sandbox.resources import Recording
from voice.sandbox.webhook_sender import Target

# The seed spec's media type for WAV (the real API says audio/vnd.wave; clients accept both).
WAV_CONTENT_TYPE = "audio/wav"
SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Bandwidth lists at most 1000 recordings.
MAX_LISTED = 1000


# Recordings are kept longer than the calls and conferences they come from (30 days against
# 7), so they are found by the ids in the path, whether their call or conference is still known
# or not.


def _recording(request: web.Request, owner: str, key: str) -> Recording:
    """The recording in the path, if its `owner` (call_id, conference_id) is the path's `key`."""
    recording_id = request.match_info["recordingId"]
    recording = simulation(request).recordings.by_id.get(recording_id)
    if recording is None or getattr(recording, owner) != request.match_info[key]:
        raise NotFound(f"Recording [{recording_id}] not found")
    return recording


def _call_recording(request: web.Request) -> Recording:
    return _recording(request, "call_id", "callId")


def _conference_recording(request: web.Request) -> Recording:
    return _recording(request, "conference_id", "conferenceId")


def _sorted(recordings) -> list[Recording]:
    return sorted(recordings, key=lambda recording: recording.start_time)


def _list(request: web.Request, owner: str, key: str, owner_of: Callable[[web.Request], object]) -> web.Response:
    """The recordings whose `owner` (call_id, conference_id) is the path's `key`; none at all
    answers as `owner_of` does (404 for an unknown call or conference)."""
    owner_id = request.match_info[key]
    recordings = [r for r in simulation(request).recordings.by_id.values() if getattr(r, owner) == owner_id]
    if not recordings:
        owner_of(request)
    return web.json_response([recording.metadata() for recording in _sorted(recordings)])


async def list_call_recordings(request: web.Request) -> web.Response:
    return _list(request, "call_id", "callId", call_of)


async def get_call_recording(request: web.Request) -> web.Response:
    return web.json_response(_call_recording(request).metadata())


async def delete_call_recording(request: web.Request) -> web.Response:
    """Metadata, media and transcription become inaccessible at once; 204."""
    simulation(request).recordings.delete(_call_recording(request))
    return no_content()


async def delete_call_recording_media(request: web.Request) -> web.Response:
    _call_recording(request).media_deleted = True
    return no_content()


async def list_account_recordings(request: web.Request) -> web.Response:
    """Call recordings of the account. from/to filter by start time, as minStartTime and
    maxStartTime do (the seed spec's meaning; the real API's from/to are phone numbers)."""
    lows = [date_time_parameter(request, name) for name in ("from", "minStartTime")]
    highs = [date_time_parameter(request, name) for name in ("to", "maxStartTime")]
    recordings = [r for r in simulation(request).recordings.by_id.values() if not r.is_conference]
    for low in filter(None, lows):
        recordings = [r for r in recordings if r.start_time >= low]
    for high in filter(None, highs):
        recordings = [r for r in recordings if r.start_time <= high]
    return web.json_response([recording.metadata() for recording in _sorted(recordings)[:MAX_LISTED]])


async def list_conference_recordings(request: web.Request) -> web.Response:
    return _list(request, "conference_id", "conferenceId", conference_of)


async def get_conference_recording(request: web.Request) -> web.Response:
    return web.json_response(_conference_recording(request).metadata())


async def call_recording_media(request: web.Request) -> web.StreamResponse:
    return await _media(request, _call_recording(request))


async def conference_recording_media(request: web.Request) -> web.StreamResponse:
    return await _media(request, _conference_recording(request))


async def _media(request: web.Request, recording: Recording) -> web.StreamResponse:
    """The WAV file; a single byte range (Range: bytes=a-b, a-, -n) answers 206 with
    Content-Range, an unsatisfiable one 416, so that players can seek."""
    if recording.media_deleted:
        raise NotFound(f"Recording [{recording.recording_id}] media not found")
    waveform = recording.waveform()
    size = waveform.size
    start, end, status = 0, size, 200
    headers = {"Accept-Ranges": "bytes", "Content-Type": WAV_CONTENT_TYPE}
    requested = request.headers.get("Range")
    match = SINGLE_RANGE.match(requested.strip()) if requested else None
    if match and (match[1] or match[2]):
        if match[1]:
            start = int(match[1])
            end = min(size, int(match[2]) + 1) if match[2] else size
        else:
            start = max(0, size - int(match[2]))
        if start >= size or start >= end or (match[1] and match[2] and int(match[2]) < int(match[1])):
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = end - start
    await response.prepare(request)
    if request.method != "HEAD":
        async for chunk in waveform.chunks(start, end):
            await response.write(chunk)
            # write() does not wait while the client keeps up, and cached seconds come without
            # waiting either: let the rest of the simulation run between two seconds of audio.
            await asyncio.sleep(0)
    await response.write_eof()
    return response


async def create_transcription(request: web.Request) -> web.Response:
    """Transcribe a call recording: 200 (the seed spec; the real API says 204), then
    transcriptionAvailable after a delay to callbackUrl, else the recording's
    transcriptionAvailableUrl, else the application's status URL."""
    sim = simulation(request)
    recording_id = request.match_info["recordingId"]
    recording = sim.recordings.by_id.get(recording_id)
    if recording is not None and recording.is_conference:
        raise Invalid("Conference recordings cannot be transcribed; only call recordings can")
    recording = _call_recording(request)
    body = await json_body(request)
    username, password = credentials(body, "username", "password")
    url = url_field(body, "callbackUrl")
    target = Target(url=url, method=method_field(body, "callbackMethod"), username=username, password=password) if url else None
    tag = text_field(body, "tag", 256)
    timeout = number_field(body, "callbackTimeout", 1, 25, recording.call.callback_timeout)
    if "detectLanguage" in body and not isinstance(body["detectLanguage"], bool):
        raise Invalid("detectLanguage must be true or false")
    if recording.duration <= MIN_TRANSCRIBABLE_SECONDS:
        raise Invalid("Only recordings longer than 0.5 seconds can be transcribed")
    target = sim.recordings.transcription_target(recording, target)
    sim.scheduler.spawn(sim.recordings.transcribe(recording, target, tag=tag, timeout=timeout))
    return no_content(200)


async def get_transcription(request: web.Request) -> web.Response:
    """The union of the seed spec's Transcription metadata and the real API's transcripts."""
    recording = _call_recording(request)
    if recording.transcription is None:
        raise NotFound(f"Transcription for recording [{recording.recording_id}] not found")
    transcription = recording.transcription
    return web.json_response({**transcription.metadata(), "transcripts": transcription.transcripts})


async def delete_transcription(request: web.Request) -> web.Response:
    recording = _call_recording(request)
    if recording.transcription is None:
        raise NotFound(f"Transcription for recording [{recording.recording_id}] not found")
    recording.transcription = None
    return no_content()


def add_routes(router: web.UrlDispatcher) -> None:
    calls = f"{API_PREFIX}/calls/{{callId}}/recordings"
    router.add_get(calls, list_call_recordings)
    router.add_get(f"{calls}/{{recordingId}}", get_call_recording)
    router.add_delete(f"{calls}/{{recordingId}}", delete_call_recording)
    router.add_get(f"{calls}/{{recordingId}}/media", call_recording_media)
    router.add_delete(f"{calls}/{{recordingId}}/media", delete_call_recording_media)
    router.add_post(f"{calls}/{{recordingId}}/transcription", create_transcription)
    router.add_get(f"{calls}/{{recordingId}}/transcription", get_transcription)
    router.add_delete(f"{calls}/{{recordingId}}/transcription", delete_transcription)
    router.add_get(f"{API_PREFIX}/recordings", list_account_recordings)
    conferences = f"{API_PREFIX}/conferences/{{conferenceId}}/recordings"
    router.add_get(conferences, list_conference_recordings)
    router.add_get(f"{conferences}/{{recordingId}}", get_conference_recording)
    router.add_get(f"{conferences}/{{recordingId}}/media", conference_recording_media)
