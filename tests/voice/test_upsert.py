"""The one-statement create-or-advance of mirror rows (voice/models/upsert.py), on the
database the suite runs on (make test runs it on PostgreSQL too)."""

from datetime import datetime, timezone

import pytest

from voice.models import CALL_TRANSITIONS, Call, CallState, allowed_from
from voice.models.upsert import Advance, Always, Earliest, Fill, Latest, Newest, When, WithMove, upsert

pytestmark = [pytest.mark.django_db, pytest.mark.boundary]

T1 = datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)
T2 = datetime(2024, 1, 1, 10, 5, tzinfo=timezone.utc)


def advance(state):
    return Advance(state, allowed_from(CALL_TRANSITIONS, state))


def observe(state, *, at, tag="", start=None, end=None, cause=""):
    move = advance(state)
    return upsert(
        Call,
        {"call_id": "c-1"},
        {
            "state": move,
            "start_time": Fill(start),
            "end_time": WithMove(end, move),
            "disconnect_cause": WithMove(cause, move),
            "tag": Newest(tag, at),
            "latest_event_time": Latest(at),
            "last_event_at": Always(at),
        },
        new={"direction": "inbound"},
        untracked=["last_event_at"],
    )


def test_the_first_event_creates_the_row():
    outcome = observe(CallState.INITIATED, at=T1, tag="a", start=T1)
    assert outcome.created and outcome.changed
    assert (outcome.row.state, outcome.row.tag, outcome.row.start_time) == ("initiated", "a", T1)
    assert Call.objects.get().direction == "inbound"


def test_an_event_that_changes_nothing_says_so():
    observe(CallState.ANSWERED, at=T2, tag="b", start=T1)
    outcome = observe(CallState.INITIATED, at=T1, tag="a")
    assert not outcome.created and not outcome.changed
    assert (outcome.row.state, outcome.row.tag) == ("answered", "b")


def test_a_state_moves_forward_only_and_brings_its_facts():
    observe(CallState.ANSWERED, at=T1)
    outcome = observe(CallState.ENDED, at=T2, end=T2, cause="hangup")
    assert outcome.changed
    assert (outcome.row.state, outcome.row.end_time, outcome.row.disconnect_cause) == ("ended", T2, "hangup")
    late = observe(CallState.ANSWERED, at=T1)
    assert not late.changed and late.row.state == "ended"


def test_a_fact_fills_a_gap_but_never_overwrites():
    observe(CallState.ANSWERED, at=T1)
    assert observe(CallState.ANSWERED, at=T1, start=T1).changed
    assert not observe(CallState.ANSWERED, at=T1, start=T2).changed
    assert Call.objects.get().start_time == T1


def test_the_newest_event_sets_the_tag_whatever_the_order():
    observe(CallState.ANSWERED, at=T2, tag="newer")
    observe(CallState.ANSWERED, at=T1, tag="older")
    assert Call.objects.get().tag == "newer"


def test_earliest_latest_and_when():
    Call.objects.create(call_id="c-1", direction="inbound", start_time=T2, end_time=T1)
    outcome = upsert(
        Call,
        {"call_id": "c-1"},
        {"start_time": Earliest(T1), "end_time": Latest(T2), "error_message": When("x", {"direction": "inbound"})},
    )
    assert (outcome.row.start_time, outcome.row.end_time, outcome.row.error_message) == (T1, T2, "x")
    assert outcome.changed
