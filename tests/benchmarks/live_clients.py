"""Signed-in websocket clients on the live board, and an open-loop sender of call webhooks:
how long each change takes from the webhook's scheduled send to the frame that shows it in
each client, and which changes never arrive."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import aiohttp

from tests.support.websockets import open_socket

ROW_TAG = re.compile(r"<tr\b[^>]*>")
ROW_ID = re.compile(r'\sid="call-([^"]+)"')
ROW_STATE = re.compile(r'\sclass="[^"]*\bstate-(\w+)')
# Calls answered and not yet ended at any moment: few enough to stay in any board's first window.
LIVE_AT_ONCE = 10


@dataclass
class Client:
    """One browser's socket: when each (call id, state) first arrived."""

    seen: dict[tuple[str, str], float] = field(default_factory=dict)
    frames: int = 0

    def read(self, frame: str, at: float) -> None:
        self.frames += 1
        for tag in ROW_TAG.findall(frame):
            call, state = ROW_ID.search(tag), ROW_STATE.search(tag)
            if call and state:
                self.seen.setdefault((call[1], state[1]), at)


@dataclass
class StepResult:
    rate: int
    sent: int
    errors: int
    # Per client: latencies (ms) of the changes it received, how many it never received,
    # and how many frames it received per second.
    latencies: list[list[float]]
    lost: list[int]
    frames_per_second: list[float]
    # Changes whose state a client never saw because the next one came in the same frame
    # (a call answered and ended within one interval shows ended): not lost, the screen shows
    # the newer state; counted over all clients.
    superseded: int
    # daphne's CPU time per webhook during the step, ms.
    cpu_ms_per_webhook: float

    def percentile(self, p: float) -> float:
        return percentile(sorted(x for client in self.latencies for x in client), p)

    def worst_client(self, p: float) -> float:
        """The highest of the clients' own percentiles."""
        return max((percentile(sorted(client), p) for client in self.latencies if client), default=float("nan"))


def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def webhook(kind: str, call_id: str, at: datetime, start: datetime) -> bytes:
    iso = lambda moment: moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    body = {
        "eventType": kind,
        "eventTime": iso(at),
        "accountId": "5550001",
        "applicationId": "04e88489-df02-4e34-a0ee-27a91849555f",
        "from": "+19195550100",
        "to": "+15550100200",
        "direction": "outbound",
        "callId": call_id,
        "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/5550001/calls/{call_id}",
        "startTime": iso(start),
        "answerTime": iso(start),
    }
    if kind == "disconnect":
        body.update(endTime=iso(at), cause="hangup")
    return json.dumps(body).encode()


def timetable(prefix: str, calls: int) -> list[tuple[str, str]]:
    """Each call answered, then ended LIVE_AT_ONCE calls later; every call ends in the step."""
    events: list[tuple[str, str]] = []
    ids = [f"c-{prefix}{n:05d}-0000-0000-0000-000000000000" for n in range(calls)]
    for n, call_id in enumerate(ids):
        events.append(("answer", call_id))
        if n >= LIVE_AT_ONCE:
            events.append(("disconnect", ids[n - LIVE_AT_ONCE]))
    events.extend(("disconnect", call_id) for call_id in ids[-LIVE_AT_ONCE:])
    return events


STATE_SHOWN = {"answer": "answered", "disconnect": "ended"}


# A later state of a call shows an earlier change too.
LATER = {"answered": "ended"}


async def run_step(
    url: str, clients: list[Client], webhook_auth: tuple[str, str], rate: int, seconds: float, prefix: str,
    cpu_seconds=lambda: 0.0, grace: float = 10.0,
) -> StepResult:
    events = timetable(prefix, int(rate * seconds / 2))
    auth = "Basic " + base64.b64encode(f"{webhook_auth[0]}:{webhook_auth[1]}".encode()).decode()
    scheduled: dict[tuple[str, str], float] = {}
    errors = 0
    began = datetime.now(timezone.utc)
    frames_before = [client.frames for client in clients]
    cpu_before, step_began = cpu_seconds(), time.perf_counter()
    async with aiohttp.ClientSession(headers={"Authorization": auth, "Content-Type": "application/json"}) as http:
        start = time.perf_counter()

        async def send(i: int, kind: str, call_id: str) -> None:
            nonlocal errors
            at = start + i / rate
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            scheduled[(call_id, STATE_SHOWN[kind])] = at
            moment = began + timedelta(seconds=i / rate)
            try:
                async with http.post(f"{url}/webhooks/voice", data=webhook(kind, call_id, moment, began)) as answer:
                    await answer.read()
                    errors += answer.status >= 300
            except (aiohttp.ClientError, asyncio.TimeoutError):
                errors += 1

        await asyncio.gather(*(send(i, kind, call_id) for i, (kind, call_id) in enumerate(events)))
    deadline = time.perf_counter() + grace
    while time.perf_counter() < deadline and any(not all(shown(c, key) for key in scheduled) for c in clients):
        await asyncio.sleep(0.1)
    elapsed, cpu = time.perf_counter() - step_began, cpu_seconds() - cpu_before
    latencies, lost, superseded = [], [], 0
    for client in clients:
        got = []
        for key, at in scheduled.items():
            arrived = shown(client, key)
            if arrived is not None:
                got.append((arrived - at) * 1000)
                superseded += key not in client.seen
        latencies.append(got)
        lost.append(len(scheduled) - len(got))
    return StepResult(
        rate=rate, sent=len(events), errors=errors, latencies=latencies, lost=lost,
        frames_per_second=[(c.frames - before) / elapsed for c, before in zip(clients, frames_before)],
        superseded=superseded, cpu_ms_per_webhook=cpu * 1000 / len(events),
    )


def shown(client: Client, key: tuple[str, str]) -> float | None:
    """When the client first showed this change: its state, or a later one of the call."""
    call_id, state = key
    times = [client.seen.get(key), client.seen.get((call_id, LATER.get(state, "")))]
    return min((t for t in times if t is not None), default=None)


async def open_clients(url: str, path: str, cookies: aiohttp.CookieJar, count: int) -> tuple[list[Client], list]:
    """`count` websockets on `path`, each reading frames into its Client until cancelled."""
    session = aiohttp.ClientSession(cookie_jar=cookies)
    clients, sockets = [], []
    for _ in range(count):
        socket = await open_socket(session, url, path)
        clients.append(Client())
        sockets.append(socket)

    async def read(client: Client, socket) -> None:
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                client.read(message.data, time.perf_counter())

    readers = [asyncio.ensure_future(read(c, s)) for c, s in zip(clients, sockets)]
    return clients, [session, sockets, readers]


async def close_clients(handles: list) -> None:
    session, sockets, readers = handles
    for socket in sockets:
        await socket.close()
    for reader in readers:
        reader.cancel()
    await session.close()
