"""Actions on conferences and their members.

Bandwidth sends no webhook for mute, hold or coaching, so a member update is confirmed by
reading the member back (GET .../members/{memberId}) once the PUT has answered 204; the read
is what the mirror keeps. https://dev.bandwidth.com/apis/voice/#tag/Conferences
"""

from __future__ import annotations

from django.conf import settings

from voice import bandwidth, flows, signals
from voice.actions import Done, performer
from voice.models import Action, ActionKind, Call, CallState, ConferenceMember


class NotConfirmed(bandwidth.BandwidthError):
    """Bandwidth accepted a member update, but the member reads back otherwise (another
    client of the account changed it in between)."""


def _member_of(action: Action) -> tuple[str, str]:
    conference_id, member_id = action.target.split("/", 1)
    return conference_id, member_id


def _update_member(action: Action, **change) -> bandwidth.MemberInfo:
    """Send the change, read the member back, and keep what Bandwidth read."""
    conference_id, member_id = _member_of(action)
    client = bandwidth.client()
    client.update_member(conference_id, member_id, **change)
    info = client.get_member(conference_id, member_id)
    ConferenceMember.record_controls(
        conference_id, member_id, mute=info.mute, hold=info.hold, call_ids_to_coach=info.call_ids_to_coach
    )
    return info


def _set_flag(action: Action, flag: str, on: str, off: str) -> Done:
    """Set the member's `flag` (mute, hold) to the action's wish, and confirm it from the read."""
    wanted = bool(action.params[flag])
    read = getattr(_update_member(action, **{flag: wanted}), flag)
    if read != wanted:
        raise NotConfirmed(f"Bandwidth accepted the change, but the member reads back {on if read else off}.")
    state = on if wanted else off
    return Done(f"{state[0].upper()}{state[1:]} (read back from Bandwidth).", 204)


@performer(ActionKind.MUTE)
def mute(action: Action) -> Done:
    return _set_flag(action, "mute", on="muted", off="unmuted")


@performer(ActionKind.HOLD)
def hold(action: Action) -> Done:
    return _set_flag(action, "hold", on="on hold", off="not on hold")


@performer(ActionKind.COACH)
def coach(action: Action) -> Done:
    """An empty list ends coaching. Bandwidth refuses a second coach in a conference."""
    wanted = list(action.params["callIdsToCoach"])
    info = _update_member(action, call_ids_to_coach=wanted)
    if set(info.call_ids_to_coach) != set(wanted):
        raise NotConfirmed("Bandwidth accepted the change, but the member reads back coaching other calls.")
    if not wanted:
        return Done("No longer coaching (read back from Bandwidth).", 204)
    return Done(f"Coaching {len(wanted)} member{'s' if len(wanted) != 1 else ''} (read back from Bandwidth).", 204)


@performer(ActionKind.REMOVE_MEMBER)
def remove_member(action: Action) -> Done:
    """The member's call gets BXML that says goodbye and hangs up; conferenceMemberExit and
    disconnect follow. See flows.removal for why not a redirect."""
    _, member_id = _member_of(action)
    try:
        bandwidth.client().replace_bxml(member_id, flows.removal())
    except bandwidth.PermanentError as error:
        # 404: Bandwidth no longer knows the call; 409: it has ended. It is out either way.
        if error.status in (404, 409):
            return Done(f"The call had already ended ({error}).", error.status)
        raise
    return Done("Removed: the caller hears goodbye and is hung up.", 204)


@performer(ActionKind.END_CONFERENCE)
def end_conference(action: Action) -> Done:
    try:
        bandwidth.client().end_conference(action.target)
    except bandwidth.PermanentError as error:
        # Bandwidth answers 404 for a conference that has completed.
        if error.status == 404:
            return Done(f"The conference had already ended ({error}).", 404)
        raise
    return Done("Ended: every member was taken out.", 204)


@performer(ActionKind.CONFERENCE_RECORDING)
def change_recording(action: Action) -> Done:
    """Bandwidth asks for the conference's BXML (conferenceRedirect), and the reply starts or
    stops the recording (voice/handlers/conferences.py, flows.recording_wanted)."""
    bandwidth.client().redirect_conference(action.target, **flows.redirect_callbacks())
    return Done("Recording starts." if action.params.get("record") else "Recording stops.", 204)


@performer(ActionKind.DIAL_OUT)
def dial_out(action: Action) -> Done:
    """createCall tagged with the conference: its answer webhook gets that conference's BXML
    (flows.plan_for). Creating a call is not safe to repeat: a connection lost after sending
    fails the action (OutcomeUnknown) instead of dialling the number twice."""
    if action.call_id:
        # A redelivered task after the call was placed: never dial twice.
        return Done(f"Dialled {action.params['to']} already.")
    to, from_number = action.params["to"], action.params["from"]
    created = bandwidth.client().create_call(
        to=to,
        from_number=from_number,
        application_id=settings.BANDWIDTH_APPLICATION_ID,
        tag=flows.DIAL_OUT_TAG + action.params["conference"],
        **flows.outbound_callbacks(),
    )
    Action.objects.filter(pk=action.pk).update(call_id=created.call_id)
    # Outbound calls have no initiate webhook: the call is on the board, ringing, from now.
    _, placed = Call.objects.get_or_create(
        call_id=created.call_id,
        defaults={
            "direction": Call.Direction.OUTBOUND,
            "state": CallState.INITIATED,
            "from_number": from_number,
            "to_number": to,
            "tag": flows.DIAL_OUT_TAG + action.params["conference"],
        },
    )
    if placed:
        signals.call_changed.send(sender=Call, call_id=created.call_id)
    return Done(f"Dialling {to}.", 201)
