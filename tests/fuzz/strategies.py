"""Hypothesis strategies for the webhook fuzz suite: mutations of every documented payload
in tests/fixtures/bandwidth, raw bodies JSON parsers accept but no store keeps, and real
sequences of one call's or one conference's life, shuffled and duplicated.

A case is the body to POST (bytes) and the eventType it claims; mutated payloads keep
their fixture's ids often enough that accepted and refused events hit the same rows.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from tests.support.bandwidth import FIXTURES, payload

DOCUMENTED = sorted(path.stem for path in FIXTURES.glob("*.json"))
EARLY = datetime(2019, 1, 1, tzinfo=timezone.utc)

# What testers and attackers send in a field.
ODD_TEXTS = [
    "",
    " ",
    "a/b",
    "../x",
    "%00",
    "\u0000",
    "nul\u0000inside",
    "\ud800",
    "\udfff tail",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202eevil",
    "😀" * 30,
    "x" * 65,
    "x" * 101,
    "x" * 129,
    "x" * 257,
    "x" * 5000,
    "null",
    "NaN",
    "c-" + "f" * 98,
    "c-" + "f" * 99,
]
ODD_TIMES = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2000-01-01T00:00:00+14:00",
    "2099-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
    "1999-12-31T23:59:59.999Z",
    "2019-06-20T15:54:25.4351234567Z",
    "2019-06-20T15:54:25",
    "2019-06-20",
    "2019-02-30T00:00:00Z",
    "2019-06-20T15:54:25+23:59",
    "2019-06-20T25:00:00Z",
    "20190620T155425Z",
    "yesterday",
]
ODD_DURATIONS = ["PT0S", "PT20.056S", "PT99999999999999999999S", "P7D", "P8D", "-PT5S", "PT", "P1Y", "PT1M52.217257456S", "20"]
ODD_NUMBERS = [0, -1, 1, 2, 8, 9, 2**31, 2**63, 10**400, -(10**400), 1.5, 1e308, -0.0, True, False]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(ODD_TEXTS),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=12,
)
odd_values = st.one_of(
    json_values,
    st.sampled_from(ODD_TEXTS),
    st.sampled_from(ODD_TIMES),
    st.sampled_from(ODD_DURATIONS),
    st.sampled_from(ODD_NUMBERS),
)


@dataclass(frozen=True)
class Case:
    body: bytes
    event_type: str

    def __repr__(self) -> str:
        return f"Case({self.event_type!r}, {self.body[:300]!r})"


def _encode(data) -> bytes:
    # A lone surrogate cannot be UTF-8: json.dumps escapes it, as a hostile sender would.
    return json.dumps(data).encode()


@st.composite
def mutated(draw) -> Case:
    """A documented payload with one to four mutations: a field dropped, added, swapped to
    another type, set to an extreme or odd value, or an id or time pulled out of shape."""
    name = draw(st.sampled_from(DOCUMENTED))
    data = payload(name)
    # A moment of its own, so that the event is applied, not taken for a redelivery of an
    # earlier case (Bandwidth's dedupe key is its type, ids and eventTime).
    data["eventTime"] = (EARLY + timedelta(microseconds=draw(st.integers(min_value=0, max_value=10**15)))).isoformat()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        fields = sorted(data)
        choice = draw(st.sampled_from(["drop", "add", "swap", "odd", "id", "time", "nest"]))
        if choice == "drop" and fields:
            data.pop(draw(st.sampled_from(fields)))
        elif choice == "add":
            data[draw(st.one_of(st.text(max_size=20), st.sampled_from(ODD_TEXTS)))] = draw(json_values)
        elif choice in ("swap", "odd") and fields:
            data[draw(st.sampled_from(fields))] = draw(json_values if choice == "swap" else odd_values)
        elif choice == "id":
            field = draw(st.sampled_from(["callId", "conferenceId", "recordingId", "parentCallId", "accountId", "applicationId"]))
            data[field] = draw(st.one_of(st.sampled_from(ODD_TEXTS), st.from_regex(r"\A[a-z]-[0-9a-f-]{1,12}\Z")))
        elif choice == "time":
            field = draw(st.sampled_from(["eventTime", "startTime", "answerTime", "endTime", "enqueuedTime"]))
            data[field] = draw(st.one_of(st.sampled_from(ODD_TIMES), st.datetimes().map(lambda moment: moment.isoformat())))
        elif choice == "nest" and fields:
            data[draw(st.sampled_from(fields))] = {"deeper": [data.get(draw(st.sampled_from(fields)))]}
    return Case(_encode(data), str(data.get("eventType", "")))


@st.composite
def unstorable(draw) -> Case:
    """Bodies json.loads accepts and no store keeps: NaN, Infinity, huge exponents, deep
    nesting, NUL and surrogate escapes, in a documented payload's place."""
    name = draw(st.sampled_from(DOCUMENTED))
    text = json.dumps(payload(name))
    field = draw(st.sampled_from(sorted(payload(name))))
    depth = draw(st.sampled_from([17, 100, 999, 5000]))
    value = draw(
        st.sampled_from(
            ["NaN", "Infinity", "-Infinity", "1e400", '"\\u0000"', '"\\ud800"', '"a\\udc00b"', "[" * depth + "]" * depth]
        )
    )
    key = json.dumps(field)
    start = text.index(key + ": ") + len(key) + 2
    end = start + len(json.dumps(payload(name)[field]))
    return Case((text[:start] + value + text[end:]).encode(), name)


# A call's and a conference's life, in the order Bandwidth sends it.
CALL_LIFE = ["initiate", "dtmf", "gather", "recordComplete", "recordingAvailable", "transcriptionAvailable", "disconnect"]
CONFERENCE_LIFE = [
    "conferenceCreated",
    "conferenceMemberJoin",
    "conferenceRedirect",
    "conferenceMemberExit",
    "conferenceCompleted",
    "conferenceRecordingAvailable",
]


@st.composite
def real_sequence(draw) -> list[Case]:
    """One call's or one conference's real events, with fresh ids, shuffled, some twice."""
    token = uuid.UUID(int=draw(st.integers(min_value=0, max_value=2**128 - 1)), version=4)
    call_id, conference_id, recording_id = f"c-{token}", f"conf-{token}", f"r-{token}"
    ids = {"callId": call_id, "recordingId": recording_id, "conferenceId": conference_id}
    life = draw(st.sampled_from([CALL_LIFE, CONFERENCE_LIFE]))
    events = []
    for name in life:
        data = payload(name)
        events.append({**data, **{key: value for key, value in ids.items() if key in data}})
    events = draw(st.permutations(events))
    events += draw(st.lists(st.sampled_from(events), max_size=3))
    return [Case(_encode(data), data["eventType"]) for data in events]


# A batch of cases: mostly mutations, some unstorable bodies, now and then a real sequence.
cases = st.one_of(
    mutated().map(lambda case: [case]),
    mutated().map(lambda case: [case]),
    mutated().map(lambda case: [case]),
    unstorable().map(lambda case: [case]),
    real_sequence(),
)
