"""Conference events: the conference's lifecycle and its members' comings and goings.

They carry only the conference (id, name, the creating call's tag) and, for a member, its
callId, from and to: https://dev.bandwidth.com/docs/voice/bxml/conference. Every handler
locks the conference row, so a member's join and the conference's completion, arriving
together, are applied one after the other.
"""

from __future__ import annotations

from django.utils import timezone

from voice import flows
from voice.answers import NO_CONTENT, Applied, Handler, bxml_answer
from voice.events import ConferenceEvent, ConferenceRecordingAvailable, MemberEvent
from voice.handlers.recordings import store_recording
from voice.models import Call, Conference, ConferenceMember, fill_missing


def _conference(event: ConferenceEvent) -> tuple[Conference, bool]:
    """The conference this event is about (created if Switchboard never saw it), locked,
    with the event noted (its name, its tag, its time)."""
    _, created = Conference.objects.get_or_create(
        conference_id=event.conference_id,
        defaults={
            "name": event.name,
            "tag": event.tag,
            "created_time": event.event_time,
            "latest_event_time": event.event_time,
            "last_event_at": timezone.now(),
        },
    )
    conference = Conference.objects.select_for_update().get(conference_id=event.conference_id)
    if not created:
        fill_missing(Conference.objects.filter(pk=conference.pk), name=event.name)
        conference.note_event(event_time=event.event_time, tag=event.tag)
        conference.refresh_from_db()
    return conference, created


def on_conference_created(event: ConferenceEvent) -> Applied:
    conference, changed = _conference(event)
    verbs = flows.conference_created(conference) if conference.is_live else []
    if verbs:
        changed |= bool(
            Conference.objects.filter(pk=conference.pk, state=conference.state, is_recording=False).update(
                is_recording=True
            )
        )
    if changed:
        conference.changed()
    # A conference event may be answered with no BXML at all.
    return Applied(bxml_answer(verbs) if verbs else NO_CONTENT, changed)


def on_member_join(event: MemberEvent) -> Applied:
    conference, created = _conference(event)
    call = Call.objects.filter(call_id=event.call_id).first()
    changed = ConferenceMember.record_join(
        conference,
        event.call_id,
        at=event.event_time,
        from_number=event.from_number,
        to_number=event.to_number,
        **flows.member_flags(call, conference.name),
    )
    Call.heard(event.call_id)
    if created:
        conference.changed()
    return Applied(NO_CONTENT, changed or created)


def on_member_exit(event: MemberEvent) -> Applied:
    conference, created = _conference(event)
    changed = ConferenceMember.record_exit(
        conference, event.call_id, at=event.event_time, from_number=event.from_number, to_number=event.to_number
    )
    Call.heard(event.call_id)
    if created:
        conference.changed()
    return Applied(NO_CONTENT, changed or created)


def on_conference_redirect(event: ConferenceEvent) -> Applied:
    """updateConference with a redirectUrl: Switchboard sends one to start or stop recording
    the conference, and the reply does it (voice/performers/conferences.py)."""
    conference, changed = _conference(event)
    record = flows.recording_wanted(conference) if conference.is_live else None
    if record is not None:
        changed |= bool(
            Conference.objects.filter(pk=conference.pk, state=conference.state)
            .exclude(is_recording=record)
            .update(is_recording=record)
        )
    if changed:
        conference.changed()
    if record is None:
        return Applied(NO_CONTENT, changed)
    return Applied(bxml_answer(flows.recording_change(record)), changed)


def on_conference_completed(event: ConferenceEvent) -> Applied:
    conference, created = _conference(event)
    completed = conference.complete(event.event_time)
    if created and not completed:
        conference.changed()
    return Applied(NO_CONTENT, created or completed)


def on_conference_recording_available(event: ConferenceRecordingAvailable) -> Applied:
    conference, created = _conference(event)
    _, stored = store_recording(event, event.status, conference=conference)
    if created:
        conference.changed()
    return Applied(NO_CONTENT, created or stored)


HANDLERS: dict[str, Handler] = {
    "conferenceCreated": on_conference_created,
    "conferenceMemberJoin": on_member_join,
    "conferenceMemberExit": on_member_exit,
    "conferenceRedirect": on_conference_redirect,
    "conferenceCompleted": on_conference_completed,
    "conferenceRecordingAvailable": on_conference_recording_available,
}
