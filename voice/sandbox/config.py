"""Everything the sandbox needs to know, as Bandwidth's account and application would hold it."""

from __future__ import annotations

from dataclasses import dataclass, field

from voice.sandbox.settings import Application, Faults


@dataclass
class SandboxConfig:
    account_id: str
    # The API credentials the console uses (BANDWIDTH_USERNAME / BANDWIDTH_PASSWORD).
    username: str
    password: str
    application_id: str
    # Bandwidth's voice application (changeable while running: /sandbox/application).
    application: Application
    # The base of the URLs the sandbox hands out (callUrl, mediaUrl), e.g. http://127.0.0.1:8001
    public_base: str = "http://127.0.0.1:8001"
    # Bandwidth's default account limits; beyond them createCall answers 429.
    # https://dev.bandwidth.com/docs/voice/rateLimits
    calls_per_second: float = 5.0
    max_concurrent_calls: int = 100
    # Bandwidth's limit on a conference. https://dev.bandwidth.com/docs/voice/bxml/conference
    max_conference_members: int = 20
    # Simulated seconds per real second (tests run the same scenarios faster).
    speed: float = 1.0
    seed: int | None = None
    # Failures to rehearse (changeable while running: /sandbox/faults).
    faults: Faults = field(default_factory=Faults)

    @property
    def api_base(self) -> str:
        return f"{self.public_base}/api/v2/accounts/{self.account_id}"
