"""The one URL every Bandwidth callback reaches: /webhooks/voice."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from voice import events, intake, metrics
from voice.decorators import webhook_basic_auth
from voice.models import Event
from voice.schema import Unreadable, load_json


def _payload(request: HttpRequest) -> dict:
    """The event's fields: the JSON body of a POST, the query string of a GET (Bandwidth
    sends GET webhooks when a *Method attribute says so)."""
    if request.method == "GET":
        return {key: request.GET.get(key) for key in request.GET}
    declared = request.META.get("CONTENT_LENGTH") or "0"
    declared = int(declared) if declared.isdigit() else 0
    if declared > settings.WEBHOOK_MAX_BYTES or len(request.body) > settings.WEBHOOK_MAX_BYTES:
        raise events.MalformedEvent(f"the body is larger than {settings.WEBHOOK_MAX_BYTES} bytes")
    try:
        return load_json(request.body)
    except Unreadable as error:
        raise events.MalformedEvent(str(error)) from None


def _refuse(request: HttpRequest, payload: object, error: events.MalformedEvent) -> HttpResponse:
    """400 with the reason, and the refusal noted in the event log (nothing else written)."""
    response = JsonResponse({"error": str(error)}, status=400)
    claimed = payload.get("eventType") if isinstance(payload, dict) else None
    metrics.WEBHOOKS.labels(metrics.event_type_label(claimed, intake.HANDLERS.keys()), "refused").inc()
    Event.refused(
        event_type=claimed if isinstance(claimed, str) else "",
        reason=str(error),
        received=_received(request),
        answer=response.content.decode(),
    )
    return response


def _received(request: HttpRequest) -> str:
    """The start of what was sent, for the event log."""
    if request.method == "GET":
        return request.META.get("QUERY_STRING", "")
    try:
        return request.body[:2000].decode(errors="replace")
    except RequestDataTooBig:
        return f"a body of {request.META.get('CONTENT_LENGTH', '?')} bytes"


@csrf_exempt
@require_http_methods(["GET", "POST"])
@webhook_basic_auth
def voice_webhook(request: HttpRequest) -> HttpResponse:
    started = time.perf_counter()
    payload = None
    try:
        payload = _payload(request)
        event = events.parse(payload)
    except events.MalformedEvent as error:
        return _refuse(request, payload, error)
    answer = intake.receive(event, started=started)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
