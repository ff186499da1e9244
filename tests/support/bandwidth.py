"""Helpers for talking to the console as Bandwidth does."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

from django.conf import settings

API = "https://bandwidth.test/api/v2/accounts/9900000"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bandwidth"


def payload(name: str, /, **changes) -> dict:
    """A documented Bandwidth webhook body from tests/fixtures/bandwidth, with changes."""
    data = copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def webhook_auth(username: str | None = None, password: str | None = None) -> str:
    username = settings.WEBHOOK_USERNAME if username is None else username
    password = settings.WEBHOOK_PASSWORD if password is None else password
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def post_event(client, body, *, auth: str | None = None, content_type: str = "application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(
        "/webhooks/voice", data=data, content_type=content_type, headers={"authorization": auth or webhook_auth()}
    )
