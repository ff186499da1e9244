"""The console's own records: the audit trail of what operators did, operators' own settings,
and alerts (their rules, the alerts fired, where they are delivered)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
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
    alert_notifications = models.BooleanField(
        default=False,
        verbose_name="Notify me of alerts",
        help_text="A browser notification and a sound when an alert fires, while a console page is open.",
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.phone or 'no phone'})"

    @classmethod
    def phone_of(cls, user) -> str:
        return cls.objects.filter(user=user).values_list("phone", flat=True).first() or ""

    @classmethod
    def wants_notifications(cls, user) -> bool:
        return bool(cls.objects.filter(user=user).values_list("alert_notifications", flat=True).first())


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
            ("manage_alerts", "Can set alert rules' thresholds and where alerts are delivered"),
        ]


# Alerts (console/alerts.py): rules an admin tunes, alerts they fire, deliveries of each.


class AlertKind(models.TextChoices):
    CALL_LONG = "call-long", "A call turns long"
    CALL_STUCK = "call-stuck", "A call turns stuck"
    CONFERENCE_NEARLY_FULL = "conference-nearly-full", "A conference nears its 20 members"
    CONFERENCE_LAST_HOUR = "conference-last-hour", "A conference nears Bandwidth's 24-hour limit"
    ACTION_FAILED = "action-failed", "An operator action fails"
    BANDWIDTH_SILENT = "bandwidth-silent", "Bandwidth goes silent"
    WEBHOOK_TROUBLE = "webhook-trouble", "Webhook refusals or repairs spike"


class AlertRule(models.Model):
    """One rule's settings. The rule itself (what it matches, its threshold's unit and
    default) is code: console/alert_rules.py. A threshold left empty is the rule's default."""

    kind = models.CharField(max_length=32, choices=AlertKind.choices, unique=True)
    enabled = models.BooleanField(default=True)
    threshold = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return self.get_kind_display()


class AlertQuerySet(models.QuerySet):
    def open(self) -> AlertQuerySet:
        return self.filter(cleared_at__isnull=True)


class Alert(models.Model):
    """A rule matched an object (a call, a conference, an action, Bandwidth itself). At most
    one open alert per rule and object (a partial unique constraint): it fires once, stays
    open while the rule matches, and says when it cleared."""

    class Subject(models.TextChoices):
        CALL = "call"
        CONFERENCE = "conference"
        ACTION = "action"
        ACCOUNT = "account"

    rule = models.CharField(max_length=32, choices=AlertKind.choices)
    subject = models.CharField(max_length=200)
    subject_kind = models.CharField(max_length=16, choices=Subject.choices)
    summary = models.CharField(max_length=300)
    # Where the console shows the subject (a call's or a conference's page).
    link = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    clearance = models.CharField(max_length=200, blank=True, help_text="Why it cleared")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_by_name = models.CharField(max_length=150, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject"], condition=Q(cleared_at__isnull=True), name="one_open_alert_per_rule_and_subject"
            )
        ]
        indexes = [models.Index(fields=["cleared_at", "opened_at"])]

    def __str__(self) -> str:
        return self.summary

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class AlertDestinations(models.Model):
    """Where alerts go besides the console, set by an admin (one row): a Slack-compatible
    webhook signed with a shared secret, and e-mail addresses (Django's mail settings)."""

    webhook_url = models.URLField(max_length=500, blank=True, help_text="Alerts are POSTed here as Slack-compatible JSON.")
    webhook_secret = models.CharField(
        max_length=200, blank=True, help_text="Signs each request (X-Switchboard-Signature: HMAC-SHA256 of timestamp.body)."
    )
    email_to = models.TextField(blank=True, help_text="Addresses, one per line or separated by commas.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name_plural = "alert destinations"

    def __str__(self) -> str:
        return "Alert destinations"

    @classmethod
    def current(cls) -> AlertDestinations:
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def email_recipients(self) -> list[str]:
        return [address.strip() for address in self.email_to.replace(",", "\n").splitlines() if address.strip()]


class AlertDelivery(models.Model):
    """One alert's news (it fired, it cleared) to one destination: recorded in the
    transaction that fired or cleared it, then handed to a worker, which sends it and
    retries with backoff; the sweep hands it over again if a worker never got it."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class News(models.TextChoices):
        FIRED = "fired"
        CLEARED = "cleared"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        RETRYING = "retrying"
        DONE = "done"
        FAILED = "failed"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    news = models.CharField(max_length=16, choices=News.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When a retrying delivery is due to be tried again.
    retry_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "alert deliveries"
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.alert} {self.news} by {self.channel} ({self.status})"
