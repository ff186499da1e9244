"""python manage.py demo_data — the three demo operators (passwords printed) and the demo's
call routes, the supervisor's phone, and the demo's threshold for long calls' alerts. Safe to run again: passwords
are kept, routes and alert rules an admin edited are left alone."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from console import roles
from console.models import AlertKind, AlertRule, DirectoryEntry, OperatorProfile
from voice.demo import DEMO_DIRECTORY, SUPERVISOR_PHONE, ensure_demo_routes

DEMO_USERS = (roles.ADMIN, roles.SUPERVISOR, roles.AGENT)
# Seconds after which the demo's alert calls a call long (the board keeps LONG_CALL_AFTER).
DEMO_LONG_CALL_AFTER = 60


class Command(BaseCommand):
    help = "Create (or keep) the demo users admin, supervisor and agent, print their passwords, the demo call routes and directory."

    def handle(self, *args, **options) -> None:
        roles.sync_roles()
        store = settings.VAR_DIR / "demo-users.json"
        known = json.loads(store.read_text()) if store.exists() else {}
        User = get_user_model()
        for name in DEMO_USERS:
            user = User.objects.filter(username=name).first()
            password = known.get(name)
            if user is None or password is None or not user.check_password(password):
                password = secrets.token_urlsafe(9)
                user = user or User(username=name)
                user.set_password(password)
            user.is_staff = user.is_superuser = name == roles.ADMIN
            user.save()
            user.groups.set([Group.objects.get(name=name)])
            known[name] = password
        # The demo supervisor's phone, which the demo's sandbox answers: listening in works at
        # once. Set once; a phone the supervisor changed is kept.
        supervisor = User.objects.get(username=roles.SUPERVISOR)
        OperatorProfile.objects.get_or_create(user=supervisor, defaults={"phone": SUPERVISOR_PHONE})
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(known, indent=2))
        store.chmod(0o600)
        # Names for the demo's numbers, put in an empty directory only: an admin's entries stay.
        if not DirectoryEntry.objects.exists():
            for number, name, kind, label in DEMO_DIRECTORY:
                DirectoryEntry.objects.create(number=number, name=name, kind=kind, label=label)
        routes = ensure_demo_routes()
        # Demo calls last minutes, not the half hour that makes a real call long: the demo
        # calls a call long after a minute, so that the bell rings within two minutes of the
        # start (the sandbox's first callers, its stuck caller among them, are still on).
        # Set once; a threshold an admin set is kept.
        AlertRule.objects.get_or_create(kind=AlertKind.CALL_LONG, defaults={"threshold": DEMO_LONG_CALL_AFTER, "updated_by": "demo_data"})
        self.stdout.write(f"Call routes: {len(routes)} demo routes (edit them at /admin/voice/route/).")
        self.stdout.write("Demo users (kept in var/demo-users.json):")
        for name in DEMO_USERS:
            self.stdout.write(f"  {name:<11} {known[name]}")
