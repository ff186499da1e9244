"""Bandwidth's REST API, served by aiohttp: /api/v2/accounts/{accountId}/...

Errors have the spec's shape {type, description, id} with Bandwidth's own texts.
https://dev.bandwidth.com/apis/voice
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from voice.sandbox.sim import INITIATED, SimCall, Simulation
from voice.sandbox.webhooks import Target

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SIP_URI = re.compile(r"^sips?:[^@\s]+@[^@\s]+$")
METHODS = ("POST", "GET")
API_PREFIX = "/api/v2/accounts/{accountId}"

SIMULATION = web.AppKey("simulation", Simulation)
SCENARIO = web.AppKey("scenario", object)
REQUESTS = web.AppKey("requests", deque)
RATE_WINDOW = web.AppKey("rate_window", deque)


def error(status: int, kind: str, description: str, headers: dict | None = None) -> web.Response:
    return web.json_response(
        {"type": kind, "description": description, "id": None}, status=status, headers=headers
    )


class Invalid(Exception):
    """A request body Bandwidth would refuse with 400 validation."""


# Request log and authentication


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
    """Keeps every request for the inspection endpoint (/sandbox/requests)."""
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
        config = request.app[SIMULATION].config
        given = _basic_credentials(request)
        if given is None or not (
            secrets.compare_digest(given[0], config.username) & secrets.compare_digest(given[1], config.password)
        ):
            return error(401, "authentication-error", "The credentials provided were invalid")
        account = request.match_info.get("accountId")
        if account is not None and account != config.account_id:
            return error(403, "authorization-error", "Access is denied")
    return await handler(request)


# Validation helpers


async def json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps(
                {"type": "validation", "description": f"Content type '{request.content_type}' not supported", "id": None}
            ),
            content_type="application/json",
        )
    try:
        body = json.loads(await request.text())
    except ValueError:
        raise Invalid("Bad Request") from None
    if not isinstance(body, dict):
        raise Invalid("Bad Request")
    return body


def _url(body: dict, field: str, *, required: bool = False) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise Invalid(f"Missing {field}")
        return None
    if not isinstance(value, str) or not value:
        raise Invalid(f"Invalid {field}: must be a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(f"Invalid {field}: only http and https are allowed")
    return value


def _method(body: dict, field: str) -> str:
    value = body.get(field, "POST")
    if not isinstance(value, str) or value.upper() not in METHODS:
        raise Invalid(f"Invalid {field}. Supported methods: [POST, GET]")
    return value.upper()


def _number_in_range(body: dict, field: str, low: float, high: float, default: float) -> float:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{field} must be a number")
    if not low <= value <= high:
        raise Invalid(f"{field} must be within the range [{low:g}, {high:g}], but was {value}")
    return float(value)


def _text(body: dict, field: str, max_length: int) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{field} must be a string")
    if len(value) > max_length:
        raise Invalid(f"Could not create call: {field} must contain at most {max_length} characters")
    return value


def _credentials(body: dict, user_field: str, password_field: str) -> tuple[str, str]:
    user, password = body.get(user_field) or "", body.get(password_field) or ""
    if not isinstance(user, str) or not isinstance(password, str) or len(user) > 1024 or len(password) > 1024:
        raise Invalid(f"{user_field} and {password_field} must be strings of at most 1024 characters")
    return user, password


@dataclass(frozen=True)
class CreateCall:
    from_number: str
    to_number: str
    answer: Target
    disconnect: Target | None
    tag: str | None
    call_timeout: float
    callback_timeout: float

    @classmethod
    def from_body(cls, body: dict, application_id: str) -> CreateCall:
        missing = [name for name in ("from", "to", "answerUrl", "applicationId") if body.get(name) in (None, "")]
        if missing:
            raise Invalid("Missing at least one required field. Required fields are [from, to, answerUrl, applicationId]")
        to, from_ = body["to"], body["from"]
        if not isinstance(to, str) or not (E164.match(to) or SIP_URI.match(to)):
            raise Invalid("Invalid to: must be an E164 telephone number")
        if not isinstance(from_, str) or not E164.match(from_):
            raise Invalid("Invalid from: must be an E164 telephone number")
        if body["applicationId"] != application_id:
            raise Invalid(f"Could not create call: Application id {body['applicationId']} not found")
        username, password = _credentials(body, "username", "password")
        fallback_username, fallback_password = _credentials(body, "fallbackUsername", "fallbackPassword")
        answer_url = _url(body, "answerUrl", required=True)
        fallback_url = _url(body, "answerFallbackUrl")
        disconnect_url = _url(body, "disconnectUrl")
        answer = Target(
            url=answer_url,
            method=_method(body, "answerMethod"),
            username=username,
            password=password,
            fallback_url=fallback_url or "",
            fallback_method=_method(body, "answerFallbackMethod"),
            fallback_username=fallback_username,
            fallback_password=fallback_password,
        )
        disconnect = (
            Target(url=disconnect_url, method=_method(body, "disconnectMethod"), username=username, password=password)
            if disconnect_url
            else None
        )
        return cls(
            from_number=from_,
            to_number=to,
            answer=answer,
            disconnect=disconnect,
            tag=_text(body, "tag", 256),
            call_timeout=_number_in_range(body, "callTimeout", 1, 300, 30),
            callback_timeout=_number_in_range(body, "callbackTimeout", 1, 25, 15),
        )


# Handlers


def _call_or_404(request: web.Request) -> SimCall | web.Response:
    call_id = request.match_info["callId"]
    call = request.app[SIMULATION].calls.get(call_id)
    if call is None:
        return error(404, "validation", f"Call [{call_id}] not found")
    return call


def _rate_limited(request: web.Request) -> web.Response | None:
    """Bandwidth's account limits: calls per second and concurrent calls (429 + Retry-After)."""
    sim = request.app[SIMULATION]
    window = request.app[RATE_WINDOW]
    now = time.monotonic()
    while window and now - window[0] >= 1.0:
        window.popleft()
    if len(window) >= sim.config.calls_per_second:
        return error(429, "error", "Account call creation rate limit exceeded", {"Retry-After": "1"})
    if len(sim.live_calls()) >= sim.config.max_concurrent_calls:
        return error(429, "error", "Account concurrent call limit exceeded", {"Retry-After": "5"})
    window.append(now)
    return None


