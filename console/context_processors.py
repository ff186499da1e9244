"""What every page's template may show besides its own context."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from console.bell import Bell
from console.live_frames import stamp
from console.models import OperatorProfile


def alerts(request) -> dict:
    """The bell, and whether this operator wants a notification and a sound when an alert
    fires; read only if the page shows them."""
    if not request.user.is_authenticated:
        return {}
    return {
        "bell": SimpleLazyObject(lambda: Bell.now(stamp())),
        "alert_notifications": SimpleLazyObject(lambda: OperatorProfile.wants_notifications(request.user)),
    }
