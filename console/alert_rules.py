"""What each alert rule matches, its threshold's unit, default and bounds.

A rule reads the mirror and the event log and names the objects it matches now (its
findings); console/alerts.py fires an alert for a finding that has none open and clears the
open alerts whose object the rule no longer matches. The thresholds an admin may change are
in AlertRule rows; an empty one is the default here. Where the board has a rule already
(long and stuck calls, a conference near its limits), the alert uses it, with the threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from console import board
from console.ids import is_bandwidth_id
from console.models import Alert, AlertKind, AlertRule
from console.templatetags.console import wall_clock
from voice.models import Action, ActionStatus, Call, Conference, Event
from voice.models.conference import CONFERENCE_AGE_WARNING, CONFERENCE_MAX_AGE, CONFERENCE_MAX_MEMBERS, CONFERENCE_MEMBERS_WARNING
from voice.shared_copy import SharedCopy

# Refusals and repairs are counted over this window: a spike is `threshold` of either in it.
SPIKE_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Finding:
    """An object a rule matches now: what an alert about it says and links to."""

    subject: str
    subject_kind: str
    summary: str
    link: str = ""


def _link(view_name: str, object_id: str) -> str:
    """The page of a mirror object; none for an id no page takes (a mirror row may hold one)."""
    return reverse(view_name, args=[object_id]) if is_bandwidth_id(object_id) else ""


def _call_finding(call: Call, words: str) -> Finding:
    return Finding(
        call.call_id,
        Alert.Subject.CALL,
        f"Call {call.from_number or '?'} → {call.to_number or '?'} {words}",
        _link("console-call", call.call_id),
    )


def _conference_finding(conference: Conference, words: str) -> Finding:
    return Finding(
        conference.conference_id,
        Alert.Subject.CONFERENCE,
        f"Conference {conference.name or conference.conference_id} {words}",
        _link("console-conference", conference.conference_id),
    )


def _threshold(kind: str, thresholds: dict[str, int]) -> int:
    return thresholds.get(kind) or RULES[kind].default()


def long_calls(threshold: int, thresholds: dict[str, int]) -> list[Finding]:
    # Long, not yet stuck (the board's rule): a call that turns stuck is the stuck rule's.
    stuck_after = _threshold(AlertKind.CALL_STUCK, thresholds)
    calls = Call.objects.long(after=threshold, stuck_after=stuck_after)
    return [_call_finding(call, f"up longer than {wall_clock(threshold)}") for call in calls]


def stuck_calls(threshold: int, thresholds: dict[str, int]) -> list[Finding]:
    return [_call_finding(call, f"stuck: up longer than {wall_clock(threshold)}") for call in Call.objects.stuck(after=threshold)]


def nearly_full_conferences(threshold: int, thresholds: dict[str, int]) -> list[Finding]:
    conferences = Conference.objects.live().with_member_count().filter(member_count__gte=threshold)
    return [
        _conference_finding(conference, f"has {conference.member_count} of Bandwidth's {CONFERENCE_MAX_MEMBERS} members")
        for conference in conferences
    ]


def conferences_near_their_end(threshold: int, thresholds: dict[str, int]) -> list[Finding]:
    since = timezone.now() - CONFERENCE_MAX_AGE + timedelta(minutes=threshold)
    conferences = Conference.objects.live().filter(created_time__lt=since)
    return [
        _conference_finding(conference, f"ends at Bandwidth's 24-hour limit at {conference.age_limit_at:%H:%M} UTC")
        for conference in conferences
    ]


def failed_actions(threshold: int, thresholds: dict[str, int]) -> list[Finding]:
    """Actions that failed or were dropped in the last `threshold` minutes: each stays open
    that long, then clears."""
    since = timezone.now() - timedelta(minutes=threshold)
    actions = Action.objects.filter(status__in=[ActionStatus.FAILED, ActionStatus.DROPPED], finished_at__gte=since)
    return [_action_finding(action) for action in actions.select_related("requested_by")]


def _action_finding(action: Action) -> Finding:
    who = action.requested_by.get_username() if action.requested_by else "Switchboard"
    conference_id = board.conference_of(action)
    link = _link("console-conference", conference_id) if conference_id else _link("console-call", action.call_id)
    detail = action.detail[:120]
    return Finding(
        str(action.pk),
        Alert.Subject.ACTION,
        f"{action.get_kind_display()} by {who} {action.status}: {detail}",
        link,
    )


def bandwidth_silence(threshold: int, thresholds: dict[str, int]) -> list[Finding]:
    """Calls are live but no webhook came for `threshold` minutes: Bandwidth's callbacks no
    longer reach the console (the application's callback URL or credentials are likely wrong)."""
    if not Call.objects.live().exists():
        return []
    since = timezone.now() - timedelta(minutes=threshold)
    if Event.objects.filter(source=Event.Source.WEBHOOK, received_at__gte=since).exists():
        return []
    last = Event.objects.filter(source=Event.Source.WEBHOOK).order_by("-received_at").values_list("received_at", flat=True).first()
    heard = f"the last at {last:%H:%M:%S} UTC" if last else "none ever"
    return [
        Finding(
            "bandwidth",
            Alert.Subject.ACCOUNT,
            f"Bandwidth silent: calls are live but no webhook for {threshold} min ({heard}); check the "
            "application's callback URL and credentials",
        )
    ]


def webhook_trouble(threshold: int, thresholds: dict[str, int]) -> list[Finding]:
    since = timezone.now() - SPIKE_WINDOW
    minutes = int(SPIKE_WINDOW.total_seconds() // 60)
    findings = []
    refused = Event.objects.filter(outcome=Event.Outcome.REFUSED, received_at__gte=since).count()
    if refused >= threshold:
        findings.append(
            Finding(
                "webhook-refusals",
                Alert.Subject.ACCOUNT,
                f"{refused} webhooks refused in {minutes} min: a Bandwidth application sends what the console cannot read",
            )
        )
    repaired = Event.objects.filter(outcome=Event.Outcome.REPAIR, received_at__gte=since).count()
    if repaired >= threshold:
        findings.append(
            Finding(
                "reconciliation-repairs",
                Alert.Subject.ACCOUNT,
                f"{repaired} reconciliation repairs in {minutes} min: webhooks are being lost",
            )
        )
    return findings


@dataclass(frozen=True)
class Rule:
    kind: str
    unit: str
    default: Callable[[], int]
    lowest: int
    highest: int
    findings: Callable[[int, dict[str, int]], list[Finding]]
    explanation: str


DAY = 24 * 3600
RULES: dict[str, Rule] = {
    rule.kind: rule
    for rule in [
        Rule(
            AlertKind.CALL_LONG, "seconds", lambda: settings.LONG_CALL_AFTER, 10, 7 * DAY, long_calls,
            "A live call up longer than this (empty: the board's LONG_CALL_AFTER). Clears when it ends or turns stuck.",
        ),
        Rule(
            AlertKind.CALL_STUCK, "seconds", lambda: settings.STUCK_CALL_AFTER, 10, 7 * DAY, stuck_calls,
            "A live call up longer than this (empty: the board's STUCK_CALL_AFTER). Clears when it ends.",
        ),
        Rule(
            AlertKind.CONFERENCE_NEARLY_FULL, "members", lambda: CONFERENCE_MAX_MEMBERS - CONFERENCE_MEMBERS_WARNING,
            1, CONFERENCE_MAX_MEMBERS, nearly_full_conferences,
            "A live conference with this many members (Bandwidth refuses the 21st). Clears below it.",
        ),
        Rule(
            AlertKind.CONFERENCE_LAST_HOUR, "minutes", lambda: int(CONFERENCE_AGE_WARNING.total_seconds() // 60),
            1, 24 * 60, conferences_near_their_end,
            "A live conference this close to Bandwidth's 24-hour limit, when Bandwidth ends it. Clears when it ends.",
        ),
        Rule(
            AlertKind.ACTION_FAILED, "minutes", lambda: 15, 1, 24 * 60, failed_actions,
            "An operator action failed or was dropped; the alert stays open this long.",
        ),
        Rule(
            AlertKind.BANDWIDTH_SILENT, "minutes", lambda: 5, 1, 24 * 60, bandwidth_silence,
            "Calls are live but no webhook came for this long. Clears with the next webhook.",
        ),
        Rule(
            AlertKind.WEBHOOK_TROUBLE, "events", lambda: 10, 1, 100_000, webhook_trouble,
            f"This many webhooks refused, or reconciliation repairs, in {int(SPIKE_WINDOW.total_seconds() // 60)} "
            "minutes. Clears below it.",
        ),
    ]
}


@dataclass(frozen=True)
class Setting:
    """A rule with an admin's settings: enabled, and the threshold in force."""

    rule: Rule
    enabled: bool
    threshold: int
    chosen: int | None

    @property
    def kind(self) -> str:
        return self.rule.kind

    @property
    def label(self) -> str:
        return AlertKind(self.rule.kind).label


# The rows an admin saved, by kind, kept in each process's memory as the routes are: every
# member's join and exit asks whether the nearly-full rule is on, and an admin changes the
# rules seldom (voice/shared_copy.py says how a copy stays current).
saved_rules = SharedCopy(AlertRule, lambda: {row.kind: row for row in AlertRule.objects.all()}, "console.alert_rules.version")


def settings_in_force() -> dict[str, Setting]:
    """Every rule with its settings (a rule nobody set is enabled, at its default)."""
    rows = saved_rules.get()
    result = {}
    for kind, rule in RULES.items():
        row = rows.get(kind)
        chosen = row.threshold if row is not None else None
        result[kind] = Setting(rule, row.enabled if row is not None else True, chosen or rule.default(), chosen)
    return result
