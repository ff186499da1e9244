"""Alerts: each rule fires once per object, clears when it no longer matches, and each fire
and clear is delivered to a webhook receiver (a real HTTP server here) and by e-mail, and
audited."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from console import alert_delivery, alert_rules, alerts, live
from console.models import Alert, AlertDelivery, AlertDestinations, AlertKind, AlertRule, AuditEntry
from voice.models import Action, ActionKind, ActionStatus, Call, CallState, Conference, ConferenceMember, Event

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
CONFERENCE = "conf-aa11bb22-3344-5566-7788-99aabbccddee"
SECRET = "s3cret"


class Receiver(BaseHTTPRequestHandler):
    """Answers with the next status of the server's `statuses` (200 once they run out) and
    keeps what it was sent."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received, server.statuses = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def destinations(receiver):
    return AlertDestinations.objects.create(
        pk=1, webhook_url=f"http://127.0.0.1:{receiver.server_port}/hooks/alerts", webhook_secret=SECRET, email_to="ops@example.com"
    )


@pytest.fixture
def handed_over():
    """Deliveries handed to Celery, by id (the tests deliver them as a worker would)."""
    with mock.patch("console.tasks.deliver_alert.delay_on_commit") as deliver:
        yield deliver


def deliver_all(handed_over) -> None:
    for call in handed_over.call_args_list:
        alert_delivery.deliver(call.args[0])
    handed_over.reset_mock()


def only(*kinds) -> None:
    """Turns every other rule off: a live call with no webhook would make Bandwidth "silent" too."""
    for other in set(AlertKind) - set(kinds):
        AlertRule.objects.create(kind=other, enabled=False)


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


# Each rule: make it match, then stop matching.


def long_call():
    call = Call.objects.create(call_id=CALL, direction="inbound", state=CallState.ANSWERED, start_time=ago(minutes=31))
    return CALL, lambda: Call.objects.filter(pk=call.pk).update(state=CallState.ENDED, end_time=timezone.now())


def stuck_call():
    call = Call.objects.create(call_id=CALL, direction="inbound", state=CallState.ANSWERED, start_time=ago(hours=3))
    return CALL, lambda: Call.objects.filter(pk=call.pk).update(state=CallState.ENDED, end_time=timezone.now())


def nearly_full_conference():
    conference = Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=ago(minutes=5))
    for number in range(18):
        ConferenceMember.objects.create(conference=conference, call_id=f"c-member-{number}", joined_at=timezone.now())
    return CONFERENCE, lambda: ConferenceMember.objects.filter(call_id="c-member-0").update(state="left")


def old_conference():
    Conference.objects.create(conference_id=CONFERENCE, name="all-day", created_time=ago(hours=23, minutes=1))
    return CONFERENCE, lambda: Conference.objects.filter(conference_id=CONFERENCE).update(state="completed")


def failed_action():
    action = Action.objects.create(
        kind=ActionKind.HANGUP, target=CALL, call_id=CALL, status=ActionStatus.FAILED, stale_at=ago(minutes=1),
        finished_at=ago(minutes=1), detail="Bandwidth answered 500",
    )
    return str(action.pk), lambda: Action.objects.filter(pk=action.pk).update(finished_at=ago(minutes=16))


def silent_bandwidth():
    Call.objects.create(call_id=CALL, direction="inbound", state=CallState.ANSWERED, start_time=ago(minutes=1))
    Event.objects.create(dedupe_key="old", event_type="answer", call_id=CALL, payload={}, received_at=ago(minutes=6))
    return "bandwidth", lambda: Event.objects.create(dedupe_key="new", event_type="answer", call_id=CALL, payload={})


def refusals():
    for number in range(10):
        Event.objects.create(dedupe_key=f"refused-{number}", event_type="answer", payload={}, outcome=Event.Outcome.REFUSED)
    return "webhook-refusals", lambda: Event.objects.filter(outcome=Event.Outcome.REFUSED).update(received_at=ago(minutes=6))


def repairs():
    for number in range(10):
        Event.objects.create(
            dedupe_key=f"repair-{number}", event_type="repair", source=Event.Source.RECONCILIATION, payload={},
            outcome=Event.Outcome.REPAIR,
        )
    return "reconciliation-repairs", lambda: Event.objects.filter(outcome=Event.Outcome.REPAIR).delete()


