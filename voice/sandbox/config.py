"""Everything the sandbox needs to know, as Bandwidth's account and application would hold it:
the account and its limits, fixed at start, and the settings that change while it runs (the
voice application and fault injection).

Those two are read and replaced through the inspection API (/sandbox/application,
/sandbox/faults); an update names any subset of the fields, is validated as a whole, and either
applies entirely or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

METHODS = ("POST", "GET")


class InvalidSetting(ValueError):
    """An update that names an unknown field or gives a value out of range."""


def _url(value: Any, name: str) -> str:
    """An http(s) URL, or "" for none."""
    if value == "":
        return ""
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise InvalidSetting(f"{name} must be an http or https URL")
    return value


def _method(value: Any, name: str) -> str:
    if not isinstance(value, str) or value.upper() not in METHODS:
        raise InvalidSetting(f"{name} must be POST or GET")
    return value.upper()


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or len(value) > 1024:
        raise InvalidSetting(f"{name} must be a string of at most 1024 characters")
    return value


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidSetting(f"{name} must be a number from {low:g} to {high:g}")
    return float(value)


def _share(value: Any, name: str) -> float:
    return _number(value, name, 0, 1)


def _milliseconds(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidSetting(f"{name} must be a whole number of milliseconds, 0 or more")
    return value


class _Settings:
    """A dataclass whose fields have JSON names (`_json`) and validators (`_checks`)."""

    _json: dict[str, str]
    _checks: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, attribute) for name, attribute in self._json.items()}

    def updated(self, body: Any):
        """A copy with the fields `body` names changed; InvalidSetting if any is wrong."""
        if not isinstance(body, dict):
            raise InvalidSetting("the body must be a JSON object")
        unknown = sorted(set(body) - set(self._json))
        if unknown:
            raise InvalidSetting(f"unknown fields: {', '.join(unknown)}; known: {', '.join(self._json)}")
        changes = {self._json[name]: self._checks[name](value, name) for name, value in body.items()}
        return replace(self, **changes)


@dataclass(frozen=True)
class Application(_Settings):
    """Bandwidth's voice application: where inbound calls are offered (initiate, with a
    fallback) and where their disconnect goes, with the Basic credentials for both.
    https://dev.bandwidth.com/docs/account/applications"""

    call_initiated_url: str = ""
    call_initiated_method: str = "POST"
    call_initiated_fallback_url: str = ""
    call_status_url: str = ""
    call_status_method: str = "POST"
    callback_username: str = ""
    callback_password: str = ""
    callback_timeout: float = 15.0

    _json = {
        "callInitiatedCallbackUrl": "call_initiated_url",
        "callInitiatedMethod": "call_initiated_method",
        "callInitiatedFallbackUrl": "call_initiated_fallback_url",
        "callStatusCallbackUrl": "call_status_url",
        "callStatusMethod": "call_status_method",
        "callbackUsername": "callback_username",
        "callbackPassword": "callback_password",
        "callbackTimeout": "callback_timeout",
    }
    _checks = {
        "callInitiatedCallbackUrl": _url,
        "callInitiatedMethod": _method,
        "callInitiatedFallbackUrl": _url,
        "callStatusCallbackUrl": _url,
        "callStatusMethod": _method,
        "callbackUsername": _text,
        "callbackPassword": _text,
        # Bandwidth's range for a callback timeout, in seconds.
        "callbackTimeout": lambda value, name: _number(value, name, 1, 25),
    }


@dataclass(frozen=True)
class Faults(_Settings):
    """Failures to rehearse. errorRate* are shares of REST API requests answered 429 (with
    Retry-After) or 5xx without being applied; latencyMs delays every REST answer; webhook*
    are shares of asynchronous webhooks sent twice, held back so that later ones overtake
    them, or never sent. BXML webhooks are left alone: losing one would only end the call
    with callback-error, which the fallback and timeout settings rehearse already."""

    error_rate_429: float = 0.0
    error_rate_5xx: float = 0.0
    latency_ms: int = 0
    webhook_duplicate: float = 0.0
    webhook_reorder: float = 0.0
    webhook_drop: float = 0.0

    _json = {
        "errorRate429": "error_rate_429",
        "errorRate5xx": "error_rate_5xx",
        "latencyMs": "latency_ms",
        "webhookDuplicate": "webhook_duplicate",
        "webhookReorder": "webhook_reorder",
        "webhookDrop": "webhook_drop",
    }
    _checks = {
        "errorRate429": _share,
        "errorRate5xx": _share,
        "latencyMs": _milliseconds,
        "webhookDuplicate": _share,
        "webhookReorder": _share,
        "webhookDrop": _share,
    }


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
