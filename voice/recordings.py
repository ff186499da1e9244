"""Recordings beyond their metadata: Switchboard's own archived copy of the media, and
the waveform the player draws.

Bandwidth keeps recordings 30 days (https://dev.bandwidth.com/docs/voice/guides/recordingGuide):
an archived copy, in Django's default storage, outlives that and plays the same. Archiving is
an operator's action (voice/performers/recordings.py) or automatic with ARCHIVE_RECORDINGS.
"""

from __future__ import annotations

import io
import logging
import struct
import sys
import uuid
from array import array
from collections.abc import Iterator

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from voice import bandwidth, signals, tasks
from voice.models import DOWNLOADABLE_RECORDING_STATUSES, Conference, Recording, RecordingStatus, Transcription
from voice.facts import TranscriptionPart

log = logging.getLogger(__name__)

# Bars in a waveform: about one per two pixels of the player at its widest.
PEAK_COUNT = 600


# The waveform


class WavPeaks:
    """The peak level (0 to 100) of each of `count` equal slices of a PCM WAV file, read
    as the chunks of a download arrive, so that no more than a chunk is held in memory.

    Bandwidth's WAV is 8 kHz 16-bit PCM, mono or two channels
    (https://dev.bandwidth.com/docs/voice/bxml/record); 8- and 32-bit PCM are read too.
    Channels are taken together: the waveform shows the loudest of them."""

    _TYPECODES = {1: "B", 2: "h", 4: "i"}

    def __init__(self, count: int = PEAK_COUNT) -> None:
        self.count = count
        self.peaks: list[int] = []
        self.failed = ""
        self._header = bytearray()
        self._in_data = False
        self._width = 0
        self._channels = 0
        self._frames = 0
        self._full_scale = 1
        self._leftover = b""
        self._pending = array("h")
        # Samples already taken into slices.
        self._done = 0

    def feed(self, chunk: bytes) -> None:
        if self.failed:
            return
        if not self._in_data:
            self._header += chunk
            chunk = self._read_header()
            if not self._in_data:
                return
        self._samples(self._leftover + chunk)

    def result(self) -> list[int] | None:
        """The peaks, or None if the file was not a PCM WAV Switchboard can read."""
        if self.failed or not self._in_data:
            return None
        if len(self._pending) and len(self.peaks) < self.count:
            self.peaks.append(self._level(self._pending))
            self._pending = self._pending[:0]
        return self.peaks

    def _read_header(self) -> bytes:
        """Parse RIFF chunks until "data"; return what follows its header, if reached."""
        header = bytes(self._header)
        if len(header) < 12:
            return b""
        if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            self.failed = "not a WAV file"
            return b""
        offset = 12
        audio_format = channels = bits = 0
        while len(header) >= offset + 8:
            name, size = header[offset : offset + 4], struct.unpack("<I", header[offset + 4 : offset + 8])[0]
            body = offset + 8
            if name == b"data":
                if not bits:
                    self.failed = "no fmt chunk before the data"
                    return b""
                return self._start_data(size, audio_format, channels, bits, header[body:])
            if len(header) < body + size:
                return b""
            if name == b"fmt ":
                audio_format, channels, _, _, _, bits = struct.unpack("<HHIIHH", header[body : body + 16])
            offset = body + size + (size & 1)
        return b""

    def _start_data(self, size: int, audio_format: int, channels: int, bits: int, rest: bytes) -> bytes:
        # 1 is PCM; 0xFFFE (extensible) carries PCM too in what telephony writes.
        width = bits // 8
        if audio_format not in (1, 0xFFFE) or width not in self._TYPECODES or not channels:
            self.failed = f"not PCM audio Switchboard reads (format {audio_format}, {bits} bits)"
            return b""
        # A size of 0 or 0xFFFFFFFF is a writer that did not know it; slices then cannot be equal.
        if size in (0, 0xFFFFFFFF):
            self.failed = "the WAV header gives no data size"
            return b""
        self._width = width
        self._channels = channels
        self._frames = size // (width * channels)
        self._full_scale = 128 if width == 1 else 2 ** (bits - 1)
        # 8-bit samples are re-centred into 16-bit ones (_samples).
        self._pending = array("h" if width == 1 else self._TYPECODES[width])
        self._in_data = True
        self._header = bytearray()
        return rest

    def _samples(self, data: bytes) -> None:
        usable = len(data) - len(data) % self._width
        self._leftover = data[usable:]
        samples = array(self._TYPECODES[self._width])
        samples.frombytes(data[:usable])
        if self._width > 1 and sys.byteorder == "big":
            samples.byteswap()
        if self._width == 1:
            # 8-bit WAV is unsigned, silence at 128.
            samples = array("h", (sample - 128 for sample in samples))
        pending = self._pending + samples if len(self._pending) else samples
        start = 0
        # Slice i ends at frame (i + 1) * frames // count: exactly `count` slices, of sizes
        # differing by one frame at most.
        while len(self.peaks) < self.count:
            end = (len(self.peaks) + 1) * self._frames // self.count * self._channels - self._done
            if end > len(pending):
                break
            if end > start:
                self.peaks.append(self._level(pending[start:end]))
            else:
                self.peaks.append(0)
            start = end
        self._done += start
        self._pending = pending[start:]

    def _level(self, samples: array) -> int:
        # max() and min() of an array run in C: a long recording costs little.
        peak = max(max(samples), -min(samples))
        return min(100, round(100 * peak / self._full_scale))


