"""A recording's media in the browser: streamed from Bandwidth through an authenticated
proxy, or from Switchboard's archived copy, with Range requests and a meaningful download
name; and each play audited once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from console.models import AuditEntry
from voice import bandwidth, media
from voice.models import Recording

def download_name(recording: Recording, extension: str) -> str:
    """2026-11-24_0913_+15551112222_to_+19195550100_r-….wav, in the operator's time zone."""
    moment = timezone.localtime(recording.start_time) if recording.start_time else None
    if recording.is_conference:
        parties = f"conference_{recording.conference.name if recording.conference else recording.name or 'unknown'}"
    else:
        parties = f"{recording.from_number or 'unknown'}_to_{recording.to_number or 'unknown'}"
    name = f"{moment:%Y-%m-%d_%H%M}_{parties}_{recording.recording_id}" if moment else f"{parties}_{recording.recording_id}"
    return re.sub(r"[^A-Za-z0-9+_.-]", "-", name) + f".{extension}"


SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


@dataclass(frozen=True)
class ByteRange:
    """One range of bytes asked for (RFC 9110 §14.1.2): first-last, first-, or the last
    `suffix` bytes."""

    first: int | None
    last: int | None

    @property
    def header(self) -> str:
        if self.first is None:
            return f"bytes=-{self.last}"
        return f"bytes={self.first}-{'' if self.last is None else self.last}"

    @property
    def from_start(self) -> bool:
        return self.first == 0

    def within(self, size: int) -> tuple[int, int] | None:
        """The [start, end) slice of a file of `size` bytes; None if unsatisfiable."""
        if self.first is None:
            if not self.last or not size:
                return None
            return max(0, size - self.last), size
        if self.first >= size:
            return None
        return self.first, size if self.last is None else min(size, self.last + 1)


def requested_range(header: str) -> ByteRange | None:
    """The single range of a Range header, or None for the whole file: no header, or one
    that RFC 9110 §14.2 lets a server ignore (several ranges, another unit, an invalid one)."""
    match = SINGLE_RANGE.match(header.strip()) if header else None
    if not match or not (match[1] or match[2]):
        return None
    first = int(match[1]) if match[1] else None
    last = int(match[2]) if match[2] else None
    if first is not None and last is not None and last < first:
        return None
    return ByteRange(first, last)


