"""Preconditions for views that Bandwidth, not a person, calls."""

from __future__ import annotations

import base64
import binascii
import secrets
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def webhook_basic_auth(view):
    """Bandwidth authenticates webhooks with HTTP Basic only (no signature), so the
    credentials are the whole defence: compared in constant time, refused with a challenge
    (https://dev.bandwidth.com/docs/voice/webhooks, "Callback Authentication")."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        given = _credentials(request)
        expected_user = settings.WEBHOOK_USERNAME.encode()
        expected_password = settings.WEBHOOK_PASSWORD.encode()
        ok = given is not None and (
            secrets.compare_digest(given[0].encode(), expected_user)
            & secrets.compare_digest(given[1].encode(), expected_password)
        )
        if not ok:
            response = JsonResponse({"error": "authentication required"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="switchboard-webhooks", charset="UTF-8"'
            return response
        return view(request, *args, **kwargs)

    return wrapper
