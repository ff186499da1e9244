"""How Bandwidth writes values in its JSON: timestamps, durations, and fields without a value."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def iso(moment: datetime | None) -> str | None:
    """Bandwidth's timestamp format: UTC, milliseconds, Z."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_duration(seconds: float) -> str:
    """ISO 8601 durations as Bandwidth writes them: PT13.67S, PT1M52.217S."""
    minutes, rest = divmod(max(0.0, seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    return text + f"{round(rest, 3):g}S"


def without_none(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value: the seed spec has no nullable fields, so Bandwidth's
    optional fields are left out rather than sent as null."""
    return {key: value for key, value in fields.items() if value is not None}
