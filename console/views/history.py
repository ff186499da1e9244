"""Call history and the audit log: searchable lists, newest first, exportable as CSV."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from console import history, paging
from console.audit_log import AUDIT_CSV_COLUMNS, AuditFilterForm, audit_csv_row
from console.csv_export import CHUNK, streaming_csv
from console.decorators import operator_required
from console.models import AuditEntry


@require_GET
@operator_required("console.view_call_history")
def call_history(request: HttpRequest) -> HttpResponse:
    form = history.CallHistoryForm(request.GET)
    page = paging.newest_first(form.apply(history.ended_calls()), "end_time", request.GET.get("after"))
    context = {"form": form, "page": page, "query": paging.query_without_cursor(request)}
    return render(request, paging.list_template(request, "console/history.html"), context)


@require_GET
@operator_required("console.view_call_history")
def call_history_csv(request: HttpRequest) -> HttpResponse:
    form = history.CallHistoryForm(request.GET)
    if not form.is_valid():
        return _refused(form)
    calls = paging.newest_first_order(form.apply(history.ended_calls()), "end_time").iterator(chunk_size=CHUNK)
    AuditEntry.record(request.user, "export calls", "call history", outcome="ok", detail=request.GET.urlencode())
    return streaming_csv(request, _filename("calls"), history.CSV_COLUMNS, calls, history.csv_row)


@require_GET
@operator_required("console.view_audit_log")
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    entries = form.apply(AuditEntry.objects.select_related("action"))
    page = paging.newest_first(entries, "at", request.GET.get("after"))
    context = {"form": form, "page": page, "query": paging.query_without_cursor(request)}
    return render(request, paging.list_template(request, "console/audit.html"), context)


@require_GET
@operator_required("console.view_audit_log")
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _refused(form)
    entries = form.apply(AuditEntry.objects.select_related("action"))
    entries = paging.newest_first_order(entries, "at").iterator(chunk_size=CHUNK)
    return streaming_csv(request, _filename("audit"), AUDIT_CSV_COLUMNS, entries, audit_csv_row)


def _refused(form: forms.Form) -> HttpResponse:
    """An export of a search that does not validate: its reasons, rather than an empty file
    that looks like no match (the page shows the same reasons by its form)."""
    return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")


def _filename(kind: str) -> str:
    return f"switchboard-{kind}-{timezone.localtime():%Y%m%d-%H%M%S}.csv"


urlpatterns = [
    path("history/", call_history, name="console-history"),
    path("history/calls.csv", call_history_csv, name="console-history-csv"),
    path("audit/", audit_log, name="console-audit"),
    path("audit/audit.csv", audit_log_csv, name="console-audit-csv"),
]
