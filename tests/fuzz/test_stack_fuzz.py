"""`make fuzz`: ten thousand webhooks and more against a running stack in the production
profile (daphne, a separate Celery worker, the sandbox, PostgreSQL and Redis), half of them
sent concurrently. Then: no 5xx and no error in the console's log, every mirror row has its
stored event, and every page answers 200. FUZZ_WEBHOOKS sets how many (10,000 by default)."""

import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import invariants
from tests.fuzz.strategies import Case, cases
from tests.support.pages import failing_pages, pages_of
from tests.support.services import require_postgres, require_redis
from tests.support.stack import PRODUCTION_SECRETS, running_stack

pytestmark = pytest.mark.fuzz

WEBHOOKS = int(os.environ.get("FUZZ_WEBHOOKS", "10000"))
# Batches per example; about 1.7 webhooks per batch.
BATCHES_PER_EXAMPLE = 12


def signed_in(url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{url}/login/")
    token = session.cookies["csrftoken"]
    answer = session.post(
        f"{url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{url}/login/"},
    )
    assert answer.url.rstrip("/") == url, "the admin could not sign in"
    return session


def test_ten_thousand_webhooks_cannot_break_a_running_console(tmp_path):
    require_postgres()
    require_redis()
    with running_stack(tmp_path, production=True) as stack:
        hooks = requests.Session()
        hooks.auth = (PRODUCTION_SECRETS["WEBHOOK_USERNAME"], PRODUCTION_SECRETS["WEBHOOK_PASSWORD"])
        hooks.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=8))
        answered: Counter[int] = Counter()
        server_errors: list[Case] = []

        def send(case: Case) -> None:
            response = hooks.post(
                f"{stack.url}/webhooks/voice", data=case.body, headers={"Content-Type": "application/json"}, timeout=30
            )
            answered[response.status_code] += 1
            if response.status_code >= 500:
                server_errors.append(case)

        @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(batches=st.lists(cases, min_size=BATCHES_PER_EXAMPLE, max_size=BATCHES_PER_EXAMPLE), together=st.booleans())
        def deliver(batches, together):
            if together:
                # Real sequences and single cases arriving at once, as Bandwidth's do.
                with ThreadPoolExecutor(max_workers=8) as pool:
                    list(pool.map(send, [case for batch in batches for case in batch]))
            else:
                for batch in batches:
                    for case in batch:
                        send(case)

        while sum(answered.values()) < WEBHOOKS:
            deliver()

        console_log = (stack.logs / "console.log").read_text()
        errors = re.findall(r"(?m)^.*(?:ERROR|Traceback).*$", console_log)
        with psycopg.connect(stack.database_url) as connection, connection.cursor() as cursor:
            orphans = invariants.rows_without_their_event(cursor)
            totals = invariants.counts(cursor)
            cursor.execute("SELECT call_id FROM voice_call ORDER BY random() LIMIT 100")
            calls = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT conference_id FROM voice_conference ORDER BY random() LIMIT 50")
            conferences = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT recording_id FROM voice_recording ORDER BY random() LIMIT 50")
            recordings = [row[0] for row in cursor.fetchall()]
        admin = signed_in(stack.url, "admin", stack.passwords["admin"])
        failing = failing_pages(_Pages(admin, stack.url), pages_of(calls, conferences, recordings))
        print(f"\nstack fuzz: {sum(answered.values())} webhooks, answers {dict(sorted(answered.items()))}, rows {totals}")

        assert server_errors == []
        assert errors == []
        assert orphans == {}
        assert failing == {}


class _Pages:
    """A signed-in session that takes paths, as Django's test client does."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.session, self.url = session, url

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.url + path, timeout=30)
