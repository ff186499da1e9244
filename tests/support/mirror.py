"""The console's mirror read back from its database and compared with the sandbox, for tests
against a running stack (either profile): where the two disagree, which webhooks the sandbox
delivered that the console did not store, and whether each operator action's outcome is
what the sandbox applied."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg
from psycopg.rows import dict_row

from tests.support.stack import Stack
from voice import events

SANDBOX_STATES = {"initiated": "initiated", "answered": "answered", "completed": "ended"}
# Answers after which Bandwidth, or its operator, sends the webhook again: the console has not
# taken it, and has said so. A connection error (status None) is retried by Bandwidth once.
RETRYABLE = frozenset({None, 429, 500, 502, 503, 504})


class Mirror:
    """The console's database, read-only: the embedded default's SQLite file (WAL: reading
    never blocks the console) or the production profile's PostgreSQL database. Queries use
    `?` placeholders; rows are read by column name."""

    def __init__(self, stack: Stack) -> None:
        self.database_url = stack.database_url
        self.path = stack.logs.parent / "var" / "switchboard.sqlite3"

    def rows(self, sql: str, *params) -> list:
        if self.database_url:
            with psycopg.connect(self.database_url, row_factory=dict_row) as connection:
                return connection.execute(sql.replace("?", "%s"), params).fetchall()
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10) as connection:
            connection.row_factory = sqlite3.Row
            return connection.execute(sql, params).fetchall()

    def one(self, sql: str, *params):
        found = self.rows(sql, *params)
        return found[0] if found else None


def differences(stack: Stack) -> list[str]:
    """Where the mirror and the sandbox disagree (empty once converged): every call's state
    and cause, every conference's state, members, mute and hold, every recording's status,
    and every transcript the sandbox has, fetched."""
    mirror, found = Mirror(stack), []
    for call in stack.sandbox.calls():
        mine = mirror.one("select state, disconnect_cause from voice_call where call_id = ?", call["callId"])
        there = SANDBOX_STATES[call["state"]]
        if mine is None or mine["state"] != there:
            found.append(f"call {call['callId']}: {mine and mine['state']} here, {there} there")
        elif there == "ended" and mine["disconnect_cause"] != call.get("disconnectCause", ""):
            found.append(f"call {call['callId']}: cause {mine['disconnect_cause']!r} here, {call.get('disconnectCause')!r} there")
    for conference in stack.sandbox.conferences():
        mine = mirror.one("select state from voice_conference where conference_id = ?", conference["id"])
        there = "completed" if conference.get("completedTime") else "active"
        if mine is None or mine["state"] != there:
            found.append(f"conference {conference['name']}: {mine and mine['state']} here, {there} there")
        members = {m["callId"]: m for m in conference["members"] if not m.get("leftTime")}
        here = {
            row["call_id"]: row
            for row in mirror.rows(
                "select call_id, mute, hold from voice_conferencemember where conference_id = ? and state = 'joined'",
                conference["id"],
            )
        }
        if set(here) != set(members):
            found.append(f"conference {conference['name']}: members {sorted(here)} here, {sorted(members)} there")
        for call_id in set(here) & set(members):
            if (bool(here[call_id]["mute"]), bool(here[call_id]["hold"])) != (members[call_id]["mute"], members[call_id]["hold"]):
                found.append(f"member {call_id}: mute/hold differ")
    for recording in stack.sandbox.recordings():
        mine = mirror.one(
            "select r.status, t.status as transcription, t.fetched_at from voice_recording r "
            "left join voice_transcription t on t.recording_id = r.id where r.recording_id = ?",
            recording["recordingId"],
        )
        if mine is None or mine["status"] != recording["status"]:
            found.append(f"recording {recording['recordingId']}: {mine and mine['status']} here, {recording['status']} there")
        elif (recording.get("transcription") or {}).get("status") == "available" and mine["fetched_at"] is None:
            found.append(f"recording {recording['recordingId']}: transcript {mine['transcription']} and not fetched here, available there")
    return found


@dataclass
class WebhookAccount:
    """Every webhook the sandbox tried to deliver, by what became of it at the console."""

    stored: int = 0
    # Answered with a retryable status (or no answer at all), and not stored.
    refused_retryably: Counter = field(default_factory=Counter)
    # Answered 2xx (or a final 4xx) and not in the event log: lost.
    lost: list[str] = field(default_factory=list)
    # Never sent: the sandbox's dropped-webhook fault.
    dropped: int = 0

    def __str__(self) -> str:
        refused = ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(self.refused_retryably.items(), key=str))
        return (
            f"{self.stored} webhooks stored, {sum(self.refused_retryably.values())} refused retryably ({refused or 'none'}), "
            f"{len(self.lost)} lost, {self.dropped} dropped by the sandbox"
        )


def account_for_webhooks(stack: Stack, since: float = 0.0) -> WebhookAccount:
    """What became of each webhook the sandbox sent to the console about a moment from
    `since` (seconds since the epoch) on: its event is in the event log (by its dedupe key),
    or the console answered so that it will come again."""
    stored = {row["dedupe_key"] for row in Mirror(stack).rows("select dedupe_key from voice_event where source = 'webhook'")}
    account = WebhookAccount()
    for delivery in stack.sandbox.webhooks():
        if _epoch(delivery["time"]) < since:
            continue
        if delivery["fault"] == "dropped":
            account.dropped += 1
            continue
        if events.parse(delivery["payload"]).dedupe_key in stored:
            account.stored += 1
        elif delivery["status"] in RETRYABLE:
            account.refused_retryably[delivery["status"]] += 1
        else:
            account.lost.append(f"{delivery['eventType']} at {delivery['time']}: answered {delivery['status']} and not stored")
    return account


@dataclass
class ActionAccount:
    """Operator mutes by outcome, against the requests the sandbox applied."""

    outcomes: Counter = field(default_factory=Counter)
    # Outcomes that are not what the sandbox did, and actions left open.
    untrue: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{sum(self.outcomes.values())} actions: {dict(self.outcomes)}, {len(self.untrue)} untrue"


def account_for_mutes(stack: Stack, since: float = 0.0) -> ActionAccount:
    """Each mute or unmute recorded from `since` (seconds since the epoch) on is done exactly
    when the sandbox applied a request setting that member's mute so (a 2xx to its PUT)
    between the action's recording and its end, and failed or dropped exactly when it applied
    none. Each member must have had one action at a time (as the console allows), so that
    the windows do not overlap."""
    applied = [
        request
        for request in stack.sandbox.requests()
        if request["method"] == "PUT" and "/members/" in request["path"] and 200 <= request["status"] < 300
    ]
    account = ActionAccount()
    mutes = Mirror(stack).rows("select id, call_id, params, status, detail, created_at, finished_at from voice_action where kind = 'mute'")
    for action in (action for action in mutes if _epoch(action["created_at"]) >= since):
        account.outcomes[action["status"]] += 1
        if action["finished_at"] is None:
            account.untrue.append(f"action {action['id']} on {action['call_id']}: still {action['status']}")
            continue
        mute = _params(action["params"])["mute"]
        started, ended = _epoch(action["created_at"]), _epoch(action["finished_at"])
        sent = [
            request
            for request in applied
            if request["path"].endswith(f"/members/{action['call_id']}")
            and _body(request).get("mute") == mute
            and started - 1 <= request["time"] <= ended + 1
        ]
        if (action["status"] == "done") != bool(sent):
            account.untrue.append(
                f"action {action['id']} on {action['call_id']}: {action['status']} ({action['detail']}), "
                f"{len(sent)} such requests applied by the sandbox"
            )
    return account


def _params(value) -> dict:
    return value if isinstance(value, dict) else json.loads(value)


def _body(request: dict) -> dict:
    try:
        body = json.loads(request["body"])
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _epoch(value) -> float:
    """Seconds since the epoch of a PostgreSQL timestamptz or an SQLite text time (UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
