"""Everything the sandbox needs to know, as Bandwidth's account and application would hold it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SandboxConfig:
    account_id: str
    # The API credentials the console uses (BANDWIDTH_USERNAME / BANDWIDTH_PASSWORD).
    username: str
    password: str
    application_id: str
    # Bandwidth's voice application: where inbound calls are offered (initiate) and where
    # their disconnect goes, and with which Basic credentials.
    call_initiated_url: str
    call_status_url: str
    callback_username: str
    callback_password: str
    # The base of the URLs the sandbox hands out (callUrl, mediaUrl), e.g. http://127.0.0.1:8001
    public_base: str = "http://127.0.0.1:8001"
    callback_timeout: float = 15.0
    # Bandwidth's default account limits; beyond them createCall answers 429.
    calls_per_second: float = 5.0
    max_concurrent_calls: int = 100
    # Simulated seconds per real second (tests run the same scenarios faster).
    speed: float = 1.0
    seed: int | None = None
