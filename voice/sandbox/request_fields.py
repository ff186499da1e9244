"""The fields of a request body, checked as Bandwidth checks them: a wrong one is Invalid, which
the API answers 400 validation with Bandwidth's text.
https://dev.bandwidth.com/docs/voice/errors
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SIP_URI = re.compile(r"^sips?:[^@\s]+@[^@\s]+$")
METHODS = ("POST", "GET")


class Invalid(Exception):
    """A request Bandwidth would refuse with 400 validation."""


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
