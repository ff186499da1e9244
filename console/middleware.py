"""The console's own middleware: times in each operator's own time zone, and no NUL
character past the door."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timezone as dt_timezone

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse_lazy
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


def _holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists())
    return False


class AdminRefusesNulMiddleware:
    """400 for a request to Django's admin with a NUL in its path, query or form. The
    console's own views validate their input (URL converters, forms show the error), but
    the admin's filters and bulk actions pass it to queries as given, and PostgreSQL
    refuses NUL in any text: a 500. No operator has a reason to send one."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.admin = reverse_lazy("admin:index")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(str(self.admin)) and _holds_nul(request):
            return HttpResponseBadRequest("A NUL character is not allowed in a request.", content_type="text/plain")
        return self.get_response(request)


class AdminForStaffOnlyMiddleware:
    """403 (the console's page) for a signed-in operator who is not staff at the Django
    admin: the admin itself would show its sign-in page, asking them to sign in as someone
    else, as if they had been signed out. Staff, the admin's own rule, may use it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.admin = reverse_lazy("admin:index")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if request.path.startswith(str(self.admin)) and user.is_authenticated and not user.is_staff:
            raise PermissionDenied
        return self.get_response(request)
