"""What the live board shows: calls with the operator action last taken on each, and
conferences with their members."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from voice.models import Action, Call, Conference, ConferenceMember, MemberState


@dataclass(frozen=True)
class CallRow:
    call: Call
    # The latest action on this call, shown as pending, done or failed in its row.
    action: Action | None

    @property
    def dom_id(self) -> str:
        return f"call-{self.call.call_id}"


def call_rows(calls: Iterable[Call]) -> list[CallRow]:
    calls = list(calls)
    latest: dict[str, Action] = {}
    for action in Action.objects.filter(call_id__in=[call.call_id for call in calls]).order_by("created_at", "id"):
        latest[action.call_id] = action
    return [CallRow(call, latest.get(call.call_id)) for call in calls]


def live_call_rows() -> list[CallRow]:
    return call_rows(Call.objects.live())


def call_row(call_id: str) -> CallRow | None:
    call = Call.objects.filter(call_id=call_id).first()
    return call_rows([call])[0] if call else None


def live_conferences() -> list[Conference]:
    return list(Conference.objects.live().with_member_count().order_by("created_time", "id"))


def conference(conference_id: str) -> Conference | None:
    return Conference.objects.with_member_count().filter(conference_id=conference_id).first()


def present_members(conference: Conference) -> list[ConferenceMember]:
    return list(conference.members.filter(state=MemberState.JOINED).order_by("joined_at", "id"))


def member(conference_id: str, call_id: str) -> ConferenceMember | None:
    return ConferenceMember.objects.filter(conference_id=conference_id, call_id=call_id).first()
