"""The webhook fuzz suite, in process: a few thousand mutated, unstorable and real webhooks
(tests/fuzz/strategies.py), then every page. `make test` runs it on SQLite and again on
PostgreSQL; `make fuzz` sends ten thousand and more to a running stack
(tests/fuzz/test_stack_fuzz.py)."""

import os
from collections import Counter

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings

from tests.fuzz import invariants
from tests.fuzz.strategies import cases
from tests.support.bandwidth import post_event
from tests.support.pages import failing_pages

pytestmark = [pytest.mark.django_db, pytest.mark.boundary]

# Batches of cases (a batch is one case, or a real sequence of several).
BATCHES = int(os.environ.get("FUZZ_BATCHES", "1500"))


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw"))
    return client


def test_no_webhook_breaks_the_console(admin_client, capsys):
    answered: Counter[int] = Counter()

    @settings(
        max_examples=BATCHES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batch=cases)
    def deliver(batch):
        for case in batch:
            with connection.cursor() as cursor:
                before = invariants.mirror(cursor)
            response = post_event(admin_client, case.body)
            answered[response.status_code] += 1
            assert response.status_code < 500, case
            if response.status_code == 400:
                assert response.json()["error"], case
                with connection.cursor() as cursor:
                    assert invariants.mirror(cursor) == before, case

    deliver()
    with connection.cursor() as cursor:
        assert invariants.rows_without_their_event(cursor) == {}
        totals = invariants.counts(cursor)
    assert failing_pages(admin_client) == {}
    with capsys.disabled():
        print(f"\nwebhook fuzz: {sum(answered.values())} webhooks, answers {dict(sorted(answered.items()))}, rows {totals}")
