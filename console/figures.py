"""The figures at the top of the live board, and the concurrent-calls chart of the last hour."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from voice.models import Call, CallState, Conference, ConferenceMember, ConferenceState, MemberState

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


def concurrency(calls: list[tuple[datetime, datetime | None]], moments: list[datetime]) -> list[int]:
    """How many calls were up at each moment (started by then, not ended by then): counted
    with two sorted lists, not a pass over every call for every moment (5,000 live calls
    made that 300,000 comparisons per board)."""
    starts = sorted(start for start, _ in calls)
    # A call is over at a moment once both its start and its end are past (an end recorded
    # before its start counts from the start).
    overs = sorted(max(start, end) for start, end in calls if end is not None)
    return [bisect_right(starts, moment) - bisect_right(overs, moment) for moment in moments]


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
    overlapping = Call.objects.filter(start_time__lte=now).filter(Q(end_time__isnull=True) | Q(end_time__gt=hour_ago))
    spans = list(overlapping.values_list("start_time", "end_time"))
    moments = [hour_ago + timedelta(minutes=minute) for minute in range(CHART_MINUTES + 1)]
    return Figures(
        active_calls=Call.objects.live().count(),
        active_conferences=Conference.objects.live().count(),
        members=ConferenceMember.objects.filter(
            state=MemberState.JOINED, conference__state=ConferenceState.ACTIVE
        ).count(),
        calls_last_hour=recent.count(),
        answer_rate=answered / decided_count if decided_count else None,
        average_talk=sum(talks, timedelta()) / len(talks) if talks else None,
        chart=Chart(concurrency(spans, moments)),
    )
