"""The console's Celery tasks: evaluating the alert rules (Celery beat), delivering alerts.

Thin, as voice's: each takes ids and calls one function of console/alerts.py or
console/alert_delivery.py. console/alerts.py records a delivery and sends delivery_recorded;
the receiver here hands it to a worker once its transaction commits.
"""

from __future__ import annotations

from celery import shared_task
from django.dispatch import receiver

from console import alert_delivery, alerts


@shared_task
def evaluate_alerts() -> dict:
    """Every rule against the mirror; then deliveries lost on their way to a worker are
    handed over again."""
    outcome = alerts.evaluate()
    for delivery_id in alert_delivery.lost():
        deliver_alert.delay(delivery_id)
    return outcome


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver_alert(self, delivery_id: int) -> None:
    attempt = alert_delivery.deliver(delivery_id)
    if attempt.retry_in is not None:
        raise self.retry(countdown=attempt.retry_in)


@receiver(alerts.delivery_recorded)
def _deliver_after_commit(sender, delivery_id: int, **kwargs) -> None:
    deliver_alert.delay_on_commit(delivery_id)
