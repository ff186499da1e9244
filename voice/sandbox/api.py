"""The sandbox's HTTP surface: Bandwidth's REST API under /api/v2/accounts/{accountId}, and
its own inspection API under /sandbox/, both behind the account's Basic credentials.

Errors have the spec's shape {type, description, id} with Bandwidth's own texts.
https://dev.bandwidth.com/docs/voice/errors
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import random
import re
import secrets
import time
from collections import deque
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from voice.sandbox.sim import Simulation

log = logging.getLogger("sandbox.api")

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SIP_URI = re.compile(r"^sips?:[^@\s]+@[^@\s]+$")
# RFC 3339 date-time, as the spec's format: date-time means.
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
METHODS = ("POST", "GET")
API_PREFIX = "/api/v2/accounts/{accountId}"
JSON_CONTENT_TYPE = "application/json"

SIMULATION = web.AppKey("simulation", Simulation)
REQUESTS = web.AppKey("requests", deque)
FAULT_RNG = web.AppKey("fault_rng", random.Random)


# RFC 9110 section 15.5.2: a 401 names the scheme that would work.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Bandwidth sandbox", charset="UTF-8"'}


def error(status: int, kind: str, description: str, headers: dict | None = None) -> web.Response:
    if status == 401:
        headers = {**CHALLENGE, **(headers or {})}
    # id is "" rather than null: the seed spec's Error has no nullable fields.
    return web.json_response({"type": kind, "description": description, "id": ""}, status=status, headers=headers)


def simulation(request: web.Request) -> Simulation:
    return request.app[SIMULATION]


class Invalid(Exception):
    """A request Bandwidth would refuse with 400 validation."""


class NotFound(Exception):
    """An unknown id: 404 validation, with Bandwidth's description."""


class Conflict(Exception):
    """Something that cannot be changed in its current state: 409."""


# Middlewares (MIDDLEWARES below lists them outermost first).


@web.middleware
async def json_errors(request: web.Request, handler) -> web.StreamResponse:
    """Every error the sandbox answers is JSON in the spec's Error shape, 500s included."""
    try:
        return await handler(request)
    except Invalid as exc:
        return error(400, "validation", str(exc))
    except NotFound as exc:
        return error(404, "validation", str(exc))
    except Conflict as exc:
        return error(409, "validation", str(exc))
    except web.HTTPNotFound:
        return error(404, "validation", "Not Found")
    except web.HTTPMethodNotAllowed as exc:
        # RFC 9110 §15.5.6: a 405 names the methods the resource does serve.
        return error(405, "validation", "Method Not Allowed", {"Allow": ", ".join(sorted(exc.allowed_methods))})
    except web.HTTPException:
        raise
    except Exception:
        log.exception("sandbox error on %s %s", request.method, request.path)
        return error(500, "internal-error", "An unknown internal error occurred")


