"""The bell on every page: the open alerts, newest first, and how many nobody acknowledged."""

from __future__ import annotations

from dataclasses import dataclass

from console.models import Alert

# The bell lists this many; the alerts page (/alerts/) has them all.
SHOWN = 30


@dataclass(frozen=True)
class Bell:
    alerts: list[Alert]
    open: int
    unacknowledged: int
    # When it was read (console.live_frames.stamp): of a push and a re-read, the later wins.
    stamp: int

    @property
    def more(self) -> int:
        """Open alerts the bell does not list."""
        return self.open - len(self.alerts)

    @classmethod
    def now(cls, read_at: int) -> Bell:
        alerts = Alert.objects.open()
        return cls(
            alerts=list(alerts.select_related("acknowledged_by")[:SHOWN]),
            open=alerts.count(),
            unacknowledged=alerts.filter(acknowledged_at__isnull=True).count(),
            stamp=read_at,
        )
