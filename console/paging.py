"""Keyset pagination: the next page starts after the last row seen, so a deep page costs
what the first one does (no OFFSET scanning a million rows)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone
from typing import Any

from django.core.exceptions import BadRequest
from django.db.models import Q, QuerySet
from django.http import HttpRequest

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def _encode(value: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([value.isoformat(), pk]).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    """The position _encode wrote. Only "Load more" writes cursors: one that does not decode
    to an aware time and a row id was made by hand, and is a bad request."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or type(pk) is not int or not 0 < pk < 2**63:
            raise ValueError(f"not a position: {value!r}, {pk!r}")
        # In UTC, as the database compares it: a time at the calendar's ends may not convert.
        return moment.astimezone(dt_timezone.utc), pk
    except (ValueError, TypeError, OverflowError) as error:
        raise BadRequest("This list's cursor (after=) is not one it gave.") from error


def newest_first_order(queryset: QuerySet, field: str) -> QuerySet:
    """The lists' order: by (`field`, id), newest first (pages and CSV exports alike)."""
    return queryset.order_by(f"-{field}", "-pk")


def newest_first(queryset: QuerySet, field: str, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    """One page ordered by (`field`, id), newest first; `field` must not be null. BadRequest
    for a cursor this module did not write."""
    queryset = newest_first_order(queryset, field)
    position = _decode(cursor) if cursor else None
    if position is not None:
        value, pk = position
        # The first, redundant bound lets the database start its index scan at the cursor;
        # with the OR alone PostgreSQL reads every newer row to skip it (docs/benchmarks.md).
        queryset = queryset.filter(**{f"{field}__lte": value}).filter(
            Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk})
        )
    items = list(queryset[: size + 1])
    more = len(items) > size
    items = items[:size]
    return Page(items, _encode(getattr(items[-1], field), items[-1].pk) if more else None)


def list_template(request: HttpRequest, page: str) -> str:
    """A paged list's template: the whole page; for htmx, the results (a new search) or only
    more rows ("Load more", which sends the cursor as `after`)."""
    if not request.htmx or request.htmx.history_restore_request:
        return page
    return f"{page}#rows" if request.GET.get("after") else f"{page}#results"


def query_without_cursor(request: HttpRequest) -> str:
    """The list's query string without its cursor, for "Load more" to add the next one to."""
    query = request.GET.copy()
    query.pop("after", None)
    return query.urlencode()
