"""A call's timeline: its webhooks, reconciliation repairs and operator actions, merged in
the order Switchboard learnt of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from voice.models import Action, Event


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # "webhook", "repair" or "action"
    title: str
    event: Event | None = None
    action: Action | None = None

    @property
    def raw(self) -> str:
        if self.event is not None:
            return json.dumps(self.event.payload, indent=2, sort_keys=True)
        return ""


def call_timeline(call_id: str) -> list[Entry]:
    entries = [
        Entry(
            at=event.received_at,
            kind="repair" if event.source == Event.Source.RECONCILIATION else "webhook",
            title=event.event_type,
            event=event,
        )
        for event in Event.objects.filter(call_id=call_id)
    ]
    entries += [
        Entry(at=action.created_at, kind="action", title=action.get_kind_display(), action=action)
        for action in Action.objects.filter(call_id=call_id).select_related("requested_by")
    ]
    return sorted(entries, key=lambda entry: entry.at)
