"""The operator console's pages and actions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from console import board
from console.decorators import operator_required
from voice import actions
from voice.models import ActionKind, Call, Conference


@require_GET
@operator_required()
def calls(request: HttpRequest) -> HttpResponse:
    template = "console/calls.html#call-table" if request.htmx else "console/calls.html"
    return render(request, template, {"rows": board.live_call_rows(), "conferences": board.live_conferences()})


@require_POST
@operator_required("voice.hangup_call")
def call_hangup(request: HttpRequest, call_id: str) -> HttpResponse:
    call = get_object_or_404(Call, call_id=call_id)
    if call.is_live:
        actions.request(ActionKind.HANGUP, target=call.call_id, call_id=call.call_id, user=request.user)
    if not request.htmx:
        return redirect("console-calls")
    return render(request, "console/calls.html#call-row", {"row": board.call_row(call.call_id)})


@require_GET
@operator_required()
def conferences(request: HttpRequest) -> HttpResponse:
    template = "console/conferences.html#conference-table" if request.htmx else "console/conferences.html"
    return render(request, template, {"conferences": board.live_conferences()})


@require_GET
@operator_required()
def conference(request: HttpRequest, conference_id: str) -> HttpResponse:
    conference = get_object_or_404(Conference.objects.with_member_count(), conference_id=conference_id)
    template = "console/conference.html#conference-detail" if request.htmx else "console/conference.html"
    return render(request, template, {"conference": conference, "members": board.present_members(conference)})
