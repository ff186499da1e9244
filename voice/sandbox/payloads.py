"""Webhook bodies exactly as Bandwidth sends them (field names, optional fields left out).

https://dev.bandwidth.com/docs/voice/webhooks — one function per event type.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from voice.sandbox.clock import iso

if TYPE_CHECKING:
    from voice.sandbox.sim import SimCall


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def call_event(event_type: str, call: SimCall, now: datetime, **extra: Any) -> dict[str, Any]:
    """The fields every call event carries; answerTime only once answered, tag only if set,
    enqueuedTime only for outbound calls."""
    return _without_none(
        {
            "eventType": event_type,
            "eventTime": iso(now),
            "accountId": call.account_id,
            "applicationId": call.application_id,
            "from": call.from_number,
            "to": call.to_number,
            "direction": call.direction,
            "callId": call.call_id,
            "callUrl": call.call_url,
            "enqueuedTime": iso(call.enqueued_time) if call.direction == "outbound" else None,
            "startTime": iso(call.start_time),
            "answerTime": iso(call.answer_time),
            "tag": call.tag,
            **extra,
        }
    )


def initiate(call: SimCall, now: datetime) -> dict[str, Any]:
    payload = call_event("initiate", call, now)
    # initiate is sent before anything else happened: never an answer time or a tag.
    payload.pop("answerTime", None)
    payload.pop("tag", None)
    return payload


def answer(call: SimCall, now: datetime) -> dict[str, Any]:
    return call_event("answer", call, now)


def disconnect(call: SimCall, now: datetime) -> dict[str, Any]:
    return call_event(
        "disconnect",
        call,
        now,
        endTime=iso(call.end_time),
        cause=call.disconnect_cause,
        errorMessage=call.error_message or None,
        errorId=call.error_id or None,
    )
