"""The live board: filters kept in the URL, figures, the chart, thresholds."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from console import board, figures
from console.filters import CallFilterForm
from console.models import DirectoryEntry
from voice.models import Call, CallState

pytestmark = pytest.mark.django_db


def make_call(call_id: str, *, state=CallState.ANSWERED, started_ago=60, **fields) -> Call:
    start = timezone.now() - timedelta(seconds=started_ago)
    defaults = {
        "direction": "inbound",
        "from_number": "+15551110000",
        "to_number": "+19195550100",
        "start_time": start,
        "answer_time": start + timedelta(seconds=2) if state != CallState.INITIATED else None,
    }
    return Call.objects.create(call_id=call_id, state=state, **{**defaults, **fields})


def listed(client, query: str = "") -> set[str]:
    html = client.get(f"/?{query}", headers={"HX-Request": "true"}).content.decode()
    return {call_id for call_id in ("c-a", "c-b", "c-c", "c-d") if f'id="call-{call_id}"' in html}


def test_filters_by_partial_number_in_either_direction(agent_client):
    make_call("c-a", from_number="+15551234567")
    make_call("c-b", to_number="+19195550199")
    make_call("c-c")
    assert listed(agent_client, "number=1234") == {"c-a"}
    assert listed(agent_client, "number=%2B1%20(919)%20555-0199") == {"c-b"}


def test_filters_by_state_direction_tag_and_stuck(agent_client, settings):
    settings.STUCK_CALL_AFTER = 3600
    make_call("c-a", state=CallState.INITIATED)
    make_call("c-b", direction="outbound", tag="campaign-7")
    make_call("c-c", started_ago=2 * 3600)
    assert listed(agent_client, "state=initiated") == {"c-a"}
    assert listed(agent_client, "direction=outbound") == {"c-b"}
    assert listed(agent_client, "tag=campaign") == {"c-b"}
    assert listed(agent_client, "stuck=on") == {"c-c"}
    assert listed(agent_client, "") == {"c-a", "c-b", "c-c"}


def test_a_filtered_table_says_so_and_resyncs_with_its_filters(agent_client):
    make_call("c-a")
    html = agent_client.get("/?direction=outbound", headers={"HX-Request": "true"}).content.decode()
    assert "data-filtered" in html
    assert 'hx-get="/?direction=outbound"' in html
    assert "No live call matches these filters." in html


def test_an_invalid_filter_value_shows_everything_rather_than_failing(agent_client):
    make_call("c-a")
    assert listed(agent_client, "state=exploded") == {"c-a"}


def test_the_full_page_shows_figures_and_when_each_row_turns_long_and_stuck(agent_client, settings):
    settings.LONG_CALL_AFTER = 600
    settings.STUCK_CALL_AFTER = 3600
    call = make_call("c-a", started_ago=700)
    html = agent_client.get("/").content.decode()
    assert 'data-figure="active-calls">1<' in html
    # The server's rule, once: the row is long now, and says when it turns stuck.
    assert "is-long" in html
    assert f'data-stuck-at="{(call.start_time + timedelta(seconds=3600)).isoformat()}"' in html
    assert 'id="shortcuts"' in html


def test_the_board_shows_a_window_of_the_longest_calls_with_counts_and_a_way_to_see_more(agent_client, settings):
    settings.STUCK_CALL_AFTER = 3600
    for n in range(120):
        make_call(f"c-{n:03d}", started_ago=10 + n * 60)
    html = agent_client.get("/").content.decode()
    rows = re.findall(r'<tr id="call-(c-\d+)"', html)
    assert rows == [f"c-{n:03d}" for n in range(119, 19, -1)]  # the 100 longest, longest first
    assert '<span id="call-count">120 live calls</span>' in html and "60 stuck" in html
    assert "showing the 100 longest" in html and 'href="?rows=200"' in html


def test_the_newest_first_and_a_wider_window_are_kept_in_the_url_and_the_socket(agent_client):
    for n in range(3):
        make_call(f"c-{n}", started_ago=10 + n)
    html = agent_client.get("/?sort=newest&rows=2").content.decode()
    assert re.findall(r'<tr id="call-(c-\d+)"', html) == ["c-0", "c-1"]
    assert 'ws-connect="/ws/live/calls/?sort=newest&amp;rows=2"' in html


def test_a_view_is_one_query_string_whatever_the_url_looked_like():
    assert CallFilterForm({"rows": "100", "sort": "longest", "state": "", "tag": "x"}).query == "tag=x"
    assert CallFilterForm({"stuck": "on", "sort": "newest", "rows": "200"}).query == "stuck=on&sort=newest&rows=200"
    assert CallFilterForm({"rows": "-1"}).query == ""


def test_a_history_restore_gets_the_whole_page(agent_client):
    html = agent_client.get("/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}).content.decode()
    assert "<html" in html


def test_figures_count_the_last_hour():
    now = timezone.now()
    make_call("c-a", started_ago=600)  # live, answered
    make_call("c-b", state=CallState.ENDED, started_ago=1200, end_time=now - timedelta(seconds=1080))  # talked 118 s
    make_call("c-c", state=CallState.ENDED, started_ago=900, answer_time=None, end_time=now - timedelta(seconds=870))
    make_call("c-d", state=CallState.ENDED, started_ago=3 * 3600, end_time=now - timedelta(hours=2))
    result = figures.board_figures(now)
    assert result.active_calls == 1
    assert result.calls_last_hour == 3
    assert result.answer_rate == pytest.approx(2 / 3)
    assert abs(result.average_talk - timedelta(seconds=118)) < timedelta(seconds=1)


def test_the_chart_counts_calls_up_at_each_minute():
    now = timezone.now()
    make_call("c-a", started_ago=30 * 60)
    make_call("c-b", state=CallState.ENDED, started_ago=50 * 60, end_time=now - timedelta(minutes=20))
    counts = figures.board_figures(now).chart.counts
    assert len(counts) == 61
    assert counts[0] == 0  # an hour ago
    assert counts[15] == 1  # 45 minutes ago: c-b
    assert counts[35] == 2  # 25 minutes ago: both
    assert counts[60] == 1  # now: c-a
    assert figures.board_figures(now).chart.peak == 2


def test_figures_partial_is_served_alone(agent_client):
    html = agent_client.get("/board/figures").content.decode()
    assert html.strip().startswith('<section id="figures"')


def test_a_views_kept_statements_count_at_the_moment_they_run(settings):
    # The board's window and counts are built once per view and kept (console/board.py):
    # what is stuck or long is decided when they run, not when they were built.
    settings.LONG_CALL_AFTER, settings.STUCK_CALL_AFTER = 600, 3600
    make_call("c-a", started_ago=60)
    make_call("c-b", started_ago=1200)
    form = CallFilterForm({"stuck": "on"})
    assert form.is_valid()
    window = board.call_window(form)
    assert (window.call_ids, window.total, window.stuck, window.long) == ([], 0, 0, 0)
    settings.LONG_CALL_AFTER, settings.STUCK_CALL_AFTER = 30, 300
    window = board.call_window(form)
    assert (window.call_ids, window.total, window.stuck, window.long) == (["c-b"], 1, 1, 0)
    everything = board.call_window(CallFilterForm({}))
    assert (everything.total, everything.stuck, everything.long) == (2, 1, 1)


def test_a_view_by_name_reads_the_directory_as_it_is_now():
    make_call("c-a", from_number="+14155550126")
    form = CallFilterForm({"number": "Priya"})
    assert form.is_valid()
    assert board.call_window(form).call_ids == []
    DirectoryEntry.objects.create(number="+14155550126", name="Priya Raman")
    assert board.call_window(form).call_ids == ["c-a"]


def test_a_view_by_number_reads_numbers_in_the_home_region_as_it_is_now(settings):
    make_call("c-a", from_number="+442079460000")
    form = CallFilterForm({"number": "020 7946 0000"})
    assert form.is_valid()
    settings.PHONE_HOME_REGION = "US"
    us = board.call_window(form).call_ids
    settings.PHONE_HOME_REGION = "GB"
    assert board.call_window(form).call_ids == ["c-a"]
    assert us != ["c-a"]


def test_an_invalid_filter_still_says_why_once_the_rows_are_read_again(agent_client):
    """The page re-reads its rows as its socket opens: read with the default view's query,
    the rows lost the line saying why every call is shown, a second after it appeared."""
    make_call("c-a")
    html = agent_client.get("/?number=%00&rows=99999999999999999999").content.decode()
    assert 'class="filter-error"' in html
    reread = re.search(r'<tbody id="call-rows" hx-get="([^"]+)"', html)[1]
    assert "rows=99999999999999999999" in reread
    again = agent_client.get(reread.replace("&amp;", "&"), headers={"HX-Request": "true"}).content.decode()
    assert 'class="filter-error"' in again and "Every live call is shown." in again
    assert listed(agent_client, reread.split("?", 1)[1].replace("&amp;", "&")) == {"c-a"}
