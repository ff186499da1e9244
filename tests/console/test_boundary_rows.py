"""Every page over rows no well-behaved Bandwidth would send.

The mirror may hold what the database accepts: odd ids, HTML and unicode up to each column's
length, missing neighbours, null and extreme times (an old bug, a repair, a hand edit). No
such row may break a page for everyone: each page answers 200 to whoever may see it, 403 to
whoever may not, and an object whose id is not a Bandwidth id is 404 by its URL and shown
without a link or an action. Marked boundary: PostgreSQL refuses what SQLite accepts.
"""

from datetime import datetime, timedelta, timezone as dt_timezone
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.utils import timezone

from console import history, live, paging, recording_search, roles
from console.ids import is_bandwidth_id
from console.models import AuditEntry
from voice.models import (
    Action,
    ActionBatch,
    ActionKind,
    ActionStatus,
    Call,
    CallState,
    Conference,
    ConferenceState,
    ConferenceMember,
    Event,
    MemberState,
    Recording,
    RecordingStatus,
    Route,
    Transcription,
    TranscriptionStatus,
)

pytestmark = [pytest.mark.boundary, pytest.mark.django_db]

MARKUP = '<script>alert("x")</script><b onmouseover=alert(1)>☎ ünï</b>&amp;'
LONG_LINKABLE = "c-" + "9" * 98
ODD_CALL_IDS = ["", "a/b", "../x", "<script>alert(1)</script>", "ünï-☎", "é" * 100, "c ok", "c-ok\n"]
ODD_CONFERENCE_IDS = ["", "a/b", "<i>conf</i>", "ünï", "conf." + "x" * 95]
ODD_RECORDING_IDS = ["", "a/b", "<script>", "r_1"]

UTC = dt_timezone.utc
# The ends of what Python reads back (year 1, 9998 so that a day or a month can still be
# added), and the plausible range's own ends.
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)
Y2000 = datetime(2000, 1, 1, tzinfo=UTC)
Y2099 = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)
EXTREMES = [EARLIEST, Y2000, Y2099, LATEST]

# Far west and far east of UTC: a time shown in the operator's zone must not fall off the
# calendar (the tz cookie is the browser's).
ZONES = ["UTC", "Pacific/Pago_Pago", "Pacific/Kiritimati"]


