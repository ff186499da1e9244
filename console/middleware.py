"""Shows times in each operator's own time zone, as their browser reports it."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timezone as dt_timezone

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

COOKIE = "tz"


class OperatorZone(zoneinfo.ZoneInfo):
    """A time zone that shows in UTC a time it cannot express. West of UTC, 0001-01-01 00:00
    UTC falls before the first day Python knows (east of it, 9999-12-31 23:00 after the
    last), and a mirror row may hold such a time: it must not break every page that shows
    it. Every time shown in the operator's zone passes through here (fromutc)."""

    def fromutc(self, moment: datetime) -> datetime:
        try:
            return super().fromutc(moment)
        except OverflowError:
            return moment.replace(tzinfo=dt_timezone.utc)


def operator_zone(name: str) -> OperatorZone:
    """The zone named by the browser, or the site's when it names none or an unknown one."""
    try:
        return OperatorZone(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return OperatorZone(settings.TIME_ZONE)


class OperatorTimezoneMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(operator_zone(request.COOKIES.get(COOKIE, "")))
        return self.get_response(request)
