"""Conferences: the list (also shown on the board), one conference's page, and what
supervisors do to it and its members. Every action needs console.control_conference
(dialling out also console.dial_out), checked before anything is recorded or enqueued."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import trigger_client_event

from console import board, live, operations
from console.decorators import operator_required
from console.forms import CoachForm, DialOutForm
from voice.models import Conference, ConferenceMember

CONTROL = "console.control_conference"


def _flag(request: HttpRequest, name: str) -> bool:
    """A "true"/"false" form field (the buttons' hx-vals)."""
    value = request.POST.get(name)
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false")
    return value == "true"


def _conference(conference_id: str) -> Conference:
    return get_object_or_404(Conference.objects.with_member_count(), conference_id=conference_id)


def _member(conference_id: str, call_id: str) -> ConferenceMember:
    members = ConferenceMember.objects.select_related("conference")
    return get_object_or_404(members, conference_id=conference_id, call_id=call_id)


@require_safe  # HEAD: a page whose socket closed asks whether its session holds
@operator_required()
def conferences(request: HttpRequest) -> HttpResponse:
    template = "console/conferences.html#conference-table" if request.htmx else "console/conferences.html"
    return render(request, template, {"conferences": board.live_conferences()})


@require_safe  # HEAD: a page whose socket closed asks whether its session holds
@operator_required(CONTROL)
def conference(request: HttpRequest, conference_id: str) -> HttpResponse:
    conference = _conference(conference_id)
    context = {
        "conference": conference,
        "panel": board.conference_panel(conference),
        "members": board.present_members(conference),
    }
    template = "console/conference.html#conference-detail" if request.htmx else "console/conference.html"
    if not request.htmx:
        context["dial_out_form"] = DialOutForm(conference)
    return render(request, template, context)


# Members


def _member_changed(request: HttpRequest, member: ConferenceMember) -> HttpResponse:
    """The member's row, now showing the action pending (every other viewer gets the same
    row pushed once the action is recorded)."""
    if not request.htmx:
        return redirect("console-conference", conference_id=member.conference_id)
    read_at = live.stamp()
    row = board.member_row(member.conference_id, member.call_id)
    return render(request, "console/conference.html#member-row", {"row": row, "stamp": read_at})


@require_POST
@operator_required(CONTROL)
def member_mute(request: HttpRequest, conference_id: str, call_id: str) -> HttpResponse:
    member = _member(conference_id, call_id)
    operations.mute(request.user, member, _flag(request, "mute"))
    return _member_changed(request, member)


@require_POST
@operator_required(CONTROL)
def member_hold(request: HttpRequest, conference_id: str, call_id: str) -> HttpResponse:
    member = _member(conference_id, call_id)
    operations.hold(request.user, member, _flag(request, "hold"))
    return _member_changed(request, member)


@require_POST
@operator_required(CONTROL)
def member_remove(request: HttpRequest, conference_id: str, call_id: str) -> HttpResponse:
    member = _member(conference_id, call_id)
    operations.remove(request.user, member)
    return _member_changed(request, member)


@require_http_methods(["GET", "POST"])
@operator_required(CONTROL)
def member_coach(request: HttpRequest, conference_id: str, call_id: str) -> HttpResponse:
    """GET: the coach's form, with the members present now; POST: coach the ones chosen."""
    member = _member(conference_id, call_id)
    others = list(ConferenceMember.objects.filter(conference_id=conference_id).present().exclude(call_id=call_id))
    data = request.POST if request.method == "POST" else None
    form = CoachForm(member, others, data, initial={"call_ids": member.call_ids_to_coach})
    if request.method == "POST" and form.is_valid():
        operations.coach(request.user, member, form.cleaned_data["call_ids"])
        if not request.htmx:
            return redirect("console-conference", conference_id=conference_id)
        # The row follows by the live push; the dialog closes.
        return trigger_client_event(HttpResponse(status=204), "close-dialog")
    return render(request, "console/conference.html#coach-form", {"form": form, "member": member})


# The conference


def _conference_changed(request: HttpRequest, conference: Conference) -> HttpResponse:
    if not request.htmx:
        return redirect("console-conference", conference_id=conference.conference_id)
    read_at = live.stamp()
    conference = _conference(conference.conference_id)
    context = {"panel": board.conference_panel(conference), "stamp": read_at}
    return render(request, "console/conference.html#conference-summary", context)


@require_POST
@operator_required(CONTROL)
def mute_all(request: HttpRequest, conference_id: str) -> HttpResponse:
    conference = _conference(conference_id)
    operations.mute_all(request.user, conference, _flag(request, "mute"))
    return _conference_changed(request, conference)


@require_POST
@operator_required(CONTROL)
def end(request: HttpRequest, conference_id: str) -> HttpResponse:
    conference = _conference(conference_id)
    operations.end(request.user, conference)
    return _conference_changed(request, conference)


@require_POST
@operator_required(CONTROL)
def recording(request: HttpRequest, conference_id: str) -> HttpResponse:
    conference = _conference(conference_id)
    operations.record(request.user, conference, _flag(request, "record"))
    return _conference_changed(request, conference)


@require_POST
@operator_required(CONTROL, "console.dial_out")
def dial_out(request: HttpRequest, conference_id: str) -> HttpResponse:
    conference = _conference(conference_id)
    form = DialOutForm(conference, request.POST)
    dialled = None
    if form.is_valid():
        data = form.cleaned_data
        dialled = operations.dial_out(request.user, conference, data["number"], data["from_number"])
        if not request.htmx:
            return redirect("console-conference", conference_id=conference_id)
        form = DialOutForm(conference)
    context = {"conference": conference, "dial_out_form": form, "dialled": dialled}
    return render(request, "console/conference.html#dial-out", context)


urlpatterns = [
    path("conferences/", conferences, name="console-conferences"),
    path("conferences/<bandwidth_id:conference_id>/", conference, name="console-conference"),
    path("conferences/<bandwidth_id:conference_id>/mute-all", mute_all, name="console-conference-mute-all"),
    path("conferences/<bandwidth_id:conference_id>/recording", recording, name="console-conference-recording"),
    path("conferences/<bandwidth_id:conference_id>/end", end, name="console-conference-end"),
    path("conferences/<bandwidth_id:conference_id>/dial-out", dial_out, name="console-conference-dial-out"),
    path("conferences/<bandwidth_id:conference_id>/members/<bandwidth_id:call_id>/mute", member_mute, name="console-member-mute"),
    path("conferences/<bandwidth_id:conference_id>/members/<bandwidth_id:call_id>/hold", member_hold, name="console-member-hold"),
    path("conferences/<bandwidth_id:conference_id>/members/<bandwidth_id:call_id>/coach", member_coach, name="console-member-coach"),
    path("conferences/<bandwidth_id:conference_id>/members/<bandwidth_id:call_id>/remove", member_remove, name="console-member-remove"),
]
