"""The audit of sign-ins, from Django's and axes' signals: every failure and every refusal
while locked out ("anonymous", the username tried, the address), each lock-out, and each
sign-in and sign-out. Unlocks are audited by the admin that performs them (console/admin.py)."""

from __future__ import annotations

from axes.signals import user_locked_out
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


def _refused_while_locked_out(request: HttpRequest) -> bool:
    """axes' backend refused the attempt before any password was checked. It flags the
    request as locked out then, and axes counts no failure for it (AXES_RESET_COOL_OFF_ON_
    FAILURE_DURING_LOCKOUT is off), so axes_failures_since_start stays None; a wrong
    password that reaches the limit is flagged too, but with its count."""
    return getattr(request, "axes_locked_out", False) and getattr(request, "axes_failures_since_start", None) is None


def _lock_end(request: HttpRequest, username: str) -> str:
    ends = lock_out_ends(request, username)
    return ends.isoformat(timespec="seconds") if ends else "unknown"


@receiver(user_login_failed, dispatch_uid="console-audit-sign-in-failed")
def sign_in_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if not _from_a_request(request):
        return
    username = str(credentials.get("username") or "")
    address = client_address(request)
    if _refused_while_locked_out(request):
        AuditEntry.record(
            request.user, "sign-in refused", username[:TARGET_LENGTH],
            detail=f"from {address}: locked out until {_lock_end(request, username)}",
        )
    else:
        AuditEntry.record(request.user, "sign-in failed", username[:TARGET_LENGTH], detail=f"from {address}")


@receiver(user_locked_out, dispatch_uid="console-audit-locked-out")
def locked_out(sender, request: HttpRequest, username: str, ip_address: str, **kwargs) -> None:
    # axes sends this for the failure that reaches the limit, and again for every attempt
    # refused while locked out (audited above as refused): the lock-out itself is once.
    if _refused_while_locked_out(request):
        return
    AuditEntry.record(
        request.user, "locked out", str(username or "")[:TARGET_LENGTH],
        detail=f"from {ip_address} until {_lock_end(request, username)}, after {request.axes_failures_since_start} failed sign-ins",
    )


@receiver(user_logged_in, dispatch_uid="console-audit-signed-in")
def signed_in(sender, request: HttpRequest, user, **kwargs) -> None:
    if _from_a_request(request):
        AuditEntry.record(user, "signed in", user.get_username(), detail=f"from {client_address(request)}")


@receiver(user_logged_out, dispatch_uid="console-audit-signed-out")
def signed_out(sender, request: HttpRequest, user, **kwargs) -> None:
    if user is not None and _from_a_request(request):
        AuditEntry.record(user, "signed out", user.get_username(), detail=f"from {client_address(request)}")
