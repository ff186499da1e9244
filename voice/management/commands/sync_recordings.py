"""python manage.py sync_recordings --since … --until … — import the recordings webhooks missed."""

from __future__ import annotations

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from voice import bandwidth, reconcile
from voice.models import RECORDING_RETENTION


def moment(value: str) -> datetime:
    """A date (its midnight) or a date and time; without a zone, in TIME_ZONE."""
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        parsed = datetime.combine(day, time.min)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class Command(BaseCommand):
    help = (
        "Import the recordings (and transcriptions) Bandwidth lists as started between --since "
        "and --until that Switchboard lacks: call recordings by listAccountRecordings, conference "
        "recordings per conference. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", help="a date or ISO 8601 time (default: 30 days ago, all Bandwidth keeps)"
        )
        parser.add_argument("--until", help="a date or ISO 8601 time (default: now)")

    def handle(self, *args, **options) -> None:
        try:
            until = moment(options["until"]) if options["until"] else timezone.now()
            since = moment(options["since"]) if options["since"] else until - RECORDING_RETENTION
        except ValueError as error:
            raise CommandError(f"Not a date or time: {error}") from None
        if since >= until:
            raise CommandError("--since must be before --until.")
        try:
            report = reconcile.sync_recordings(since, until)
        except bandwidth.BandwidthError as error:
            raise CommandError(f"Bandwidth could not be read: {error}") from error
        self.stdout.write(f"listed:      {report.listed} recordings in {report.windows} windows and {report.conferences} conferences")
        self.stdout.write(f"imported:    {report.imported} new or completed")
