"""The webhook path's statement budget: at most six SQL statements per webhook on average
over a conference's and a call's lives (issue 11's goal). Every statement counts: BEGIN and
COMMIT, savepoints, and what runs once the webhook has committed (its alert checks). The
test runs outside a test's transaction, so that the view's transaction is the outermost
one, as in production."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.bandwidth import post_event
from tests.support.webhook_rounds import EPOCH, WEBHOOKS_PER_ROUND, lifecycle
from voice.demo import ensure_demo_routes
from voice.models import Call, CallState, Conference, ConferenceState

BUDGET = 6


@pytest.mark.django_db(transaction=True)
def test_a_round_of_webhooks_costs_at_most_six_statements_each(client):
    ensure_demo_routes()
    statements = {}
    for n, event in enumerate(lifecycle("budget01", EPOCH + timedelta(days=1))):
        with CaptureQueriesContext(connection) as captured:
            answer = post_event(client, json.dumps(event))
        assert answer.status_code in (200, 204), (event["eventType"], answer.content)
        statements[f"{n:02d} {event['eventType']}"] = [query["sql"][:120] for query in captured.captured_queries]
    # The webhooks did their work: the conference and every call ended in the mirror.
    assert Conference.objects.get().state == ConferenceState.COMPLETED
    assert set(Call.objects.values_list("state", flat=True)) == {CallState.ENDED}
    total = sum(len(queries) for queries in statements.values())
    assert total / WEBHOOKS_PER_ROUND <= BUDGET, json.dumps(statements, indent=1)
