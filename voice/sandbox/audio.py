"""Recordings' sound: real WAV (8 kHz, 16-bit PCM, one or two channels) that differs per call.

Speech is imitated: each word is a tone burst whose pitch follows the speaker's voice and
whose length follows the word, over a faint line noise, so a waveform or a player shows the
rhythm of what the scenario had the caller say. Samples are computed one second at a time,
on demand, so serving a byte range of a long recording costs only that range. Computing
them is pure Python (about 4 ms per second of audio), so it runs in a worker thread, off the
event loop every call timer and webhook runs on, and the seconds computed are kept a while
for the next range request (a player seeking back and forth).
"""

from __future__ import annotations

import asyncio
import bisect
import io
import math
import random
import wave
from array import array
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass
from functools import lru_cache

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2
# Speaking about 150 words a minute: a word lasts about 0.3 s, with short gaps between.
SECONDS_PER_LETTER = 0.055
WORD_GAP = 0.12
NOISE_SHIFT = 8
SPEECH_AMPLITUDE = 9000
BLOCK_FRAMES = SAMPLE_RATE
# The sandbox does not download the audio a <PlayAudio> names; playing takes this long.
PLAY_AUDIO_SECONDS = 3.0
# Rendered seconds kept for later range requests, all recordings together: 16 KB each (32 KB
# in stereo), so at most 32 MB.
CACHED_BLOCKS = 1024


@dataclass(frozen=True)
class Burst:
    """One spoken word: where it starts in the recording, how long, and how it sounds."""

    start: float
    length: float
    pitch: float
    vowel: float
    channel: int = 0


@dataclass(frozen=True)
class Speaker:
    """A voice: its pitch, from the seed of the call it belongs to."""

    pitch: float

    @classmethod
    def seeded(cls, seed: int) -> Speaker:
        return cls(pitch=random.Random(seed).uniform(95.0, 240.0))


# The voice of the application's SpeakSentence (channel 1 of a two-channel recording).
APPLICATION_VOICE = Speaker(pitch=180.0)


def word_length(word: str) -> float:
    return max(0.12, len(word.strip(".,!?;:")) * SECONDS_PER_LETTER)


def speech_length(text: str) -> float:
    """How long saying `text` takes, gaps included."""
    words = text.split()
    return sum(word_length(word) + WORD_GAP for word in words)


def say(text: str, start: float, speaker: Speaker, channel: int = 0) -> list[Burst]:
    """The bursts of `text` spoken from `start` seconds on."""
    bursts = []
    moment = start
    for word in text.split():
        length = word_length(word)
        # Each word has its own vowel colour, so different sentences look different.
        vowel = 300.0 + (sum(map(ord, word.lower())) % 23) * 40.0
        bursts.append(Burst(moment, length, speaker.pitch * (0.92 + 0.16 * ((len(word) % 5) / 4)), vowel, channel))
        moment += length + WORD_GAP
    return bursts


