"""The live board's view: filters, sort and window size, parsed and validated by a form,
applied as one QuerySet, and kept in the URL so that a view can be bookmarked (and so that a
board's websocket follows the same view: console/live_frames.py)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django import forms
from django.db.models import F, QuerySet

from console import directory
from console.forms import PartyField
from voice.models import LIVE_CALL_STATES, Call

LIVE_STATES = [(state.value, state.label) for state in LIVE_CALL_STATES]

# The board shows a window of the live calls, this many rows first; "Show more" widens it.
WINDOW_ROWS = 100
MAX_WINDOW_ROWS = 1000
# Orders of the window. The longest first puts the stuck and long calls on top: what an
# agent looks for first. The board's column headers link to these too.
SORTS = {
    "longest": (F("start_time").asc(nulls_last=True), "id"),
    "newest": (F("start_time").desc(nulls_last=True), "-id"),
    "from": ("from_number", F("start_time").asc(nulls_last=True), "id"),
    "to": ("to_number", F("start_time").asc(nulls_last=True), "id"),
    "state": ("state", F("start_time").asc(nulls_last=True), "id"),
}
SORT_CHOICES = [
    ("longest", "Longest first"),
    ("newest", "Newest first"),
    ("from", "By caller's number"),
    ("to", "By called number"),
    ("state", "By state"),
]
DEFAULT_SORT = "longest"


class CallFilterForm(forms.Form):
    number = PartyField(required=False, label="Number or name")
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *LIVE_STATES])
    direction = forms.ChoiceField(required=False, choices=[("", "Any direction"), *Call.Direction.choices])
    tag = forms.CharField(required=False, max_length=256)
    stuck = forms.BooleanField(required=False, label="Stuck only")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)
    rows = forms.IntegerField(required=False, min_value=1, max_value=MAX_WINDOW_ROWS)

    FILTERS = ("number", "state", "direction", "tag", "stuck")

    def _value(self, name: str):
        return self.cleaned_data.get(name) if self.is_valid() else None

    @property
    def active(self) -> bool:
        """Whether a filter (not the sort or the window) narrows the list."""
        return any(self._value(name) for name in self.FILTERS)

    @property
    def sort_key(self) -> str:
        return self._value("sort") or DEFAULT_SORT

    @property
    def window_rows(self) -> int:
        return self._value("rows") or WINDOW_ROWS

    @property
    def query(self) -> str:
        """The view as a query string: only what differs from the default, in one order, so
        that one view is one live group whatever the URL looked like. An invalid form is
        the default view (the board then shows every live call and says why)."""
        return urlencode(self._pairs(self.window_rows))

    @property
    def reread_query(self) -> str:
        """The query string the page re-reads its rows with (a socket opened, a frame
        missed): the view's, or for an invalid form what was asked, so that the rows read
        again still say why every live call is shown."""
        if self.is_valid():
            return self.query
        return urlencode(list(self.data.items()))

    @property
    def sort_queries(self) -> dict[str, str]:
        """This view in each order, as query strings: the column headers link to them."""
        return {key: urlencode(self._pairs(self.window_rows, sort=key)) for key in SORTS}

    @property
    def more_query(self) -> str:
        """This view with a window wider by WINDOW_ROWS."""
        return urlencode(self._pairs(min(MAX_WINDOW_ROWS, self.window_rows + WINDOW_ROWS)))

    def _pairs(self, rows: int, sort: str | None = None) -> list[tuple[str, object]]:
        sort = sort or self.sort_key
        if not self.is_valid():
            pairs: list[tuple[str, object]] = [("sort", sort)] if sort != DEFAULT_SORT else []
            return pairs + ([("rows", rows)] if rows != WINDOW_ROWS else [])
        data = self.cleaned_data
        pairs = [(name, "on" if data[name] is True else data[name]) for name in self.FILTERS if data[name]]
        if sort != DEFAULT_SORT:
            pairs.append(("sort", sort))
        if rows != WINDOW_ROWS:
            pairs.append(("rows", rows))
        return pairs

    def apply(self, calls: QuerySet[Call], *, stuck_cutoff: datetime | None = None) -> QuerySet[Call]:
        """The calls of this view; `stuck_cutoff` as Call.objects.stuck()'s."""
        if not self.is_valid():
            return calls
        data = self.cleaned_data
        if data["number"]:
            calls = calls.filter(directory.matching(data["number"], "from_number", "to_number"))
        if data["state"]:
            calls = calls.filter(state=data["state"])
        if data["direction"]:
            calls = calls.filter(direction=data["direction"])
        if data["tag"]:
            calls = calls.filter(tag__icontains=data["tag"])
        if data["stuck"]:
            calls = calls.stuck(cutoff=stuck_cutoff)
        return calls

    def ordered(self, calls: QuerySet[Call], *, stuck_cutoff: datetime | None = None) -> QuerySet[Call]:
        return self.apply(calls, stuck_cutoff=stuck_cutoff).order_by(*SORTS[self.sort_key])
