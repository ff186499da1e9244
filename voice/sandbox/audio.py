"""Recordings' sound: real WAV (8 kHz, 16-bit PCM, one or two channels) that differs per call.

Speech is imitated: each word is a tone burst whose pitch follows the speaker's voice and
whose length follows the word, over a faint line noise, so a waveform or a player shows the
rhythm of what the scenario had the caller say. Samples are computed one second at a time,
on demand, so serving a byte range of a long recording costs only that range. Computing
them is pure Python (about 4 ms per second of audio), so it runs in a worker thread, off the
event loop every call timer and webhook runs on, and the seconds computed are kept a while
for the next range request (a player seeking back and forth).

A live call's audio (a <StartStream>, media_streams.py) is the same speech: LiveVoice says
the caller's sentences 20 ms at a time, with pauses to listen between them, over the line's
noise (louder on a noisy line), as G.711 mu-law (PCMU), the encoding Bandwidth streams.
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
# A live call's audio goes in 20 ms frames (Bandwidth streams PCMU at 8 kHz).
FRAME_SAMPLES = 160
# A noisy line (a busy room, a hissing handset): its noise about 18 dB louder than a clean
# line's (about -35 dBFS), there between words and sentences as much as during them.
NOISY_LINE_SHIFT = 5
# On a live call a caller says a sentence, then listens to the others for a while.
LISTENING_GAP = (3.0, 12.0)
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


# G.711 mu-law (ITU-T G.711, as the Sun reference implementation and CPython's audioop
# encode it): the 16-bit sample taken to 14 bits, biased, and written as a segment (exponent)
# and 4 bits of mantissa, inverted. Segment ends and clip as the reference has them.
ULAW_SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
ULAW_BIAS = 0x84
ULAW_CLIP = 8159


def linear_to_ulaw(sample: int) -> int:
    value = sample >> 2
    mask = 0xFF
    if value < 0:
        value, mask = -value, 0x7F
    value = min(value, ULAW_CLIP) + (ULAW_BIAS >> 2)
    segment = bisect.bisect_left(ULAW_SEGMENT_ENDS, value)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


# Every 16-bit sample's byte, indexed by the sample as unsigned (sample & 0xFFFF).
_ULAW = bytes(linear_to_ulaw(value - 65536 if value >= 32768 else value) for value in range(65536))


def to_ulaw(samples: array) -> bytes:
    """A frame of 16-bit samples as PCMU bytes."""
    return bytes(_ULAW[sample & 0xFFFF] for sample in samples)


@lru_cache(maxsize=4096)
def _word(pitch: float, vowel: float, frames: int) -> array:
    """One word's samples without noise (the shape _add_burst gives a recording's words),
    kept: a caller says the same words with the same voice again and again."""
    samples = array("h", bytes(frames * SAMPLE_WIDTH))
    two_pi = 2 * math.pi
    for frame in range(frames):
        t = frame / SAMPLE_RATE
        position = frame / frames
        envelope = math.sin(math.pi * position) * (0.7 + 0.3 * math.sin(two_pi * 5 * t))
        voice = math.sin(two_pi * pitch * t) + 0.5 * math.sin(two_pi * 2 * pitch * t) + 0.35 * math.sin(two_pi * vowel * t)
        samples[frame] = int(SPEECH_AMPLITUDE * envelope * voice / 1.85)
    return samples


class LiveVoice:
    """What a caller's line carries, 20 ms after 20 ms: their sentences in turn, each followed
    by a pause to listen (LISTENING_GAP), over the line's noise. Seeded: the same call says
    the same thing at the same moments of its stream."""

    def __init__(self, speaker: Speaker, sentences: list[str], seed: int, *, noisy: bool = False, start: float = 1.0) -> None:
        self.speaker = speaker
        # No sentences: the line's noise alone.
        self.sentences = [sentence for sentence in sentences if sentence.split()]
        self.rng = random.Random(seed)
        noise = array("h", self.rng.randbytes(SAMPLE_RATE * SAMPLE_WIDTH))
        shift = NOISY_LINE_SHIFT if noisy else NOISE_SHIFT
        for index in range(len(noise)):
            noise[index] >>= shift
        # A second of the line's noise, looped: steady, as a line's hiss or hum is.
        self.noise = noise
        self.noise_frames: dict[int, bytes] = {}
        self.frame = 0
        self.said = 0
        # The words to come, in sample positions: (start, samples).
        self.words: list[tuple[int, array]] = []
        self.next_sentence = int(start * SAMPLE_RATE)

    def prepare(self) -> None:
        """Render the words of every sentence the caller will say (kept by _word), so that
        sending a frame only slices them: rendering takes milliseconds a word, too long for
        the event loop that paces every stream (media_streams.py runs this in a thread)."""
        for text in self.sentences:
            for burst in say(text, 0.0, self.speaker):
                _word(burst.pitch, burst.vowel, max(1, int(burst.length * SAMPLE_RATE)))

    def _schedule(self, until: int) -> None:
        while self.sentences and self.next_sentence < until:
            text = self.sentences[self.said % len(self.sentences)]
            self.said += 1
            start = self.next_sentence / SAMPLE_RATE
            for burst in say(text, start, self.speaker):
                frames = max(1, int(burst.length * SAMPLE_RATE))
                self.words.append((int(burst.start * SAMPLE_RATE), _word(burst.pitch, burst.vowel, frames)))
            self.next_sentence = int((start + speech_length(text) + self.rng.uniform(*LISTENING_GAP)) * SAMPLE_RATE)

    def next_frame(self) -> tuple[bytes, bool]:
        """The next 20 ms as PCMU, and whether a sentence starts in it."""
        first = self.frame * FRAME_SAMPLES
        last = first + FRAME_SAMPLES
        self.frame += 1
        sentence_starts = bool(self.sentences) and first <= self.next_sentence < last
        self._schedule(last)
        offset = first % SAMPLE_RATE
        while self.words and self.words[0][0] + len(self.words[0][1]) <= first:
            self.words.pop(0)
        if not self.words or self.words[0][0] >= last:
            # Noise alone: the loop's 50 frames are encoded once.
            encoded = self.noise_frames.get(offset)
            if encoded is None:
                encoded = self.noise_frames[offset] = to_ulaw(self.noise[offset:offset + FRAME_SAMPLES])
            return encoded, sentence_starts
        samples = self.noise[offset:offset + FRAME_SAMPLES]
        for start, word in self.words:
            if start >= last:
                break
            for index in range(max(first, start), min(last, start + len(word))):
                value = samples[index - first] + word[index - start]
                samples[index - first] = -32768 if value < -32768 else 32767 if value > 32767 else value
        return to_ulaw(samples), sentence_starts
