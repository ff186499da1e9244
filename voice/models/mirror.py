"""What every mirror model shares: lifecycles as tables of allowed moves, and the
conditional writes that let two writers (two webhooks, a webhook and a repair, two workers)
never both win."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def allowed_from(transitions: dict[str, frozenset[str]], target: str) -> list[str]:
    """The states from which `target` may be reached."""
    return [state for state, targets in transitions.items() if target in targets]


def _is_text(model: type[models.Model], field_name: str) -> bool:
    return isinstance(model._meta.get_field(field_name), (models.CharField, models.TextField))


def _empty(model: type[models.Model], name: str) -> Q:
    empty = Q(**{f"{name}__isnull": True})
    if _is_text(model, name):
        empty |= Q(**{name: ""})
    return empty


def fill_missing(queryset: models.QuerySet, **fields) -> list[str]:
    """Set the given fields where the row has none yet; never overwrite what is there.

    Facts a dropped or reordered event would have brought fill gaps this way whatever the
    arrival order. One read finds the gaps (usually none: every event repeats the call's
    facts), then one UPDATE fills them, each field guarded by its own emptiness so that a
    concurrent writer's value still wins. Returns the names of the fields that changed."""
    given = {name: value for name, value in fields.items() if value not in (None, "")}
    row = queryset.values(*given).first() if given else None
    if row is None:
        return []
    gaps = [name for name in given if row[name] in (None, "")]
    if not gaps:
        return []
    model = queryset.model
    queryset.update(
        **{
            name: models.Case(
                models.When(_empty(model, name), then=models.Value(given[name])),
                default=models.F(name),
                output_field=_column(model, name),
            )
            for name in gaps
        }
    )
    return gaps


def _column(model: type[models.Model], name: str) -> models.Field:
    """The field whose values the column holds: for a foreign key (a recording's call_id),
    the field it points to."""
    field = model._meta.get_field(name)
    return field.target_field if field.is_relation else field


def event_noted(event_time: datetime, tag: str) -> dict:
    """The UPDATE that records an event's arrival on a call or a conference: now, and if it
    is the newest by eventTime, its time and its tag (one statement, whatever the order)."""
    newest = Q(latest_event_time__isnull=True) | Q(latest_event_time__lte=event_time)
    return {
        "last_event_at": timezone.now(),
        "latest_event_time": models.Case(
            models.When(newest, then=models.Value(event_time, output_field=models.DateTimeField())),
            default=models.F("latest_event_time"),
        ),
        "tag": models.Case(
            models.When(newest, then=models.Value(tag, output_field=models.CharField())),
            default=models.F("tag"),
        ),
    }


def keep_latest(queryset: models.QuerySet, name: str, value: datetime | None) -> bool:
    """Raise a time field to `value` if it is unset or earlier (order-independent maximum)."""
    if value is None:
        return False
    return bool(queryset.filter(Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__lt": value})).update(**{name: value}))


class Mirrored:
    """What calls and conferences share as objects reconciliation re-reads: when they were
    last heard of (last_event_at) and last read from Bandwidth (last_synced_at)."""

    last_event_at: datetime | None
    last_synced_at: datetime | None

    @property
    def last_heard_at(self) -> datetime | None:
        """When Switchboard last heard of it: a webhook, or a read from Bandwidth."""
        return max((moment for moment in (self.last_event_at, self.last_synced_at) if moment), default=None)

    def is_quiet(self, since: datetime) -> bool:
        """Neither webhooks nor reconciliation have told us about it since `since` (the
        rule MirrorQuerySet.quiet states in SQL)."""
        return all(moment is None or moment < since for moment in (self.last_event_at, self.last_synced_at))


def unheard_after() -> timedelta:
    """How long a live call or conference may go unheard of before the board flags it:
    reconciliation re-reads one quiet for RECONCILE_QUIET_AFTER within RECONCILE_INTERVAL;
    past both, neither a webhook nor Bandwidth's API has confirmed what the mirror shows
    (Bandwidth or the worker may be unreachable)."""
    return timedelta(seconds=settings.RECONCILE_QUIET_AFTER + settings.RECONCILE_INTERVAL)


class MirrorQuerySet(models.QuerySet):
    """Shared by the objects reconciliation re-reads (calls, conferences), which note when
    they were last heard of (last_event_at) and last read from Bandwidth (last_synced_at)."""

    def quiet(self, since: datetime) -> MirrorQuerySet:
        """Objects neither webhooks nor reconciliation have told us about since `since`."""
        return self.filter(Q(last_event_at__isnull=True) | Q(last_event_at__lt=since)).filter(
            Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=since)
        )


def overwrite(queryset: models.QuerySet, current: models.Model, values: dict) -> dict[str, tuple]:
    """Set each column to Bandwidth's value where it differs (reconciliation), on the
    condition that the row still holds what was read: a concurrent webhook wins. Returns
    what changed, {column: (before, after)}."""
    changes = {}
    for name, value in values.items():
        if value in (None, ""):
            continue
        before = getattr(current, name)
        if before != value and queryset.filter(**{name: before}).update(**{name: value}):
            changes[name] = (before, value)
    return changes
