import math
from datetime import datetime, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from console import audit_log, directory, phone_numbers
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
def seconds_text(value: timedelta) -> str:
    """A threshold as people say it: 90 s, 30 min, 2 h, 1 h 30 min."""
    seconds = int(value.total_seconds())
    if seconds < 120 and seconds % 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter
def age(moment: datetime | None) -> timedelta | None:
    """How long ago `moment` was."""
    return timezone.now() - moment if moment else None


@register.filter
def split(value: str) -> list[str]:
    return value.split()


@register.filter
def party(number: str) -> SafeString:
    """A number as a person reads it, with its directory name and label when it has one;
    the number as stored (E.164) in its title. {{ call.from_number|party }}"""
    shown = phone_numbers.display(number)
    entry = directory.entry_for(number)
    if entry is None:
        return format_html('<span class="party"><span class="number" title="{}">{}</span></span>', number, shown)
    label = format_html(' <span class="party-label">{}</span>', entry.label) if entry.label else ""
    return format_html(
        '<span class="party"><span class="party-name">{}</span> <span class="number" title="{}">{}</span>{}</span>',
        entry.name,
        number,
        shown,
        label,
    )


@register.filter
def party_text(number: str) -> str:
    """The same as plain text, for a sentence or an attribute: "Ann Lee, (919) 555-0100"."""
    return directory.described(number)


@register.filter
def phone(number: str) -> str:
    """A number as a person reads it, without its name."""
    return phone_numbers.display(number)


@register.filter
def people_read(text: str) -> SafeString:
    """An audit entry's text with its numbers as people read them, named from the directory."""
    return audit_log.as_people_read(text or "")