RULE_CASES = {
    "long call": (AlertKind.CALL_LONG, long_call, f"/calls/{CALL}"),
    "stuck call": (AlertKind.CALL_STUCK, stuck_call, f"/calls/{CALL}"),
    "nearly full conference": (AlertKind.CONFERENCE_NEARLY_FULL, nearly_full_conference, f"/conferences/{CONFERENCE}/"),
    "conference in its last hour": (AlertKind.CONFERENCE_LAST_HOUR, old_conference, f"/conferences/{CONFERENCE}/"),
    "failed action": (AlertKind.ACTION_FAILED, failed_action, f"/calls/{CALL}"),
    "Bandwidth silent": (AlertKind.BANDWIDTH_SILENT, silent_bandwidth, ""),
    "refusals spike": (AlertKind.WEBHOOK_TROUBLE, refusals, ""),
    "repairs spike": (AlertKind.WEBHOOK_TROUBLE, repairs, ""),
}


@pytest.mark.parametrize("case", RULE_CASES)
def test_each_rule_fires_once_clears_and_is_delivered_by_webhook_and_email(
    case, db, destinations, receiver, handed_over, django_capture_on_commit_callbacks
):
    kind, make, link = RULE_CASES[case]
    subject, unmake = make()
    only(kind)

    with django_capture_on_commit_callbacks(execute=True):
        alerts.evaluate()
        alerts.evaluate()
    alert = Alert.objects.get()
    assert (alert.rule, alert.subject, alert.link, alert.cleared_at) == (kind, subject, link, None)
    deliver_all(handed_over)

    unmake()
    with django_capture_on_commit_callbacks(execute=True):
        alerts.evaluate()
        alerts.evaluate()
    alert.refresh_from_db()
    assert alert.cleared_at is not None and alert.clearance == "No longer matches the rule."
    assert Alert.objects.count() == 1
    deliver_all(handed_over)

    # The receiver got the fire and the clear, once each, signed.
    bodies = [json.loads(body) for _, body in receiver.received]
    assert [(body["alert"]["id"], body["alert"]["news"]) for body in bodies] == [(alert.pk, "fired"), (alert.pk, "cleared")]
    assert bodies[0]["text"].startswith(":rotating_light: ") and alert.summary in bodies[0]["text"]
    for headers, body in receiver.received:
        expected = hmac.new(SECRET.encode(), headers["X-Switchboard-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["X-Switchboard-Signature"] == f"sha256={expected}"
    assert [message.subject for message in mail.outbox] == [f"[Switchboard] {alert.summary}", f"[Switchboard] Cleared: {alert.summary}"]
    assert mail.outbox[0].to == ["ops@example.com"]
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"done"}
    verbs = list(AuditEntry.objects.order_by("id").values_list("verb", flat=True))
    assert verbs.count("alert fired") == 1 and verbs.count("alert cleared") == 1 and verbs.count("alert delivered") == 4


def test_a_rule_turned_off_fires_nothing_and_clears_its_alerts(db, handed_over):
    stuck_call()
    only(AlertKind.CALL_STUCK)
    alerts.evaluate()
    assert Alert.objects.open().count() == 1
    AlertRule.objects.create(kind=AlertKind.CALL_STUCK, enabled=False)
    alerts.evaluate()
    assert Alert.objects.open().count() == 0
    assert Alert.objects.get().clearance == "The rule was turned off."


def test_an_admins_threshold_replaces_the_default(db, handed_over):
    Call.objects.create(call_id=CALL, direction="inbound", state=CallState.ANSWERED, start_time=ago(seconds=100))
    only(AlertKind.CALL_LONG)
    alerts.evaluate()
    assert not Alert.objects.exists()
    AlertRule.objects.create(kind=AlertKind.CALL_LONG, threshold=90)
    alerts.evaluate()
    assert Alert.objects.get().summary == "Call ? → ? up longer than 1:30"


def test_a_long_call_that_turns_stuck_clears_its_long_alert_and_fires_stuck(db, handed_over):
    Call.objects.create(call_id=CALL, direction="inbound", state=CallState.ANSWERED, start_time=ago(minutes=31))
    only(AlertKind.CALL_LONG, AlertKind.CALL_STUCK)
    alerts.evaluate()
    Call.objects.filter(call_id=CALL).update(start_time=ago(hours=3))
    alerts.evaluate()
    assert {(alert.rule, alert.is_open) for alert in Alert.objects.all()} == {(AlertKind.CALL_LONG, False), (AlertKind.CALL_STUCK, True)}


def test_a_failed_action_fires_on_the_event_itself(db, handed_over, django_capture_on_commit_callbacks):
    action = Action.objects.create(kind=ActionKind.HANGUP, target=CALL, call_id=CALL, stale_at=timezone.now() + timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):
        action.claim(timedelta(seconds=30))
        action.transition(ActionStatus.FAILED, detail="Bandwidth answered 403: forbidden")
    alert = Alert.objects.get()
    assert (alert.rule, alert.subject) == (AlertKind.ACTION_FAILED, str(action.pk))
    assert "Hang up by Switchboard failed: Bandwidth answered 403" in alert.summary


def test_a_delivery_the_receiver_refuses_for_now_is_retried_with_backoff(db, destinations, receiver, handed_over):
    receiver.statuses = [503, 500]
    AlertDestinations.objects.filter(pk=1).update(email_to="")
    stuck_call()
    only(AlertKind.CALL_STUCK)
    alerts.evaluate()
    delivery_id = handed_over.call_args.args[0]
    first = alert_delivery.deliver(delivery_id)
    second = alert_delivery.deliver(delivery_id)
    assert first.retry_in is not None and second.retry_in is not None
    assert AlertDelivery.objects.get().status == "retrying"
    assert alert_delivery.deliver(delivery_id).retry_in is None
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("done", 3)
    assert len(receiver.received) == 3


def test_a_delivery_refused_for_good_fails_and_says_so(db, destinations, receiver, handed_over):
    receiver.statuses = [404]
    AlertDestinations.objects.filter(pk=1).update(email_to="")
    stuck_call()
    only(AlertKind.CALL_STUCK)
    alerts.evaluate()
    alert_delivery.deliver(handed_over.call_args.args[0])
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.detail) == ("failed", "HTTP 404: ")
    assert AuditEntry.objects.filter(verb="alert delivery failed").exists()


