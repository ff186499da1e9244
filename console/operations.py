"""What operators do, as one function each: request the action and keep the audit record.

A second request while the same action is under way returns that one and is not audited
twice. A function returns None when there is nothing left to act on (the call has ended,
the member has left, the conference is over).
"""

from __future__ import annotations

from django.dispatch import receiver

from console import listening
from console.models import AuditEntry
from console.recording_page import may_transcribe, transcription_of
from voice import actions, signals
from voice.models import Action, ActionBatch, ActionKind, Call, Conference, ConferenceMember, Recording, Route


def _request(
    user, verb: str, kind: str, *, target: str, call_id: str = "", params: dict | None = None, detail: str = ""
) -> Action:
    action, created = actions.request(kind, target=target, call_id=call_id, user=user, params=params)
    if created:
        AuditEntry.record(user, verb, target, action=action, detail=detail)
    return action


# Calls


def hang_up(user, call: Call) -> Action | None:
    """Hang up a live call."""
    if not call.is_live:
        return None
    detail = f"{call.from_number} → {call.to_number}"
    return _request(user, "hang up", ActionKind.HANGUP, target=call.call_id, call_id=call.call_id, detail=detail)


def redirect(user, call: Call, route: Route) -> Action | None:
    """Send a live call to `route`'s flow."""
    if not call.is_live:
        return None
    return _request(
        user,
        "redirect",
        ActionKind.REDIRECT,
        target=call.call_id,
        call_id=call.call_id,
        params={"route": route.pk, "route_name": route.name},
        detail=f"{call.from_number} → route {route.name}",
    )


# Conference members


def _member_action(user, member: ConferenceMember, verb: str, kind: str, params: dict | None = None) -> Action | None:
    if not member.is_present or not member.conference.is_live:
        return None
    return _request(
        user,
        verb,
        kind,
        target=member.action_target,
        call_id=member.call_id,
        params=params,
        detail=f"{member.from_number} in {member.conference.name or member.conference_id}",
    )


def mute(user, member: ConferenceMember, mute: bool) -> Action | None:
    return _member_action(user, member, "mute" if mute else "unmute", ActionKind.MUTE, {"mute": mute})


def hold(user, member: ConferenceMember, hold: bool) -> Action | None:
    return _member_action(user, member, "hold" if hold else "unhold", ActionKind.HOLD, {"hold": hold})


def coach(user, member: ConferenceMember, call_ids: list[str]) -> Action | None:
    """Make the member the coach of `call_ids` (heard only by them); an empty list ends it."""
    verb = "coach" if call_ids else "stop coaching"
    return _member_action(user, member, verb, ActionKind.COACH, {"callIdsToCoach": call_ids})


def remove(user, member: ConferenceMember) -> Action | None:
    return _member_action(user, member, "remove", ActionKind.REMOVE_MEMBER)


# Conferences


def mute_all(user, conference: Conference, mute: bool) -> ActionBatch | None:
    """Mute (or unmute) every member present, as one batch of member updates."""
    if not conference.is_live:
        return None
    members = list(conference.members.present())
    batch, created = actions.request_batch(
        ActionKind.MUTE, conference=conference, members=members, params={"mute": mute}, user=user
    )
    # One entry for the request, naming its members (each member's action is its own row
    # of the Action table, and the page shows each one's progress).
    if created:
        name = conference.name or conference.conference_id
        numbers = {member.call_id: member.from_number or member.call_id for member in members}
        listed = "; ".join(numbers[action.call_id] for action in created)
        AuditEntry.record(
            user, "mute all" if mute else "unmute all", conference.conference_id, batch=batch, detail=f"{name}: {listed}"
        )
    return batch


def end(user, conference: Conference) -> Action | None:
    if not conference.is_live:
        return None
    return _request(
        user, "end conference", ActionKind.END_CONFERENCE, target=conference.conference_id, detail=conference.name
    )


def record(user, conference: Conference, record: bool) -> Action | None:
    """Start or stop recording the conference."""
    if not conference.is_live:
        return None
    return _request(
        user,
        "start recording" if record else "stop recording",
        ActionKind.CONFERENCE_RECORDING,
        target=conference.conference_id,
        params={"record": record},
        detail=conference.name,
    )


def dial_out(user, conference: Conference, to: str, from_number: str) -> Action | None:
    """Call `to` from the account number `from_number`; answered, it joins the conference."""
    if not conference.is_live:
        return None
    return _request(
        user,
        "dial out",
        ActionKind.DIAL_OUT,
        target=f"{conference.conference_id}/{to}",
        params={"conference": conference.conference_id, "to": to, "from": from_number},
        detail=f"{from_number} → {to} into {conference.name}",
    )


# Listening in


def listen(user, conference: Conference, to: str, from_number: str) -> Action | None:
    """Ring `to`, the operator's own phone, from `from_number`; answered, it joins the
    conference muted and unannounced. One listening leg per operator and conference."""
    if not conference.is_live:
        return None
    return _request(
        user,
        "listen in",
        ActionKind.LISTEN,
        target=f"{conference.conference_id}/listen-{user.pk}",
        params={"conference": conference.conference_id, "to": to, "from": from_number, "user": user.pk},
        detail=f"{to} into {conference.name}",
    )


def listening_mode(user, leg: ConferenceMember, mode: str, call_ids: list[str]) -> Action | None:
    """Set the operator's listening leg to listen only, whisper to `call_ids`, or barge in."""
    if not leg.is_present or not leg.conference.is_live:
        return None
    return _request(
        user,
        listening.MODE_VERBS[mode],
        ActionKind.MONITOR_MODE,
        target=leg.action_target,
        call_id=leg.call_id,
        params={"mode": mode, "callIdsToCoach": call_ids},
        detail=f"listening leg in {leg.conference.name or leg.conference_id}" + (f", to {', '.join(call_ids)}" if call_ids else ""),
    )


def stop_listening(user, leg: ConferenceMember) -> Action | None:
    """Hang the operator's listening leg up."""
    if not leg.is_present:
        return None
    return _request(
        user, "stop listening", ActionKind.HANGUP, target=leg.call_id, call_id=leg.call_id, detail=leg.conference.name
    )


# Recordings


def request_transcription(user, recording: Recording) -> Action | None:
    if not may_transcribe(recording, transcription_of(recording)):
        return None
    return _on_recording(user, recording, ActionKind.TRANSCRIBE, "transcribe recording")


def delete_recording(user, recording: Recording) -> Action | None:
    if not recording.can_be_deleted:
        return None
    return _on_recording(user, recording, ActionKind.DELETE_RECORDING, "delete recording")


def archive_recording(user, recording: Recording) -> Action | None:
    if recording.is_archived or not recording.is_at_bandwidth:
        return None
    return _on_recording(user, recording, ActionKind.ARCHIVE_RECORDING, "archive recording")


def _on_recording(user, recording: Recording, kind: str, verb: str) -> Action:
    if recording.is_conference:
        detail = f"conference {recording.conference.name if recording.conference else recording.conference_id}"
    else:
        detail = f"{recording.from_number} → {recording.to_number}"
    return _request(user, verb, kind, target=recording.recording_id, call_id=recording.call_id or "", detail=detail)


@receiver(signals.action_recorded)
def _audit_switchboards_own(sender, action: Action, **kwargs) -> None:
    """An action Switchboard requests itself (ARCHIVE_RECORDINGS archives each recording
    once available) is audited as done by the system; an operator's is audited where it is
    requested (_request)."""
    if action.requested_by_id is None:
        AuditEntry.record(None, action.get_kind_display().lower(), action.target, action=action, detail="automatically")
