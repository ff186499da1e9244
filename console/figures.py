"""The figures at the top of the live board, and the concurrent-calls chart of the last hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from voice.models import Call, CallState, Conference, ConferenceMember, ConferenceState, MemberState
from voice.models.prepared import Prepared, one_row

CHART_MINUTES = 60
CHART_WIDTH = 600
CHART_HEIGHT = 120


@dataclass(frozen=True)
class Chart:
    """Concurrent calls at each minute of the last hour, drawn as an SVG area."""

    counts: list[int]

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)

    @property
    def points(self) -> str:
        top = max(self.peak, 1)
        step = CHART_WIDTH / (len(self.counts) - 1)
        return " ".join(
            f"{i * step:.1f},{CHART_HEIGHT - count / top * (CHART_HEIGHT - 8):.1f}" for i, count in enumerate(self.counts)
        )

    @property
    def area(self) -> str:
        return f"0,{CHART_HEIGHT} {self.points} {CHART_WIDTH},{CHART_HEIGHT}"


@dataclass(frozen=True)
class Figures:
    active_calls: int
    active_conferences: int
    # Calls in a live conference.
    members: int
    calls_last_hour: int
    # Among calls of the last hour that have an outcome: the share answered.
    answer_rate: float | None
    # Answered calls that ended in the last hour: mean time from answer to end.
    average_talk: timedelta | None
    chart: Chart


def _up_at_each(*moments: datetime) -> models.QuerySet:
    """How many calls were up at each moment (started by then, not ended by then; an end
    recorded before its start counts from the start), as one row: counted by the database in
    one pass, rather than every call's times read into Python (5,000 live calls made that a
    fifth of the board's time)."""
    first, last = moments[0], moments[-1]
    overlapping = Call.objects.filter(start_time__lte=last).filter(Q(end_time__isnull=True) | Q(end_time__gt=first))
    counts = {
        f"at{index}": Count("pk", filter=Q(start_time__lte=moment) & (Q(end_time__isnull=True) | Q(end_time__gt=moment)))
        for index, moment in enumerate(moments)
    }
    return one_row(overlapping, **counts)


# Built once (voice/models/prepared.py): the moments are its values.
_concurrent = Prepared(_up_at_each)


def board_figures(now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    hour_ago = now - timedelta(hours=1)
    recent = Call.objects.filter(start_time__gte=hour_ago)
    decided = recent.filter(Q(state=CallState.ANSWERED) | Q(state=CallState.ENDED))
    answered = decided.filter(answer_time__isnull=False).count()
    decided_count = decided.count()

    talks = [
        end - answer
        for answer, end in Call.objects.filter(end_time__gte=hour_ago, answer_time__isnull=False).values_list(
            "answer_time", "end_time"
        )
        if end >= answer
    ]
    moments = [hour_ago + timedelta(minutes=minute) for minute in range(CHART_MINUTES + 1)]
    (concurrent,) = _concurrent.rows(*moments)
    return Figures(
        active_calls=Call.objects.live().count(),
        active_conferences=Conference.objects.live().count(),
        members=ConferenceMember.objects.filter(
            state=MemberState.JOINED, conference__state=ConferenceState.ACTIVE
        ).count(),
        calls_last_hour=recent.count(),
        answer_rate=answered / decided_count if decided_count else None,
        average_talk=sum(talks, timedelta()) / len(talks) if talks else None,
        chart=Chart(list(concurrent)),
    )
