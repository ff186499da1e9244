"""Actions on conferences and their members.

Bandwidth sends no webhook for mute, hold or coaching, so a member update is confirmed by
reading the member back (GET .../members/{memberId}) once the PUT has answered 204; the read
is what the mirror keeps. https://dev.bandwidth.com/apis/voice/#tag/Conferences
"""

from __future__ import annotations

from django.conf import settings

from voice import bandwidth, flows
from voice.models import Action, ActionKind, Call, ConferenceMember
from voice.performers.done import Done, already_gone


class NotConfirmed(bandwidth.BandwidthError):
    """Bandwidth accepted a member update, but the member reads back otherwise (another
    client of the account changed it in between)."""


def _member_of(action: Action) -> tuple[str, str]:
    conference_id, member_id = action.target.split("/", 1)
    return conference_id, member_id


def _update_member(action: Action, **change) -> bandwidth.MemberInfo:
    """Send the change, read the member back, and keep what Bandwidth read."""
    conference_id, member_id = _member_of(action)
    bandwidth.client().update_member(conference_id, member_id, **change)
    return _read_member(action)


def _read_member(action: Action) -> bandwidth.MemberInfo:
    """The member as Bandwidth has it now, kept in the mirror."""
    conference_id, member_id = _member_of(action)
    info = bandwidth.client().get_member(conference_id, member_id)
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


def flag_applied(action: Action) -> Done | None:
    """Whether a mute or hold was applied, as the member reads at Bandwidth now."""
    flag = "mute" if "mute" in action.params else "hold"
    if getattr(_read_member(action), flag) != bool(action.params[flag]):
        return None
    return Done(f"Confirmed by reading the member at Bandwidth: {flag} is {'on' if action.params[flag] else 'off'}.", 200)


def coaching_applied(action: Action) -> Done | None:
    if set(_read_member(action).call_ids_to_coach) != set(action.params["callIdsToCoach"]):
        return None
    return Done("Confirmed by reading the member at Bandwidth.", 200)


def removal_applied(action: Action) -> Done | None:
    """The member is out once Bandwidth no longer lists it (404)."""
    conference_id, member_id = _member_of(action)
    try:
        bandwidth.client().get_member(conference_id, member_id)
    except bandwidth.PermanentError as error:
        return already_gone(error, "The member", statuses=(404,))
    return None


def end_applied(action: Action) -> Done | None:
    try:
        info = bandwidth.client().get_conference(action.target)
    except bandwidth.PermanentError as error:
        return already_gone(error, "The conference", statuses=(404,))
    return Done("Confirmed by reading the conference at Bandwidth: it has ended.", 200) if info.is_final else None


def placed_applied(action: Action) -> Done | None:
    """Whether createCall placed the action's call (a dial-out, a listening leg) although
    its answer was lost: a call to the number with the action's tag since the action was
    recorded (listCalls, where Bandwidth offers it). A call placed is never placed again:
    not found is a failure."""
    if action.call_id:
        return Done(f"Dialled {action.params['to']} already.")
    tag = _call_tag(action)
    try:
        calls = bandwidth.client().list_calls(min_start_time=action.created_at)
    except bandwidth.PermanentError as error:
        raise bandwidth.PermanentError(f"Bandwidth could not say whether it placed the call ({error}).") from error
    placed = next((call for call in calls if call.to_number == action.params["to"] and call.tag == tag), None)
    if placed is None:
        raise bandwidth.PermanentError("Bandwidth's answer was lost, and no call to the number appears at Bandwidth: not placed.")
    action.placed(placed.call_id)
    Call.placed(placed.call_id, to=action.params["to"], from_number=action.params["from"], tag=tag)
    return Done(f"Dialling {action.params['to']} (found at Bandwidth after its answer was lost).", 200)


def mute(action: Action) -> Done:
    return _set_flag(action, "mute", on="muted", off="unmuted")


def hold(action: Action) -> Done:
    return _set_flag(action, "hold", on="on hold", off="not on hold")


