"""The console's error pages: 403, 404 and 500 in the console's own frame (its navigation,
its styles) for a page; for an htmx request, which would swap a whole page into a table
row, a message shown above the page instead (base.html's #flash, by HX-Retarget)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render

logger = logging.getLogger(__name__)

TEXTS = {
    403: ("Not allowed", "Your role does not allow this. Ask an admin if you need it."),
    404: ("Not found", "There is nothing here: the address may be mistyped, or what it showed is gone."),
    500: ("Something went wrong", "Switchboard could not answer this. It has been logged; try again in a moment."),
}


def error_response(request: HttpRequest, status: int) -> HttpResponse:
    title, message = TEXTS[status]
    context = {"status": status, "title": title, "message": message}
    if getattr(request, "htmx", False):
        response = render(request, "console/error.html#message", context, status=status)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "console/error.html", context, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(request, 403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # The frame reads the signed-in user, so it needs the database: when the fault is the
    # database itself, a plain page rather than a second exception.
    try:
        return error_response(request, 500)
    except Exception:
        logger.exception("the error page could not be rendered")
        title, message = TEXTS[500]
        return HttpResponseServerError(f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>")