def _masked(body: bytes) -> str:
    """A request body for the log, with every password field masked."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text[:4000]
    if isinstance(data, dict):
        data = {key: "*****" if "password" in key.lower() else value for key, value in data.items()}
    return json.dumps(data)[:4000]


@web.middleware
async def record_requests(request: web.Request, handler) -> web.StreamResponse:
    """Keeps every API request for the inspection endpoint (/sandbox/requests)."""
    body = await request.read() if request.can_read_body else b""
    entry = {"time": time.time(), "method": request.method, "path": request.path_qs, "status": 500, "body": _masked(body)}
    try:
        response = await handler(request)
        entry["status"] = response.status
        return response
    except web.HTTPException as exc:
        entry["status"] = exc.status
        raise
    finally:
        if not request.path.startswith("/sandbox/"):
            request.app[REQUESTS].append(entry)


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep else None


@web.middleware
async def authenticate(request: web.Request, handler) -> web.StreamResponse:
    if request.path.startswith("/api/v2/") or request.path.startswith("/sandbox/"):
        config = simulation(request).config
        given = _basic_credentials(request)
        if given is None or not (
            secrets.compare_digest(given[0].encode(), config.username.encode())
            & secrets.compare_digest(given[1].encode(), config.password.encode())
        ):
            return error(401, "authentication-error", "The credentials provided were invalid")
        account = request.match_info.get("accountId")
        if account is not None and account != config.account_id:
            return _foreign_account(request, account)
    return await handler(request)


def _foreign_account(request: web.Request, account: str) -> web.Response:
    """The answer to an account id that is not the sandbox's: a status the seed spec documents
    for the operation. 404 wherever it documents one (there is no such account here); 403 for
    createCall, the one operation documenting it (listCalls, the real API's, shares its path
    and declares 403 too); 401 for the two account-wide listings, whose only documented error it is."""
    path = request.match_info.route.resource.canonical
    if path == f"{API_PREFIX}/calls":
        return error(403, "authorization-error", "Access is denied")
    if path in (f"{API_PREFIX}/recordings", f"{API_PREFIX}/conferences"):
        return error(401, "authentication-error", f"The credentials provided are not valid for account [{account}]")
    return error(404, "validation", f"Account [{account}] not found")


@web.middleware
async def inject_faults(request: web.Request, handler) -> web.StreamResponse:
    """The REST API's injected faults: added latency, then a share of 429 and 5xx answers
    given before anything is applied."""
    if not request.path.startswith("/api/v2/"):
        return await handler(request)
    faults = simulation(request).config.faults
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    roll = request.app[FAULT_RNG].random()
    if roll < faults.error_rate_429:
        return error(429, "error", "Too many requests (injected fault)", {"Retry-After": "1"})
    if roll < faults.error_rate_429 + faults.error_rate_5xx:
        if request.app[FAULT_RNG].random() < 0.5:
            return error(500, "internal-error", "An unknown internal error occurred (injected fault)")
        return error(503, "system-overloaded", "Handling too many requests (injected fault)")
    return await handler(request)


MIDDLEWARES = [record_requests, json_errors, authenticate, inject_faults]


# Request bodies and parameters


async def json_body(request: web.Request) -> dict[str, Any]:
    """A JSON object body; 415 for another content type, 400 for anything but an object."""
    raw = await request.read()
    if raw and request.content_type != JSON_CONTENT_TYPE:
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps(
                {"type": "validation", "description": f"Content type '{request.content_type}' not supported", "id": ""}
            ),
            content_type=JSON_CONTENT_TYPE,
        )
    try:
        body = json.loads(raw)
    except ValueError:
        raise Invalid("Bad Request") from None
    if not isinstance(body, dict):
        raise Invalid("Bad Request")
    return body


def url_field(body: dict, name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise Invalid(f"Missing {name}")
        return None
    if not isinstance(value, str) or not value:
        raise Invalid(f"Invalid {name}: must be a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(f"Invalid {name}: only http and https are allowed")
    if len(value) > 2048:
        raise Invalid(f"Invalid {name}: at most 2048 characters")
    return value


def method_field(body: dict, name: str) -> str:
    value = body.get(name, "POST")
    if not isinstance(value, str) or value.upper() not in METHODS:
        raise Invalid(f"Invalid {name}. Supported methods: [POST, GET]")
    return value.upper()


def number_field(body: dict, name: str, low: float, high: float, default: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{name} must be a number")
    if not low <= value <= high:
        raise Invalid(f"{name} must be within the range [{low:g}, {high:g}], but was {value}")
    return float(value)


def text_field(body: dict, name: str, max_length: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string")
    if len(value) > max_length:
        raise Invalid(f"{name} must contain at most {max_length} characters")
    return value


def boolean_field(body: dict, name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise Invalid(f"{name} must be true or false")
    return value


def credentials(body: dict, user_field: str, password_field: str) -> tuple[str, str]:
    user, password = body.get(user_field) or "", body.get(password_field) or ""
    if not isinstance(user, str) or not isinstance(password, str) or len(user) > 1024 or len(password) > 1024:
        raise Invalid(f"{user_field} and {password_field} must be strings of at most 1024 characters")
    return user, password


def date_time_parameter(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not DATE_TIME.match(raw):
        raise Invalid(f"{name} must be an ISO 8601 date-time, e.g. 2022-06-16T13:15:07.160Z")
    try:
        return datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise Invalid(f"{name} is not a valid date-time: {raw}") from None


def page(request: web.Request, items: list, *, max_size: int) -> tuple[list, dict[str, str]]:
    """One page of `items` (pageSize, pageToken) and the Link header to the next, as Bandwidth
    pages calls and conferences. The token is opaque to clients: follow the Link header."""
    raw_size = request.query.get("pageSize", str(max_size))
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= max_size:
        raise Invalid(f"pageSize must be within the range [1, {max_size}]")
    size = int(raw_size)
    start = 0
    token = request.query.get("pageToken")
    if token is not None:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise Invalid("pageToken is not valid") from None
    headers = {}
    if start + size < len(items):
        query = dict(request.query)
        query["pageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        next_url = request.url.with_query(query)
        public = urlsplit(simulation(request).config.public_base)
        headers["Link"] = f'<{public.scheme}://{public.netloc}{next_url.path_qs}>; rel="next"'
    return items[start:start + size], headers


def no_content(status: int = 204) -> web.Response:
    return web.Response(status=status)


def add_routes(app: web.Application) -> None:
    from voice.sandbox import api_calls, api_conferences, api_recordings, inspection

    api_calls.add_routes(app)
    api_conferences.add_routes(app)
    api_recordings.add_routes(app)
    inspection.add_routes(app)
