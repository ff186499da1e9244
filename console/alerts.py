"""Alerts: fired once per rule and object, cleared when the rule no longer matches,
acknowledged by an operator; each fire and clear delivered to the destinations an admin set.

Rules are evaluated every ALERT_INTERVAL seconds (Celery beat: console/tasks.py), and where
it is cheap on the event itself: a failed action and a conference's members, after their
transaction commits (a fault here never fails the webhook or the action that triggered it).

Every step is one conditional write, so that two evaluators (a beat run and an event, or
two workers) cannot both fire or both clear: the open alert of a rule and object is unique
in the database. Each fire, clear, acknowledgement and delivery is in the audit log, and
pushed to every console page's bell (console/live.py, stream "alerts").
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.dispatch import Signal, receiver
from django.utils import timezone

from console import live
from console.alert_rules import Finding, Setting, settings_in_force
from console.models import Alert, AlertDelivery, AlertDestinations, AlertKind, AuditEntry
from voice import signals
from voice.models import Action, ActionStatus, ConferenceMember

log = logging.getLogger(__name__)

# kwargs: delivery_id — a delivery was recorded and waits for a worker (console/tasks.py).
delivery_recorded = Signal()


def evaluate() -> dict[str, int]:
    """Every rule against the mirror now: fire for new findings, clear what no longer
    matches (a disabled rule clears all its alerts). Returns how many fired and cleared."""
    in_force = settings_in_force()
    thresholds = {kind: setting.threshold for kind, setting in in_force.items()}
    fired = cleared = 0
    for kind, setting in in_force.items():
        try:
            found = setting.rule.findings(setting.threshold, thresholds) if setting.enabled else []
        except Exception:
            # One rule's fault must not silence the others.
            log.exception("alert rule %s could not be evaluated", kind)
            continue
        findings = {finding.subject: finding for finding in found}
        open_alerts = {alert.subject: alert for alert in Alert.objects.open().filter(rule=kind)}
        for subject, finding in findings.items():
            if subject not in open_alerts and fire(kind, finding) is not None:
                fired += 1
        for subject, alert in open_alerts.items():
            if subject not in findings and clear(alert, _why_cleared(setting)):
                cleared += 1
    return {"fired": fired, "cleared": cleared}


def _why_cleared(setting: Setting) -> str:
    return "The rule was turned off." if not setting.enabled else "No longer matches the rule."


def check(kind: str, subject: str) -> Alert | None:
    """One rule for one object, on the event that may have changed it: fires if it matches
    and has no open alert. (Clearing is left to the periodic evaluation.)"""
    in_force = settings_in_force()
    setting = in_force[kind]
    if not setting.enabled:
        return None
    thresholds = {name: each.threshold for name, each in in_force.items()}
    for finding in setting.rule.findings(setting.threshold, thresholds):
        if finding.subject == subject:
            return fire(kind, finding)
    return None


def fire(kind: str, finding: Finding) -> Alert | None:
    """Opens the alert of `kind` about `finding`'s subject; None if one is open already."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=kind,
                subject=finding.subject,
                subject_kind=finding.subject_kind,
                summary=finding.summary[:300],
                link=finding.link,
            )
            AuditEntry.record(None, "alert fired", _target(alert), outcome=kind, detail=alert.summary)
            _deliver(alert, AlertDelivery.News.FIRED)
    except IntegrityError:
        return None
    live.alert_changed(alert.pk)
    return alert


def clear(alert: Alert, reason: str) -> bool:
    with transaction.atomic():
        moved = Alert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(cleared_at=timezone.now(), clearance=reason[:200])
        if not moved:
            return False
        alert.refresh_from_db()
        AuditEntry.record(None, "alert cleared", _target(alert), outcome=alert.rule, detail=f"{alert.summary} — {reason}")
        _deliver(alert, AlertDelivery.News.CLEARED)
    live.alert_changed(alert.pk)
    return True


def acknowledge(alert: Alert, user) -> bool:
    """An operator has seen it; False if someone had already."""
    with transaction.atomic():
        moved = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=user, acknowledged_by_name=user.get_username()
        )
        if moved:
            alert.refresh_from_db()
            AuditEntry.record(user, "acknowledged alert", _target(alert), outcome="ok", detail=alert.summary)
    if moved:
        live.alert_changed(alert.pk)
    return bool(moved)


def _target(alert: Alert) -> str:
    return f"alert {alert.pk} ({alert.subject_kind} {alert.subject})"


def _deliver(alert: Alert, news: str) -> None:
    """Records a delivery per destination set; each goes to a worker once committed."""
    destinations = AlertDestinations.current()
    channels = []
    if destinations.webhook_url:
        channels.append(AlertDelivery.Channel.WEBHOOK)
    if destinations.email_recipients:
        channels.append(AlertDelivery.Channel.EMAIL)
    for channel in channels:
        delivery = AlertDelivery.objects.create(alert=alert, channel=channel, news=news)
        delivery_recorded.send(sender=AlertDelivery, delivery_id=delivery.pk)


def open_alerts():
    return Alert.objects.open().select_related("acknowledged_by")


# On the event itself, after it commits


# Each first asks one cheap question of the object, so that the common event (an action
# done, a member joining a small conference) costs one query.


@receiver(signals.action_changed)
def _action_changed(sender, action_id: int, **kwargs) -> None:
    def committed() -> None:
        if Action.objects.filter(pk=action_id, status__in=[ActionStatus.FAILED, ActionStatus.DROPPED]).exists():
            check(AlertKind.ACTION_FAILED, str(action_id))

    transaction.on_commit(committed, robust=True)


@receiver(signals.member_changed)
def _member_changed(sender, conference_id: str, **kwargs) -> None:
    def committed() -> None:
        setting = settings_in_force()[AlertKind.CONFERENCE_NEARLY_FULL]
        if setting.enabled and ConferenceMember.objects.count_present(conference_id) >= setting.threshold:
            check(AlertKind.CONFERENCE_NEARLY_FULL, conference_id)

    transaction.on_commit(committed, robust=True)
