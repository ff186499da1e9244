"""The one URL every Bandwidth callback reaches: /webhooks/voice."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from voice import events, state
from voice.decorators import webhook_basic_auth
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


@csrf_exempt
@require_http_methods(["GET", "POST"])
@webhook_basic_auth
def voice_webhook(request: HttpRequest) -> HttpResponse:
    started = time.perf_counter()
    try:
        event = events.parse(_payload(request))
    except events.MalformedEvent as error:
        return JsonResponse({"error": str(error)}, status=400)
    answer = state.receive(event, started=started)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
