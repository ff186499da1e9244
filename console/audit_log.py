"""The audit log's filters and CSV cells."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q, QuerySet
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from console import directory, phone_numbers
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
            entries = entries.filter(on_matching(data["target"]))
        return entries


# A number in E.164 inside an entry's text ("+15551110001 in sales-floor").
NUMBER_IN_TEXT = re.compile(r"(?<![\w+])\+[1-9]\d{6,14}\b")
# A search by a name looks for at most this many of the directory's numbers in the entries.
NAMED_NUMBERS = 50


def on_matching(text: str) -> Q:
    """Entries about what `text` names: a call, conference or recording id, words of their
    detail (a conference's name), a number in either form, or a name in the directory."""
    text = text.strip()
    found = Q(target__icontains=text) | Q(detail__icontains=text)
    digits = phone_numbers.search_digits(text) if directory.NUMBERISH.match(text) else ""
    if digits:
        found |= Q(target__contains=digits) | Q(detail__contains=digits)
    for number in directory.numbers_named(text)[:NAMED_NUMBERS]:
        found |= Q(target=number) | Q(detail__contains=number)
    return found


def as_people_read(text: str) -> SafeString:
    """An entry's text with each number as a person reads it, named from the directory."""
    parts, last = [], 0
    for match in NUMBER_IN_TEXT.finditer(text):
        parts.append(conditional_escape(text[last : match.start()]))
        parts.append(format_html('<span class="party-text" title="{}">{}</span>', match[0], directory.described(match[0])))
        last = match.end()
    parts.append(conditional_escape(text[last:]))
    return mark_safe("".join(parts))


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
