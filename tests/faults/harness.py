"""What the fault tests share: a Redis of their own to kill, callers arriving while a fault
lasts, a supervisor clicking, a browser watching, and the checks that nothing was lost."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page

from console.processes import free_port, wait_for_port
from tests.e2e.flows import sign_in, wait_until_live
from tests.support.mirror import ActionAccount, Mirror, WebhookAccount, account_for_mutes, account_for_webhooks, differences
from tests.support.sandbox import wait_until
from tests.support.services import require
from tests.support.stack import PRODUCTION_SECRETS, Stack
from voice.demo import ANNOUNCEMENT_NUMBER, SALES_FLOOR_NUMBER, UNROUTED_NUMBER, VOICEMAIL_NUMBER

# Reconciliation every INTERVAL seconds, of what has been quiet for QUIET seconds: the
# settings the fault tests' stacks run with (a repair follows a fault within seconds).
INTERVAL = 4.0
QUIET = 1.5
FAST_RECONCILIATION = {"RECONCILE_INTERVAL": INTERVAL, "RECONCILE_QUIET_AFTER": QUIET}
# Generous bounds for a loaded two-core machine: each is how long a condition may take to
# come true once the fault is over, never a pause.
SETTLED_WITHIN = 60.0
OPEN_ACTIONS = ("pending", "sending", "retrying")


@contextmanager
def environment(**variables):
    """The stack started inside inherits these variables."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, str(value))
        yield


class PrivateRedis:
    """A redis-server of the test's own on a free port, keeping nothing on disk: killed, it
    loses what it held (queued tasks, the live push's stream), as a crashed Redis does.
    Never the machine's Redis."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.directory),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if not wait_for_port("127.0.0.1", self.port, 10, alive=lambda: self.process.poll() is None):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def pause(self) -> None:
        """Stalled: connections stay open and nothing answers (a swapping or frozen host)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def private_redis(directory: Path):
    require(shutil.which("redis-server") is not None, "redis-server (Debian's redis-server package)")
    redis = PrivateRedis(directory)
    redis.start()
    try:
        yield redis
    finally:
        if redis.process.poll() is None:
            redis.resume()
            redis.kill()


