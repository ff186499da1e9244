"""Sending webhooks the way Bandwidth does.

- JSON POST (or GET with the fields in the query string), HTTP Basic when credentials are set;
- a BXML webhook waits at most callbackTimeout; if it fails (no connection, timeout, 4xx/5xx)
  the fallback URL is tried; if that fails too the caller ends the call with callback-error;
- an async webhook is retried once, and only on a connection error.

Fault injection (config.Faults) applies to async webhooks only: some are sent twice, held
back so that later ones overtake them, or dropped.
https://dev.bandwidth.com/docs/voice/webhooks
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from voice.sandbox.config import Faults

log = logging.getLogger("sandbox.webhooks")

# How long a webhook held back by the reorder fault waits, in simulated seconds: long
# enough for the next webhooks of the same call to overtake it.
REORDER_DELAY = (1.0, 4.0)
# The gap between a webhook and its injected duplicate, in simulated seconds.
DUPLICATE_DELAY = 0.2


@dataclass(frozen=True)
class Target:
    """One webhook URL with its method and credentials, and the fallback Bandwidth tries."""

    url: str
    method: str = "POST"
    username: str = ""
    password: str = ""
    fallback_url: str = ""
    fallback_method: str = "POST"
    fallback_username: str = ""
    fallback_password: str = ""


@dataclass(frozen=True)
class Reply:
    """A BXML webhook's answer and the URL that gave it (relative URLs in it resolve there)."""

    text: str
    url: str


class CallbackFailed(Exception):
    """No usable answer from the application, the fallback included."""


@dataclass
class Delivery:
    """A record of one webhook attempt, kept for the inspection endpoint."""

    event_type: str
    url: str
    method: str
    status: int | None
    error: str = ""
    fault: str = ""
    time: str = ""
    payload: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "eventType": self.event_type,
            "url": self.url,
            "method": self.method,
            "status": self.status,
            "error": self.error,
            "fault": self.fault,
            "time": self.time,
            "payload": self.payload,
        }


def basic_authorization(username: str, password: str) -> str:
    """The HTTP Basic Authorization header value (RFC 7617)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class WebhookSender:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        faults: Callable[[], Faults] = Faults,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.session = session
        self.history: deque[Delivery] = deque(maxlen=5000)
        self._faults = faults
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def _send(self, url: str, method: str, username: str, password: str, payload: dict, timeout: float) -> tuple[int, str]:
        headers = {"Authorization": basic_authorization(username, password)} if username else {}
        body = {key: value for key, value in payload.items() if value is not None}
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        if method.upper() == "GET":
            # GET webhooks carry the fields in the query string; nested objects cannot go there.
            params = {key: _query_value(value) for key, value in body.items() if not isinstance(value, (dict, list))}
            request = self.session.get(url, params=params, headers=headers, timeout=client_timeout)
        else:
            request = self.session.post(url, json=body, headers=headers, timeout=client_timeout)
        async with request as response:
            # The declared charset (UTF-8 when none or an unknown one is declared, as Bandwidth
            # asks BXML replies to be). Bandwidth does not document what it does with bytes that
            # are not in that charset; the sandbox reads them as HTTP clients commonly do, as
            # U+FFFD, so a mis-encoded accent costs a character, not the call, and says so in its log.
            try:
                text = await response.text()
            except UnicodeDecodeError:
                log.warning("the reply from %s is not valid %s: undecodable bytes read as U+FFFD", url, response.get_encoding())
                text = await response.text(errors="replace")
            return response.status, text

    def _record(self, payload: dict, url: str, method: str, status: int | None, error: str = "", fault: str = "") -> None:
        self.history.append(
            Delivery(payload.get("eventType", ""), url, method.upper(), status, error, fault, payload.get("eventTime", ""), payload)
        )

    async def _attempt(self, url: str, method: str, username: str, password: str, payload: dict, timeout: float) -> str:
        try:
            status, text = await self._send(url, method, username, password, payload, timeout)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self._record(payload, url, method, None, f"{type(error).__name__}: {error}")
            raise CallbackFailed(f"{url}: {type(error).__name__}") from error
        self._record(payload, url, method, status)
        if status >= 400:
            raise CallbackFailed(f"{url} answered {status}")
        return text

    async def bxml(self, target: Target, payload: dict, *, timeout: float) -> Reply:
        """Send a webhook that expects BXML and return the reply ("" for an empty 2xx)."""
        try:
            text = await self._attempt(target.url, target.method, target.username, target.password, payload, timeout)
            return Reply(text, target.url)
        except CallbackFailed:
            if not target.fallback_url:
                raise
        text = await self._attempt(
            target.fallback_url, target.fallback_method, target.fallback_username, target.fallback_password, payload, timeout
        )
        return Reply(text, target.fallback_url)

    async def notify(self, target: Target, payload: dict, *, timeout: float) -> None:
        """Send an async webhook (its reply is ignored), with the injected faults."""
        faults = self._faults()
        if self._rng.random() < faults.webhook_drop:
            self._record(payload, target.url, target.method, None, "not sent", fault="dropped")
            return
        if self._rng.random() < faults.webhook_reorder:
            await self._sleep(self._rng.uniform(*REORDER_DELAY))
            await self._deliver(target, payload, timeout, fault="reordered")
        else:
            await self._deliver(target, payload, timeout)
        if self._rng.random() < faults.webhook_duplicate:
            await self._sleep(DUPLICATE_DELAY)
            await self._deliver(target, payload, timeout, fault="duplicate")

    async def _deliver(self, target: Target, payload: dict, timeout: float, fault: str = "") -> None:
        """One async delivery: retried once, and only on a connection error."""
        for attempt in (1, 2):
            try:
                status, _ = await self._send(target.url, target.method, target.username, target.password, payload, timeout)
            except asyncio.TimeoutError as error:
                # Checked first: aiohttp's timeouts are connection errors too, and a slow
                # application is not retried.
                self._record(payload, target.url, target.method, None, f"{type(error).__name__}: timed out", fault)
                return
            except aiohttp.ClientConnectionError as error:
                self._record(payload, target.url, target.method, None, f"{type(error).__name__}: {error}", fault)
                if attempt == 1:
                    continue
                log.warning("%s to %s lost: %s", payload.get("eventType"), target.url, error)
                return
            except aiohttp.ClientError as error:
                self._record(payload, target.url, target.method, None, f"{type(error).__name__}: {error}", fault)
                return
            self._record(payload, target.url, target.method, status, fault=fault)
            return
