"""Bandwidth's ids as the console carries them: in its URLs (a path converter), its live
streams (console/live.py) and its links (the object_url template tag).

The mirror's columns accept any text, so a row may hold an id no URL can carry ("", "a/b",
markup): such an id is 404 by URL, and shown as text with no link or action, rather than
breaking the page that lists it.
"""

from __future__ import annotations

import re

from voice.schema import ID_PATTERN as BANDWIDTH_ID

# Bandwidth's rule for its ids (voice/schema.py), within the mirror's columns:
# c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85, conf-…, r-….
_BANDWIDTH_ID = re.compile(BANDWIDTH_ID)


def is_bandwidth_id(value: object) -> bool:
    return isinstance(value, str) and _BANDWIDTH_ID.fullmatch(value) is not None


class BandwidthIdConverter:
    """`<bandwidth_id:call_id>`: anything else in the path is 404 before a view runs (and
    before a query: PostgreSQL refuses a NUL where SQLite finds nothing)."""

    regex = BANDWIDTH_ID

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
