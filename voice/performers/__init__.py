"""What each kind of operator action does at Bandwidth: one function per kind, one module
per area, and this table.

Each performer takes the claimed Action, makes its request through voice/bandwidth.py and
returns Done (what happened, in words, and Bandwidth's status); a BandwidthError it raises is
classified by voice.actions.perform (retry, fail).
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
    ActionKind.DIAL_OUT: conference_actions.dial_out,
    ActionKind.TRANSCRIBE: recording_actions.transcribe,
    ActionKind.DELETE_RECORDING: recording_actions.delete,
    ActionKind.ARCHIVE_RECORDING: recording_actions.keep_copy,
}
