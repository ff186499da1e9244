"""Parsing and validating Bandwidth's webhooks before anything is written.

Bandwidth posts JSON (or, for a URL configured with GET, the same fields as query
parameters, every value a string); https://dev.bandwidth.com/docs/voice/webhooks. Fields
are checked for type only where Switchboard reads them: unknown fields and unknown event
types are kept as they came, since Bandwidth adds both over time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from django.utils.dateparse import parse_duration


class MalformedEvent(ValueError):
    """The request cannot be a Bandwidth webhook; answered 400, nothing written."""


ID_FIELDS = ("callId", "conferenceId", "recordingId", "parentCallId")
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
    "name",
    "mediaUrl",
    "status",
    "digits",
    "digit",
    "terminatingDigit",
    "fileFormat",
    "transferCallerId",
    "transferTo",
    "recordingName",
)
TIME_FIELDS = ("eventTime", "startTime", "answerTime", "endTime", "enqueuedTime")
# Objects Switchboard reads inside some payloads, with their text and time fields. A GET
# webhook cannot carry them (a query string is flat); they are optional.
OBJECT_FIELDS = {
    "transcription": (("id", "url", "status"), ("completedTime",)),
    "machineDetectionResult": (("value", "duration"), ()),
}
MAX_TEXT = 4096
MAX_ID = 100


def parse_time(value: str) -> datetime:
    """ISO 8601 as Bandwidth sends it ("2019-06-20T15:54:25.435Z"). A time without a zone
    is taken as UTC: some of Bandwidth's own examples omit the Z."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def parse_seconds(value: str) -> float:
    """An ISO 8601 duration as Bandwidth sends it ("PT20.056S", "PT1M52.217257456S")."""
    if not value.startswith("P"):
        raise ValueError(value)
    parsed = parse_duration(value)
    if parsed is None:
        raise ValueError(value)
    return parsed.total_seconds()


def _check_text(field: str, value: Any, limit: int = MAX_TEXT) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise MalformedEvent(f"{field} must be a string")
    if len(value) > limit:
        raise MalformedEvent(f"{field} is too long")


def _check_time(field: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise MalformedEvent(f"{field} must be an ISO 8601 string")
    try:
        parse_time(value)
    except ValueError:
        raise MalformedEvent(f"{field} is not an ISO 8601 time: {value[:40]!r}") from None


def _channels(value: Any) -> int | None:
    """1 or 2; a GET webhook sends "1". (The saved spec once typed it as a string.)"""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedEvent("channels must be a number")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= 8:
        raise MalformedEvent("channels must be a small whole number")
    return value


@dataclass(frozen=True)
class IncomingEvent:
    event_type: str
    event_time: datetime
    payload: dict[str, Any]

    @property
    def call_id(self) -> str:
        return self.payload.get("callId") or ""

    @property
    def conference_id(self) -> str:
        return self.payload.get("conferenceId") or ""

    @property
    def recording_id(self) -> str:
        return self.payload.get("recordingId") or ""

    def text(self, field: str) -> str:
        return self.payload.get(field) or ""

    def time(self, field: str) -> datetime | None:
        value = self.payload.get(field)
        return parse_time(value) if value else None

    @property
    def channels(self) -> int | None:
        return _channels(self.payload.get("channels"))

    @property
    def duration_seconds(self) -> float | None:
        value = self.payload.get("duration")
        return parse_seconds(value) if value else None

    def part(self, name: str) -> dict[str, Any]:
        """A nested object (transcription, machineDetectionResult), or {} if absent."""
        value = self.payload.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def dedupe_key(self) -> str:
        """Bandwidth sends no event id: one occurrence is its type, the objects it is
        about (a conference member event names the member's callId too) and its eventTime.
        A redelivery carries the same."""
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
        _check_text(field, payload.get(field), MAX_ID if field in ID_FIELDS else MAX_TEXT)
    if not payload.get("eventTime"):
        raise MalformedEvent("eventTime is missing")
    for field in TIME_FIELDS:
        _check_time(field, payload.get(field))
    duration = payload.get("duration")
    if duration is not None:
        if not isinstance(duration, str):
            raise MalformedEvent("duration must be an ISO 8601 duration string")
        try:
            parse_seconds(duration)
        except ValueError:
            raise MalformedEvent(f"duration is not an ISO 8601 duration: {duration[:40]!r}") from None
    _channels(payload.get("channels"))
    for name, (text_fields, time_fields) in OBJECT_FIELDS.items():
        part = payload.get(name)
        if part is None:
            continue
        if not isinstance(part, dict):
            raise MalformedEvent(f"{name} must be an object")
        for field in text_fields:
            _check_text(f"{name}.{field}", part.get(field))
        for field in time_fields:
            _check_time(f"{name}.{field}", part.get(field))
    return IncomingEvent(event_type=event_type, event_time=parse_time(payload["eventTime"]), payload=payload)
