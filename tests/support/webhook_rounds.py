"""One round of webhooks as Bandwidth sends them: a conference's life with CALLS_PER_ROUND
inbound calls routed into it (the demo route of CONFERENCE_NUMBER), and one outbound call
answered and ended. The webhook path's benchmark (tests/benchmarks/webhook_cpu.py) and its
statement budget (tests/voice/test_webhook_statements.py) both drive it.

    conferenceCreated, then per call: initiate, conferenceMemberJoin;
    per call: conferenceMemberExit, disconnect; conferenceCompleted;
    answer, disconnect (the outbound call).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CALLS_PER_ROUND = 4
WEBHOOKS_PER_ROUND = 1 + CALLS_PER_ROUND * 4 + 1 + 2
CONFERENCE_NUMBER = "+19195550100"
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lifecycle(round_id: str, start: datetime) -> list[dict]:
    """The webhooks of one round, in the order Bandwidth sends them."""
    clock = iter(start + timedelta(milliseconds=10 * n) for n in range(1000))
    account = {"accountId": "9900000", "applicationId": "04e88489-df02-4e34-a0ee-27a91849555f"}
    conference = {"conferenceId": f"conf-{round_id}", "name": f"sales-floor-{round_id}", "tag": ""}
    calls = [f"c-{round_id}-{n:04d}-0000-0000-000000000000" for n in range(CALLS_PER_ROUND)]
    numbers = {call: f"+1555{n:07d}" for n, call in enumerate(calls)}
    events = [{"eventType": "conferenceCreated", "eventTime": _time(next(clock)), **conference}]
    for call in calls:
        at = _time(next(clock))
        events.append(
            {
                "eventType": "initiate", "eventTime": at, **account, "from": numbers[call], "to": CONFERENCE_NUMBER,
                "direction": "inbound", "callId": call, "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/{call}",
                "startTime": at,
            }
        )
        events.append(
            {"eventType": "conferenceMemberJoin", "eventTime": _time(next(clock)), **conference, "callId": call, "from": numbers[call], "to": CONFERENCE_NUMBER}
        )
    for call in calls:
        events.append(
            {"eventType": "conferenceMemberExit", "eventTime": _time(next(clock)), **conference, "callId": call, "from": numbers[call], "to": CONFERENCE_NUMBER}
        )
        at = _time(next(clock))
        events.append(
            {
                "eventType": "disconnect", "eventTime": at, **account, "from": numbers[call], "to": CONFERENCE_NUMBER,
                "direction": "inbound", "callId": call, "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/{call}",
                "startTime": at, "endTime": at, "cause": "hangup",
            }
        )
    events.append({"eventType": "conferenceCompleted", "eventTime": _time(next(clock)), **conference})
    outbound = f"c-{round_id}-out0-0000-0000-000000000000"
    answered = _time(next(clock))
    common = {
        **account, "from": CONFERENCE_NUMBER, "to": "+15557654321", "direction": "outbound", "callId": outbound,
        "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/{outbound}", "startTime": answered,
    }
    events.append({"eventType": "answer", "eventTime": answered, **common, "answerTime": answered})
    ended = _time(next(clock))
    events.append({"eventType": "disconnect", "eventTime": ended, **common, "answerTime": answered, "endTime": ended, "cause": "hangup"})
    assert len(events) == WEBHOOKS_PER_ROUND
    return events
