"""Conferences: the list (also shown on the board), one conference's page, and what
supervisors do to it and its members. Every action needs console.control_conference
(dialling out also console.dial_out), checked before anything is recorded or enqueued."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)
from django_htmx.http import trigger_client_event

from console import board, listening, live, operations
from console.decorators import operator_required
from console.forms import CoachForm, DialOutForm, ListenForm, ListeningModeForm
from console.models import OperatorProfile
from console.views import errors
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
        # The current talkers at the top of the members (static/js/switchboard.js), if asked.
        "talkers_first": request.GET.get("talkers") == "first",
    }
    template = "console/conference.html#conference-detail" if request.htmx else "console/conference.html"
    if not request.htmx:
        context["dial_out_form"] = DialOutForm(conference)
        context["phone"] = OperatorProfile.phone_of(request.user)
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
    mute = _flag(request, "mute")
    batch = operations.mute_all(request.user, conference, mute)
    if batch is not None and batch.params.get("mute") != mute:
        # One mute batch at a time per conference: the other one is under way, and this
        # request started nothing. Said where it stays, so the end state is not a surprise.
        asked, running = ("Mute all", "Unmute all") if mute else ("Unmute all", "Mute all")
        return errors.error_response(
            request, 409, f"{asked} was not started",
            f"{running} is still under way in this conference. Click {asked} again once it has finished.",
        )
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
    if dialled:
        read_at = live.stamp()  # before the read, as _conference_changed does
        context.update(stamp=read_at, panel=board.conference_panel(_conference(conference_id)))
    return render(request, "console/conference.html#dial-out", context)


# Listening in


def _own_leg(request: HttpRequest, conference_id: str) -> ConferenceMember:
    """The operator's own listening leg in the conference: another's is not theirs to change."""
    listener = listening.leg_of(conference_id, request.user.pk)
    if listener is None:
        raise Http404("You are not listening to this conference.")
    return listener.member


@require_POST
@operator_required(CONTROL)
def listen(request: HttpRequest, conference_id: str) -> HttpResponse:
    """Ring the operator's own phone; answered, it joins muted and unannounced. The form
    answers for itself (ringing, or why not); the conference's page shows the leg join."""
    conference = _conference(conference_id)
    phone = OperatorProfile.phone_of(request.user)
    listening_already = listening.leg_of(conference.conference_id, request.user.pk) is not None
    form = ListenForm(conference, phone, listening_already, request.POST)
    listened = None
    if form.is_valid():
        listened = operations.listen(request.user, conference, phone, form.cleaned_data["from_number"])
        if not request.htmx:
            return redirect("console-conference", conference_id=conference_id)
    elif not request.htmx:
        raise BadRequest(" ".join(form.non_field_errors()))
    context = {"conference": conference, "phone": phone, "listened": listened, "listen_errors": form.non_field_errors()}
    return render(request, "console/conference.html#listen-in", context)


@require_http_methods(["GET", "POST"])
@operator_required(CONTROL)
def listening_mode(request: HttpRequest, conference_id: str) -> HttpResponse:
    """GET: the whisper form, with the members present now; POST: listen only, whisper to
    the members ticked, or barge in."""
    leg = _own_leg(request, conference_id)
    others = list(ConferenceMember.objects.filter(conference_id=conference_id).present().exclude(call_id=leg.call_id))
    data = request.POST if request.method == "POST" else None
    form = ListeningModeForm(leg, others, data, initial={"mode": "whisper", "call_ids": leg.call_ids_to_coach})
    if request.method == "POST" and form.is_valid():
        operations.listening_mode(request.user, leg, form.cleaned_data["mode"], form.cleaned_data["call_ids"])
        if not request.htmx:
            return redirect("console-conference", conference_id=conference_id)
        return trigger_client_event(HttpResponse(status=204), "close-dialog")
    if request.method == "POST" and not request.htmx:
        raise BadRequest(" ".join(f"{errors}" for errors in form.errors.values()))
    return render(request, "console/conference.html#whisper-form", {"form": form, "leg": leg})


@require_POST
@operator_required(CONTROL)
def stop_listening(request: HttpRequest, conference_id: str) -> HttpResponse:
    leg = _own_leg(request, conference_id)
    operations.stop_listening(request.user, leg)
    return _conference_changed(request, _conference(conference_id))


urlpatterns = [
    path("conferences/", conferences, name="console-conferences"),
    path("conferences/<bandwidth_id:conference_id>/", conference, name="console-conference"),
    path("conferences/<bandwidth_id:conference_id>/mute-all", mute_all, name="console-conference-mute-all"),
    path("conferences/<bandwidth_id:conference_id>/recording", recording, name="console-conference-recording"),
    path("conferences/<bandwidth_id:conference_id>/end", end, name="console-conference-end"),
    path("conferences/<bandwidth_id:conference_id>/dial-out", dial_out, name="console-conference-dial-out"),
    path("conferences/<bandwidth_id:conference_id>/listen", listen, name="console-conference-listen"),
    path("conferences/<bandwidth_id:conference_id>/listening/mode", listening_mode, name="console-listening-mode"),
    path("conferences/<bandwidth_id:conference_id>/listening/stop", stop_listening, name="console-listening-stop"),
    path("conferences/<bandwidth_id:conference_id>/members/<bandwidth_id:call_id>/mute", member_mute, name="console-member-mute"),
    path("conferences/<bandwidth_id:conference_id>/members/<bandwidth_id:call_id>/hold", member_hold, name="console-member-hold"),
    path("conferences/<bandwidth_id:conference_id>/members/<bandwidth_id:call_id>/coach", member_coach, name="console-member-coach"),
    path("conferences/<bandwidth_id:conference_id>/members/<bandwidth_id:call_id>/remove", member_remove, name="console-member-remove"),
]
