"""What every request to the sandbox goes through before its route: the request log, errors
answered as JSON in the spec's shape, the account's Basic credentials (and another account's
id), and the REST API's injected faults. MIDDLEWARES lists them outermost first.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
import time

from aiohttp import web

from voice.sandbox.api_common import (
    API_PREFIX,
    FAULT_RNG,
    REQUESTS,
    Conflict,
    NotFound,
    error,
    simulation,
)
from voice.sandbox.request_fields import Invalid

log = logging.getLogger("sandbox.api")


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
