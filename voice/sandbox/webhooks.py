"""Sending webhooks the way Bandwidth does.

- JSON POST (or GET with the fields in the query string), HTTP Basic when credentials are set;
- a BXML webhook waits at most callbackTimeout; if it fails (no connection, timeout, 4xx/5xx)
  the fallback URL is tried; if that fails too the call ends with cause callback-error;
- an async webhook is retried once, and only on a connection error.

https://dev.bandwidth.com/docs/voice/webhooks
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger("sandbox.webhooks")


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


class CallbackFailed(Exception):
    """No usable answer from the application, the fallback included."""


@dataclass
class Delivery:
    """A record of one webhook attempt, kept for the inspection endpoint."""

    event_type: str
    url: str
    status: int | None
    error: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class WebhookSender:
    def __init__(self, session: aiohttp.ClientSession, *, history: list[Delivery] | None = None) -> None:
        self.session = session
        self.history: list[Delivery] = history if history is not None else []

    async def _post(self, url: str, method: str, username: str, password: str, payload: dict, timeout: float) -> tuple[int, str]:
        auth = aiohttp.BasicAuth(username, password) if username else None
        body = {key: value for key, value in payload.items() if value is not None}
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        if method.upper() == "GET":
            params = {key: _query_value(value) for key, value in body.items() if not isinstance(value, (dict, list))}
            request = self.session.get(url, params=params, auth=auth, timeout=client_timeout)
        else:
            request = self.session.post(url, json=body, auth=auth, timeout=client_timeout)
        async with request as response:
            return response.status, await response.text()

    def _record(self, payload: dict, url: str, status: int | None, error: str = "") -> None:
        self.history.append(Delivery(payload.get("eventType", ""), url, status, error, payload))
        del self.history[:-2000]

    async def _attempt(self, url: str, method: str, username: str, password: str, payload: dict, timeout: float) -> str:
        try:
            status, text = await self._post(url, method, username, password, payload, timeout)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self._record(payload, url, None, f"{type(error).__name__}: {error}")
            raise CallbackFailed(f"{url}: {type(error).__name__}") from error
        self._record(payload, url, status)
        if status >= 400:
            raise CallbackFailed(f"{url} answered {status}")
        return text

    async def bxml(self, target: Target, payload: dict, *, timeout: float) -> str:
        """Send a webhook that expects BXML and return the reply ("" for an empty 2xx)."""
        try:
            return await self._attempt(target.url, target.method, target.username, target.password, payload, timeout)
        except CallbackFailed:
            if not target.fallback_url:
                raise
        return await self._attempt(
            target.fallback_url,
            target.fallback_method,
            target.fallback_username,
            target.fallback_password,
            payload,
            timeout,
        )

    async def notify(self, target: Target, payload: dict, *, timeout: float) -> None:
        """Send an async webhook (its reply is ignored); retried once on a connection error."""
        for attempt in (1, 2):
            try:
                status, _ = await self._post(target.url, target.method, target.username, target.password, payload, timeout)
            except aiohttp.ClientConnectionError as error:
                self._record(payload, target.url, None, f"{type(error).__name__}: {error}")
                if attempt == 1:
                    continue
                log.warning("%s to %s lost: %s", payload.get("eventType"), target.url, error)
                return
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                self._record(payload, target.url, None, f"{type(error).__name__}: {error}")
                return
            self._record(payload, target.url, status)
            return
