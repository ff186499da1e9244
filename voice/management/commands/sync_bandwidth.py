"""python manage.py sync_bandwidth — read Bandwidth's calls and conferences and repair the mirror."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from voice import reconcile


class Command(BaseCommand):
    help = (
        "Reconcile now: list the calls and conferences Bandwidth keeps, re-read every one "
        "Switchboard has live, and repair the mirror (each repair is in the event log). "
        "Also the first import of an account that already has calls running."
    )

    def handle(self, *args, **options) -> None:
        report = reconcile.run(full=True)
        self.stdout.write(f"calls listed:        {_listed(report.calls_listed)}")
        self.stdout.write(f"conferences listed:  {_listed(report.conferences_listed)}")
        self.stdout.write(f"calls re-read:       {report.calls_read}")
        self.stdout.write(f"conferences re-read: {report.conferences_read}")
        self.stdout.write(f"repairs:             {report.repairs}")
        self.stdout.write(f"stuck calls:         {report.stuck}")
        if report.errors:
            raise CommandError("Bandwidth could not be read completely:\n  " + "\n  ".join(report.errors))


def _listed(count: int | None) -> str:
    return "not offered by this Bandwidth" if count is None else str(count)
