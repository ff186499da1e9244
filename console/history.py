"""Call history: ended calls, filtered by a form, newest first, exportable as CSV."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.db.models import F, QuerySet

from console.csv_export import moment
from console import directory
from console.forms import DayRangeForm, PartyField, SecondsField
from voice.models import Call


class CallHistoryForm(DayRangeForm):
    number = PartyField(required=False, label="Number or name")
    direction = forms.ChoiceField(required=False, choices=[("", "Any direction"), *Call.Direction.choices])
    cause = forms.CharField(required=False, max_length=64, label="Disconnect cause")
    min_seconds = SecondsField(required=False, label="Longer than (s)")
    max_seconds = SecondsField(required=False, label="Shorter than (s)")

    def apply(self, calls: QuerySet[Call]) -> QuerySet[Call]:
        if not self.is_valid():
            return calls.none()
        data = self.cleaned_data
        calls = self.within_days(calls, "end_time")
        if data["number"]:
            calls = calls.filter(directory.matching(data["number"], "from_number", "to_number"))
        if data["direction"]:
            calls = calls.filter(direction=data["direction"])
        if data["cause"]:
            calls = calls.filter(disconnect_cause__iexact=data["cause"].strip())
        if data["min_seconds"] is not None:
            calls = calls.filter(end_time__gte=F("start_time") + timedelta(seconds=data["min_seconds"]))
        if data["max_seconds"] is not None:
            calls = calls.filter(end_time__lte=F("start_time") + timedelta(seconds=data["max_seconds"]))
        return calls


def ended_calls() -> QuerySet[Call]:
    return Call.objects.ended().filter(end_time__isnull=False)


CSV_COLUMNS = ["call_id", "direction", "from", "to", "start", "answer", "end", "duration_seconds", "disconnect_cause", "tag"]


def csv_row(call: Call) -> list[str]:
    """One call as CSV cells."""
    duration = (call.end_time - call.start_time).total_seconds() if call.start_time and call.end_time else ""
    return [
        call.call_id,
        call.direction,
        call.from_number,
        call.to_number,
        moment(call.start_time),
        moment(call.answer_time),
        moment(call.end_time),
        f"{duration:.0f}" if duration != "" else "",
        call.disconnect_cause,
        call.tag,
    ]
