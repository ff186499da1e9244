"""The three operator roles, as Django groups holding permissions.

Agent: watches the board and calls, hangs up calls. Supervisor: also runs conferences,
redirects calls, dials out, browses the call history. Admin: everything (a superuser),
recordings and the audit log included. Kept in sync after every migrate, so a new permission
reaches its roles without a hand-written data migration.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

AGENT = "agent"
SUPERVISOR = "supervisor"
ADMIN = "admin"

_SUPERVISOR = [
    "voice.hangup_call",
    "console.control_conference",
    "console.redirect_call",
    "console.dial_out",
    "console.view_call_history",
]

# Supervisors see recordings only when granted console.view_recordings (per user or group).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    AGENT: ["voice.hangup_call"],
    SUPERVISOR: _SUPERVISOR,
    ADMIN: [
        *_SUPERVISOR,
        "console.view_recordings",
        "console.manage_recordings",
        "console.view_audit_log",
        "console.manage_alerts",
        "console.manage_directory",
    ],
}


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def sync_roles(**kwargs) -> None:
    for role, permissions in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([_permission(name) for name in permissions])
