"""The audit of sign-ins, from Django's signals: every failure and every refusal while
locked out ("anonymous", the username tried, the address), each lock-out, and each sign-in
and sign-out. Unlocks are audited by the admin that performs them (console/admin.py)."""

from __future__ import annotations

# Imported first so that axes' receivers are connected before ours: when ours hear of a
# failed sign-in, axes has counted it and flagged the request it locks out.
import axes.signals  # noqa: F401
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from console.models import AuditEntry
from console.signin import client_address, lock_out_ends

# AuditEntry.target's length.
TARGET_LENGTH = 200


def _from_a_request(request: HttpRequest | None) -> bool:
    """A sign-in or sign-out an operator's browser sent. The test client's force_login()
    and logout() pass a bare HttpRequest, with no method."""
    return request is not None and request.method is not None


def _lock_end(request: HttpRequest, username: str) -> str:
    ends = lock_out_ends(request, username)
    return ends.isoformat(timespec="seconds") if ends else "unknown"


@receiver(user_login_failed, dispatch_uid="console-audit-sign-in-failed")
def sign_in_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if not _from_a_request(request):
        return
    username = str(credentials.get("username") or "")
    target = username[:TARGET_LENGTH]
    address = client_address(request)
    locked = getattr(request, "axes_locked_out", False)
    # axes counts no failure for an attempt its backend refused before any password was
    # checked (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off): no count, no failure.
    failures = getattr(request, "axes_failures_since_start", None)
    if locked and failures is None:
        AuditEntry.record(request.user, "sign-in refused", target, detail=f"from {address}: locked out until {_lock_end(request, username)}")
        return
    AuditEntry.record(request.user, "sign-in failed", target, detail=f"from {address}")
    if locked:
        AuditEntry.record(
            request.user, "locked out", target,
            detail=f"from {address} until {_lock_end(request, username)}, after {failures} failed sign-ins",
        )


@receiver(user_logged_in, dispatch_uid="console-audit-signed-in")
def signed_in(sender, request: HttpRequest, user, **kwargs) -> None:
    if _from_a_request(request):
        AuditEntry.record(user, "signed in", user.get_username(), detail=f"from {client_address(request)}")


@receiver(user_logged_out, dispatch_uid="console-audit-signed-out")
def signed_out(sender, request: HttpRequest, user, **kwargs) -> None:
    if user is not None and _from_a_request(request):
        AuditEntry.record(user, "signed out", user.get_username(), detail=f"from {client_address(request)}")
