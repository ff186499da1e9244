"""What operators do, as one function each: request the action and keep the audit record."""

from __future__ import annotations

from console.models import AuditEntry
from voice import actions
from voice.models import Action, ActionKind, Call


def hang_up(user, call: Call) -> Action | None:
    """Hang up a live call; None if it has already ended. A second request while one is
    under way returns that one and is not audited twice."""
    if not call.is_live:
        return None
    action, created = actions.request(ActionKind.HANGUP, target=call.call_id, call_id=call.call_id, user=user)
    if created:
        AuditEntry.record(user, "hang up", call.call_id, action=action, detail=f"{call.from_number} → {call.to_number}")
    return action
