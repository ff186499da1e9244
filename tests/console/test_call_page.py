"""A call's page: facts, a timeline merged from webhooks, repairs and actions; the audit trail."""

from unittest import mock

import pytest
from django.utils import timezone

from console import roles
from console.models import AuditEntry
from voice import events, intake
from voice.models import Action, Call, Event
from tests.support.bandwidth import payload

pytestmark = pytest.mark.django_db

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"


@pytest.fixture
def enqueued():
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit") as enqueue:
        yield enqueue


def test_the_timeline_merges_webhooks_and_actions_in_order(agent_client, enqueued):
    intake.receive(events.parse(payload("answer")))
    agent_client.post(f"/calls/{CALL}/hangup")
    Event.objects.create(
        dedupe_key="repair-1", event_type="repair", source=Event.Source.RECONCILIATION, call_id=CALL,
        payload={"state": "disconnected"}, outcome=Event.Outcome.REPAIR,
    )
    html = agent_client.get(f"/calls/{CALL}").content.decode()
    answer, action, repair = html.index("badge-webhook"), html.index("badge-action"), html.index("badge-repair")
    assert answer < action < repair
    assert "by agent" in html
    assert "&quot;eventType&quot;: &quot;answer&quot;" in html  # the raw payload, expandable
    assert "<SpeakSentence" not in html and "&lt;SpeakSentence" in html  # the BXML answer, escaped


def test_an_htmx_refresh_gets_only_the_live_part(agent_client):
    Call.objects.create(call_id=CALL, direction="inbound", start_time=timezone.now())
    html = agent_client.get(f"/calls/{CALL}", headers={"HX-Request": "true"}).content.decode()
    assert html.strip().startswith('<div id="call-live"')
    assert f'data-refresh-on="call-{CALL}"' in html


def test_an_unknown_call_page_is_404(agent_client):
    assert agent_client.get("/calls/c-nope").status_code == 404


def test_a_hangup_is_audited_once_even_when_clicked_twice(agent_client, enqueued):
    Call.objects.create(call_id=CALL, direction="inbound", state="answered", start_time=timezone.now(), from_number="+1555")
    agent_client.post(f"/calls/{CALL}/hangup")
    agent_client.post(f"/calls/{CALL}/hangup")
    entry = AuditEntry.objects.get()
    assert (entry.actor_name, entry.verb, entry.target) == ("agent", "hang up", CALL)
    assert entry.action == Action.objects.get()
    assert entry.result == "pending"


def test_audit_entries_cannot_be_changed_or_deleted_in_the_admin(client, make_operator):
    admin = make_operator(roles.ADMIN, "boss")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    entry = AuditEntry.record(admin, "hang up", CALL)
    assert client.get("/admin/console/auditentry/").status_code == 200
    assert client.post(f"/admin/console/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/console/auditentry/{entry.pk}/change/", {"verb": "nothing"}).status_code == 403
    assert AuditEntry.objects.get().verb == "hang up"
