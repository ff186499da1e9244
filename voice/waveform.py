"""The waveform the recording player draws: the peak level of equal slices of the audio,
computed once from the media (Switchboard's archived copy if there is one, else
Bandwidth's) and kept on the recording."""

from __future__ import annotations

import logging
import struct
import sys
from array import array

from django.core.files.storage import default_storage

from voice import media
from voice.models import Recording

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


def compute(recording_pk: int) -> bool:
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
        audio = media.from_bandwidth(recording)
        try:
            if not media.is_wav(audio.content_type, recording.file_format):
                return recording.store_peaks([])
            for chunk in audio.chunks():
                peaks.feed(chunk)
        finally:
            audio.close()
    result = peaks.result()
    if result is None:
        log.warning("no waveform for %s: %s", recording.recording_id, peaks.failed or "the file ended early")
        return recording.store_peaks([])
    return recording.store_peaks(result)
