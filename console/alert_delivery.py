"""Delivering an alert's news (it fired, it cleared) to the webhook and the e-mail addresses
an admin set: one AlertDelivery row each, claimed by one worker, sent, and retried with
backoff on a transient failure; every outcome audited.

A delivery is at least once: a worker that dies after sending and before recording it done
leaves the row "sending", and once its lease runs out the sweep hands it to a worker again.
The webhook's receiver can tell a repeat by the alert's id and news in the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone

from console.models import Alert, AlertDelivery, AlertDestinations, AuditEntry
from voice.retry import backoff

log = logging.getLogger(__name__)

Status = AlertDelivery.Status
# A worker that claimed a delivery and died leaves it "sending": after this long it is
# handed to a worker again.
CLAIM_LEASE = timedelta(seconds=60)
# A delivery not picked up this long after it was recorded (or due again) was lost on its
# way to a worker (Redis down, the hand-over failed): the sweep hands it over again.
HANDOVER_AFTER = timedelta(seconds=10)
SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"


class Transient(Exception):
    """Worth trying again later: no answer, a 429 or a 5xx, a mail server unreachable."""


class Permanent(Exception):
    """Trying again would not help: the receiver refused it (4xx), no destination set."""


@dataclass(frozen=True)
class Attempt:
    # Seconds until the next attempt; None when the delivery is finished.
    retry_in: float | None = None


def deliver(delivery_id: int) -> Attempt:
    """Claim the delivery, send it, record the outcome. Safe to run twice."""
    delivery = AlertDelivery.objects.select_related("alert").filter(pk=delivery_id).first()
    if delivery is None or not _claim(delivery):
        return Attempt()
    try:
        detail = SENDERS[delivery.channel](delivery, AlertDestinations.current())
    except Transient as error:
        if delivery.attempts >= settings.ALERT_DELIVERY_MAX_ATTEMPTS:
            _finish(delivery, Status.FAILED, f"Failed after {delivery.attempts} attempts: {error}")
            return Attempt()
        retry_in = backoff(delivery.attempts, base=settings.ALERT_DELIVERY_BACKOFF, cap=300.0)
        _move(delivery, Status.RETRYING, f"Retrying in {retry_in:.1f} s: {error}", retry_at=timezone.now() + timedelta(seconds=retry_in))
        AuditEntry.record(None, "alert delivery retrying", _target(delivery), outcome=delivery.channel, detail=str(error)[:500])
        return Attempt(retry_in=retry_in)
    except Permanent as error:
        _finish(delivery, Status.FAILED, str(error))
        return Attempt()
    _finish(delivery, Status.DONE, detail)
    return Attempt()


def _claim(delivery: AlertDelivery) -> bool:
    now = timezone.now()
    claimable = Q(status__in=[Status.PENDING, Status.RETRYING]) | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    moved = AlertDelivery.objects.filter(claimable, pk=delivery.pk).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
    )
    delivery.refresh_from_db()
    return bool(moved)


def _move(delivery: AlertDelivery, status: str, detail: str, **fields) -> None:
    AlertDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=status, detail=detail[:2000], updated_at=timezone.now(), **fields
    )


def _finish(delivery: AlertDelivery, status: str, detail: str) -> None:
    _move(delivery, status, detail, finished_at=timezone.now())
    verb = "alert delivered" if status == Status.DONE else "alert delivery failed"
    AuditEntry.record(None, verb, _target(delivery), outcome=delivery.channel, detail=f"{delivery.news}: {detail}"[:2000])


def _target(delivery: AlertDelivery) -> str:
    alert = delivery.alert
    return f"alert {alert.pk} ({alert.subject_kind} {alert.subject})"


# What is sent


def message(alert: Alert, news: str) -> dict:
    """The webhook's body: Slack's incoming-webhook shape ("text"), with the alert's fields
    for receivers that read more than Slack does."""
    url = f"{settings.PUBLIC_URL}{alert.link}" if alert.link else ""
    if news == AlertDelivery.News.FIRED:
        text = f":rotating_light: {alert.summary}"
    else:
        text = f":white_check_mark: Cleared: {alert.summary} — {alert.clearance}"
    if url:
        text += f" <{url}|Open in Switchboard>"
    return {
        "text": text,
        "alert": {
            "id": alert.pk,
            "news": news,
            "rule": alert.rule,
            "rule_name": alert.get_rule_display(),
            "subject": alert.subject,
            "subject_kind": alert.subject_kind,
            "summary": alert.summary,
            "url": url,
            "opened_at": alert.opened_at.isoformat(),
            "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
            "clearance": alert.clearance,
        },
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>" with the shared secret, as hex: the receiver
    recomputes it, and refuses an old timestamp (a replay)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send_webhook(delivery: AlertDelivery, destinations: AlertDestinations) -> str:
    if not destinations.webhook_url:
        raise Permanent("No webhook URL is set any more.")
    body = json.dumps(message(delivery.alert, delivery.news)).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Switchboard alerts"}
    if destinations.webhook_secret:
        timestamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = signature(destinations.webhook_secret, timestamp, body)
    try:
        response = requests.post(
            destinations.webhook_url, data=body, headers=headers, timeout=settings.ALERT_WEBHOOK_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as error:
        raise Transient(f"{type(error).__name__}: {error}") from error
    if response.status_code == 429 or response.status_code >= 500:
        raise Transient(f"HTTP {response.status_code}")
    if not 200 <= response.status_code < 300:
        raise Permanent(f"HTTP {response.status_code}: {response.text[:200]}")
    return f"HTTP {response.status_code}"


def send_email(delivery: AlertDelivery, destinations: AlertDestinations) -> str:
    recipients = destinations.email_recipients
    if not recipients:
        raise Permanent("No e-mail address is set any more.")
    alert, news = delivery.alert, delivery.news
    fields = message(alert, news)["alert"]
    subject = f"[Switchboard] {'Cleared: ' if news == AlertDelivery.News.CLEARED else ''}{alert.summary}"[:200]
    lines = [alert.summary, "", f"Rule: {fields['rule_name']}", f"Opened: {fields['opened_at']}"]
    if alert.cleared_at:
        lines.append(f"Cleared: {fields['cleared_at']} ({alert.clearance})")
    if fields["url"]:
        lines += ["", fields["url"]]
    try:
        send_mail(subject.replace("\n", " "), "\n".join(lines), None, recipients)
    except (smtplib.SMTPException, OSError) as error:
        raise Transient(f"{type(error).__name__}: {error}") from error
    return f"sent to {len(recipients)} address{'es' if len(recipients) > 1 else ''}"


SENDERS = {AlertDelivery.Channel.WEBHOOK: send_webhook, AlertDelivery.Channel.EMAIL: send_email}


def lost() -> list[int]:
    """Deliveries a worker never got (or whose worker died): their ids, marked as handed over."""
    now = timezone.now()
    stalled = (
        Q(status=Status.PENDING, updated_at__lt=now - HANDOVER_AFTER)
        | Q(status=Status.RETRYING, retry_at__lt=now - HANDOVER_AFTER, updated_at__lt=now - HANDOVER_AFTER)
        | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    )
    ids = list(AlertDelivery.objects.filter(stalled).values_list("pk", flat=True)[:500])
    AlertDelivery.objects.filter(pk__in=ids).update(updated_at=now)
    return ids
