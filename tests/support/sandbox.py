"""Running the sandbox as its own process for tests, and reading its inspection API."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from django.conf import settings

from console.processes import ProcessGroup, free_port, manage_command, wait_for_port

SANDBOX_AUTH = ("sandbox", "sandbox-password")


def wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message or condition}")
        time.sleep(interval)


@dataclass
class SandboxHandle:
    url: str
    log: Path
    auth: tuple[str, str] = SANDBOX_AUTH

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v2"

    def _get(self, path: str):
        response = requests.get(f"{self.url}{path}", auth=self.auth, timeout=5)
        response.raise_for_status()
        return response.json()

    def calls(self) -> list[dict]:
        return self._get("/sandbox/calls")

    def call(self, call_id: str) -> dict:
        return next(call for call in self.calls() if call["callId"] == call_id)

    def requests(self) -> list[dict]:
        return self._get("/sandbox/requests")

    def webhooks(self) -> list[dict]:
        return self._get("/sandbox/webhooks")

    def conferences(self) -> list[dict]:
        return self._get("/sandbox/conferences")

    def recordings(self) -> list[dict]:
        return self._get("/sandbox/recordings")

    def streams(self) -> list[dict]:
        return self._get("/sandbox/streams")

    def stop_stream(self, stream_id: str) -> dict:
        response = requests.post(f"{self.url}/sandbox/streams/{stream_id}/stop", auth=self.auth, timeout=5)
        response.raise_for_status()
        return response.json()

    def faults(self) -> dict:
        return self._get("/sandbox/faults")

    def application(self) -> dict:
        return self._get("/sandbox/application")

    def _put(self, path: str, body: dict) -> dict:
        response = requests.put(f"{self.url}{path}", json=body, auth=self.auth, timeout=5)
        response.raise_for_status()
        return response.json()

    def set_faults(self, **faults) -> dict:
        """Any of errorRate429, errorRate5xx, latencyMs, webhookDuplicate, webhookReorder, webhookDrop."""
        return self._put("/sandbox/faults", faults)

    def set_application(self, **settings) -> dict:
        return self._put("/sandbox/application", settings)

    def script_callee(self, number: str, outcome: str = "answer", **behaviour) -> dict:
        """How outbound calls to `number` are answered: outcome answer | busy | timeout | rejected,
        and optionally ringSeconds, holdSeconds, utterance, digits."""
        return self._put(f"/sandbox/callees/{number}", {"outcome": outcome, **behaviour})

    def end_call(self, call_id: str) -> None:
        """Ends a call through the sandbox's Bandwidth API (updateCall, state completed), as
        an application would: for a test that leaves a shared conference as it found it."""
        response = requests.post(
            f"{self.api_url}/accounts/{settings.BANDWIDTH_ACCOUNT_ID}/calls/{call_id}",
            json={"state": "completed"},
            auth=(settings.BANDWIDTH_USERNAME, settings.BANDWIDTH_PASSWORD),
            timeout=5,
        )
        response.raise_for_status()

    def offer_inbound(
        self, from_number: str = "+15551230001", to_number: str = "+19195550100", hold_seconds=None, **caller
    ) -> dict:
        """An inbound call arriving now; `caller` may give utterance, digits and endsMessage."""
        body = {"from": from_number, "to": to_number, **caller}
        if hold_seconds is not None:
            body["holdSeconds"] = hold_seconds
        response = requests.post(f"{self.url}/sandbox/calls", json=body, auth=self.auth, timeout=5)
        response.raise_for_status()
        return response.json()


@contextmanager
def running_sandbox(
    *,
    public_url: str,
    log_dir: Path,
    env: dict | None = None,
    speed: float = 1.0,
    scenario: str = "quiet",
    args: tuple[str, ...] = (),
):
    """`manage.py sandbox` on a free port; `args` adds options (limits, faults, --seed)."""
    port = free_port()
    log = log_dir / "sandbox.log"
    group = ProcessGroup(
        env={**os.environ, **(env or {}), "PUBLIC_URL": public_url, "BANDWIDTH_API_URL": f"http://127.0.0.1:{port}/api/v2"}
    )
    with log.open("w") as output:
        process = group.start(
            "sandbox",
            manage_command("sandbox", "--port", str(port), "--scenario", scenario, "--speed", str(speed), *args),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            if not wait_for_port("127.0.0.1", port, 20, alive=lambda: process.poll() is None):
                raise RuntimeError(f"the sandbox did not start:\n{log.read_text()}")
            yield SandboxHandle(url=f"http://127.0.0.1:{port}", log=log)
        finally:
            group.stop()