def coach(action: Action) -> Done:
    """An empty list ends coaching. Bandwidth refuses a second coach in a conference."""
    wanted = list(action.params["callIdsToCoach"])
    info = _update_member(action, call_ids_to_coach=wanted)
    if set(info.call_ids_to_coach) != set(wanted):
        raise NotConfirmed("Bandwidth accepted the change, but the member reads back coaching other calls.")
    if not wanted:
        return Done("No longer coaching (read back from Bandwidth).", 204)
    return Done(f"Coaching {len(wanted)} member{'s' if len(wanted) != 1 else ''} (read back from Bandwidth).", 204)


def remove_member(action: Action) -> Done:
    """The member's call gets BXML that says goodbye and hangs up; conferenceMemberExit and
    disconnect follow. See flows.removal for why not a redirect."""
    _, member_id = _member_of(action)
    try:
        bandwidth.client().replace_bxml(member_id, flows.removal())
    except bandwidth.PermanentError as error:
        return already_gone(error, "The call")
    return Done("Removed: the caller hears goodbye and is hung up.", 204)


def end_conference(action: Action) -> Done:
    try:
        bandwidth.client().end_conference(action.target)
    except bandwidth.PermanentError as error:
        # Bandwidth answers 404 for a conference that has completed.
        return already_gone(error, "The conference", statuses=(404,))
    return Done("Ended: every member was taken out.", 204)


def change_recording(action: Action) -> Done:
    """Bandwidth asks for the conference's BXML (conferenceRedirect), and the reply starts or
    stops the recording (voice/handlers/conference_events.py, flows.recording_wanted)."""
    bandwidth.client().redirect_conference(action.target, **flows.redirect_callbacks())
    return Done("Recording starts." if action.params.get("record") else "Recording stops.", 204)


def _call_tag(action: Action) -> str:
    if action.kind == ActionKind.LISTEN:
        return flows.monitor_tag(action.params["conference"], action.params["user"])
    return flows.dial_out_tag(action.params["conference"])


def place_call(action: Action) -> Done:
    """createCall for a dial-out (tagged with the conference: its answer webhook gets that
    conference's BXML) or a listening leg (the operator's own phone, tagged as such: it
    joins muted and unannounced; flows.plan_for). Creating a call is not safe to repeat:
    once the request has left (Action.sending), a lost answer is confirmed by listing calls
    (placed_applied), never by dialling again."""
    tag = _call_tag(action)
    if action.call_id:
        # A redelivered task after the call was placed: never dial twice.
        return Done(f"Dialled {action.params['to']} already.")
    to, from_number = action.params["to"], action.params["from"]
    action.sending()
    created = bandwidth.client().create_call(
        to=to,
        from_number=from_number,
        application_id=settings.BANDWIDTH_APPLICATION_ID,
        tag=tag,
        **flows.outbound_callbacks(),
    )
    action.placed(created.call_id)
    Call.placed(created.call_id, to=to, from_number=from_number, tag=tag)
    return Done(f"Dialling {to}.", 201)


# What a listening leg's mode sets on its member: muted to listen only; heard by the
# coached members alone to whisper; heard by everyone to barge in.
MONITOR_MODES = {"listen": "listening", "whisper": "whispering", "barge": "barged in"}


def _wanted_mode(action: Action) -> tuple[bool, list[str]]:
    mode = action.params["mode"]
    coached = list(action.params.get("callIdsToCoach") or []) if mode == "whisper" else []
    return mode == "listen", coached


def set_monitor_mode(action: Action) -> Done:
    mute, coached = _wanted_mode(action)
    info = _update_member(action, mute=mute, call_ids_to_coach=coached)
    if info.mute != mute or set(info.call_ids_to_coach) != set(coached):
        raise NotConfirmed("Bandwidth accepted the change, but the listening leg reads back otherwise.")
    return Done(f"Now {MONITOR_MODES[action.params['mode']]} (read back from Bandwidth).", 204)


def monitor_mode_applied(action: Action) -> Done | None:
    mute, coached = _wanted_mode(action)
    info = _read_member(action)
    if info.mute != mute or set(info.call_ids_to_coach) != set(coached):
        return None
    return Done(f"Confirmed by reading the member at Bandwidth: {MONITOR_MODES[action.params['mode']]}.", 200)
