from datetime import timedelta

from django import template

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
