"""The signals voice emits when the mirror or an action changes, or when there is work for
a worker.

They are how voice speaks to what sits above it without importing it: the console (pages,
websockets: console/live.py pushes the changed rows after commit; the audit log) and
voice's own tasks (voice/tasks.py hands the work to Celery after commit). Each change is
sent by the model method that made it, inside its transaction.
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
# kwargs: action — an action was recorded (by an operator, or by Switchboard itself when
# requested_by is None) and waits for a worker.
action_recorded = Signal()
# kwargs: transcription_pk — Bandwidth has a transcript Switchboard has not fetched yet.
transcript_wanted = Signal()
