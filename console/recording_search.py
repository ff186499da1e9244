"""Searching the recordings: the form, the transcript search, and the rows a list shows."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from console import directory
from console.forms import DayRangeForm, PartyField, SecondsField
from voice.models import Recording, RecordingStatus, Transcription

class RecordingSearchForm(DayRangeForm):
    q = forms.CharField(required=False, max_length=200, label="Words in the transcript")
    number = PartyField(required=False, label="Number or name")
    call = forms.CharField(required=False, max_length=100, label="Call id")
    conference = forms.CharField(required=False, max_length=100, label="Conference (name or id)")
    min_seconds = SecondsField(required=False, label="Longer than (s)")
    max_seconds = SecondsField(required=False, label="Shorter than (s)")
    transcript = forms.ChoiceField(
        required=False, choices=[("", "With or without a transcript"), ("yes", "With a transcript"), ("no", "Without")]
    )
    deleted = forms.BooleanField(required=False, label="Include deleted")

    @property
    def words(self) -> list[str]:
        return self.cleaned_data.get("q", "").split() if self.is_valid() else []

    def apply(self, recordings: QuerySet[Recording]) -> QuerySet[Recording]:
        if not self.is_valid():
            return recordings.none()
        data = self.cleaned_data
        if not data["deleted"]:
            recordings = recordings.exclude(status=RecordingStatus.DELETED)
        recordings = self.within_days(recordings, "start_time")
        if data["number"]:
            recordings = recordings.filter(directory.matching(data["number"], "from_number", "to_number"))
        if data["call"]:
            recordings = recordings.filter(call_id=data["call"].strip())
        if data["conference"]:
            name = data["conference"].strip()
            recordings = recordings.filter(Q(conference_id=name) | Q(conference__name__iexact=name))
        if data["min_seconds"] is not None:
            recordings = recordings.filter(duration_seconds__gt=data["min_seconds"])
        if data["max_seconds"] is not None:
            recordings = recordings.filter(duration_seconds__lt=data["max_seconds"])
        if data["transcript"] == "yes":
            recordings = recordings.filter(transcription__fetched_at__isnull=False, transcription__text__gt="")
        elif data["transcript"] == "no":
            recordings = recordings.exclude(transcription__fetched_at__isnull=False, transcription__text__gt="")
        if data["q"].strip():
            recordings = transcript_search(recordings, data["q"])
        return recordings


# At most this many matches are fetched by id (see transcript_search).
SPARSE_MATCHES = 5000


def transcript_search(recordings: QuerySet[Recording], words: str) -> QuerySet[Recording]:
    """PostgreSQL's full-text search (stemmed English, web-search syntax: "quoted phrases",
    or, -not), served by the GIN index of voice's migration 0004; elsewhere (SQLite, the
    embedded default) every word must appear in the transcript.

    Newest first, a page of a word many transcripts hold is found fastest by walking the
    recordings by time and checking each; a rare word that way means reading the whole
    table (seconds on a million rows), which PostgreSQL's estimates do not foresee. So the
    matches are first asked of the GIN index, up to SPARSE_MATCHES: fewer, and the page is
    chosen among them by id (docs/benchmarks.md, "Recordings list")."""
    if connection.vendor != "postgresql":
        for word in words.split():
            recordings = recordings.filter(transcription__text__icontains=word.strip('"'))
        return recordings
    from django.contrib.postgres.search import SearchQuery, SearchVector

    query = SearchQuery(words, config="english", search_type="websearch")
    matching = list(
        Transcription.objects.alias(document=SearchVector("text", config="english"))
        .filter(document=query)
        .values_list("recording_id", flat=True)[: SPARSE_MATCHES + 1]
    )
    if len(matching) <= SPARSE_MATCHES:
        return recordings.filter(pk__in=matching)
    return recordings.alias(document=SearchVector("transcription__text", config="english")).filter(document=query)


def listed() -> QuerySet[Recording]:
    return Recording.objects.listed().select_related("transcription", "conference")


@dataclass(frozen=True)
class RecordingRow:
    recording: Recording
    excerpt: SafeString

    @property
    def dom_id(self) -> str:
        return f"recording-row-{self.recording.recording_id}"


def rows(recordings: list[Recording], words: list[str]) -> list[RecordingRow]:
    return [RecordingRow(recording, excerpt(_text(recording), words)) for recording in recordings]


def _text(recording: Recording) -> str:
    try:
        return recording.transcription.text
    except Transcription.DoesNotExist:
        return ""


EXCERPT_CHARS = 160


def excerpt(text: str, words: list[str]) -> SafeString:
    """Up to EXCERPT_CHARS of the transcript around the first word searched for, the words
    marked (a word matches where it begins one in the text: "invoice" marks "invoices")."""
    terms = [re.escape(word.strip('"-').lower()) for word in words if len(word.strip('"-')) > 1]
    if not text or not terms:
        return mark_safe(escape(text[:EXCERPT_CHARS]) + ("…" if len(text) > EXCERPT_CHARS else ""))
    pattern = re.compile(r"\b(?:" + "|".join(terms) + r")\w*", re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, first.start() - EXCERPT_CHARS // 3) if first else 0
    shown = text[start : start + EXCERPT_CHARS]
    parts, position = [], 0
    for match in pattern.finditer(shown):
        parts += [escape(shown[position : match.start()]), f"<mark>{escape(match.group())}</mark>"]
        position = match.end()
    parts.append(escape(shown[position:]))
    return mark_safe(("…" if start else "") + "".join(parts) + ("…" if start + EXCERPT_CHARS < len(text) else ""))
