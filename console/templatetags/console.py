import math
from datetime import datetime, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone

from console.ids import is_bandwidth_id

register = template.Library()


@register.simple_tag
def object_url(view_name: str, *object_ids: str) -> str:
    """The URL of a page of, or an action on, mirror objects; "" when one of their ids is no
    Bandwidth id (console/ids.py), as a mirror row may hold: the template then shows the
    object as text, with no link and no action, and the page still renders.
    {% object_url 'console-call' call.call_id as call_url %}"""
    if not all(is_bandwidth_id(object_id) for object_id in object_ids):
        return ""
    return reverse(view_name, args=object_ids)


@register.filter
def clock(value: timedelta | None) -> str:
    """A duration as a wall clock: 4:07, 1:02:03."""
    if value is None:
        return ""
    return wall_clock(value.total_seconds())


def wall_clock(seconds: float) -> str:
    """Whole seconds as a wall clock: 0:07, 4:07, 1:02:03; nothing for an infinite or
    undefined length (a float column holds both)."""
    if not math.isfinite(seconds):
        return ""
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
