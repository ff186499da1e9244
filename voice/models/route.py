"""Call routes: which flow a call gets (voice/flows.py)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from voice.models.conference import CONFERENCE_NAME

# Call flows


class Route(models.Model):
    """Which BXML a call gets: the flow of the most specific route matching its number.

    An inbound call is routed by the number it called (`to`); an outbound call, answered,
    by the account number it was placed from (`from`), so that a call placed from the sales
    line gets the sales flow. Exact beats prefix, a longer prefix beats a shorter one, then
    the lower priority number wins; a default route catches the rest (voice/flows.py)."""

    class Match(models.TextChoices):
        EXACT = "exact", "the number exactly"
        PREFIX = "prefix", "numbers starting with"
        DEFAULT = "default", "any number (default route)"

    class Flow(models.TextChoices):
        CONFERENCE = "conference", "join a conference"
        SPEAK_HANGUP = "speak-hangup", "speak, then hang up"
        SPEAK_HOLD = "speak-hold", "speak, then hold"
        RECORD = "record", "record a message"
        FORWARD = "forward", "forward to a number"

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    match = models.CharField(max_length=16, choices=Match.choices, default=Match.EXACT)
    number = models.CharField(
        max_length=64,
        blank=True,
        help_text="E.164 (+19195550100) for an exact match, or its beginning (+1919555) for a prefix.",
    )
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Among equally specific routes, the lowest number wins."
    )
    flow = models.CharField(max_length=16, choices=Flow.choices)
    sentence = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Spoken first (before joining, recording, hanging up or holding). Not spoken before a forward.",
    )
    conference_name = models.CharField(max_length=100, blank=True, validators=[CONFERENCE_NAME])
    join_muted = models.BooleanField(default=False, help_text="Heard by no one, hears everyone.")
    join_on_hold = models.BooleanField(default=False, help_text="Neither hears nor is heard.")
    join_as_coach = models.BooleanField(
        default=False, help_text="Coaches the members in the conference when the call joins (heard only by them)."
    )
    record_conference = models.BooleanField(default=False, help_text="Record the conference from its creation.")
    show_talking = models.BooleanField(
        "show who is talking",
        default=False,
        help_text="Streams each member's voice to the console, whose conference page shows who is talking and which line is noisy.",
    )
    max_record_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(10800)]
    )
    transcribe = models.BooleanField(default=True, help_text="Transcribe the recorded message.")
    forward_to = models.CharField(max_length=128, blank=True, help_text="E.164 number or SIP URI.")
    forward_from = models.CharField(max_length=64, blank=True, help_text="Caller ID to show; the caller's if empty.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["match", "number", "priority", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.match == self.Match.DEFAULT and self.number:
            errors["number"] = "A default route matches every number; leave this empty."
        if self.match != self.Match.DEFAULT and not self.number:
            errors["number"] = "Give the number (or its beginning) this route matches."
        if self.flow == self.Flow.CONFERENCE and not self.conference_name:
            errors["conference_name"] = "Name the conference to join."
        if self.flow == self.Flow.FORWARD and not self.forward_to:
            errors["forward_to"] = "Give the number to forward to."
        if self.flow in (self.Flow.SPEAK_HANGUP, self.Flow.SPEAK_HOLD) and not self.sentence:
            errors["sentence"] = "Give the sentence to speak."
        if errors:
            raise ValidationError(errors)

    def specificity(self, number: str) -> tuple | None:
        """How well this route matches `number` (smaller is better), or None."""
        if not self.enabled:
            return None
        if self.match == self.Match.EXACT and number == self.number:
            return (0, 0, self.priority, self.pk or 0)
        if self.match == self.Match.PREFIX and self.number and number.startswith(self.number):
            return (1, -len(self.number), self.priority, self.pk or 0)
        if self.match == self.Match.DEFAULT:
            return (2, 0, self.priority, self.pk or 0)
        return None
