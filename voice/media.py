"""A recording's audio from Bandwidth, and what format it is in: for the waveform, the
archive and the console's player alike."""

from __future__ import annotations

from voice import bandwidth
from voice.models import Recording


def from_bandwidth(recording: Recording, *, byte_range: str = "") -> bandwidth.Media:
    """The recording's media, streamed from Bandwidth (the caller closes it)."""
    return bandwidth.client().recording_media(
        recording.recording_id,
        call_id=recording.call_id or "",
        conference_id=recording.conference_id or "",
        byte_range=byte_range,
    )


def is_wav(content_type: str, file_format: str = "") -> bool:
    """Bandwidth says audio/vnd.wave, the seed specification audio/wav, some audio/x-wav;
    without a content type, the recording's fileFormat says (WAV unless told otherwise)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind:
        return "wav" in kind
    return file_format in ("", "wav")