class Relay:
    """A response body read chunk by chunk from a blocking source (Bandwidth's answer, a
    stored file) in a worker thread and handed to the server as it comes. Under ASGI,
    Django reads a synchronous iterator to the end before sending anything; an asynchronous
    one streams, and holds one chunk at a time."""

    def __init__(self, chunks: Iterator[bytes], close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._close = close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while (chunk := await sync_to_async(next, thread_sensitive=False)(self._chunks, None)) is not None:
                yield chunk
        finally:
            await sync_to_async(self._close, thread_sensitive=False)()

    def close(self) -> None:
        """Django closes the response at the end of the request, even if it was never read."""
        self._close()


def _content_type(declared: str, file_format: str) -> str:
    """Bandwidth's WAV type is audio/vnd.wave, which browsers do not all play; audio/wav is
    the same file (https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/downloadCallRecording)."""
    if media.is_wav(declared, file_format):
        return "audio/wav"
    return declared.split(";")[0].strip().lower() or "audio/mpeg"


def _unsatisfiable(content_range: str) -> HttpResponse:
    response = HttpResponse(status=416)
    response["Content-Range"] = content_range
    response["Accept-Ranges"] = "bytes"
    return response


def _stream(chunks: Iterator[bytes], close: Callable[[], None], *, status: int, content_type: str, length: int | None, content_range: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(Relay(chunks, close), status=status, content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    # Recorded calls are personal data: no shared cache, no copy left on disk.
    response["Cache-Control"] = "private, no-store"
    if length is not None:
        response["Content-Length"] = str(length)
    if content_range:
        response["Content-Range"] = content_range
    return response


def _file_chunks(handle, length: int) -> Iterator[bytes]:
    while length > 0:
        chunk = handle.read(min(CHUNK, length))
        if not chunk:
            return
        length -= len(chunk)
        yield chunk


def archived_media(recording: Recording, byte_range: ByteRange | None) -> HttpResponseBase:
    """The archived copy, with the same Range handling as Bandwidth's."""
    name = recording.archive_name
    size = recording.archive_size if recording.archive_size is not None else default_storage.size(name)
    start, end, status, content_range = 0, size, 200, ""
    if byte_range is not None:
        span = byte_range.within(size)
        if span is None:
            return _unsatisfiable(f"bytes */{size}")
        (start, end), status = span, 206
        content_range = f"bytes {start}-{end - 1}/{size}"
    handle = default_storage.open(name, "rb")
    handle.seek(start)
    extension = name.rsplit(".", 1)[-1]
    return _stream(
        _file_chunks(handle, end - start),
        handle.close,
        status=status,
        content_type=_content_type("", extension),
        length=end - start,
        content_range=content_range,
    )


class MediaUnavailable(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def relayed_media(recording: Recording, byte_range: ByteRange | None) -> HttpResponseBase:
    """Bandwidth's media, relayed as it arrives: the client's range goes to Bandwidth, and
    its 200, 206 or 416 comes back with its Content-Range."""
    try:
        audio = media.from_bandwidth(recording, byte_range=byte_range.header if byte_range else "")
    except bandwidth.TransientError as error:
        raise MediaUnavailable(503, f"Bandwidth did not answer: {error}") from error
    except bandwidth.PermanentError as error:
        if error.status == 404:
            raise MediaUnavailable(404, "Bandwidth no longer has this recording (it keeps them 30 days).") from error
        raise MediaUnavailable(502, f"Bandwidth refused: {error}") from error
    if audio.status == 416:
        audio.close()
        return _unsatisfiable(audio.content_range or "bytes */*")
    return _stream(
        audio.chunks(CHUNK),
        audio.close,
        status=audio.status,
        content_type=_content_type(audio.content_type, recording.file_format),
        length=audio.content_length,
        content_range=audio.content_range,
    )


# A play is audited once, not once per seek: the first request from the start of the file
# opens a listening, and one within this time of the last by the same operator continues it.
LISTENING = timedelta(minutes=5)


def media_response(request: HttpRequest, recording: Recording, *, download: bool) -> HttpResponseBase:
    """Play (inline) or download (attachment) a recording, from the archive when there is
    one, else from Bandwidth; audited when it starts from the beginning."""
    byte_range = requested_range(request.headers.get("Range", ""))
    verb = "download recording" if download else "play recording"
    starts = byte_range is None or byte_range.from_start
    try:
        if recording.is_deleted:
            raise MediaUnavailable(410, "The recording was deleted.")
        if recording.is_archived:
            response = archived_media(recording, byte_range)
        elif recording.is_at_bandwidth:
            response = relayed_media(recording, byte_range)
        else:
            raise MediaUnavailable(404, "Bandwidth no longer has this recording, and it was not archived.")
    except MediaUnavailable as unavailable:
        if starts:
            AuditEntry.record(request.user, verb, recording.recording_id, outcome="failed", detail=str(unavailable))
        return HttpResponse(str(unavailable), status=unavailable.status, content_type="text/plain; charset=utf-8")
    if response.status_code in (200, 206):
        if download:
            extension = "mp3" if response["Content-Type"] == "audio/mpeg" else "wav"
            response["Content-Disposition"] = content_disposition_header(True, download_name(recording, extension))
        if starts and (download or not _listening(request, recording)):
            source = "the archive" if recording.is_archived else "Bandwidth"
            AuditEntry.record(request.user, verb, recording.recording_id, outcome="ok", detail=f"from {source}")
    return response


def _listening(request: HttpRequest, recording: Recording) -> bool:
    return AuditEntry.objects.filter(
        at__gte=timezone.now() - LISTENING,
        actor=request.user,
        verb="play recording",
        target=recording.recording_id,
        outcome="ok",
    ).exists()