def test_a_delivery_lost_on_its_way_to_a_worker_is_handed_over_again(db, destinations, handed_over):
    stuck_call()
    only(AlertKind.CALL_STUCK)
    alerts.evaluate()
    AlertDelivery.objects.update(updated_at=ago(minutes=1))
    assert sorted(alert_delivery.lost()) == sorted(AlertDelivery.objects.values_list("pk", flat=True))
    assert alert_delivery.lost() == []


# The bell, acknowledging, the admin's settings


@pytest.fixture
def open_alert(db):
    return Alert.objects.create(
        rule=AlertKind.CALL_STUCK, subject=CALL, subject_kind="call", summary="Call stuck", link=f"/calls/{CALL}"
    )


def test_every_page_shows_the_bell_with_the_open_alerts(agent_client, open_alert):
    html = agent_client.get("/").content.decode()
    assert 'ws-connect="/ws/live/alerts/"' in html
    assert f'<a href="/calls/{CALL}" data-alert-summary>Call stuck</a>' in html
    assert '<span id="alert-count" class="alert-count"' in html and ">1</span>" in html


def test_an_operator_acknowledges_an_alert_once_and_it_is_audited_and_pushed(
    agent_client, open_alert, django_capture_on_commit_callbacks
):
    pushed = []
    with mock.patch("console.live.send", lambda group, body: pushed.append((group, body))):
        with django_capture_on_commit_callbacks(execute=True):
            first = agent_client.post("/alerts/acknowledge", {"alert": open_alert.pk}, headers={"HX-Request": "true"})
            again = agent_client.post("/alerts/acknowledge", {"alert": open_alert.pk}, headers={"HX-Request": "true"})
        live.drain()
    assert first.status_code == again.status_code == 200
    open_alert.refresh_from_db()
    assert open_alert.acknowledged_by_name == "agent" and open_alert.is_open
    assert "seen by agent" in first.content.decode()
    assert AuditEntry.objects.filter(verb="acknowledged alert").count() == 1
    assert [group for group, _ in pushed] == ["live.alerts"]
    assert 'id="alert-count"' in pushed[0][1] and "seen by agent" in pushed[0][1]


@pytest.mark.boundary
@pytest.mark.parametrize("odd", ["", "x", "-1", "0", str(2**63), "1" * 100, "\x00"])
def test_an_odd_alert_to_acknowledge_is_refused_with_a_4xx(agent_client, odd):
    response = agent_client.post("/alerts/acknowledge", {"alert": odd})
    assert 400 <= response.status_code < 500


