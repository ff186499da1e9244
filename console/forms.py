"""The operator actions' input: a participant to dial, the members a coach coaches, a
route to redirect a call to."""

from __future__ import annotations

import re

from django import forms

from voice import flows
from voice.models import Conference, ConferenceMember, Route

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


class DialOutForm(forms.Form):
    number = forms.CharField(max_length=32, label="Number to dial")

    def __init__(self, conference: Conference, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conference = conference

    def clean_number(self) -> str:
        # Numbers are pasted as they are seen: "+1 (919) 555-0100".
        number = re.sub(r"[\s().-]", "", self.cleaned_data["number"])
        if not E164.match(number):
            raise forms.ValidationError("Give the number in E.164, as +19195550123.")
        return number

    def clean(self) -> dict:
        data = super().clean()
        # Bandwidth holds 20 members; a 21st would be turned away after ringing.
        if self.conference.is_full:
            conference = self.conference
            raise forms.ValidationError(f"The conference is full ({conference.member_count}/{conference.capacity}).")
        data["from_number"] = flows.dial_out_caller_id(self.conference)
        if not data["from_number"]:
            raise forms.ValidationError("No account number to call from: give this conference a route with a number.")
        return data


class CoachForm(forms.Form):
    """Which of the other members present the coach is heard by; none ends coaching.
    A conference has one coach at most (Bandwidth refuses a second)."""

    call_ids = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Coaches")

    def __init__(self, member: ConferenceMember, others: list[ConferenceMember], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.member = member
        self.fields["call_ids"].choices = [(other.call_id, other.from_number or other.call_id) for other in others]
        self.coach = next((other for other in others if other.is_coach), None)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("call_ids") and self.coach is not None:
            raise forms.ValidationError(
                f"{self.coach.from_number or self.coach.call_id} is the coach: a conference has one coach at most."
            )
        return data


class RedirectForm(forms.Form):
    route = forms.ModelChoiceField(queryset=Route.objects.filter(enabled=True), empty_label=None)
