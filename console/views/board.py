"""The live board: active calls, filters, figures."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET, require_safe

from console import board, figures
from console.decorators import operator_required
from console.filters import CallFilterForm
from voice.models import Call


@require_safe  # HEAD: a page whose socket closed asks whether its session holds
@operator_required()
def calls(request: HttpRequest) -> HttpResponse:
    form = CallFilterForm(request.GET)
    rows = board.call_rows(form.apply(Call.objects.live()))
    context = {
        "rows": rows,
        "form": form,
        "filtered": form.active,
        "long_after": settings.LONG_CALL_AFTER,
        "stuck_after": settings.STUCK_CALL_AFTER,
    }
    # A history-cache miss (back button after filtering) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "console/calls.html#call-table", context)
    context["figures"] = figures.board_figures()
    context["conferences"] = board.live_conferences()
    return render(request, "console/calls.html", context)


@require_GET
@operator_required()
def board_figures(request: HttpRequest) -> HttpResponse:
    return render(request, "console/calls.html#figures", {"figures": figures.board_figures()})


urlpatterns = [
    path("", calls, name="console-calls"),
    path("board/figures", board_figures, name="console-board-figures"),
]
