"""The audit log's filters and CSV cells."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from console.csv_export import moment
from console.forms import DayRangeForm
from console.models import AuditEntry


class AuditFilterForm(DayRangeForm):
    actor = forms.CharField(required=False, max_length=150, label="Who")
    verb = forms.CharField(required=False, max_length=40, label="What")
    target = forms.CharField(required=False, max_length=200)

    def apply(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        if not self.is_valid():
            return entries.none()
        data = self.cleaned_data
        entries = self.within_days(entries, "at")
        if data["actor"]:
            entries = entries.filter(actor_name__icontains=data["actor"])
        if data["verb"]:
            entries = entries.filter(verb__icontains=data["verb"])
        if data["target"]:
            entries = entries.filter(target__icontains=data["target"])
        return entries


AUDIT_CSV_COLUMNS = ["at", "who", "what", "target", "outcome", "detail"]


def audit_csv_row(entry: AuditEntry) -> list[str]:
    detail = entry.action.detail if entry.action_id and entry.action.detail else entry.detail
    return [
        moment(entry.at),
        entry.actor_name,
        entry.verb,
        entry.target,
        entry.result,
        detail,
    ]
