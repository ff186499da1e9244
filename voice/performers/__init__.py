"""What each kind of operator action does at Bandwidth: one function per kind, one module
per area, and these tables.

Each performer takes the claimed Action, makes its request through voice/bandwidth.py and
returns Done (what happened, in words, and Bandwidth's status); a BandwidthError it raises is
classified by voice.actions.perform (retry, fail).

A confirmer answers, by reading Bandwidth, whether an action was applied when its request
may have reached Bandwidth without an answer coming back (a worker that died while sending,
a connection lost after sending): Done if it was, None if not (to be sent again), or a
PermanentError to fail it, saying why. A kind without one is safe to send again.
"""

from collections.abc import Callable

from voice.models import Action, ActionKind
from voice.performers import call_actions, conference_actions, recording_actions
from voice.performers.done import Done

PERFORMERS: dict[str, Callable[[Action], Done]] = {
    ActionKind.HANGUP: call_actions.hang_up,
    ActionKind.REDIRECT: call_actions.redirect,
    ActionKind.MUTE: conference_actions.mute,
    ActionKind.HOLD: conference_actions.hold,
    ActionKind.COACH: conference_actions.coach,
    ActionKind.REMOVE_MEMBER: conference_actions.remove_member,
    ActionKind.END_CONFERENCE: conference_actions.end_conference,
    ActionKind.CONFERENCE_RECORDING: conference_actions.change_recording,
    ActionKind.DIAL_OUT: conference_actions.place_call,
    ActionKind.LISTEN: conference_actions.place_call,
    ActionKind.MONITOR_MODE: conference_actions.set_monitor_mode,
    ActionKind.TRANSCRIBE: recording_actions.transcribe,
    ActionKind.DELETE_RECORDING: recording_actions.delete,
    ActionKind.ARCHIVE_RECORDING: recording_actions.keep_copy,
}

CONFIRMERS: dict[str, Callable[[Action], Done | None]] = {
    ActionKind.HANGUP: call_actions.hang_up_applied,
    ActionKind.MUTE: conference_actions.flag_applied,
    ActionKind.HOLD: conference_actions.flag_applied,
    ActionKind.COACH: conference_actions.coaching_applied,
    ActionKind.REMOVE_MEMBER: conference_actions.removal_applied,
    ActionKind.END_CONFERENCE: conference_actions.end_applied,
    ActionKind.DIAL_OUT: conference_actions.placed_applied,
    ActionKind.LISTEN: conference_actions.placed_applied,
    ActionKind.MONITOR_MODE: conference_actions.monitor_mode_applied,
}
