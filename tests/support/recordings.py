"""Recordings for tests: rows in the mirror, WAV files, and a Bandwidth media endpoint that
honours Range as Bandwidth's does."""

from __future__ import annotations

import io
import math
import re
import wave
from datetime import datetime, timedelta, timezone as dt_timezone

from voice.models import Recording, RecordingStatus, Transcription, TranscriptionStatus

from tests.support.bandwidth import API

NOON = datetime(2026, 3, 10, 12, 0, 0, tzinfo=dt_timezone.utc)


def wav_bytes(seconds: float = 2.0, *, rate: int = 8000, channels: int = 1, loud_until: float = 1.0) -> bytes:
    """A 16-bit PCM WAV: a loud tone for `loud_until` seconds, then near silence."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        amplitude = 30000 if i / rate < loud_until else 300
        sample = int(amplitude * math.sin(2 * math.pi * 440 * i / rate))
        frames += sample.to_bytes(2, "little", signed=True) * channels
    output = io.BytesIO()
    with wave.open(output, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(frames))
    return output.getvalue()


def recording(
    recording_id: str = "r-0001",
    *,
    call_id: str = "c-0001",
    start: datetime | None = None,
    seconds: float = 20.0,
    transcript: str | None = None,
    **fields,
) -> Recording:
    start = start or datetime.now(dt_timezone.utc) - timedelta(hours=1)
    defaults = {
        "from_number": "+15551112222",
        "to_number": "+19195550150",
        "status": RecordingStatus.COMPLETE,
        "file_format": "wav",
        "channels": 1,
        "direction": "inbound",
    }
    made = Recording.objects.create(
        **{
            "recording_id": recording_id,
            "call_id": call_id or None,
            "start_time": start,
            "end_time": start + timedelta(seconds=seconds),
            "duration_seconds": seconds,
            **defaults,
            **fields,
        }
    )
    if transcript is not None:
        Transcription.objects.create(
            recording=made, status=TranscriptionStatus.AVAILABLE, text=transcript, confidence=0.9, fetched_at=start
        )
    return made


def media_url(recording: Recording) -> str:
    if recording.call_id:
        return f"{API}/calls/{recording.call_id}/recordings/{recording.recording_id}/media"
    return f"{API}/conferences/{recording.conference_id}/recordings/{recording.recording_id}/media"


RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def serve_media(bandwidth_api, recording: Recording, body: bytes, content_type: str = "audio/vnd.wave") -> list[str]:
    """Answer GETs of the recording's media as Bandwidth does: 200, 206 for a range, 416
    beyond the end. Returns the Range headers received, in order."""
    received: list[str] = []

    def answer(request):
        requested = request.headers.get("Range", "")
        received.append(requested)
        headers = {"Accept-Ranges": "bytes", "Content-Type": content_type}
        match = RANGE.match(requested)
        if not match:
            return 200, headers, body
        size = len(body)
        if match[1]:
            start, end = int(match[1]), min(size, int(match[2]) + 1) if match[2] else size
        else:
            start, end = max(0, size - int(match[2])), size
        if start >= size:
            return 416, {"Content-Range": f"bytes */{size}"}, b""
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        return 206, headers, body[start:end]

    bandwidth_api.add_callback("GET", media_url(recording), callback=answer)
    return received