def _is_wav(media: bandwidth.Media, recording: Recording) -> bool:
    """Bandwidth says audio/vnd.wave, the seed specification audio/wav; some say audio/x-wav."""
    kind = media.content_type.split(";")[0].strip().lower()
    if kind:
        return "wav" in kind
    return recording.file_format in ("", "wav")


def _media(recording: Recording) -> bandwidth.Media:
    return bandwidth.client().recording_media(
        recording.recording_id, call_id=recording.call_id or "", conference_id=recording.conference_id or ""
    )


def compute_waveform(recording_pk: int) -> bool:
    """Compute and keep a recording's peaks from its media (the archived copy if there is
    one, else Bandwidth's); True once it has them. An MP3 gets an empty waveform."""
    recording = Recording.objects.filter(pk=recording_pk).first()
    if recording is None or recording.peaks is not None or not recording.is_playable:
        return False
    peaks = WavPeaks()
    if recording.is_archived:
        if not recording.archive_name.endswith(".wav"):
            return recording.store_peaks([])
        with default_storage.open(recording.archive_name, "rb") as archived:
            for chunk in iter(lambda: archived.read(64 * 1024), b""):
                peaks.feed(chunk)
    else:
        media = _media(recording)
        try:
            if not _is_wav(media, recording):
                return recording.store_peaks([])
            for chunk in media.chunks():
                peaks.feed(chunk)
        finally:
            media.close()
    result = peaks.result()
    if result is None:
        log.warning("no waveform for %s: %s", recording.recording_id, peaks.failed or "the file ended early")
        return recording.store_peaks([])
    return recording.store_peaks(result)


# The archive


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
    media = _media(recording)
    peaks = WavPeaks()
    wav = _is_wav(media, recording)
    name = archive_name(recording, "wav" if wav else "mp3")

    def chunks() -> Iterator[bytes]:
        for chunk in media.chunks():
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
        media.close()
    size = default_storage.size(saved)
    if not recording.store_archive(saved, size):
        default_storage.delete(saved)
        return recording.archive_size or 0
    if recording.peaks is None:
        recording.store_peaks(peaks.result() or [])
    return size


def archive_automatically(recording_pk: int) -> None:
    """ARCHIVE_RECORDINGS: archive a recording Bandwidth has just made available. The
    outcome is reported (signals.recording_archived) for the audit log; a transient error
    is raised for the task to retry."""
    recording = Recording.objects.filter(pk=recording_pk).first()
    if recording is None or recording.is_archived or recording.is_deleted:
        return
    try:
        size = archive(recording)
    except bandwidth.PermanentError as error:
        signals.recording_archived.send(
            sender=Recording, recording_id=recording.recording_id, ok=False, detail=f"Bandwidth refused: {error}"
        )
        return
    signals.recording_archived.send(
        sender=Recording, recording_id=recording.recording_id, ok=True, detail=f"{size} bytes, automatically"
    )


def store(info: bandwidth.RecordingInfo, status: str, *, conference: Conference | None = None) -> tuple[Recording, dict]:
    """Create the recording from its metadata (a webhook's or the API's), or move it to
    `status` and fill what it lacks; returns it and what changed.

    `status` is Bandwidth's as given (recordingAvailable's complete, partial or error; the
    API's, which may say processing or deleted): a status Switchboard does not know is taken
    as still processing."""
    if status not in RecordingStatus.values:
        status = RecordingStatus.PROCESSING
    recording, changes = Recording.store(
        info.recording_id,
        status,
        call_id=info.call_id,
        conference=conference,
        account_id=info.account_id,
        parent_call_id=info.parent_call_id,
        direction=info.direction,
        from_number=info.from_number,
        to_number=info.to_number,
        name=info.name,
        channels=info.channels,
        duration_seconds=info.duration_seconds,
        file_format=info.file_format,
        media_url=info.media_url,
        start_time=info.start_time,
        end_time=info.end_time,
        tag=info.tag,
    )
    archive_when_available(recording, changes)
    return recording, changes


def store_transcription(recording: Recording, status: str, part: TranscriptionPart) -> dict:
    """Store a transcription's metadata (Bandwidth's id, url, completedTime); once it is
    available, a task fetches the text. Returns what changed."""
    transcription, changes = Transcription.store(
        recording, status, transcription_id=part.id, url=part.url, completed_time=part.completed_time
    )
    if changes and transcription.wants_text:
        tasks.fetch_transcription.delay_on_commit(transcription.pk)
    return changes


def archive_when_available(recording: Recording, changes: dict[str, tuple]) -> None:
    """With ARCHIVE_RECORDINGS, a recording that has just become downloadable is archived."""
    became_available = "status" in changes and recording.status in DOWNLOADABLE_RECORDING_STATUSES
    if settings.ARCHIVE_RECORDINGS and became_available and not recording.is_archived:
        tasks.archive_recording.delay_on_commit(recording.pk)


def remove_archive(recording: Recording) -> bool:
    name = recording.forget_archive()
    if name:
        default_storage.delete(name)
    return bool(name)