class BlockCache:
    """The most recently used rendered blocks, at most `size` of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._blocks: OrderedDict[Hashable, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._blocks)

    def get(self, key: Hashable) -> bytes | None:
        data = self._blocks.get(key)
        if data is not None:
            self._blocks.move_to_end(key)
        return data

    def put(self, key: Hashable, data: bytes) -> None:
        self._blocks[key] = data
        self._blocks.move_to_end(key)
        while len(self._blocks) > self.size:
            self._blocks.popitem(last=False)


# Used from the event loop only (the worker threads only render).
BLOCKS = BlockCache(CACHED_BLOCKS)


class Waveform:
    """A WAV file of `duration` seconds with the given bursts, readable by byte range."""

    def __init__(self, duration: float, channels: int, bursts: list[Burst], seed: int) -> None:
        self.frames = max(1, int(round(duration * SAMPLE_RATE)))
        self.channels = channels
        self.seed = seed
        self.bursts = sorted(bursts, key=lambda burst: burst.start)
        self._starts = [burst.start for burst in self.bursts]
        self._longest = max((burst.length for burst in self.bursts), default=0.0)
        self.header = _header(self.frames, channels)
        self.frame_bytes = SAMPLE_WIDTH * channels

    @property
    def size(self) -> int:
        return len(self.header) + self.frames * self.frame_bytes

    async def chunks(self, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes [start, end) of the file, a second of audio at a time."""
        header_length = len(self.header)
        if start < header_length:
            yield self.header[start:min(end, header_length)]
        data_start, data_end = max(0, start - header_length), end - header_length
        if data_end <= 0:
            return
        block_bytes = BLOCK_FRAMES * self.frame_bytes
        for block in range(data_start // block_bytes, (data_end - 1) // block_bytes + 1):
            data = await self._rendered(block)
            offset = block * block_bytes
            yield data[max(0, data_start - offset):data_end - offset]

    async def _rendered(self, block: int) -> bytes:
        """A block from the cache, or rendered in a worker thread and cached."""
        data = BLOCKS.get((self, block))
        if data is None:
            data = await asyncio.to_thread(self._block, block)
            BLOCKS.put((self, block), data)
        return data

    def _block(self, block: int) -> bytes:
        first = block * BLOCK_FRAMES
        count = min(BLOCK_FRAMES, self.frames - first)
        channels = [self._channel(channel, block, first, count) for channel in range(self.channels)]
        if self.channels == 1:
            samples = channels[0]
        else:
            samples = array("h", bytes(count * SAMPLE_WIDTH * self.channels))
            for index, channel in enumerate(channels):
                samples[index :: self.channels] = channel
        return samples.tobytes()

    def _channel(self, channel: int, block: int, first: int, count: int) -> array:
        noise = random.Random(self.seed * 7919 + block * 31 + channel).randbytes(count * SAMPLE_WIDTH)
        samples = array("h", noise)
        for index in range(count):
            samples[index] >>= NOISE_SHIFT
        begin, finish = first / SAMPLE_RATE, (first + count) / SAMPLE_RATE
        low = bisect.bisect_left(self._starts, begin - self._longest)
        high = bisect.bisect_right(self._starts, finish)
        for burst in self.bursts[low:high]:
            if burst.channel == channel:
                _add_burst(samples, burst, first, count)
        return samples


def _add_burst(samples: array, burst: Burst, first: int, count: int) -> None:
    start_frame = int(burst.start * SAMPLE_RATE)
    end_frame = int((burst.start + burst.length) * SAMPLE_RATE)
    frames = max(1, end_frame - start_frame)
    two_pi = 2 * math.pi
    for frame in range(max(first, start_frame), min(first + count, end_frame)):
        t = frame / SAMPLE_RATE
        position = (frame - start_frame) / frames
        # A smooth rise and fall, with syllable-like flutter.
        envelope = math.sin(math.pi * position) * (0.7 + 0.3 * math.sin(two_pi * 5 * t))
        voice = (
            math.sin(two_pi * burst.pitch * t)
            + 0.5 * math.sin(two_pi * 2 * burst.pitch * t)
            + 0.35 * math.sin(two_pi * burst.vowel * t)
        )
        value = samples[frame - first] + int(SPEECH_AMPLITUDE * envelope * voice / 1.85)
        samples[frame - first] = max(-32768, min(32767, value))


@lru_cache(maxsize=64)
def _header(frames: int, channels: int) -> bytes:
    """The RIFF/WAVE header, written by the stdlib's wave module."""
    buffer = io.BytesIO()
    writer = wave.open(buffer, "wb")
    writer.setnchannels(channels)
    writer.setsampwidth(SAMPLE_WIDTH)
    writer.setframerate(SAMPLE_RATE)
    writer.setnframes(frames)
    # Writing no frames makes the writer emit the header for the frame count set above.
    writer.writeframesraw(b"")
    return buffer.getvalue()
