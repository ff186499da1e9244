"""Switchboard's own copy of a recording's media, in Django's default storage.

Bandwidth keeps recordings 30 days (https://dev.bandwidth.com/docs/voice/guides/recordingGuide):
an archived copy outlives that and plays the same. Archiving is an action, an operator's or,
with ARCHIVE_RECORDINGS, Switchboard's own (voice/performers/recording_actions.py).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

from django.core.files import File
from django.core.files.storage import default_storage

from voice import media, waveform
from voice.models import Recording


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of chunks, for storages that read files."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def archive_name(recording: Recording, extension: str) -> str:
    """A name of its own per attempt, so that a failed attempt removes only its own file."""
    moment = recording.start_time or recording.created_at
    return f"recordings/{moment:%Y/%m}/{recording.recording_id}-{uuid.uuid4().hex[:8]}.{extension}"


def archive(recording: Recording) -> int:
    """Copy the media from Bandwidth into Switchboard's storage as it downloads, computing
    the waveform on the way; returns the size kept. Safe to run twice: the second run's copy
    is removed. A BandwidthError (gone, refused, broken off) leaves no file behind."""
    if recording.is_archived:
        return recording.archive_size or 0
    audio = media.from_bandwidth(recording)
    peaks = waveform.WavPeaks()
    wav = media.is_wav(audio.content_type, recording.file_format)
    name = archive_name(recording, "wav" if wav else "mp3")

    def chunks() -> Iterator[bytes]:
        for chunk in audio.chunks():
            if wav:
                peaks.feed(chunk)
            yield chunk

    try:
        saved = default_storage.save(name, File(io.BufferedReader(_ChunkReader(chunks())), name=name))
    except Exception:
        if default_storage.exists(name):
            default_storage.delete(name)
        raise
    finally:
        audio.close()
    size = default_storage.size(saved)
    if not recording.store_archive(saved, size):
        default_storage.delete(saved)
        return recording.archive_size or 0
    if recording.peaks is None:
        recording.store_peaks(peaks.result() or [])
    return size


def remove_archive(recording: Recording) -> bool:
    name = recording.forget_archive()
    if name:
        default_storage.delete(name)
    return bool(name)
