"""Mutes and unmutes by the hundred in the production profile (two workers, Redis,
PostgreSQL), one at a time and then ten members at once, while a supervisor's browser watches
the conference: every action ends done, and the page ends showing each member as Bandwidth
has it, with nothing left pending. `make test` runs MANY_MUTES=100 (CI time); `make fuzz` runs 1,000."""

import os
import threading
import time

import psycopg
import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from tests.support.services import require_postgres, require_redis
from tests.support.stack import running_stack
from voice.demo import SALES_FLOOR_NUMBER

pytestmark = [pytest.mark.e2e, pytest.mark.production]

MANY = int(os.environ.get("MANY_MUTES", "100"))
MEMBERS = 10
OPEN = ("pending", "sending", "retrying")
# Seconds an action may take from the click to done, on a loaded machine.
CONFIRMED_WITHIN = 20.0


class Supervisor:
    """A signed-in supervisor's HTTP session, clicking Mute and Unmute as the page does."""

    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.get(f"{url}/login/", timeout=10)
        token = self.session.cookies["csrftoken"]
        answer = self.session.post(
            f"{url}/login/",
            data={"username": "supervisor", "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{url}/login/"},
            timeout=10,
        )
        assert answer.ok and "sessionid" in self.session.cookies, answer.text[:500]

    def mute(self, conference_id: str, call_id: str, mute: bool) -> None:
        answer = self.session.post(
            f"{self.url}/conferences/{conference_id}/members/{call_id}/mute",
            data={"mute": "true" if mute else "false"},
            headers={"X-CSRFToken": self.session.cookies["csrftoken"], "HX-Request": "true", "Referer": self.url + "/"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text[:500]


def open_actions(database_url: str, target: str | None = None) -> int:
    with psycopg.connect(database_url) as connection:
        query = "SELECT count(*) FROM voice_action WHERE status = ANY(%s)"
        arguments: list = [list(OPEN)]
        if target is not None:
            query += " AND target = %s"
            arguments.append(target)
        return connection.execute(query, arguments).fetchone()[0]


def statuses(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT status, count(*) FROM voice_action WHERE kind = 'mute' GROUP BY status").fetchall()
    return dict(rows)


def toggle(supervisor: Supervisor, database_url: str, conference_id: str, call_id: str, times: int, start: bool) -> None:
    """Mute, unmute, mute… the member `times` times, each once the one before is done."""
    target = f"{conference_id}/{call_id}"
    for n in range(times):
        supervisor.mute(conference_id, call_id, mute=(n % 2 == 0) == start)
        deadline = time.monotonic() + CONFIRMED_WITHIN
        while open_actions(database_url, target):
            assert time.monotonic() < deadline, f"the action on {call_id} still open after {CONFIRMED_WITHIN} s"
            time.sleep(0.02)


def test_hundreds_of_mutes_one_at_a_time_then_all_at_once_end_done_and_on_screen(page, tmp_path):
    require_postgres()
    require_redis()
    with running_stack(tmp_path, production=True, workers=2) as stack:
        members = [
            stack.sandbox.offer_inbound(from_number=f"+1555000{8000 + n}", to_number=SALES_FLOOR_NUMBER)["callId"]
            for n in range(MEMBERS)
        ]

        def conference_with_everyone():
            for conference in stack.sandbox.conferences():
                present = {m["callId"] for m in conference["members"] if m["leftTime"] is None}
                if present >= set(members):
                    return conference["id"]
            return None

        conference_id = wait_until(conference_with_everyone, timeout=60, message="every member in the conference")
        sign_in(page, stack, "supervisor")
        page.goto(f"{stack.url}/conferences/{conference_id}/")
        wait_until_live(page)
        for call_id in members:
            expect(page.locator(f"#member-{call_id}")).to_be_visible()
        supervisor = Supervisor(stack.url, stack.passwords["supervisor"])

        # One at a time, across the members in turn: half of the actions.
        sequential = MANY // 2
        started = time.monotonic()
        for n in range(sequential):
            toggle(supervisor, stack.database_url, conference_id, members[n % MEMBERS], 1, start=(n // MEMBERS) % 2 == 0)
        one_at_a_time = time.monotonic() - started

        # Then every member at once, each from a thread of its own: the other half. Each
        # starts with the opposite of its last change: the same change asked again within
        # ACTION_REPEAT_WINDOW is that change, not a new action (99 of 100 in a CI run).
        each = (MANY - sequential) // MEMBERS
        last_was_mute = ((sequential - 1) // MEMBERS) % 2 == 0
        threads = [
            threading.Thread(
                target=toggle,
                args=(Supervisor(stack.url, stack.passwords["supervisor"]), stack.database_url, conference_id, call_id, each, not last_was_mute),
            )
            for call_id in members
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        all_at_once = time.monotonic() - started
        assert not any(thread.is_alive() for thread in threads)

        counted = statuses(stack.database_url)
        print(f"\n{sum(counted.values())} mute actions: {counted}; {sequential} one at a time in {one_at_a_time:.1f} s, "
              f"{each * MEMBERS} ten at once in {all_at_once:.1f} s")
        assert counted == {"done": sequential + each * MEMBERS}

        # On screen: each member as the sandbox has it, nothing pending.
        sandbox = {m["callId"]: m["mute"] for c in stack.sandbox.conferences() if c["id"] == conference_id for m in c["members"]}
        for call_id in members:
            row = page.locator(f"#member-{call_id}")
            expect(row.get_by_role("button", name="Unmute" if sandbox[call_id] else "Mute", exact=True)).to_be_visible()
            expect(row.locator(".chip-muted")).to_have_count(1 if sandbox[call_id] else 0)
        expect(page.locator("#member-rows .status-pending, #member-rows .spinner")).to_have_count(0)
        for name in ("worker1", "worker2"):
            log = (stack.logs / f"{name}.log").read_text()
            assert "pool is closed" not in log and "live pushes failed" not in log
