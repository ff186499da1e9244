"""Where a member's media stream goes and the credentials it carries: the console's media
endpoint (console/media_consumer.py) and, per call, a username and password derived from the
call id with the site's secret (Django's salted HMAC), so that any console process can check
them without storing any, and a password seen on one call opens no other.
https://dev.bandwidth.com/docs/voice/bxml/startStream (destinationUsername, destinationPassword)
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

# The websocket path Bandwidth streams to (console/routing.py routes it).
MEDIA_PATH = "/ws/media/"
# The stream's name on the call (<StopStream name> would name it).
STREAM_NAME = "talking"
_SALT = "switchboard.media-stream"


def destination() -> str:
    """PUBLIC_URL as a websocket URL: wss for https, ws for plain http (the sandbox, locally)."""
    parts = urlsplit(settings.PUBLIC_URL)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + MEDIA_PATH, "", ""))


def password_for(call_id: str) -> str:
    return salted_hmac(_SALT, call_id, secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()


def credentials_for(call_id: str) -> tuple[str, str]:
    """The username (the call id) and password a call's stream presents."""
    return call_id, password_for(call_id)


def valid(username: str, password: str) -> bool:
    """Whether the credentials are the ones the console gave that call's stream (compared
    in constant time)."""
    return bool(username) and constant_time_compare(password, password_for(username))
