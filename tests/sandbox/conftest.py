"""The sandbox on real sockets against a small real application.

`application` is an aiohttp server standing in for the console: it answers each webhook with
the BXML a test scripts for that event type (or path) and records everything it receives.
`sandbox` is the sandbox's aiohttp application on its own port, on the accelerated clock,
with its voice application pointed at `application`.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from console.processes import free_port
from voice.sandbox.api_common import SIMULATION
from voice.sandbox.config import Application, SandboxConfig
from voice.sandbox.scenarios import Scenario
from voice.sandbox.server import build_app
from voice.sandbox.simulation import Simulation
from voice.sandbox.webhook_sender import basic_authorization

HERE = Path(__file__).parent
# Simulated seconds per real second in these tests: a ten-second call takes a quarter second.
SPEED = 40.0
ACCOUNT = "9900000"
APPLICATION_ID = "04e88489-df02-4e34-a0ee-27a91849555f"
API_AUTH = ("api-user", "api-password")
HOOK_AUTH = ("hooks", "hooks-password")
CALLER = "+15551230001"
CALLED = "+19195550100"
CALLEE = "+15553334444"


def response(*verbs: str) -> str:
    return "<?xml version='1.0' encoding='UTF-8'?><Response>" + "".join(verbs) + "</Response>"


@dataclass
class Received:
    path: str
    method: str
    auth: tuple[str, str] | None
    payload: dict[str, Any]

    @property
    def event_type(self) -> str:
        return self.payload.get("eventType", "")


@dataclass
class Slow:
    """A reply that takes `seconds` (real seconds) to come."""

    seconds: float
    reply: Any = ""


class FakeApplication:
    """Answers webhooks as a test scripts them; records what came, in order."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: dict[str, Any] = {}
        self.url = ""
        self._arrived = asyncio.Event()

    def reply(self, key: str, answer: Any) -> None:
        """Script the answer to an event type ("answer") or a path ("/gather"): BXML text, an
        HTTP status, a whole aiohttp response, a callable of the payload, or Slow(seconds, answer)."""
        self.replies[key] = answer

    def at(self, path: str) -> str:
        return self.url + path

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            payload = dict(request.query)
        else:
            payload = json.loads(await request.text() or "{}")
        self.received.append(Received(request.path, request.method, _auth(request), payload))
        self._arrived.set()
        answer = self.replies.get(request.path, self.replies.get(payload.get("eventType", ""), ""))
        if isinstance(answer, Slow):
            await asyncio.sleep(answer.seconds)
            answer = answer.reply
        if callable(answer):
            answer = answer(payload)
        if isinstance(answer, web.StreamResponse):
            return answer
        if isinstance(answer, int):
            return web.Response(status=answer)
        if not answer:
            return web.Response(status=204)
        return web.Response(text=answer, content_type="application/xml")

    def events(self, event_type: str | None = None, **fields: Any) -> list[Received]:
        return [
            r
            for r in self.received
            if (event_type is None or r.event_type == event_type) and all(r.payload.get(k) == v for k, v in fields.items())
        ]

    def types(self, **fields: Any) -> list[str]:
        return [r.event_type for r in self.events(**fields)]

    async def wait_for(self, event_type: str, count: int = 1, timeout: float = 5.0, **fields: Any) -> list[Received]:
        async def arrived() -> list[Received]:
            while len(found := self.events(event_type, **fields)) < count:
                self._arrived.clear()
                await self._arrived.wait()
            return found

        try:
            return await asyncio.wait_for(arrived(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no {count} x {event_type} {fields or ''} within {timeout} s; got {self.types()}") from None


def _auth(request: web.Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


@dataclass
class Sandbox:
    url: str
    config: SandboxConfig
    sim: Simulation
    session: aiohttp.ClientSession

    @property
    def api(self) -> str:
        return f"{self.url}/api/v2/accounts/{ACCOUNT}"

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict]:
        """A request to the sandbox (a path under the account, or /sandbox/...): status, body, headers."""
        url = path if path.startswith("http") else (self.url + path if path.startswith("/sandbox") else self.api + path)
        async with self.session.request(method, url, **kwargs) as answer:
            raw = await answer.read()
            body: Any = raw
            if answer.content_type == "application/json":
                body = json.loads(raw)
            return answer.status, body, dict(answer.headers)

    async def offer(self, from_number: str = CALLER, to_number: str = CALLED, **party: Any) -> dict:
        status, call, _ = await self.request("POST", "/sandbox/calls", json={"from": from_number, "to": to_number, **party})
        assert status == 201, call
        return call

    async def create_call(self, application: FakeApplication, **fields: Any) -> dict:
        body = {
            "from": CALLED,
            "to": CALLEE,
            "applicationId": APPLICATION_ID,
            "answerUrl": application.at("/answer"),
            "disconnectUrl": application.at("/disconnect"),
            **fields,
        }
        status, call, _ = await self.request("POST", "/calls", json=body)
        assert status == 201, call
        return call

    async def callee(self, number: str = CALLEE, **script: Any) -> None:
        status, body, _ = await self.request("PUT", f"/sandbox/callees/{number}", json=script)
        assert status == 200, body

    async def call(self, call_id: str) -> dict:
        status, body, _ = await self.request("GET", f"/calls/{call_id}")
        assert status == 200, body
        return body

    async def settle(self, seconds: float = 1.0) -> None:
        """Let `seconds` of simulated time pass."""
        await self.sim.clock.sleep(seconds)


@pytest_asyncio.fixture
async def application():
    fake = FakeApplication()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


def sandbox_config(application: FakeApplication, port: int, **changes: Any) -> SandboxConfig:
    return SandboxConfig(
        account_id=ACCOUNT,
        username=API_AUTH[0],
        password=API_AUTH[1],
        application_id=APPLICATION_ID,
        application=Application(
            call_initiated_url=application.at("/initiate"),
            call_status_url=application.at("/status"),
            callback_username=HOOK_AUTH[0],
            callback_password=HOOK_AUTH[1],
        ),
        public_base=f"http://127.0.0.1:{port}",
        **{"speed": SPEED, "seed": 7, **changes},
    )


async def start_sandbox(config: SandboxConfig, scenario: Scenario, port: int):
    server = TestServer(build_app(config, scenario), host="127.0.0.1", port=port)
    await server.start_server()
    session = aiohttp.ClientSession(headers={"Authorization": basic_authorization(*API_AUTH)})
    return server, Sandbox(f"http://127.0.0.1:{port}", config, server.app[SIMULATION], session)


@pytest_asyncio.fixture
async def sandbox(application):
    port = free_port()
    server, handle = await start_sandbox(sandbox_config(application, port), Scenario(), port)
    yield handle
    await handle.session.close()
    await server.close()

