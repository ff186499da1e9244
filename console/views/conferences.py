"""Conferences: the list (also shown on the board) and one conference's members, live."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from console import board
from console.decorators import operator_required
from voice.models import Conference


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


urlpatterns = [
    path("conferences/", conferences, name="console-conferences"),
    path("conferences/<str:conference_id>/", conference, name="console-conference"),
]