def test_only_admins_set_rules_and_destinations(agent_client, client, make_operator):
    assert agent_client.get("/alerts/settings").status_code == 403
    client.force_login(make_operator("admin", "boss"))
    assert client.get("/alerts/settings").status_code == 200


def test_an_admin_sets_a_threshold_and_the_destinations_and_it_is_audited(client, make_operator):
    client.force_login(make_operator("admin", "boss"))
    form = {f"{kind}-enabled": "on" for kind in AlertKind}
    form |= {"call-long-threshold": "90", "webhook_url": "https://hooks.example.com/x", "webhook_secret": "k", "email_to": "a@example.com, b@example.com"}
    assert client.post("/alerts/settings", form).status_code == 302
    assert AlertRule.objects.get(kind=AlertKind.CALL_LONG).threshold == 90
    destinations = AlertDestinations.current()
    assert (destinations.webhook_secret, destinations.email_recipients) == ("k", ["a@example.com", "b@example.com"])
    # An empty secret field keeps the secret.
    form["webhook_secret"] = ""
    client.post("/alerts/settings", form)
    assert AlertDestinations.current().webhook_secret == "k"
    (entry,) = AuditEntry.objects.filter(verb="set alert rules")
    assert entry.actor_name == "boss"
    assert entry.detail == "A call turns long: on, 90 seconds; destinations: webhook_url, webhook_secret, email_to"


@pytest.mark.boundary
def test_thresholds_and_addresses_out_of_bounds_are_refused(client, make_operator):
    client.force_login(make_operator("admin", "boss"))
    for field, value in [("conference-nearly-full-threshold", "21"), ("call-long-threshold", "9" * 30), ("email_to", "not an address"),
                         ("webhook_url", "ftp://example.com/x")]:
        response = client.post("/alerts/settings", {field: value})
        assert response.status_code == 422, field
    assert not AlertRule.objects.exists()


def test_an_operator_opts_in_to_notifications_in_their_profile(agent_client):
    assert "data-alert-notifications" not in agent_client.get("/").content.decode()
    agent_client.post("/profile/", {"phone": "", "alert_notifications": "on"})
    assert "data-alert-notifications" in agent_client.get("/").content.decode()
    assert AuditEntry.objects.filter(verb="set alert notifications", detail="on").exists()


@pytest.mark.boundary
def test_an_alert_about_a_row_with_odd_values_has_no_link_and_shows_them_escaped(agent_client, handed_over):
    odd = "<b>c-odd</b>"
    Call.objects.create(call_id=odd, direction="inbound", state=CallState.ANSWERED, start_time=ago(hours=3), from_number="<script>")
    only(AlertKind.CALL_STUCK)
    alerts.evaluate()
    alert = Alert.objects.get()
    assert (alert.subject, alert.link) == (odd, "")
    html = agent_client.get("/").content.decode()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_admin_lists_alerts_and_their_deliveries_read_only(client, make_operator, open_alert):
    boss = make_operator("admin", "boss")
    boss.is_staff = boss.is_superuser = True  # as demo_data makes the admin
    boss.save()
    client.force_login(boss)
    AlertDelivery.objects.create(alert=open_alert, channel="webhook", news="fired", status="failed", detail="HTTP 404: refused")
    alerts_page = client.get("/admin/console/alert/")
    assert alerts_page.status_code == 200 and "Call stuck" in alerts_page.content.decode()
    deliveries = client.get("/admin/console/alertdelivery/?status__exact=failed")
    assert deliveries.status_code == 200 and "HTTP 404: refused" in deliveries.content.decode()
    assert client.get("/admin/console/alert/add/").status_code == 403


def test_the_rules_are_read_once_then_again_when_an_admin_saves_one(db, django_assert_num_queries):
    """Every member's join and exit asks for the nearly-full rule: it comes from memory."""
    assert alert_rules.settings_in_force()[AlertKind.CONFERENCE_NEARLY_FULL].enabled
    with django_assert_num_queries(0):
        alert_rules.settings_in_force()
    AlertRule.objects.create(kind=AlertKind.CONFERENCE_NEARLY_FULL, enabled=False)
    assert not alert_rules.settings_in_force()[AlertKind.CONFERENCE_NEARLY_FULL].enabled
