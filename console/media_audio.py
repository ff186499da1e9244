"""PCMU (G.711 mu-law), the audio Bandwidth streams: each byte decoded to a 16-bit linear
sample by the standard's formula (ITU-T G.711; the Sun reference implementation's
ulaw2linear), once, into tables; a payload is then decoded by bytes.translate, in C. The
tests check the tables against CPython's audioop."""

from __future__ import annotations

ULAW_BIAS = 0x84


def ulaw_to_linear(byte: int) -> int:
    value = ~byte & 0xFF
    magnitude = (((value & 0x0F) << 3) + ULAW_BIAS) << ((value & 0x70) >> 4)
    return ULAW_BIAS - magnitude if value & 0x80 else magnitude - ULAW_BIAS


SAMPLES = tuple(ulaw_to_linear(byte) for byte in range(256))
# Each byte's sample, low byte and high byte (16-bit little-endian), as translation tables.
_LOW = bytes(sample & 0xFF for sample in SAMPLES)
_HIGH = bytes((sample >> 8) & 0xFF for sample in SAMPLES)
# Each byte's sample squared: a frame's energy without decoding it first.
_SQUARES = tuple(sample * sample for sample in SAMPLES)
# The energy is estimated from one sample in this many: a level needs no more, and a 20 ms
# frame costs a quarter of the lookups.
ENERGY_STRIDE = 4


def to_pcm16(payload: bytes) -> bytes:
    """PCMU bytes as 16-bit little-endian linear samples."""
    pcm = bytearray(2 * len(payload))
    pcm[0::2] = payload.translate(_LOW)
    pcm[1::2] = payload.translate(_HIGH)
    return bytes(pcm)


def mean_square(payload: bytes) -> float:
    """The mean of the squared samples of a PCMU payload (estimated from every
    ENERGY_STRIDE-th sample)."""
    sampled = payload[::ENERGY_STRIDE]
    return sum(map(_SQUARES.__getitem__, sampled)) / len(sampled) if sampled else 0.0
