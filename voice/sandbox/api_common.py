"""What the API's route modules share: the application's keys (the simulation among them), the
error answer in the spec's shape {type, description, id} with Bandwidth's own texts and the
exceptions that lead to it, the JSON body, query parameters, paging, and the call or
conference a path names.
https://dev.bandwidth.com/docs/voice/errors
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
from collections import deque
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from voice.sandbox.request_fields import Invalid
from voice.sandbox.resources import SimCall, SimConference
from voice.sandbox.simulation import Simulation

# RFC 3339 date-time, as the spec's format: date-time means.
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
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


class NotFound(Exception):
    """An unknown id: 404 validation, with Bandwidth's description."""


class Conflict(Exception):
    """Something that cannot be changed in its current state: 409."""


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


def call_of(request: web.Request) -> SimCall:
    """The call the path names (callId); NotFound once it is forgotten, or never was."""
    call_id = request.match_info["callId"]
    call = simulation(request).calls.by_id.get(call_id)
    if call is None:
        raise NotFound(f"Call [{call_id}] not found")
    return call


def conference_of(request: web.Request) -> SimConference:
    """The conference the path names (conferenceId); NotFound once it is forgotten, or never was."""
    conference_id = request.match_info["conferenceId"]
    conference = simulation(request).conferences.by_id.get(conference_id)
    if conference is None:
        raise NotFound(f"Conference [{conference_id}] not found")
    return conference
