"""A call's timeline: its webhooks, reconciliation repairs and operator actions, merged in
the order Switchboard learnt of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from voice.models import Action, ActionKind, Event

# A mute or hold action carries its direction in its params: its kind alone would read
# "Mute" for an unmute.
_UNDOING = {ActionKind.MUTE: ("mute", "Unmute"), ActionKind.HOLD: ("hold", "Unhold")}


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
        Entry(at=action.created_at, kind="action", title=action_title(action), action=action)
        for action in Action.objects.filter(call_id=call_id).select_related("requested_by")
    ]
    return sorted(entries, key=lambda entry: entry.at)


def action_title(action: Action) -> str:
    """What the action did, as an operator says it: Unmute, Unhold, Stop coaching."""
    undoing = _UNDOING.get(action.kind)
    if undoing and (action.params or {}).get(undoing[0]) is False:
        return undoing[1]
    if action.kind == ActionKind.COACH and not (action.params or {}).get("callIdsToCoach"):
        return "Stop coaching"
    return action.get_kind_display()
