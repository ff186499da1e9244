"""Reads built once and run again with new values (voice/models/prepared.py): each run
answers as the ORM would with those values, and nothing of an earlier run stays in it."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from voice.models import Action, ActionKind, Call, CallState
from voice.models.prepared import Prepared

pytestmark = pytest.mark.django_db


def make_call(call_id: str, started_ago: int = 60, state=CallState.ANSWERED, **fields) -> Call:
    start = timezone.now() - timedelta(seconds=started_ago)
    defaults = {"direction": "inbound", "from_number": "+15551110000", "to_number": "+19195550100", "start_time": start}
    return Call.objects.create(call_id=call_id, state=state, **{**defaults, **fields})


started_before = Prepared(
    lambda number, moment: Call.objects.filter(from_number=number, start_time__lt=moment).order_by("call_id").values_list("call_id")
)


def test_each_run_takes_its_own_values():
    make_call("c-old", started_ago=600)
    make_call("c-new", started_ago=10)
    make_call("c-other", started_ago=600, from_number="+15552220000")
    now = timezone.now()
    assert started_before.rows("+15551110000", now - timedelta(seconds=60)) == [("c-old",)]
    assert started_before.rows("+15551110000", now) == [("c-new",), ("c-old",)]
    assert started_before.rows("+15552220000", now) == [("c-other",)]
    assert started_before.rows("+15553330000", now) == []


def test_a_statement_is_built_once_per_shape(django_assert_num_queries):
    by_id = Prepared(lambda ids: Call.objects.filter(call_id__in=ids).order_by("call_id"))
    for call_id in ("c-1", "c-2", "c-3"):
        make_call(call_id)
    assert [call.call_id for call in by_id.objects(["c-1", "c-3"])] == ["c-1", "c-3"]
    assert [call.call_id for call in by_id.objects(["c-2", "c-1"])] == ["c-1", "c-2"]
    assert [call.call_id for call in by_id.objects(["c-2"])] == ["c-2"]
    assert len(by_id._built) == 2  # two elements, one element
    # An IN of none matches nothing, without a statement.
    with django_assert_num_queries(0):
        assert by_id.objects([]) == []


def test_objects_come_whole_with_what_they_select_related(django_assert_num_queries):
    operator = get_user_model().objects.create_user("ann")
    make_call("c-1")
    make_call("c-2")
    stale_at = timezone.now() + timedelta(seconds=30)
    Action.objects.create(
        kind=ActionKind.HANGUP, target="c-1", call_id="c-1", requested_by=operator, params={"reason": "stuck"}, stale_at=stale_at
    )
    Action.objects.create(kind=ActionKind.HANGUP, target="c-2", call_id="c-2", stale_at=stale_at)
    actions = Prepared(lambda ids: Action.objects.filter(call_id__in=ids).select_related("requested_by").order_by("call_id"))
    with django_assert_num_queries(1):
        found = actions.objects(["c-1", "c-2"])
        assert [(action.call_id, action.requested_by and action.requested_by.username) for action in found] == [
            ("c-1", "ann"),
            ("c-2", None),
        ]
        # Values come as the ORM gives them: JSON as a dict, a moment aware.
        assert found[0].params == {"reason": "stuck"}
        assert found[0].created_at.tzinfo is not None
    assert found[0] == Action.objects.get(call_id="c-1")


def test_a_value_the_orm_alters_is_refused_rather_than_kept():
    # icontains sends "%value%": a kept statement would look for the stand-in for ever.
    tagged = Prepared(lambda tag: Call.objects.filter(tag__icontains=tag).values_list("call_id"))
    with pytest.raises(ValueError, match="altered by the ORM"):
        tagged.rows("campaign")


def test_a_read_built_from_the_time_now_is_refused():
    # stuck() without its cutoff reads the clock as it is built: kept, it would never move.
    stuck = Prepared(lambda number: Call.objects.stuck().filter(from_number=number).values_list("call_id"))
    with pytest.raises(ValueError, match="altered by the ORM"):
        stuck.rows("+15551110000")
