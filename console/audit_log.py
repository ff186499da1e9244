"""The audit log's filters and CSV cells."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from console.models import AuditEntry


class AuditFilterForm(forms.Form):
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="to", widget=forms.DateInput(attrs={"type": "date"}))
    actor = forms.CharField(required=False, max_length=150, label="Who")
    verb = forms.CharField(required=False, max_length=40, label="What")
    target = forms.CharField(required=False, max_length=200)

    def apply(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        if not self.is_valid():
            return entries.none()
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        if data["since"]:
            entries = entries.filter(at__gte=datetime.combine(data["since"], time.min, zone))
        if data["until"]:
            entries = entries.filter(at__lt=datetime.combine(data["until"] + timedelta(days=1), time.min, zone))
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
        timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S%z"),
        entry.actor_name,
        entry.verb,
        entry.target,
        entry.result,
        detail,
    ]
