"""The board's columns sort it (issue 13, problem 8): each header links to the view in its
order, kept in the URL with the filters, and the window follows that order."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from voice.models import Call, CallState

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls():
    now = timezone.now()
    for n, (number, state) in enumerate((("+13125550178", "answered"), ("+12125550143", "initiated"), ("+14155550126", "answered"))):
        Call.objects.create(
            call_id=f"c-sort-{n}", direction="inbound", state=state, from_number=number, to_number=f"+1919555010{2 - n}",
            start_time=now - timedelta(minutes=10 - n),
        )


def order(html: str) -> list[str]:
    return re.findall(r'<tr id="call-(c-sort-\d)"', html)


def test_each_column_header_sorts_the_view_and_keeps_the_filters(agent_client, calls):
    html = agent_client.get("/", {"direction": "inbound"}).content.decode()
    assert order(html) == ["c-sort-0", "c-sort-1", "c-sort-2"]  # longest first
    assert 'aria-sort="descending"><a class="sort" href="/?direction=inbound&amp;sort=newest"' in html
    assert 'href="/?direction=inbound&amp;sort=from"' in html
    assert order(agent_client.get("/", {"direction": "inbound", "sort": "from"}).content.decode()) == ["c-sort-1", "c-sort-0", "c-sort-2"]
    assert order(agent_client.get("/", {"sort": "to"}).content.decode()) == ["c-sort-2", "c-sort-1", "c-sort-0"]
    assert order(agent_client.get("/", {"sort": "state"}).content.decode()) == ["c-sort-0", "c-sort-2", "c-sort-1"]
    html = agent_client.get("/", {"sort": "from"}).content.decode()
    assert '<th scope="col" aria-sort="ascending"><a class="sort" href="/?sort=from"' in html