def text(length: int) -> str:
    """Markup and unicode filling a column of `length` characters."""
    return (MARKUP * (length // len(MARKUP) + 1))[:length]


def _call(call_id: str, **fields) -> Call:
    values = {
        "direction": "inbound",
        "state": CallState.ANSWERED,
        "account_id": text(32),
        "application_id": text(64),
        "from_number": text(64),
        "to_number": text(128),
        "disconnect_cause": text(64),
        "error_message": text(5000),
        "tag": text(4096),
        "parent_call_id": text(100),
        "machine_detection_result": text(32),
        "flow": {MARKUP: [MARKUP, None, 1e308]},
        **fields,
    }
    return Call.objects.create(call_id=call_id, **values)


def _action(kind: str, target: str, **fields) -> Action:
    values = {
        "call_id": "c-ok",
        "status": ActionStatus.FAILED,
        "params": {"mute": MARKUP, "hold": None, "to": MARKUP, "record": 1},
        "stale_at": timezone.now() + timedelta(minutes=1),
        "response_status": 32767,
        "response_body": text(3000),
        "detail": text(500),
        "attempts": 32767,
        **fields,
    }
    return Action.objects.create(kind=kind, target=target, **values)


@pytest.fixture
def odd_rows(db):
    now = timezone.now()
    route = Route.objects.create(
        name=text(100), number=text(64), flow="<i>odd</i>", sentence=text(1000), conference_name=text(100),
        forward_to=text(128), forward_from=text(64), priority=32767, max_record_seconds=2147483647, match="<b>",
    )

    # Calls: live ones on the board, ended ones in the history, each odd in its own way.
    _call("c-ok", start_time=now - timedelta(minutes=3), answer_time=now, last_event_at=now, route=route)
    _call(LONG_LINKABLE, start_time=now, state=CallState.INITIATED)
    _call("c-null-times", state=CallState.INITIATED)
    _call("c-odd-state", state="<b>x</b>", direction="<i>x</i>", start_time=now)
    _call("c-ended-no-end", state=CallState.ENDED, start_time=now)
    _call("c-answered-before-start", start_time=now, answer_time=now - timedelta(days=3650), end_time=now - timedelta(days=3651), state=CallState.ENDED)
    for moment in EXTREMES:
        _call(f"c-at-{moment.year}", state=CallState.ENDED, start_time=moment, answer_time=moment, end_time=moment, last_event_at=moment)
        _call(f"c-live-at-{moment.year}", start_time=moment, answer_time=moment, last_event_at=moment, latest_event_time=moment)
    _call("c-spans-everything", state=CallState.ENDED, start_time=EARLIEST, answer_time=EARLIEST, end_time=LATEST)
    for position, call_id in enumerate(ODD_CALL_IDS):
        ended = position % 2 == 0
        _call(call_id, state=CallState.ENDED if ended else CallState.ANSWERED, start_time=now, end_time=now if ended else None)

    # Conferences, live and over, with members odd and ordinary.
    conference = Conference.objects.create(
        conference_id="conf-ok", name=text(100), tag=text(4096), created_time=now, is_recording=True, last_event_at=now
    )
    Conference.objects.create(conference_id="conf-" + "0" * 95, name="", created_time=None)
    Conference.objects.create(conference_id="conf-at-1", name=text(100), created_time=EARLIEST)
    Conference.objects.create(
        conference_id="conf-at-9998", created_time=LATEST, completed_time=LATEST, state=ConferenceState.COMPLETED
    )
    Conference.objects.create(conference_id="conf-odd-state", state="<b>x</b>", created_time=now)
    for conference_id in ODD_CONFERENCE_IDS:
        odd = Conference.objects.create(conference_id=conference_id, name=text(100), created_time=now)
        ConferenceMember.objects.create(conference=odd, call_id="c-ok", from_number=text(64), joined_at=now)
        ConferenceMember.objects.create(conference=odd, call_id="a/b", joined_at=now)
    members = [
        ("c-ok", {"call_ids_to_coach": ["<script>", "", "a/b"]}),
        ("a/b", {"call_ids_to_coach": {MARKUP: MARKUP}, "mute": True, "hold": True}),
        ("c-missing", {"call_ids_to_coach": 12}),
        ("", {"state": MemberState.LEFT, "left_at": LATEST}),
        ("<script>", {"state": "<b>x</b>"}),
        (LONG_LINKABLE, {"joined_at": None}),
        ("c-at-1", {"joined_at": EARLIEST}),
        ("c-at-9998", {"joined_at": LATEST}),
    ]
    for call_id, fields in members:
        values = {"from_number": text(64), "to_number": text(128), "joined_at": now, **fields}
        ConferenceMember.objects.create(conference=conference, call_id=call_id, **values)

    # Recordings: of calls present, missing and odd; of conferences; of nothing at all.
    recording_rows = [
        ("r-ok", {"call_id": "c-ok", "status": RecordingStatus.COMPLETE, "duration_seconds": float("inf")}),
        ("r-" + "1" * 98, {"conference": conference, "status": RecordingStatus.COMPLETE, "duration_seconds": 1e308}),
        ("r-missing-call", {"call_id": "c-missing", "status": RecordingStatus.PARTIAL, "duration_seconds": -5.0}),
        ("r-orphan", {"status": RecordingStatus.ERROR, "peaks": {MARKUP: [1e308, -5, "x"]}}),
        ("r-deleted", {"call_id": "c-ok", "status": RecordingStatus.DELETED, "deleted_at": now}),
        ("r-odd-status", {"call_id": "a/b", "status": "<b>x</b>", "channels": 32767, "archive_size": 2**63 - 1}),
        ("r-archived", {"call_id": "c-ok", "status": RecordingStatus.COMPLETE, "archive_name": text(255), "archived_at": now}),
        ("r-at-1", {"call_id": "c-at-1", "start_time": EARLIEST, "end_time": EARLIEST, "deleted_at": EARLIEST}),
        ("r-at-9998", {"call_id": "c-at-9998", "start_time": LATEST, "end_time": LATEST, "status": RecordingStatus.COMPLETE}),
        ("r-not-listed", {"start_time": None}),
        ("r-nan", {"call_id": "c-ok", "status": RecordingStatus.COMPLETE, "duration_seconds": float("nan")}),
        *[(recording_id, {"call_id": "c-ok", "status": RecordingStatus.COMPLETE}) for recording_id in ODD_RECORDING_IDS],
    ]
    for recording_id, fields in recording_rows:
        values = {
            "start_time": now,
            "account_id": text(32),
            "parent_call_id": text(100),
            "direction": text(8),
            "from_number": text(64),
            "to_number": text(128),
            "name": text(256),
            "file_format": text(8),
            "media_url": text(2048),
            "tag": text(4096),
            **fields,
        }
        Recording.objects.create(recording_id=recording_id, **values)
    transcriptions = [
        ("r-ok", {"status": TranscriptionStatus.AVAILABLE, "fetched_at": now, "confidence": float("inf")}),
        ("r-missing-call", {"status": TranscriptionStatus.AVAILABLE, "fetch_error": text(500)}),
        ("r-odd-status", {"status": "<i>x</i>", "confidence": -1e308, "completed_time": EARLIEST}),
        ("a/b", {"status": TranscriptionStatus.ERROR}),
        ("r-nan", {"status": TranscriptionStatus.AVAILABLE, "fetched_at": now, "confidence": float("nan")}),
    ]
    for recording_id, fields in transcriptions:
        values = {"transcription_id": text(100), "url": text(2048), "text": text(20000), "fetch_error": text(200), **fields}
        Transcription.objects.create(recording=Recording.objects.get(recording_id=recording_id), **values)

    # Actions on odd targets, of every kind, open and finished, some in a batch.
    batch = ActionBatch.objects.create(kind=ActionKind.MUTE, conference=conference, params={"mute": MARKUP})
    for position, kind in enumerate(ActionKind):
        for target in ["", "a/b", "conf-ok/a/b", "conf-ok/<script>", "<script>", "r-ok", "conf-ok", "x" * 200]:
            _action(kind, target)
        _action(kind, f"conf-ok/{position}", status=ActionStatus.PENDING, batch=batch if kind == ActionKind.MUTE else None)
        _action(kind, "conf-ok/c-missing", status="<b>x</b>", call_id="c-missing", params={"mute": [1], "to": 5})
    _action(ActionKind.HANGUP, "a/b", call_id="a/b", status=ActionStatus.RETRYING)
    _action(ActionKind.DIAL_OUT, "conf-ok/+1", call_id="<script>", status=ActionStatus.DONE, params={})
    _action(ActionKind.TRANSCRIBE, "r-missing-call", call_id="c-missing", status=ActionStatus.SENDING)

    # The event log of a call, and the audit trail.
    for position, moment in enumerate([None, *EXTREMES]):
        Event.objects.create(
            dedupe_key=f"{position}-" + "k" * 60,
            event_type=text(64),
            call_id="c-ok",
            conference_id="conf-ok",
            recording_id="r-ok",
            event_time=moment,
            received_at=moment or now,
            payload={"eventType": MARKUP, "nested": [MARKUP, {"deep": [None, 1e308]}]} if position else [MARKUP],
            answer_status=32767,
            answer_body=text(3000),
            answer_ms=[float("inf"), float("nan"), -1.0, 1e308, None][position],
            changes={MARKUP: [None, MARKUP]},
        )
    odd_action = Action.objects.filter(target="<script>").first()
    for position, moment in enumerate(EXTREMES):
        AuditEntry.objects.create(
            at=moment, actor_name=text(150), verb=text(40), target=text(200), outcome=text(40), detail=text(3000),
            action=odd_action if position % 2 else None,
        )


def _id_path(value: str) -> str:
    return quote(value, safe="")


def _status(linkable: bool, allowed: bool) -> int:
    """An object's page: 404 by its URL for an id no URL carries, else 200 or 403."""
    if not linkable:
        return 404
    return 200 if allowed else 403


def console_pages(user) -> list[tuple[str, dict, int]]:
    """(path, headers, status expected) for every console page over the rows present."""
    history = user.has_perm("console.view_call_history")
    control = user.has_perm("console.control_conference")
    listen = user.has_perm("console.view_recordings")
    audit = user.has_perm("console.view_audit_log")
    htmx = {"HX-Request": "true"}
    pages = [
        ("/", {}, 200),
        ("/", htmx, 200),
        ("/?stuck=on", htmx, 200),
        ("/board/figures", {}, 200),
        ("/conferences/", {}, 200),
        ("/conferences/", htmx, 200),
        ("/history/", {}, 200 if history else 403),
        ("/history/?since=2000-01-01&until=2099-12-31", htmx, 200 if history else 403),
        ("/history/calls.csv", {}, 200 if history else 403),
        ("/recordings/", {}, 200 if listen else 403),
        ("/recordings/?deleted=on&q=script", htmx, 200 if listen else 403),
        ("/recordings/?transcript=yes&min_seconds=0", htmx, 200 if listen else 403),
        ("/audit/", {}, 200 if audit else 403),
        ("/audit/audit.csv", {}, 200 if audit else 403),
    ]
    for call_id in Call.objects.values_list("call_id", flat=True):
        for headers in ({}, htmx):
            pages.append((f"/calls/{_id_path(call_id)}", headers, _status(is_bandwidth_id(call_id), True)))
    for conference_id in Conference.objects.values_list("conference_id", flat=True):
        for headers in ({}, htmx):
            pages.append((f"/conferences/{_id_path(conference_id)}/", headers, _status(is_bandwidth_id(conference_id), control)))
    for conference_id, call_id in ConferenceMember.objects.values_list("conference_id", "call_id"):
        linkable = is_bandwidth_id(conference_id) and is_bandwidth_id(call_id)
        path = f"/conferences/{_id_path(conference_id)}/members/{_id_path(call_id)}/coach"
        pages.append((path, htmx, _status(linkable, control)))
    for recording_id in Recording.objects.values_list("recording_id", flat=True):
        for headers in ({}, htmx):
            pages.append((f"/recordings/{_id_path(recording_id)}/", headers, _status(is_bandwidth_id(recording_id), listen)))
    return pages


def admin_pages() -> list[str]:
    """Every changelist and change page of the voice and console models in the admin."""
    pages = []
    for model in admin.site._registry:
        if model._meta.app_label not in ("voice", "console"):
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages.append(base)
        pages += [f"{base}{pk}/change/" for pk in model.objects.values_list("pk", flat=True)]
    return pages


def _answer(response) -> int | str:
    """The status, or the error that broke the page (a CSV breaks while it streams)."""
    try:
        if response.streaming:
            b"".join(response.streaming_content)
    except Exception as error:
        return repr(error)
    if response.status_code == 500 and response.exc_info:
        return f"500 {response.exc_info[1]!r}"
    return response.status_code


def signed_in(make_operator, role: str, zone: str) -> tuple[Client, AbstractUser]:
    user = make_operator(role)
    if role == roles.ADMIN:
        # The admin role is a superuser (console/management/commands/demo_data.py).
        user.is_staff = user.is_superuser = True
        user.save()
    # Failures are collected as answers, so that one run names every page that breaks.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    client.cookies["tz"] = zone
    return client, user


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("role", [roles.AGENT, roles.SUPERVISOR, roles.ADMIN])
def test_every_console_page_answers_over_odd_rows(odd_rows, make_operator, role, zone):
    client, user = signed_in(make_operator, role, zone)
    answers = {}
    for path, headers, expected in console_pages(user):
        answers[(path, bool(headers))] = (_answer(client.get(path, headers=headers)), expected)
    assert {page: answer for page, answer in answers.items() if answer[0] != answer[1]} == {}


@pytest.mark.parametrize(
    ("rows", "field"),
    [(history.ended_calls, "end_time"), (recording_search.listed, "start_time"), (AuditEntry.objects.all, "at")],
    ids=["history", "recordings", "audit"],
)
def test_keyset_pages_walk_odd_rows_once_each(odd_rows, rows, field):
    seen, cursor = [], None
    while True:
        page = paging.newest_first(rows(), field, cursor, size=1)
        seen += [item.pk for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(rows().values_list("pk", flat=True))
    assert len(seen) >= len(EXTREMES)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("role", [roles.AGENT, roles.SUPERVISOR, roles.ADMIN])
def test_every_admin_page_answers_over_odd_rows(odd_rows, make_operator, role, zone):
    client, user = signed_in(make_operator, role, zone)
    # A signed-in operator who is not staff gets the console's 403, not the admin's sign-in.
    expected = 200 if user.is_staff else 403
    answers = {path: _answer(client.get(path)) for path in admin_pages()}
    assert {path: status for path, status in answers.items() if status != expected} == {}


def test_an_odd_id_is_shown_as_text_without_a_link_or_an_action(odd_rows, make_operator):
    client, _ = signed_in(make_operator, roles.ADMIN, "UTC")
    board = client.get("/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in board and 'href="/calls/&lt;script' not in board
    assert 'href="/calls/a/b"' not in board and 'href="/calls/"' not in board
    assert 'hx-post="/calls/a/b/hangup"' not in board
    assert f'href="/calls/{LONG_LINKABLE}"' in board and f'hx-post="/calls/{LONG_LINKABLE}/hangup"' in board
    conference = client.get("/conferences/conf-ok/").content.decode()
    assert 'id="member-a/b"' in conference
    assert "/members/a/b/" not in conference
    assert 'hx-post="/conferences/conf-ok/members/c-ok/mute"' in conference
    history = client.get("/history/").content.decode()
    assert 'href="/calls/../x"' not in history and 'href="/calls/c-at-2000"' in history
    listing = client.get("/recordings/").content.decode()
    assert 'href="/recordings/a/b/"' not in listing and 'href="/recordings/r-ok/"' in listing
    assert "<script>alert" not in board + conference + history + listing


@pytest.fixture
def pushed(monkeypatch):
    sent = []
    monkeypatch.setattr(live, "send", lambda group, html: sent.append((group, html)))
    return sent


def test_every_odd_row_renders_in_a_live_frame(odd_rows, pushed):
    held = [("call", call_id) for call_id in Call.objects.values_list("call_id", flat=True)]
    held += [("conference", conference_id) for conference_id in Conference.objects.values_list("conference_id", flat=True)]
    held += [("member", *ids) for ids in ConferenceMember.objects.values_list("conference_id", "call_id")]
    held += [("recording", recording_id) for recording_id in Recording.objects.values_list("recording_id", flat=True)]
    held += [("action", str(pk), call_id) for pk, call_id in Action.objects.values_list("pk", "call_id")]
    for change in held:
        live._committed(change)
    live.drain()
    assert len(pushed) > 5
    assert sum(html.count("<tr") for _, html in pushed) > 30