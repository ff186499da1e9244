"""The sign-in guard's parts that are Switchboard's own (django-axes does the counting and
the refusing, settings.py says how): whose address a sign-in comes from, when a lock-out
ends, and the sign-in page a locked-out attempt gets."""

from __future__ import annotations

import math
from datetime import datetime

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

LOCKED_OUT_STATUS = 429


def client_address(request: HttpRequest) -> str | None:
    """The address the sign-in came from. Behind PROXY_COUNT proxies it is the one the
    outermost of ours appended to X-Forwarded-For: entries to the left of it were written by
    the client and could be anything."""
    if settings.PROXY_COUNT:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= settings.PROXY_COUNT:
            return forwarded[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


def lock_out_ends(request: HttpRequest, username: str) -> datetime | None:
    """When the lock-out of this username at this request's address ends: a cool-off after
    the last failure axes counted (a retry while locked out is not counted, so the end does
    not move). Locks are on the username and the address together (AXES_LOCKOUT_PARAMETERS)."""
    attempts = AccessAttempt.objects.filter(username=username, ip_address=client_address(request))
    last = attempts.aggregate(last=Max("attempt_time"))["last"]
    return last + get_cool_off(request) if last else None


def locked_out_page(request: HttpRequest, *args) -> HttpResponse:
    """The sign-in page, saying the username is locked out here and until when (axes'
    AXES_LOCKOUT_CALLABLE; it passes the original response and the credentials, or, under
    ASGI, the credentials alone: neither is needed)."""
    username = request.POST.get("username", "")
    ends = lock_out_ends(request, username)
    context = {"form": AuthenticationForm(request), "next": request.POST.get("next", ""), "locked_until": ends}
    response = render(request, "registration/login.html", context, status=LOCKED_OUT_STATUS)
    if ends:
        response["Retry-After"] = str(max(0, math.ceil((ends - timezone.now()).total_seconds())))
    return response
