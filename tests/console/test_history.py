"""Call history and the audit log: search, keyset pages, time zones, CSV, permissions."""

import csv
import io
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from console import roles
from console.models import AuditEntry
from voice.models import Call, CallState

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client(client, make_operator):
    client.force_login(make_operator(roles.SUPERVISOR))
    return client


def ended(call_id: str, end: datetime, *, seconds: int = 60, **fields) -> Call:
    defaults = {"direction": "inbound", "from_number": "+15551110000", "to_number": "+19195550100", "disconnect_cause": "hangup"}
    return Call.objects.create(
        call_id=call_id, state=CallState.ENDED, start_time=end - timedelta(seconds=seconds), end_time=end,
        **{**defaults, **fields},
    )


NOON = datetime(2026, 3, 10, 12, 0, 0, tzinfo=dt_timezone.utc)


def shown(client, query: str = "") -> list[str]:
    html = client.get(f"/history/?{query}", headers={"HX-Request": "true"}).content.decode()
    return [line.split('data-href="/calls/')[1].split('"')[0] for line in html.splitlines() if 'class="history-row"' in line]


def test_ended_calls_newest_first_and_live_ones_never(supervisor_client):
    ended("c-old", NOON - timedelta(hours=2))
    ended("c-new", NOON)
    Call.objects.create(call_id="c-live", direction="inbound", state=CallState.ANSWERED, start_time=NOON)
    assert shown(supervisor_client) == ["c-new", "c-old"]


def test_search_by_number_direction_cause_and_duration(supervisor_client):
    ended("c-a", NOON, from_number="+15557771234", seconds=30)
    ended("c-b", NOON, direction="outbound", disconnect_cause="busy", seconds=0)
    ended("c-c", NOON, seconds=600)
    assert shown(supervisor_client, "number=777-12") == ["c-a"]
    assert shown(supervisor_client, "direction=outbound") == ["c-b"]
    assert shown(supervisor_client, "cause=BUSY") == ["c-b"]
    assert set(shown(supervisor_client, "min_seconds=31")) == {"c-c"}
    assert set(shown(supervisor_client, "max_seconds=30")) == {"c-a", "c-b"}


def test_the_date_range_is_in_the_operators_time_zone(supervisor_client):
    # 02:00 UTC on the 11th is still the 10th in New York.
    ended("c-late", datetime(2026, 3, 11, 2, 0, tzinfo=dt_timezone.utc))
    supervisor_client.cookies["tz"] = "America/New_York"
    assert shown(supervisor_client, "since=2026-03-10&until=2026-03-10") == ["c-late"]
    supervisor_client.cookies["tz"] = "UTC"
    assert shown(supervisor_client, "since=2026-03-10&until=2026-03-10") == []


def test_times_are_shown_to_the_second_in_the_operators_zone(supervisor_client):
    ended("c-a", datetime(2026, 3, 10, 12, 0, 5, tzinfo=dt_timezone.utc))
    supervisor_client.cookies["tz"] = "Asia/Kolkata"
    html = supervisor_client.get("/history/").content.decode()
    assert "2026-03-10 17:30:05" in html
    supervisor_client.cookies["tz"] = "Not/AZone"
    assert "2026-03-10 12:00:05" in supervisor_client.get("/history/").content.decode()


def test_a_reversed_date_range_says_so(supervisor_client):
    html = supervisor_client.get("/history/?since=2026-03-11&until=2026-03-10").content.decode()
    assert "The start of the range is after its end." in html


def test_keyset_pages_cover_every_call_once(supervisor_client):
    for i in range(120):
        ended(f"c-{i:03d}", NOON - timedelta(seconds=i // 2))  # pairs share an end time
    seen, query = [], ""
    while True:
        response = supervisor_client.get(f"/history/?{query}", headers={"HX-Request": "true"})
        html = response.content.decode()
        seen += [line.split('data-href="/calls/')[1].split('"')[0] for line in html.splitlines() if 'class="history-row"' in line]
        if "after=" not in html:
            break
        query = "after=" + html.split("after=")[1].split('"')[0]
    assert len(seen) == 120 and len(set(seen)) == 120


def test_csv_export_streams_the_filtered_calls(supervisor_client):
    ended("c-a", NOON, from_number="+15550001111", tag="vip, \"gold\"")
    ended("c-b", NOON, from_number="+15559999999")
    response = supervisor_client.get("/history/calls.csv?number=0001111")
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="switchboard-calls-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["call_id", "direction", "from", "to"]
    assert [row[0] for row in rows[1:]] == ["c-a"]
    assert rows[1][7] == "60" and rows[1][9] == 'vip, "gold"'
    assert AuditEntry.objects.get().verb == "export calls"


def test_agents_may_not_browse_or_export_history(agent_client):
    assert agent_client.get("/history/").status_code == 403
    assert agent_client.get("/history/calls.csv").status_code == 403


def test_the_audit_log_is_for_admins_only(client, make_operator, supervisor_client):
    assert supervisor_client.get("/audit/").status_code == 403
    admin = make_operator(roles.ADMIN, "boss")
    client.force_login(admin)
    AuditEntry.record(admin, "hang up", "c-123", outcome="done")
    html = client.get("/audit/?verb=hang").content.decode()
    assert "c-123" in html and "boss" in html
    assert "c-123" not in client.get("/audit/?actor=nobody", headers={"HX-Request": "true"}).content.decode()
    exported = b"".join(client.get("/audit/audit.csv").streaming_content).decode()
    assert "boss,hang up,c-123,done" in exported
