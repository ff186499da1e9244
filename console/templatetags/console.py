from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def clock(value: timedelta | None) -> str:
    """A duration as a wall clock: 4:07, 1:02:03."""
    if value is None:
        return ""
    return wall_clock(value.total_seconds())


def wall_clock(seconds: float) -> str:
    """Whole seconds as a wall clock: 0:07, 4:07, 1:02:03."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@register.filter
def age(moment: datetime | None) -> timedelta | None:
    """How long ago `moment` was."""
    return timezone.now() - moment if moment else None


@register.filter
def split(value: str) -> list[str]:
    return value.split()
