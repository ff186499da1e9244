"""What must hold whatever webhooks arrive: every mirror row was written by an event the
event log kept (a refusal writes none). Plain SQL over a DB-API cursor, so that the same
check reads this test's database or a running stack's PostgreSQL."""

from __future__ import annotations

# Each query counts the rows of one kind that no kept event (webhook or repair) names.
_KEPT = "e.outcome <> 'refused'"
ORPHANS = {
    "calls": f"""
        SELECT count(*) FROM voice_call c
        WHERE NOT EXISTS (SELECT 1 FROM voice_event e WHERE e.call_id = c.call_id AND {_KEPT})""",
    "conferences": f"""
        SELECT count(*) FROM voice_conference f
        WHERE NOT EXISTS (SELECT 1 FROM voice_event e WHERE e.conference_id = f.conference_id AND {_KEPT})""",
    "members": f"""
        SELECT count(*) FROM voice_conferencemember m
        WHERE NOT EXISTS (
            SELECT 1 FROM voice_event e
            WHERE e.conference_id = m.conference_id AND e.call_id = m.call_id AND {_KEPT})""",
    "recordings": f"""
        SELECT count(*) FROM voice_recording r
        WHERE NOT EXISTS (SELECT 1 FROM voice_event e WHERE e.recording_id = r.recording_id AND {_KEPT})""",
}
COUNTS = {
    "calls": "SELECT count(*) FROM voice_call",
    "conferences": "SELECT count(*) FROM voice_conference",
    "members": "SELECT count(*) FROM voice_conferencemember",
    "recordings": "SELECT count(*) FROM voice_recording",
    "transcriptions": "SELECT count(*) FROM voice_transcription",
    "kept events": f"SELECT count(*) FROM voice_event e WHERE {_KEPT}",
    "refusals": "SELECT count(*) FROM voice_event e WHERE e.outcome = 'refused'",
}


def _count(cursor, query: str) -> int:
    cursor.execute(query)
    return cursor.fetchone()[0]


def rows_without_their_event(cursor) -> dict[str, int]:
    """The kinds of mirror row some of which no kept event names, with how many."""
    orphans = {kind: _count(cursor, query) for kind, query in ORPHANS.items()}
    return {kind: count for kind, count in orphans.items() if count}


def counts(cursor) -> dict[str, int]:
    return {kind: _count(cursor, query) for kind, query in COUNTS.items()}


def mirror(cursor) -> dict[str, int]:
    """The mirror's row counts (not the event log's)."""
    return {kind: count for kind, count in counts(cursor).items() if kind not in ("kept events", "refusals")}
