"""One recording's page: the actions on it, its transcription, its waveform wanted, and what
an operator may do to it."""

from __future__ import annotations


from django.core.cache import cache

from voice import tasks
from voice.models import TRANSCRIPTION_RETRYABLE, Action, ActionKind, Recording, Transcription

# The actions on a recording, by the names templates look them up by.
_ACTION_NAMES = {ActionKind.TRANSCRIBE: "transcribe", ActionKind.DELETE_RECORDING: "delete", ActionKind.ARCHIVE_RECORDING: "archive"}
RECORDING_ACTIONS = frozenset(_ACTION_NAMES)


def latest_actions(recording: Recording) -> dict[str, Action]:
    """The latest action of each kind on this recording (shown pending, done or failed), as
    {"transcribe": …, "delete": …, "archive": …}. Actions carry the recording's call id,
    which is indexed."""
    latest: dict[str, Action] = {}
    actions_on_it = Action.objects.filter(
        call_id=recording.call_id or "", target=recording.recording_id, kind__in=RECORDING_ACTIONS
    )
    for action in actions_on_it.order_by("created_at", "id"):
        latest[_ACTION_NAMES[action.kind]] = action
    return latest


def transcription_of(recording: Recording) -> Transcription | None:
    return Transcription.objects.filter(recording=recording).first()


def want_waveform(recording: Recording) -> None:
    """Compute the waveform the first time someone looks at the recording; the page shows it
    when it arrives (the task's change is pushed). One request per recording at a time."""
    if recording.peaks is None and recording.is_playable and _first_to_want(f"waveform-wanted:{recording.pk}"):
        tasks.compute_waveform.delay_on_commit(recording.pk)


def _first_to_want(key: str) -> bool:
    """Whether no one asked for this in the last two minutes; yes when the cache (Redis)
    does not answer: a second computation costs less than a page that fails."""
    try:
        return cache.add(key, True, 120)
    except Exception:
        return True


def may_transcribe(recording: Recording, transcription: Transcription | None) -> bool:
    """Not for a conference recording (Bandwidth cannot transcribe those), one Bandwidth no
    longer has, or one transcribed or being transcribed; again after a failure a new
    request may cure."""
    return recording.can_be_transcribed and (transcription is None or transcription.status in TRANSCRIPTION_RETRYABLE)
