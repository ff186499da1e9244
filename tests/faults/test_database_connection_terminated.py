"""The console's PostgreSQL connections terminated (pg_terminate_backend, as a failover or an
administrator does) again and again while webhooks arrive and a supervisor clicks: every
process replaces its connections, every webhook is stored (Bandwidth would not send one
answered 500 again), nothing is lost, and the live push goes on. Before, every click in the
traffic answered 500 and a third of the webhooks did."""

import time

import psycopg
import pytest

from tests.faults.harness import Screen, Supervisor, Traffic, conference_of, hang_up, nothing_lost
from tests.support.services import POSTGRES_URL

pytestmark = [pytest.mark.e2e, pytest.mark.production]

MEMBERS = 6
ROUNDS = 3


def terminate_connections(database_url: str) -> int:
    """Terminate every connection to the console's database; how many there were."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchone()[0]


def test_database_connections_terminated_mid_traffic_lose_nothing(browser, stack):
    since = time.time()
    conference_id, members = conference_of(stack, MEMBERS, first=300)
    screen = Screen(browser, stack, conference_id)
    supervisor = Supervisor(stack)

    terminated = []
    with Traffic(stack) as traffic:
        for round in range(ROUNDS):
            time.sleep(1.5)
            terminated.append(terminate_connections(stack.database_url))
            supervisor.mute_at_once(conference_id, members[round :: ROUNDS])
        time.sleep(1.5)
    print(f"\n{sum(terminated)} database connections terminated in {ROUNDS} rounds {terminated}: "
          f"{len(traffic.offered)} callers arrived; {supervisor}")  # fmt: skip
    webhooks, mutes = nothing_lost(stack, screen, "database connections terminated", since)
    assert all(terminated)
    assert not webhooks.refused_retryably
    assert mutes.outcomes == {"done": MEMBERS}
    assert supervisor.answers == {200: MEMBERS}
    screen.close()
    hang_up(stack, members)
