"""Who listens to which conference: the listening legs in the mirror (calls to an operator's
own phone, tagged as such: voice.flows.monitor_tag), whose they are, since when, and in which
mode. A leg is a member like any other, so it counts toward Bandwidth's 20."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model

from voice import flows
from voice.models import Action, ActionKind, ActionStatus, Call, ConferenceMember, MemberState

# A leg's mode, from its member's controls (conference_actions.MONITOR_MODES sets them).
LISTEN, WHISPER, BARGE = "listen", "whisper", "barge"
MODE_LABELS = {LISTEN: "listening", WHISPER: "whispering", BARGE: "barged in"}
# What an operator asks for, as the buttons and the audit name it.
MODE_VERBS = {LISTEN: "listen only", WHISPER: "whisper", BARGE: "barge in"}


@dataclass(frozen=True)
class Listener:
    member: ConferenceMember
    user_id: int
    username: str
    # The numbers of the members a whisper is heard by.
    coached: list[str]
    # The latest change of mode or hang-up asked for this leg: pending, or how it failed.
    change: Action | None = None

    @property
    def changing(self) -> Action | None:
        return self.change if self.change and self.change.is_open else None

    @property
    def changing_to(self) -> str:
        """What the pending change is, as the operator asked for it."""
        change = self.changing
        if change is None:
            return ""
        return "hang up" if change.kind == ActionKind.HANGUP else MODE_VERBS.get(change.params.get("mode"), "change")

    @property
    def failure(self) -> Action | None:
        return self.change if self.change and self.change.status in (ActionStatus.FAILED, ActionStatus.DROPPED) else None

    @property
    def mode(self) -> str:
        if self.member.mute:
            return LISTEN
        return WHISPER if self.member.call_ids_to_coach else BARGE

    @property
    def mode_label(self) -> str:
        return MODE_LABELS[self.mode]

    @property
    def since(self) -> datetime | None:
        return self.member.joined_at


def listeners(conference_ids: Iterable[str]) -> dict[str, list[Listener]]:
    """The listening legs present in each of these conferences, in the order they joined."""
    legs = list(
        ConferenceMember.objects.filter(
            conference_id__in=list(conference_ids), state=MemberState.JOINED, call__tag__startswith=flows.MONITOR_TAG
        )
        .select_related("call")
        .order_by("joined_at", "id")
    )
    return _as_listeners(legs)


def _as_listeners(legs: list[ConferenceMember]) -> dict[str, list[Listener]]:
    owners = {leg.pk: flows.monitoring(leg.call.tag) for leg in legs}
    user_ids = {owner[1] for owner in owners.values() if owner}
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    coached_ids = {call_id for leg in legs for call_id in leg.call_ids_to_coach}
    numbers = dict(
        ConferenceMember.objects.filter(call_id__in=coached_ids).values_list("call_id", "from_number")
    )
    changes = {
        action.call_id: action
        for action in Action.objects.filter(
            call_id__in=[leg.call_id for leg in legs], kind__in=(ActionKind.MONITOR_MODE, ActionKind.HANGUP)
        ).order_by("created_at", "id")
    }
    found: dict[str, list[Listener]] = defaultdict(list)
    for leg in legs:
        owner = owners[leg.pk]
        if owner is None:
            continue
        user_id = owner[1]
        coached = [numbers.get(call_id) or call_id for call_id in leg.call_ids_to_coach]
        listener = Listener(leg, user_id, names.get(user_id, "someone"), coached, changes.get(leg.call_id))
        found[leg.conference_id].append(listener)
    return dict(found)


def owner_of(call: Call) -> str | None:
    """Whose listening leg this call is (their username), or None for any other call."""
    owner = flows.monitoring(call.tag)
    if owner is None:
        return None
    return get_user_model().objects.filter(pk=owner[1]).values_list("username", flat=True).first() or "someone"


def leg_of(conference_id: str, user_id: int) -> Listener | None:
    """This operator's listening leg in the conference, if it is in."""
    mine = [listener for listener in listeners([conference_id]).get(conference_id, []) if listener.user_id == user_id]
    return mine[0] if mine else None
