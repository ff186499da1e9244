"""The console's own records: the audit trail of what operators did."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from voice.models import Action, ActionBatch, ActionStatus


class AuditEntry(models.Model):
    """Who did what to which target, and when. Append-only: nothing in the UI or the Django
    admin can change or delete a row. For an operator action the outcome is the Action's
    own (pending, then done, failed or dropped), read through `action`, so the entry is
    never rewritten when the outcome arrives."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Kept as text too: the entry must still say who after the user is deleted.
    actor_name = models.CharField(max_length=150)
    verb = models.CharField(max_length=40)
    target = models.CharField(max_length=200)
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A request carried out as one action per member (mute all): one entry, whose outcome
    # is its actions' together.
    batch = models.ForeignKey(ActionBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # For entries that are not actions (a recording played, downloaded): their outcome.
    outcome = models.CharField(max_length=40, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_name} {self.verb} {self.target}"

    @property
    def result(self) -> str:
        if self.batch_id:
            return batch_result(self.batch)
        return self.action.status if self.action_id else self.outcome

    @classmethod
    def record(
        cls,
        user,
        verb: str,
        target: str,
        *,
        action: Action | None = None,
        batch: ActionBatch | None = None,
        outcome: str = "",
        detail: str = "",
    ) -> AuditEntry:
        """`user` None is Switchboard itself ("system"); a request's user who has not signed in
        (a sign-in attempt) is "anonymous"."""
        if user is None:
            actor_name = "system"
        else:
            actor_name = user.get_username() if user.is_authenticated else "anonymous"
        return cls.objects.create(
            actor=user if user and user.is_authenticated else None,
            actor_name=actor_name,
            verb=verb,
            target=target,
            action=action,
            batch=batch,
            outcome=outcome,
            detail=detail,
        )


def batch_result(batch: ActionBatch) -> str:
    """A batch's outcome as one action's reads: pending while one of its actions is open,
    then done, or failed when one of them failed or was dropped."""
    statuses = set(batch.actions.values_list("status", flat=True))
    if batch.closed_at is None:
        return ActionStatus.PENDING
    return ActionStatus.FAILED if statuses & {ActionStatus.FAILED, ActionStatus.DROPPED} else ActionStatus.DONE


# An operator's own phone: a number in E.164, or a SIP URI.
OPERATOR_PHONE = RegexValidator(
    r"^(\+[1-9]\d{1,14}|sips?:[^@\s]+@[^\s]+)$", "A number in E.164 (+19195550123) or a SIP URI (sip:me@pbx.example.com)."
)


class OperatorProfile(models.Model):
    """What an operator sets for themselves: the phone the console rings to listen in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_profile")
    phone = models.CharField(
        max_length=128, blank=True, validators=[OPERATOR_PHONE], help_text="Rung when you listen in to a conference."
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.phone or 'no phone'})"

    @classmethod
    def phone_of(cls, user) -> str:
        return cls.objects.filter(user=user).values_list("phone", flat=True).first() or ""


# A directory entry's number: E.164 only, as the mirror keeps numbers.
E164_NUMBER = RegexValidator(r"^\+[1-9]\d{1,14}$", "A number in E.164, +19195550123.")


class DirectoryEntry(models.Model):
    """A name for a number: a contact's, or an agent's line, with their team or a label.
    Shown beside the number wherever the console shows it (console/directory.py), and found
    by name in the board's and the history's searches. Edited by admins in the console, one
    by one or by a CSV import; each change is audited."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact"
        AGENT = "agent", "Agent line"

    number = models.CharField(max_length=16, unique=True, validators=[E164_NUMBER])
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CONTACT)
    label = models.CharField(max_length=60, blank=True, help_text="A team or a label: Sales, Acme Corp, VIP.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "number"]
        verbose_name_plural = "directory entries"
        default_permissions = ()
        permissions = [("manage_directory", "Can add, edit, delete and import directory entries")]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class ConsolePermission(models.Model):
    """Holds the console's own permissions, which belong to no single table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("control_conference", "Can view and control conferences (mute, hold, coach, remove, end, record)"),
            ("redirect_call", "Can redirect calls to a route"),
            ("dial_out", "Can dial participants out into conferences"),
            ("view_call_history", "Can browse and export the call history"),
            ("view_recordings", "Can browse, play and download recordings"),
            ("manage_recordings", "Can transcribe, archive and delete recordings"),
            ("view_audit_log", "Can read and export the audit log"),
        ]
