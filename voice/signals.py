"""The signals voice emits when the mirror or an action changes.

They are the only bridge from voice to the console: voice knows nothing of pages or
websockets; console/live.py listens and pushes the changed rows after commit.
"""

from django.dispatch import Signal

# kwargs: call_id
call_changed = Signal()
# kwargs: conference_id — the conference's own fields (state, recording, completion).
conference_changed = Signal()
# kwargs: conference_id, call_id — one member joined, left, or had mute/hold/coach changed.
member_changed = Signal()
# kwargs: action_id, call_id
action_changed = Signal()
# kwargs: recording_id — a recording or its transcription changed (status, text, archive,
# waveform, deletion).
recording_changed = Signal()
# kwargs: recording_id, ok, detail — an automatic archive (ARCHIVE_RECORDINGS) finished; an
# operator's archive is an Action and reports through action_changed.
recording_archived = Signal()
