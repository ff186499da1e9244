"""One call: its page with the timeline, and the actions on it."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST, require_safe

from console import board, listening, operations
from console.decorators import operator_required
from console.forms import RedirectForm
from console.timeline import call_timeline
from voice.models import Call


@require_safe  # HEAD: a page whose socket closed asks whether its session holds
@operator_required()
def call_detail(request: HttpRequest, call_id: str) -> HttpResponse:
    call = get_object_or_404(Call, call_id=call_id)
    context = {
        "row": board.call_rows([call])[0],
        "call": call,
        "timeline": call_timeline(call.call_id),
        "redirect_form": RedirectForm(),
        "listening_leg_of": listening.owner_of(call),
    }
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


@require_POST
@operator_required("console.redirect_call")
def call_redirect(request: HttpRequest, call_id: str) -> HttpResponse:
    """Send the call to a route's flow. The call's page follows by the live push."""
    call = get_object_or_404(Call, call_id=call_id)
    form = RedirectForm(request.POST)
    if not form.is_valid():
        raise BadRequest("choose an enabled route")
    operations.redirect(request.user, call, form.cleaned_data["route"])
    if not request.htmx:
        return redirect("console-call", call_id=call.call_id)
    return HttpResponse(status=204)


urlpatterns = [
    path("calls/<bandwidth_id:call_id>", call_detail, name="console-call"),
    path("calls/<bandwidth_id:call_id>/hangup", call_hangup, name="console-call-hangup"),
    path("calls/<bandwidth_id:call_id>/redirect", call_redirect, name="console-call-redirect"),
]
