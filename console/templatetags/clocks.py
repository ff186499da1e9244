"""Filters that show lengths and deadlines as people read them (the recordings pages)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from console.templatetags.console import wall_clock

register = template.Library()


@register.filter
def seconds_clock(seconds: float | None) -> str:
    """A length in seconds as a wall clock, whole seconds as the player counts them: 0:07,
    4:07, 1:02:03."""
    if seconds is None:
        return ""
    return wall_clock(seconds)


@register.filter
def time_left(moment: datetime | None) -> str:
    """How long until `moment` in days, or hours, or minutes on the last day ("29 days",
    "5 hours"); empty once past. Days, not weeks: Bandwidth's retention counts days."""
    if moment is None or moment <= timezone.now():
        return ""
    left = moment - timezone.now()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = int(left.total_seconds() // size)
        if count:
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"