async def create_call(request: web.Request) -> web.Response:
    sim = request.app[SIMULATION]
    try:
        spec = CreateCall.from_body(await json_body(request), sim.config.application_id)
    except Invalid as exc:
        return error(400, "validation", str(exc))
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    call = sim.new_call(direction="outbound", from_number=spec.from_number, to_number=spec.to_number)
    call.tag = spec.tag
    call.answer_target = spec.answer
    call.disconnect_target = spec.disconnect
    call.call_timeout = spec.call_timeout
    call.callback_timeout = spec.callback_timeout
    sim.place_outbound(call, request.app[SCENARIO].callee(sim.rng, spec.to_number))
    body = {
        **call.to_json(),
        # createCallResponse's own fields (the real API), beside the seed spec's Call.
        "callTimeout": spec.call_timeout,
        "callbackTimeout": spec.callback_timeout,
        "answerUrl": spec.answer.url,
        "answerMethod": spec.answer.method,
        "answerFallbackUrl": spec.answer.fallback_url or None,
        "answerFallbackMethod": spec.answer.fallback_method,
        "disconnectUrl": spec.disconnect.url if spec.disconnect else None,
        "disconnectMethod": spec.disconnect.method if spec.disconnect else "POST",
        "priority": 5,
    }
    return web.json_response(body, status=201, headers={"Location": call.call_url})


async def get_call(request: web.Request) -> web.Response:
    call = _call_or_404(request)
    if isinstance(call, web.Response):
        return call
    return web.json_response(call.to_json())


async def update_call(request: web.Request) -> web.Response:
    call = _call_or_404(request)
    if isinstance(call, web.Response):
        return call
    try:
        body = await json_body(request)
        state = body.get("state", "active")
        if state not in ("active", "completed"):
            raise Invalid("state must be one of [active, completed]")
        _text(body, "tag", 256)
        redirect_url = _url(body, "redirectUrl")
        _method(body, "redirectMethod")
    except Invalid as exc:
        return error(400, "validation", str(exc))
    if call.is_over:
        return error(409, "validation", f"Call [{call.call_id}] cannot be modified in its current state")
    sim = request.app[SIMULATION]
    if state == "completed":
        sim.hang_up(call)
        return web.Response(status=200)
    if call.state == INITIATED:
        return error(409, "validation", f"Call [{call.call_id}] cannot be modified in its current state")
    if redirect_url is None:
        return error(400, "validation", "redirectUrl is required when state is active")
    return error(400, "validation", "The sandbox does not simulate redirect yet")


# Inspection and control (the sandbox's own, not Bandwidth's)


async def inspect_calls(request: web.Request) -> web.Response:
    return web.json_response([call.to_json() for call in request.app[SIMULATION].calls.values()])


async def inspect_requests(request: web.Request) -> web.Response:
    return web.json_response(list(request.app[REQUESTS]))


async def inspect_webhooks(request: web.Request) -> web.Response:
    deliveries = request.app[SIMULATION].sender.history
    return web.json_response(
        [
            {"eventType": d.event_type, "url": d.url, "status": d.status, "error": d.error, "payload": d.payload}
            for d in deliveries
        ]
    )


async def offer_inbound(request: web.Request) -> web.Response:
    """Make an inbound call arrive now: {"from", "to", "holdSeconds"} (holdSeconds optional:
    without it the caller stays until someone hangs up)."""
    sim = request.app[SIMULATION]
    try:
        body = await json_body(request)
        from_, to = body.get("from"), body.get("to")
        if not isinstance(from_, str) or not E164.match(from_) or not isinstance(to, str) or not E164.match(to):
            raise Invalid("from and to must be E164 telephone numbers")
        hold = body.get("holdSeconds")
        if hold is not None and (isinstance(hold, bool) or not isinstance(hold, (int, float)) or hold <= 0):
            raise Invalid("holdSeconds must be a positive number")
    except Invalid as exc:
        return error(400, "validation", str(exc))
    call = sim.offer_inbound(from_number=from_, to_number=to, hold_seconds=hold)
    return web.json_response(call.to_json(), status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{API_PREFIX}/calls", create_call)
    app.router.add_get(f"{API_PREFIX}/calls/{{callId}}", get_call)
    app.router.add_post(f"{API_PREFIX}/calls/{{callId}}", update_call)
    app.router.add_get("/sandbox/calls", inspect_calls)
    app.router.add_post("/sandbox/calls", offer_inbound)
    app.router.add_get("/sandbox/requests", inspect_requests)
    app.router.add_get("/sandbox/webhooks", inspect_webhooks)
