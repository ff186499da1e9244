"""The mirror of Bandwidth's objects, the event log, call routes and operator actions: one
module per object.

Webhooks and reconciliation drive the mirror (voice/intake.py, voice/reconcile.py);
operators drive Actions (voice/actions.py, performed by voice/tasks.py). Every lifecycle is
a TextChoices status plus one table of allowed transitions, and every change is a
conditional write, so that two writers (two webhooks, a webhook and a repair, two workers)
cannot both win.
"""

from voice.models.action import (
    ACTION_TRANSITIONS,
    OPEN_ACTION_STATUSES,
    Action,
    ActionBatch,
    ActionKind,
    ActionStatus,
)
from voice.models.call import (
    CALL_TRANSITIONS,
    LIVE_CALL_STATES,
    Call,
    CallState,
    StreamState,
)
from voice.models.conference import (
    CONFERENCE_AGE_WARNING,
    CONFERENCE_MAX_AGE,
    CONFERENCE_MAX_MEMBERS,
    CONFERENCE_MEMBERS_WARNING,
    CONFERENCE_NAME,
    Conference,
    ConferenceMember,
    ConferenceState,
    MemberState,
)
from voice.models.event import Event
from voice.models.mirror import allowed_from, fill_missing, unheard_after
from voice.models.recording import (
    DOWNLOADABLE_RECORDING_STATUSES,
    RECORDING_RETENTION,
    TRANSCRIBABLE_SECONDS,
    TRANSCRIPTION_RETRYABLE,
    Recording,
    RecordingStatus,
    Transcription,
    TranscriptionStatus,
)
from voice.models.route import Route

__all__ = [
    "ACTION_TRANSITIONS",
    "CALL_TRANSITIONS",
    "CONFERENCE_AGE_WARNING",
    "CONFERENCE_MAX_AGE",
    "CONFERENCE_MAX_MEMBERS",
    "CONFERENCE_MEMBERS_WARNING",
    "CONFERENCE_NAME",
    "DOWNLOADABLE_RECORDING_STATUSES",
    "LIVE_CALL_STATES",
    "OPEN_ACTION_STATUSES",
    "RECORDING_RETENTION",
    "TRANSCRIBABLE_SECONDS",
    "TRANSCRIPTION_RETRYABLE",
    "Action",
    "ActionBatch",
    "ActionKind",
    "ActionStatus",
    "Call",
    "CallState",
    "StreamState",
    "Conference",
    "ConferenceMember",
    "ConferenceState",
    "Event",
    "MemberState",
    "Recording",
    "RecordingStatus",
    "Route",
    "Transcription",
    "TranscriptionStatus",
    "allowed_from",
    "fill_missing",
    "unheard_after",
]
