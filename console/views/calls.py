"""One call: its page with the timeline, and the actions on it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from console import board, operations
from console.decorators import operator_required
from console.timeline import call_timeline
from voice.models import Call


@require_GET
@operator_required()
def call_detail(request: HttpRequest, call_id: str) -> HttpResponse:
    call = get_object_or_404(Call, call_id=call_id)
    context = {"row": board.call_rows([call])[0], "call": call, "timeline": call_timeline(call.call_id)}
    partial = request.htmx and not request.htmx.history_restore_request
    template = "console/call.html#call-live" if partial else "console/call.html"
    return render(request, template, context)


@require_POST
@operator_required("voice.hangup_call")
def call_hangup(request: HttpRequest, call_id: str) -> HttpResponse:
    call = get_object_or_404(Call, call_id=call_id)
    operations.hang_up(request.user, call)
    if not request.htmx:
        return redirect("console-call", call_id=call.call_id)
    return render(request, "console/calls.html#call-row", {"row": board.call_row(call.call_id)})


urlpatterns = [
    path("calls/<str:call_id>", call_detail, name="console-call"),
    path("calls/<str:call_id>/hangup", call_hangup, name="console-call-hangup"),
]
