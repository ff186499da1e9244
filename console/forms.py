"""The operators' input: the fields and forms the lists' searches share, and the actions'
input (a participant to dial, the members a coach coaches, a route to redirect a call to)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.utils import timezone

from console import directory
from console import phone_numbers
from console.models import DirectoryEntry, OperatorProfile
from voice import flows
from voice.models import Conference, ConferenceMember, Route

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


class PhoneNumberField(forms.CharField):
    """A number, or part of one, as people paste it ("+1 (919) 555-0100"): spaces, brackets,
    dots and dashes are dropped."""

    def to_python(self, value) -> str:
        return re.sub(r"[\s().-]", "", super().to_python(value))


class PartyField(forms.CharField):
    """A search for a party to a call: a number in any form people write it, or part of one,
    or a name or label in the directory (console/directory.py, matching)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)


class DayField(forms.DateField):
    """A day from 2000 to 2099. No search needs to reach further, and a day at the end of
    the calendar (9999-12-31) would overflow once the search adds a day or a time zone to it."""

    FIRST, LAST = date(2000, 1, 1), date(2099, 12, 31)

    def __init__(self, **kwargs) -> None:
        message = f"Choose a day from {self.FIRST:%Y-%m-%d} to {self.LAST:%Y-%m-%d}."
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(
            validators=[MinValueValidator(self.FIRST, message), MaxValueValidator(self.LAST, message)], **kwargs
        )


class SecondsField(forms.IntegerField):
    """A length in seconds, a week at most: far beyond any call or recording, and small
    enough to add to any time the database holds (a number of any size would overflow)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(min_value=0, max_value=7 * 24 * 3600, **kwargs)


class DayRangeForm(forms.Form):
    """A search by whole days, `since` to `until` included, in the operator's time zone (the
    active one)."""

    since = DayField(required=False, label="From")
    until = DayField(required=False, label="to")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The start of the range is after its end.")
        return data

    def within_days(self, queryset: QuerySet, field: str) -> QuerySet:
        data, zone = self.cleaned_data, timezone.get_current_timezone()
        if data["since"]:
            queryset = queryset.filter(**{f"{field}__gte": datetime.combine(data["since"], time.min, zone)})
        if data["until"]:
            queryset = queryset.filter(**{f"{field}__lt": datetime.combine(data["until"] + timedelta(days=1), time.min, zone)})
        return queryset


class DialOutForm(forms.Form):
    number = PhoneNumberField(max_length=32, label="Number to dial")

    def __init__(self, conference: Conference, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conference = conference

    def clean_number(self) -> str:
        number = self.cleaned_data["number"]
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
                f"{directory.described(self.coach.from_number) if self.coach.from_number else self.coach.call_id} is the coach: a conference has one coach at most."
            )
        return data


class ListenForm(forms.Form):
    """Listening in rings the operator's own phone from the conference's account number; the
    leg is a member, so Bandwidth refuses it in a full conference."""

    def __init__(self, conference: Conference, phone: str, listening: bool, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conference, self.phone, self.listening = conference, phone, listening

    def clean(self) -> dict:
        data = super().clean()
        conference = self.conference
        if self.listening:
            raise forms.ValidationError("You are listening to this conference already.")
        if not self.phone:
            raise forms.ValidationError("Set your phone in your profile first: the console rings it to listen in.")
        if conference.is_full:
            raise forms.ValidationError(
                f"The conference is full ({conference.member_count}/{conference.capacity}): Bandwidth would refuse a listening leg."
            )
        data["from_number"] = flows.dial_out_caller_id(conference)
        if not data["from_number"]:
            raise forms.ValidationError("No account number to call from: give this conference a route with a number.")
        return data


class ListeningModeForm(forms.Form):
    """Listen only, whisper to the members picked (they alone hear the operator), or barge in
    (everyone hears them). A conference has one coach at most, and a whisper makes the leg it."""

    mode = forms.ChoiceField(choices=[("listen", "Listen only"), ("whisper", "Whisper"), ("barge", "Barge in")])
    call_ids = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Whisper to")

    def __init__(self, leg: ConferenceMember, others: list[ConferenceMember], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["call_ids"].choices = [(other.call_id, other.from_number or other.call_id) for other in others]
        self.coach = next((other for other in others if other.is_coach), None)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("mode") != "whisper":
            data["call_ids"] = []
        elif not data.get("call_ids"):
            raise forms.ValidationError("Pick the members to whisper to.")
        elif self.coach is not None:
            raise forms.ValidationError(
                f"{directory.described(self.coach.from_number) if self.coach.from_number else self.coach.call_id} is coaching: a conference has one coach at most."
            )
        return data


class OperatorProfileForm(forms.ModelForm):
    class Meta:
        model = OperatorProfile
        fields = ["phone", "alert_notifications"]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        # A number as people type it; a SIP URI as given.
        return phone if phone.startswith("sip") else re.sub(r"[\s().-]", "", phone)


class RedirectForm(forms.Form):
    route = forms.ModelChoiceField(queryset=Route.objects.filter(enabled=True), empty_label=None)


class DirectoryEntryForm(forms.ModelForm):
    """A directory entry, its number as people write it ("(919) 555-0100", "+44 20 7946
    0000") and kept in E.164."""

    number = forms.CharField(max_length=40, label="Number")

    class Meta:
        model = DirectoryEntry
        fields = ["number", "name", "kind", "label"]
        labels = {"label": "Team or label"}

    def clean_number(self) -> str:
        number = phone_numbers.to_e164(self.cleaned_data["number"])
        if not number:
            raise forms.ValidationError("Not a phone number: write it as +19195550123 or (919) 555-0123.")
        return number


class DirectoryImportForm(forms.Form):
    file = forms.FileField(label="CSV file")
