"""Ids shaped like Bandwidth's (opaque strings; clients must not parse them), and the stable
seeds drawn from them."""

import random
import uuid
import zlib


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def call_id(rng: random.Random) -> str:
    """c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"""
    return f"c-{_hex(rng, 8)}-{_uuid(rng)}"


def conference_id(rng: random.Random) -> str:
    return f"conf-{_hex(rng, 8)}-{_uuid(rng)}"


def recording_id(rng: random.Random) -> str:
    return f"r-{_hex(rng, 8)}-{_uuid(rng)}"


def stream_id(rng: random.Random) -> str:
    """s-95ac90b3-e9cd80fa-fca7-4d12-9109-2990afe4d8c5 (mediaStream.id)"""
    return f"s-{_hex(rng, 8)}-{_uuid(rng)}"


def transcription_id(rng: random.Random) -> str:
    """t-387bd648-18f3-4823-9d16-746bca0003c9"""
    return f"t-{_uuid(rng)}"


def error_id(rng: random.Random) -> str:
    return str(_uuid(rng))


def seed_of(text: str) -> int:
    """A stable seed from an id, so that a call's voice and sound are the same every run."""
    return zlib.crc32(text.encode())
