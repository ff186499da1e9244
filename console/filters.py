"""The live board's filters: parsed and validated by a form, applied as one QuerySet filter,
and kept in the URL so that a view can be bookmarked."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet

from console.forms import PhoneNumberField
from voice.models import LIVE_CALL_STATES, Call

LIVE_STATES = [(state.value, state.label) for state in LIVE_CALL_STATES]


class CallFilterForm(forms.Form):
    number = PhoneNumberField(required=False, max_length=64, label="Number")
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *LIVE_STATES])
    direction = forms.ChoiceField(required=False, choices=[("", "Any direction"), *Call.Direction.choices])
    tag = forms.CharField(required=False, max_length=256)
    stuck = forms.BooleanField(required=False, label="Stuck only")

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())

    def apply(self, calls: QuerySet[Call]) -> QuerySet[Call]:
        if not self.is_valid():
            return calls
        data = self.cleaned_data
        if data["number"]:
            calls = calls.filter(Q(from_number__icontains=data["number"]) | Q(to_number__icontains=data["number"]))
        if data["state"]:
            calls = calls.filter(state=data["state"])
        if data["direction"]:
            calls = calls.filter(direction=data["direction"])
        if data["tag"]:
            calls = calls.filter(tag__icontains=data["tag"])
        if data["stuck"]:
            calls = calls.stuck()
        return calls
