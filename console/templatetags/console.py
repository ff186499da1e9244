from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def clock(value: timedelta | None) -> str:
    """A duration as a wall clock: 4:07, 1:02:03."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@register.filter
def age(moment: datetime | None) -> timedelta | None:
    """How long ago `moment` was."""
    return timezone.now() - moment if moment else None


@register.filter
def split(value: str) -> list[str]:
    return value.split()
