"""The shapes of Bandwidth's data, declared once, for its webhooks (voice/events.py) and its
API's answers (voice/bandwidth.py): ids, times, durations, bounded texts and enumerations.

Everything Bandwidth sends is outside input. A value that does not fit is refused before
anything is written, with a reason (a 400 for a webhook), rather than reaching a column
that cannot hold it, or a page that cannot show it. pydantic 2 does the validating; the
rules are Bandwidth's where it documents them:
https://dev.bandwidth.com/docs/voice/webhooks (fields), /apis/voice (ids, times).

The column lengths of the mirror are defined here and used by voice/models.py, so that a
value this module accepts always fits the column it goes to.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any, Self

from django.utils.dateparse import parse_duration
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    StringConstraints,
    ValidationError,
)

# Column lengths.
ID_LENGTH = 100
ACCOUNT_ID_LENGTH = 32
APPLICATION_ID_LENGTH = 64
# `from` is a number or, withheld, a word ("Anonymous"); `to` may be a SIP URI.
FROM_LENGTH = 64
TO_LENGTH = 128
EVENT_TYPE_LENGTH = 64
ENUM_LENGTH = 32
CONFERENCE_NAME_LENGTH = 100
RECORDING_NAME_LENGTH = 256
TAG_LENGTH = 4096
URL_LENGTH = 2048
# Texts kept only in the payload, or in an unbounded column (an error message).
TEXT_LENGTH = 4096

# Bandwidth's ids are opaque, but all of one shape: letters, digits and dashes
# (c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85, conf-…, r-…, t-…, an account's digits,
# an application's UUID). Never empty, never a slash: an id becomes a URL path segment.
_ID_CHARACTERS = "A-Za-z0-9-"
# An id within the mirror's columns, as the console's URLs and live streams carry it.
ID_PATTERN = rf"[{_ID_CHARACTERS}]{{1,{ID_LENGTH}}}"
_ID = re.compile(rf"^[{_ID_CHARACTERS}]+$")

# A webhook's times are Bandwidth's clock: anything outside these years is not a time
# Bandwidth could send, and a year past 9999 or before 1 cannot even be stored.
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
# A call, a recording or a conference lasts hours (a conference at most 24); Bandwidth
# keeps calls 7 days.
LONGEST = timedelta(days=7)
# Bandwidth's payloads nest three levels at most (mediaStream.tracks); this leaves room for
# fields it may add, and keeps a hostile body far from any recursion limit.
MAX_DEPTH = 16

# Characters no database column (nor PostgreSQL's jsonb) can hold: NUL, and a surrogate
# half on its own (JSON's "\ud800" escapes allow one; UTF-8 cannot encode it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Unreadable(ValueError):
    """The body is not a JSON document Switchboard can store."""


def _refuse_constant(name: str) -> float:
    raise Unreadable(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise Unreadable(f"{text[:20]} is out of range")
    return number


def load_json(body: bytes | str) -> Any:
    """A JSON document, refusing what json.loads accepts but no store can keep: NaN and
    Infinity, numbers that overflow to infinity, NUL, lone surrogates, deep nesting."""
    try:
        document = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise Unreadable(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise Unreadable(str(error) if isinstance(error, Unreadable) else "the body is not JSON") from None
    check_storable(document)
    return document


def check_storable(document: Any) -> None:
    """Refuse a decoded document no database can keep as given (see load_json); walked
    without recursion, so that depth is counted, not suffered."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise Unreadable("a text holds a NUL character or half of a surrogate pair")
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise Unreadable(f"the JSON is nested deeper than {MAX_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    raise Unreadable("a field name holds a NUL character or half of a surrogate pair")
                pending.append((item, depth + 1))


def storable(value: str) -> str:
    """A text from outside that is only shown (an error's description), made storable."""
    return _UNSTORABLE.sub("\ufffd", value)


# Field types


def _absent_as_empty(value: Any) -> Any:
    """Bandwidth omits a field it has no value for; a GET webhook or a null says the same."""
    return "" if value is None else value


def _absent_as_none(value: Any) -> Any:
    return None if value == "" else value


def text(max_length: int) -> Any:
    """An optional text of at most `max_length` characters; absent is ""."""
    return Annotated[str, BeforeValidator(_absent_as_empty), StringConstraints(max_length=max_length)]


def _id(value: Any, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValueError("an id is a string")
    if len(value) > max_length:
        raise ValueError(f"an id has at most {max_length} characters")
    if not _ID.match(value):
        raise ValueError("an id has letters, digits and dashes only")
    return value


def bandwidth_id(max_length: int = ID_LENGTH) -> Any:
    """A required id."""
    return Annotated[str, PlainValidator(lambda value: _id(value, max_length))]


def optional_id(max_length: int = ID_LENGTH) -> Any:
    """An id that may be absent: "" then."""
    return Annotated[str, PlainValidator(lambda value: "" if value in (None, "") else _id(value, max_length))]


def parse_time(value: Any) -> datetime:
    """ISO 8601 as Bandwidth sends it ("2019-06-20T15:54:25.435Z"), in UTC. A time without
    a zone is taken as UTC: some of Bandwidth's own examples omit the Z."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("a time is an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        parsed = parsed.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"not a time Bandwidth could send: {value[:40]!r}") from None
    if not EARLIEST <= parsed < LATEST:
        raise ValueError(f"not a time Bandwidth could send (years {EARLIEST.year} to {LATEST.year - 1}): {value[:40]!r}")
    return parsed


def parse_seconds(value: Any) -> float:
    """An ISO 8601 duration as Bandwidth sends it ("PT20.056S", "PT1M52.217257456S"), at
    most LONGEST."""
    if not isinstance(value, str) or not value.startswith("P") or len(value) > 64:
        raise ValueError("a duration is an ISO 8601 string (PT20.056S)")
    try:
        parsed = parse_duration(value)
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None or not timedelta(0) <= parsed <= LONGEST:
        raise ValueError(f"not a duration Bandwidth could send: {value[:40]!r}")
    return parsed.total_seconds()


Time = Annotated[datetime, PlainValidator(parse_time)]
OptionalTime = Annotated[datetime | None, PlainValidator(lambda value: None if value in (None, "") else parse_time(value))]
# In seconds.
OptionalDuration = Annotated[
    float | None, PlainValidator(lambda value: None if value in (None, "") else parse_seconds(value))
]


def _channels(value: Any) -> int | None:
    """1 or 2 in practice; a GET webhook sends "1"."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) < 3:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8:
        raise ValueError("channels is a small whole number")
    return value


Channels = Annotated[int | None, PlainValidator(_channels)]


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("a flag is true or false")
    return value


# mute and hold in the API's answers: absent is false.
Flag = Annotated[bool, BeforeValidator(lambda value: False if value is None else value), PlainValidator(_flag)]


# Enumerations. Bandwidth adds values over time ("enums may gain values"): an open
# enumeration takes a value it does not know as UNKNOWN, and the raw text stays in the
# stored payload. Never a column value of its own.


def open_enum(enumeration: type[StrEnum]) -> Any:
    """An optional member of `enumeration` ("" when absent, as a text column keeps it),
    UNKNOWN for a value Switchboard does not know."""

    def member(value: Any) -> StrEnum | str:
        if value in (None, ""):
            return ""
        if not isinstance(value, str):
            raise ValueError(f"{enumeration.__name__} is a string")
        try:
            return enumeration(value)
        except ValueError:
            return enumeration("unknown")

    return Annotated[str, PlainValidator(member)]


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    UNKNOWN = "unknown"


class CallStatus(StrEnum):
    """A call's state in the API: the real API's values and the seed specification's
    ("completed" where the real one says "disconnected")."""

    QUEUED = "queued"
    INITIATED = "initiated"
    ANSWERED = "answered"
    DISCONNECTED = "disconnected"
    COMPLETED = "completed"
    UNKNOWN = "unknown"


class Cause(StrEnum):
    """Why a call (or a transfer, a bridge) ended: https://dev.bandwidth.com/docs/voice/errors."""

    HANGUP = "hangup"
    BUSY = "busy"
    TIMEOUT = "timeout"
    CANCEL = "cancel"
    REJECTED = "rejected"
    CALLBACK_ERROR = "callback-error"
    INVALID_BXML = "invalid-bxml"
    APPLICATION_ERROR = "application-error"
    ACCOUNT_LIMIT = "account-limit"
    NODE_CAPACITY_EXCEEDED = "node-capacity-exceeded"
    ERROR = "error"
    UNKNOWN = "unknown"


class MachineDetection(StrEnum):
    HUMAN = "human"
    ANSWERING_MACHINE = "answering-machine"
    TONE_DETECTED = "tone-detected"
    SILENCE = "silence"
    TIMEOUT = "timeout"
    ERROR = "error"
    UNKNOWN = "unknown"


class RecordingState(StrEnum):
    """recordingAvailable's complete, partial or error; the API adds processing and deleted."""

    PROCESSING = "processing"
    COMPLETE = "complete"
    PARTIAL = "partial"
    ERROR = "error"
    DELETED = "deleted"
    UNKNOWN = "unknown"


class TranscriptionState(StrEnum):
    """https://dev.bandwidth.com/docs/voice/webhooks/transcriptionAvailable"""

    NONE = "none"
    PROCESSING = "processing"
    AVAILABLE = "available"
    ERROR = "error"
    TIMEOUT = "timeout"
    FILE_SIZE_TOO_BIG = "file-size-too-big"
    FILE_SIZE_TOO_SMALL = "file-size-too-small"
    UNKNOWN = "unknown"


class FileFormat(StrEnum):
    WAV = "wav"
    MP3 = "mp3"
    UNKNOWN = "unknown"


# The named types the schemas use.
OptionalDirection = open_enum(Direction)
OptionalCallStatus = open_enum(CallStatus)
OptionalCause = open_enum(Cause)
OptionalMachineDetection = open_enum(MachineDetection)
OptionalRecordingState = open_enum(RecordingState)
OptionalTranscriptionState = open_enum(TranscriptionState)
OptionalFileFormat = open_enum(FileFormat)
Id = bandwidth_id()
OptionalId = optional_id()
AccountId = optional_id(ACCOUNT_ID_LENGTH)
ApplicationId = optional_id(APPLICATION_ID_LENGTH)
FromNumber = text(FROM_LENGTH)
ToNumber = text(TO_LENGTH)
Tag = text(TAG_LENGTH)
ConferenceName = text(CONFERENCE_NAME_LENGTH)
RecordingName = text(RECORDING_NAME_LENGTH)
Url = text(URL_LENGTH)
Text = text(TEXT_LENGTH)


def alias(name: str, default: Any = None) -> Any:
    """A field under Bandwidth's own name (camelCase, `from`, `to`)."""
    return Field(default, alias=name)


class Document(BaseModel):
    """Something Bandwidth sent (a webhook, an API answer), read through its schema. The
    fields as sent, unknown ones included, stay in `payload` for the event log."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    _payload: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def payload(self) -> dict[str, Any]:
        return self._payload

    @classmethod
    def read(cls, data: Any) -> Self:
        """`data` checked against this schema; Unreadable says what does not fit."""
        if not isinstance(data, dict):
            raise Unreadable("not a JSON object")
        check_storable(data)
        try:
            document = cls.model_validate(data)
        except ValidationError as error:
            raise Unreadable(reason(error)) from None
        document._payload = data
        return document


def reason(error: ValidationError) -> str:
    """The first problem, named by Bandwidth's field ("callId: an id has letters, ...")."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "the document"
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"
