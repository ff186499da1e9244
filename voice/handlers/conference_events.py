"""Conference events: the conference's lifecycle and its members' comings and goings.

They carry only the conference (id, name, the creating call's tag) and, for a member, its
callId, from and to: https://dev.bandwidth.com/docs/voice/bxml/conference. Every handler
starts with Conference.observe, which holds the conference's row for the transaction, so a
member's join and the conference's completion, arriving together, are applied one after
the other.
"""

from __future__ import annotations

from voice import flows
from voice.answers import NO_CONTENT, Applied, Handler, bxml_answer
from voice.events import ConferenceEvent, ConferenceRecordingAvailable, MemberEvent
from voice.handlers.recording_events import store_recording
from voice.models import Call, Conference, ConferenceMember


def on_conference_created(event: ConferenceEvent) -> Applied:
    """Recorded from its creation if a route asks for it (only conference verbs may answer)."""
    records = flows.records_from_creation(event.name)
    conference, changed = Conference.observe(event.facts(), at=event.event_time, recording=True if records else None)
    verbs = flows.conference_created() if records and conference.is_live else []
    # A conference event may be answered with no BXML at all.
    return Applied(bxml_answer(verbs) if verbs else NO_CONTENT, changed)


def on_member_join(event: MemberEvent) -> Applied:
    conference, created = Conference.observe(event.facts(), at=event.event_time)
    call = Call.heard(event.call_id)
    changed = ConferenceMember.joined(
        conference,
        event.call_id,
        at=event.event_time,
        from_number=event.from_number,
        to_number=event.to_number,
        flags=flows.member_flags(call, conference.name),
    )
    return Applied(NO_CONTENT, changed or created)


def on_member_exit(event: MemberEvent) -> Applied:
    conference, created = Conference.observe(event.facts(), at=event.event_time)
    Call.heard(event.call_id)
    changed = ConferenceMember.left(
        conference, event.call_id, at=event.event_time, from_number=event.from_number, to_number=event.to_number
    )
    return Applied(NO_CONTENT, changed or created)


def on_conference_redirect(event: ConferenceEvent) -> Applied:
    """updateConference with a redirectUrl: Switchboard sends one to start or stop recording
    the conference, and the reply does it (voice/performers/conference_actions.py)."""
    record = flows.recording_wanted(event.conference_id)
    conference, changed = Conference.observe(event.facts(), at=event.event_time, recording=record)
    if record is None or not conference.is_live:
        return Applied(NO_CONTENT, changed)
    return Applied(bxml_answer(flows.recording_change(record)), changed)


def on_conference_completed(event: ConferenceEvent) -> Applied:
    _, changed = Conference.observe(event.facts(), at=event.event_time, completed=True)
    return Applied(NO_CONTENT, changed)


def on_conference_recording_available(event: ConferenceRecordingAvailable) -> Applied:
    conference, created = Conference.observe(event.facts(), at=event.event_time)
    _, stored = store_recording(event, event.status, conference=conference)
    return Applied(NO_CONTENT, created or stored)


HANDLERS: dict[str, Handler] = {
    "conferenceCreated": on_conference_created,
    "conferenceMemberJoin": on_member_join,
    "conferenceMemberExit": on_member_exit,
    "conferenceRedirect": on_conference_redirect,
    "conferenceCompleted": on_conference_completed,
    "conferenceRecordingAvailable": on_conference_recording_available,
}
