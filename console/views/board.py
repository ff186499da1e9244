"""The live board: a window of the live calls (filters, sort and window size in the URL),
with their counts; figures; the live conferences."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET, require_safe

from console import board, figures
from console.decorators import operator_required
from console.filters import CallFilterForm


@require_safe  # HEAD: a page whose socket closed asks whether its session holds
@operator_required()
def live_board(request: HttpRequest) -> HttpResponse:
    form = CallFilterForm(request.GET)
    window = board.call_window(form)
    rows = board.calls_by_id(window.call_ids)
    context = {
        "rows": [rows[call_id] for call_id in window.call_ids if call_id in rows],
        "window": window,
        "form": form,
        "filtered": form.active,
    }
    # A history-cache miss (back button after filtering) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "console/calls.html#call-view", context)
    context["figures"] = figures.board_figures()
    context["conferences"] = board.live_conferences()
    return render(request, "console/calls.html", context)


@require_GET
@operator_required()
def board_figures(request: HttpRequest) -> HttpResponse:
    return render(request, "console/calls.html#figures", {"figures": figures.board_figures()})


urlpatterns = [
    path("", live_board, name="console-board"),
    path("board/figures", board_figures, name="console-board-figures"),
]