def kill_with_children(stack: Stack, name: str) -> None:
    """SIGKILL a process and its children at once (a Celery worker's pool processes would
    otherwise finish the tasks they hold): a machine lost, or the OOM killer."""
    parent = stack.processes.processes[name].pid
    children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    for pid in [parent, *map(int, children)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stack.processes.processes[name].wait()


def restart_the_dead(stack: Stack) -> list[str]:
    """Start again each Celery process that has exited, as the production profile's
    supervisor does (docker compose's `restart: unless-stopped`); their names. Celery 5.7's
    worker can exit ("Unrecoverable error: AttributeError: 'NoneType' object has no attribute
    'hostname'") when Redis goes away while it acknowledges a task."""
    dead = [name for name in stack.processes.exited() if name.startswith(("worker", "beat"))]
    for name in dead:
        stack.start(name)
    return dead


class Traffic:
    """Callers arriving one every `every` seconds from a thread, until stopped: some hear
    the default route and hold a moment, some hear the announcement and are hung up on, some
    leave a voicemail (recorded, transcribed: a transcript to fetch)."""

    ROUTES = (UNROUTED_NUMBER, ANNOUNCEMENT_NUMBER, VOICEMAIL_NUMBER)

    def __init__(self, stack: Stack, every: float = 0.5) -> None:
        self.stack, self.every = stack, every
        self.offered: list[str] = []
        self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            number = self.ROUTES[n % len(self.ROUTES)]
            caller = {"utterance": "Please call me back", "endsMessage": "#"} if number == VOICEMAIL_NUMBER else {}
            try:
                call = self.stack.sandbox.offer_inbound(f"+1555{7000000 + n}", number, hold_seconds=1 + n % 3, **caller)
                self.offered.append(call["callId"])
            except requests.RequestException:
                self.refused += 1
            n += 1
            self._stop.wait(self.every)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


class Supervisor:
    """A signed-in supervisor clicking Mute and Unmute as the conference page does, noting
    each answer's status and how long it took."""

    def __init__(self, stack: Stack) -> None:
        self.url = stack.url
        self.session = requests.Session()
        # Signing in hashes the password (PBKDF2, a second of CPU): slow on a loaded machine.
        self.session.get(f"{self.url}/login/", timeout=60)
        answer = self.session.post(
            f"{self.url}/login/",
            data={"username": "supervisor", "password": stack.passwords["supervisor"], "csrfmiddlewaretoken": self.session.cookies["csrftoken"]},
            headers={"Referer": f"{self.url}/login/"},
            timeout=60,
        )
        assert answer.ok and "sessionid" in self.session.cookies, answer.text[:500]
        self.answers: Counter = Counter()
        self.slowest = 0.0
        self._lock = threading.Lock()

    def mute(self, conference_id: str, call_id: str, mute: bool = True) -> None:
        started = time.monotonic()
        try:
            status = self.session.post(
                f"{self.url}/conferences/{conference_id}/members/{call_id}/mute",
                data={"mute": "true" if mute else "false"},
                headers={"X-CSRFToken": self.session.cookies["csrftoken"], "HX-Request": "true", "Referer": self.url + "/"},
                timeout=30,
            ).status_code
        except requests.RequestException as error:
            status = type(error).__name__
        with self._lock:
            self.answers[status] += 1
            self.slowest = max(self.slowest, time.monotonic() - started)

    def mute_at_once(self, conference_id: str, call_ids: list[str], mute: bool = True) -> None:
        threads = [threading.Thread(target=self.mute, args=(conference_id, call_id, mute)) for call_id in call_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    def __str__(self) -> str:
        return f"{sum(self.answers.values())} clicks answered {dict(self.answers)}, the slowest in {self.slowest:.2f} s"


def conference_of(stack: Stack, members: int, number: str = SALES_FLOOR_NUMBER, first: int = 0) -> tuple[str, list[str]]:
    """`members` callers who stay, in the conference of `number`: its id and their call ids,
    once the mirror has them all joined."""
    call_ids = [stack.sandbox.offer_inbound(f"+1555800{first + n:04d}", number)["callId"] for n in range(members)]
    mirror = Mirror(stack)

    def joined():
        rows = mirror.rows(
            "select conference_id from voice_conferencemember where state = 'joined' and call_id in ("
            + ",".join("?" * len(call_ids)) + ")",
            *call_ids,
        )  # fmt: skip
        return rows[0]["conference_id"] if len(rows) == len(call_ids) else None

    return wait_until(joined, timeout=SETTLED_WITHIN, interval=0.2, message="every member joined in the mirror"), call_ids


def hang_up(stack: Stack, call_ids: list[str]) -> None:
    account = PRODUCTION_SECRETS["BANDWIDTH_ACCOUNT_ID"]
    for call_id in call_ids:
        requests.post(
            f"{stack.sandbox.api_url}/accounts/{account}/calls/{call_id}", json={"state": "completed"}, auth=stack.sandbox.auth, timeout=10
        ).raise_for_status()


class Screen:
    """A supervisor's browser on the board and on a conference's page."""

    def __init__(self, browser, stack: Stack, conference_id: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.board = self.context.new_page()
        sign_in(self.board, stack, "supervisor")
        self.conference: Page = self.context.new_page()
        self.conference.goto(f"{stack.url}/conferences/{conference_id}/")
        wait_until_live(self.conference)
        self.stack, self.conference_id = stack, conference_id

    def shown(self) -> tuple[set[str], dict[str, tuple[bool, bool]]]:
        """The live calls on the board; each present member's (muted, pending) on the conference's page."""
        calls = self.board.evaluate(
            "() => [...document.querySelectorAll('#call-rows tr.call-row:not(.leaving)')].map(row => row.id.slice(5))"
        )
        members = self.conference.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('#member-rows tr.member-row:not(.leaving)')]
                 .map(row => [row.id.slice(7), [!!row.querySelector('.chip-muted'), !!row.querySelector('.pending')]]))"""
        )
        return set(calls), {call_id: tuple(state) for call_id, state in members.items()}

    def expected(self) -> tuple[set[str], dict[str, tuple[bool, bool]]]:
        """What the sandbox has: its calls not completed, the conference's members present."""
        calls = {call["callId"] for call in self.stack.sandbox.calls() if call["state"] != "completed"}
        members = {
            member["callId"]: (member["mute"], False)
            for conference in self.stack.sandbox.conferences()
            if conference["id"] == self.conference_id
            for member in conference["members"]
            if not member.get("leftTime")
        }
        return calls, members

    def agrees(self) -> bool:
        return self.shown() == self.expected()

    def disagreement(self) -> str:
        return f"on screen {self.shown()}, in the sandbox {self.expected()}"

    def close(self) -> None:
        self.context.close()


def open_actions(stack: Stack) -> int:
    return Mirror(stack).one("select count(*) as n from voice_action where status in (?, ?, ?)", *OPEN_ACTIONS)["n"]


def nothing_lost(stack: Stack, screen: Screen, label: str, since: float) -> tuple[WebhookAccount, ActionAccount]:
    """Once the fault is over: every action ends, the mirror converges on the sandbox within
    a reconciliation, every webhook the sandbox sent is stored or was refused retryably, every
    mute's outcome is what the sandbox applied, and the browser shows what the sandbox has.
    Prints what was counted from `since` (seconds since the epoch) on, whether it holds or
    not, and returns it."""
    started = time.monotonic()
    failures, took = [], {}

    def wait(name: str, condition, describe) -> None:
        try:
            wait_until(condition, timeout=SETTLED_WITHIN, interval=0.5, message=name)
        except AssertionError:
            failures.append(f"not within {SETTLED_WITHIN:.0f} s: {name}: {describe()}")
        took[name] = time.monotonic() - started

    wait("every action ended", lambda: open_actions(stack) == 0, lambda: f"{open_actions(stack)} open")
    wait("the mirror equals the sandbox", lambda: differences(stack) == [], lambda: differences(stack)[:20])
    wait("the screen shows what the sandbox has", screen.agrees, screen.disagreement)
    webhooks, mutes = account_for_webhooks(stack, since), account_for_mutes(stack, since)
    calls, members = screen.shown()
    print(
        f"\n{label}: {webhooks}; {mutes}; on screen {len(calls)} live calls and {len(members)} members; "
        + ", ".join(f"{name} after {seconds:.1f} s" for name, seconds in took.items())
    )
    assert failures == [], failures
    assert webhooks.lost == [], webhooks.lost[:20]
    assert mutes.untrue == [], mutes.untrue
    return webhooks, mutes
