"""Parsing and validating Bandwidth's webhooks before anything is written.

Bandwidth posts JSON (or, for a URL configured with GET, the same fields as query
parameters); https://dev.bandwidth.com/docs/voice/webhooks. Fields are checked for type
only where Switchboard reads them: unknown fields and unknown event types are kept as they
came, since Bandwidth adds both over time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


class MalformedEvent(ValueError):
    """The request cannot be a Bandwidth webhook; answered 400, nothing written."""


ID_FIELDS = ("callId", "conferenceId", "recordingId")
TEXT_FIELDS = (
    "eventType",
    *ID_FIELDS,
    "accountId",
    "applicationId",
    "from",
    "to",
    "direction",
    "tag",
    "cause",
    "errorMessage",
    "errorId",
    "parentCallId",
    "name",
    "mediaUrl",
    "status",
    "digits",
    "digit",
)
TIME_FIELDS = ("eventTime", "startTime", "answerTime", "endTime", "enqueuedTime")
MAX_TEXT = 4096


def parse_time(value: str) -> datetime:
    """ISO 8601 as Bandwidth sends it ("2019-06-20T15:54:25.435Z"). A time without a zone
    is taken as UTC: some of Bandwidth's own examples omit the Z."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


@dataclass(frozen=True)
class IncomingEvent:
    event_type: str
    event_time: datetime
    payload: dict[str, Any]

    @property
    def call_id(self) -> str:
        return self.payload.get("callId", "")

    @property
    def conference_id(self) -> str:
        return self.payload.get("conferenceId", "")

    @property
    def recording_id(self) -> str:
        return self.payload.get("recordingId", "")

    def text(self, field: str) -> str:
        return self.payload.get(field) or ""

    def time(self, field: str) -> datetime | None:
        value = self.payload.get(field)
        return parse_time(value) if value else None

    @property
    def dedupe_key(self) -> str:
        """Bandwidth sends no event id: one occurrence is its type, the objects it is
        about and its eventTime. A redelivery carries the same four."""
        identity = [
            self.event_type,
            self.call_id,
            self.conference_id,
            self.recording_id,
            self.event_time.isoformat(),
        ]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


def parse(payload: Any) -> IncomingEvent:
    if not isinstance(payload, dict):
        raise MalformedEvent("the body must be a JSON object")
    event_type = payload.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedEvent("eventType is missing")
    for field in TEXT_FIELDS:
        value = payload.get(field)
        if value is not None and not isinstance(value, str):
            raise MalformedEvent(f"{field} must be a string")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise MalformedEvent(f"{field} is too long")
    for field in ID_FIELDS:
        if len(payload.get(field) or "") > 100:
            raise MalformedEvent(f"{field} is too long")
    if not payload.get("eventTime"):
        raise MalformedEvent("eventTime is missing")
    for field in TIME_FIELDS:
        value = payload.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise MalformedEvent(f"{field} must be an ISO 8601 string")
        try:
            parse_time(value)
        except ValueError:
            raise MalformedEvent(f"{field} is not an ISO 8601 time: {value[:40]!r}") from None
    return IncomingEvent(event_type=event_type, event_time=parse_time(payload["eventTime"]), payload=payload)
