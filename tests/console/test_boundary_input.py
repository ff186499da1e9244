"""What a browser sends: ids in paths, query parameters, form bodies, cookies and websocket
paths. Each is validated (an odd id by its URL's converter, everything else by a form) and
answers 400, 404 or a form error on the page, never 500; an action refused records nothing.
Marked boundary: PostgreSQL refuses a NUL where SQLite compares it."""

import base64
import json
import re
from unittest import mock
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.urls import NoReverseMatch, URLPattern, get_resolver
from django.utils import timezone

from console import live
from console.live_frames import group_name
from console import roles
from console.ids import is_bandwidth_id
from console.models import AuditEntry
from console.routing import websocket_urlpatterns
from voice.models import Action, Call, CallState, Conference, ConferenceMember, Recording, RecordingStatus, Route

pytestmark = [pytest.mark.boundary, pytest.mark.django_db]

CALL = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
OTHER = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"
CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
RECORDING = "r-fbe05094-9fd2afe9-bf5b-4c68-820a-41a01c1c5833"
# Ids a URL must not carry. The mirror holds rows under the ones the database accepts, so
# that only the URL, not a failed lookup, can turn them away.
ODD_IDS = ["\x00", "a.b", "<script>", "é", "x" * 101, "c-1 2"]
STORED_ODD_IDS = ["a.b", "<script>", "é", "c-1 2"]


@pytest.fixture
def boss(make_operator):
    """An admin (a superuser): no permission turns a request away before its input does."""
    user = make_operator(roles.ADMIN, "boss")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def boss_client(client, boss):
    client.force_login(boss)
    return client


@pytest.fixture
def enqueued():
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit") as enqueue:
        yield enqueue


@pytest.fixture
def objects(db):
    now = timezone.now()
    conference = Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=now)
    for call_id in (CALL, OTHER, *STORED_ODD_IDS):
        Call.objects.create(call_id=call_id, direction="inbound", state=CallState.ANSWERED, start_time=now)
        ConferenceMember.objects.create(conference=conference, call_id=call_id, from_number="+15551110001", joined_at=now)
        Recording.objects.create(
            recording_id=RECORDING if call_id == CALL else call_id, call_id=call_id, start_time=now,
            status=RecordingStatus.COMPLETE, duration_seconds=30,
        )
    for conference_id in STORED_ODD_IDS:
        odd = Conference.objects.create(conference_id=conference_id, created_time=now)
        ConferenceMember.objects.create(conference=odd, call_id=CALL, joined_at=now)
    Route.objects.create(name="sales", number="+19195550100", flow=Route.Flow.CONFERENCE, conference_name="sales-floor")
    return conference


def _recorded() -> tuple[int, int]:
    return Action.objects.count(), AuditEntry.objects.count()


# Ids in paths

VALID = {"call_id": CALL, "conference_id": CONFERENCE, "recording_id": RECORDING}


def _id_routes() -> list[URLPattern]:
    """The console's URL patterns that carry a mirror object's id (the directory's entries
    are the console's own rows, by their integer key)."""
    return [
        pattern
        for pattern in get_resolver().url_patterns
        if isinstance(pattern, URLPattern) and pattern.pattern.converters and not pattern.name.startswith("console-directory")
    ]


def _paths_with_one_odd_id(odd: str) -> list[str]:
    """Each id-carrying path with one of its ids odd and the others those of real objects."""
    paths = []
    for pattern in _id_routes():
        route = str(pattern.pattern)
        for name in pattern.pattern.converters:
            ids = {**VALID, name: odd}
            paths.append("/" + re.sub(r"<\w+:(\w+)>", lambda match: quote(ids[match[1]], safe=""), route))
    return paths


def test_every_id_in_a_console_path_is_a_bandwidth_id():
    names = {pattern.name for pattern in _id_routes()}
    converters = {type(converter).__name__ for pattern in _id_routes() for converter in pattern.pattern.converters.values()}
    assert {"console-call-hangup", "console-member-mute", "console-conference-dial-out", "console-recording-media"} <= names
    assert converters == {"BandwidthIdConverter"}


@pytest.mark.parametrize("odd", ODD_IDS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_odd_id_in_any_path_is_404_and_records_nothing(boss_client, objects, enqueued, method, odd):
    before = _recorded()
    answers = {path: getattr(boss_client, method)(path).status_code for path in _paths_with_one_odd_id(odd)}
    assert {path: status for path, status in answers.items() if status != 404} == {}
    assert _recorded() == before
    enqueued.assert_not_called()


def test_the_real_objects_behind_those_paths_answer(boss_client, objects):
    for path in (f"/calls/{CALL}", f"/conferences/{CONFERENCE}/", f"/recordings/{RECORDING}/"):
        assert boss_client.get(path).status_code == 200
    assert boss_client.get(f"/conferences/{CONFERENCE}/members/{CALL}/coach").status_code == 200


@pytest.mark.parametrize(
    "value",
    [CALL, CONFERENCE, RECORDING, "c-" + "0" * 98, "A-1"],
)
def test_bandwidth_ids_are_linkable(value):
    assert is_bandwidth_id(value)


@pytest.mark.parametrize("value", ["", "c-" + "0" * 99, "a/b", "../x", "c-1\n", "c_1", "c.1", "é", "\x00", None, 12])
def test_other_values_are_not(value):
    assert not is_bandwidth_id(value)


def test_object_url_links_bandwidth_ids_and_leaves_others_unlinked():
    template = Template(
        "{% load console %}{% object_url 'console-member-mute' conference call as url %}[{{ url }}]"
    )
    assert template.render(Context({"conference": CONFERENCE, "call": CALL})) == f"[/conferences/{CONFERENCE}/members/{CALL}/mute]"
    assert template.render(Context({"conference": CONFERENCE, "call": "a/b"})) == "[]"
    assert template.render(Context({"conference": "", "call": CALL})) == "[]"


def test_object_url_still_fails_loudly_on_a_misspelt_page():
    with pytest.raises(NoReverseMatch):
        Template("{% load console %}{% object_url 'console-cal' call %}").render(Context({"call": CALL}))


# Form bodies


def _errors_shown(response) -> str:
    return " ".join(re.findall(r'class="error"[^>]*>(.*?)</', response.content.decode(), re.S))


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (f"/conferences/{CONFERENCE}/members/{CALL}/mute", {"mute": "\x00"}),
        (f"/conferences/{CONFERENCE}/members/{CALL}/hold", {"hold": "true\x00"}),
        (f"/conferences/{CONFERENCE}/mute-all", {"mute": "\x00"}),
        (f"/conferences/{CONFERENCE}/recording", {"record": "\x00"}),
        (f"/calls/{CALL}/redirect", {"route": "\x00"}),
        (f"/calls/{CALL}/redirect", {"route": "9" * 30}),
        (f"/calls/{CALL}/redirect", {"route": "-1"}),
    ],
)
def test_a_nul_or_an_impossible_value_in_an_action_is_400_and_records_nothing(boss_client, objects, enqueued, path, data):
    before = _recorded()
    assert boss_client.post(path, data).status_code == 400
    assert _recorded() == before
    enqueued.assert_not_called()


@pytest.mark.parametrize(
    ("path", "data", "error"),
    [
        (f"/conferences/{CONFERENCE}/dial-out", {"number": "+1919555\x000100"}, "Null characters are not allowed."),
        (f"/conferences/{CONFERENCE}/dial-out", {"number": "9" * 200}, "Ensure this value has at most 32 characters"),
        (f"/conferences/{CONFERENCE}/members/{CALL}/coach", {"call_ids": ["\x00"]}, "Select a valid choice."),
        (f"/conferences/{CONFERENCE}/members/{CALL}/coach", {"call_ids": ["a.b/"]}, "Select a valid choice."),
    ],
)
def test_a_nul_or_an_impossible_value_in_a_form_is_shown_and_records_nothing(boss_client, objects, enqueued, path, data, error):
    before = _recorded()
    response = boss_client.post(path, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert _recorded() == before


def test_a_nul_in_the_sign_in_form_is_a_form_error(client, db):
    get_user_model().objects.create_user("boss", password="pw")
    response = client.post("/login/", {"username": "boss\x00", "password": "pw\x00"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# Query parameters

LISTS = ["/history/", "/recordings/", "/audit/"]
EXPORTS = ["/history/calls.csv", "/audit/audit.csv"]
OUT_OF_RANGE_DAYS = ["until=9999-12-31", "since=0001-01-01", "since=1999-12-31", "until=2100-01-01"]
DAY_ERROR = "Choose a day from 2000-01-01 to 2099-12-31."


@pytest.mark.parametrize("query", OUT_OF_RANGE_DAYS)
@pytest.mark.parametrize("path", LISTS)
def test_a_day_out_of_range_is_a_form_error_on_the_page(boss_client, objects, path, query):
    for headers in ({}, {"HX-Request": "true"}):
        response = boss_client.get(f"{path}?{query}", headers=headers)
        assert response.status_code == 200
        assert DAY_ERROR in _errors_shown(response)


@pytest.mark.parametrize("query", OUT_OF_RANGE_DAYS)
@pytest.mark.parametrize("path", EXPORTS)
def test_an_export_of_a_day_out_of_range_is_400_with_the_reason(boss_client, objects, path, query):
    response = boss_client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert DAY_ERROR in response.content.decode()


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("path", [*LISTS, *EXPORTS])
def test_the_first_and_last_days_searchable_answer_in_any_zone(boss_client, objects, path, zone):
    boss_client.cookies["tz"] = zone
    response = boss_client.get(f"{path}?since=2000-01-01&until=2099-12-31")
    assert response.status_code == 200
    if response.streaming:
        assert b"".join(response.streaming_content)
    else:
        assert _errors_shown(response) == ""


@pytest.mark.parametrize("query", ["min_seconds=99999999999999999999", "max_seconds=1e999", "min_seconds=-1", "max_seconds=604801"])
@pytest.mark.parametrize("path", ["/history/", "/recordings/"])
def test_a_length_out_of_range_is_a_form_error_on_the_page(boss_client, objects, path, query):
    response = boss_client.get(f"{path}?{query}")
    assert response.status_code == 200
    assert _errors_shown(response)


def test_an_export_of_a_length_out_of_range_is_400(boss_client, objects):
    assert boss_client.get("/history/calls.csv?min_seconds=99999999999999999999").status_code == 400


SEARCH_FIELDS = {
    "/": ["number", "state", "direction", "tag"],
    "/history/": ["since", "until", "number", "direction", "cause", "min_seconds", "max_seconds"],
    "/recordings/": ["q", "since", "until", "number", "call", "conference", "min_seconds", "max_seconds", "transcript"],
    "/audit/": ["since", "until", "actor", "verb", "target"],
}


@pytest.mark.parametrize(("path", "field"), [(path, field) for path, fields in SEARCH_FIELDS.items() for field in fields])
def test_a_nul_in_any_search_field_is_a_form_error_on_the_page(boss_client, objects, path, field):
    for headers in ({}, {"HX-Request": "true"}):
        response = boss_client.get(f"{path}?{field}=a%00b", headers=headers)
        assert response.status_code == 200
        assert _errors_shown(response)


@pytest.mark.parametrize("path", ["/history/calls.csv", "/audit/audit.csv"])
def test_a_nul_in_an_export_search_is_400(boss_client, objects, path):
    assert boss_client.get(f"{path}?number=%00&actor=%00").status_code == 400


def test_the_board_shows_a_filter_it_cannot_apply_and_every_live_call(boss_client, objects):
    response = boss_client.get("/?tag=%00", headers={"HX-Request": "true"})
    assert "Null characters are not allowed." in _errors_shown(response)
    assert f'id="call-{CALL}"' in response.content.decode()


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


BAD_CURSORS = [
    "%00",
    "!!!",
    "é",
    _cursor("[1, 2]"),
    _cursor("{}"),
    _cursor('"ab"'),
    _cursor('["2026-03-10T12:00:00", 1]'),
    _cursor('["0001-01-01T00:00:00+14:00", 1]'),
    _cursor('["9999-12-31T23:00:00-14:00", 1]'),
    _cursor('["2026-03-10T12:00:00+00:00", 1e400]'),
    _cursor('["2026-03-10T12:00:00+00:00", 99999999999999999999999]'),
    _cursor('["2026-03-10T12:00:00+00:00", true]'),
    _cursor('["2026-03-10T12:00:00+00:00", "1"]'),
    _cursor('["2026-03-10T12:00:00+00:00", 0]'),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_the_list_did_not_give_is_400(boss_client, objects, path, cursor):
    for headers in ({}, {"HX-Request": "true"}):
        assert boss_client.get(f"{path}?after={cursor}", headers=headers).status_code == 400


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_the_list_gave_pages_on(boss_client, objects, path):
    good = _cursor(json.dumps([timezone.now().isoformat(), 2**63 - 1]))
    assert boss_client.get(f"{path}?after={good}", headers={"HX-Request": "true"}).status_code == 200


# Cookies and websockets


@pytest.mark.parametrize("zone", ["\x00", "../../etc/passwd", "/etc/localtime", "x" * 5000, "America", "Nope/Nowhere"])
def test_a_time_zone_cookie_naming_no_zone_shows_the_sites(boss_client, objects, zone):
    boss_client.cookies["tz"] = zone
    response = boss_client.get("/history/")
    assert response.status_code == 200
    assert "Times in UTC." in response.content.decode()


def _routed(path: str) -> bool:
    return any(pattern.pattern.match(path) for pattern in websocket_urlpatterns)


def test_a_websocket_path_carries_bandwidth_ids_only():
    assert _routed("ws/live/calls/") and _routed(f"ws/live/conference-{CONFERENCE}/")
    assert _routed("ws/live/recording-r-" + "1" * 98 + "/")
    for odd in ["a.b", "a_b", "", "x" * 101, "\x00", "é"]:
        assert not _routed(f"ws/live/conference-{odd}/") and not _routed(f"ws/live/recording-{odd}/")


def test_the_longest_conference_id_has_a_stream_with_a_valid_group(objects, make_operator):
    longest = "conf-" + "0" * 95
    Conference.objects.create(conference_id=longest)
    group = live.group_for_stream(f"conference-{longest}", make_operator(roles.SUPERVISOR))
    assert group == group_name("conference", longest)
    BaseChannelLayer().require_valid_group_name(group)
    BaseChannelLayer().require_valid_group_name(group_name("recording", "r-" + "1" * 98))


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "connects"), [("/ws/live/calls/", True), (f"/ws/live/conference-{CONFERENCE}/", True), ("/ws/live/conference-a.b/", False)])
async def test_the_websocket_router_hands_a_bandwidth_ids_stream_to_the_consumer(make_operator, settings, path, connects):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # database_sync_to_async closes its thread's connection, which a refused handshake
    # would otherwise leave open (PostgreSQL then cannot drop the test database).
    await database_sync_to_async(Conference.objects.create)(conference_id=CONFERENCE)
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = await database_sync_to_async(make_operator)(roles.SUPERVISOR)
    if connects:
        assert (await communicator.connect())[0]
        await communicator.disconnect()
    else:
        with pytest.raises(ValueError, match="No route found"):
            await communicator.connect()


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/admin/voice/call/?state=%00", None),
        ("get", "/admin/voice/call/?call_id=%00", None),
        ("get", "/admin/voice/route/?flow__exact=%00", None),
        ("get", "/admin/voice/call/%00/change/", None),
        ("post", "/admin/voice/call/", {"action": "delete_selected", "_selected_action": "\x00"}),
    ],
)
def test_a_nul_anywhere_in_an_admin_request_is_400(admin_client, method, path, data):
    response = getattr(admin_client, method)(path, data) if data else getattr(admin_client, method)(path)
    assert response.status_code == 400
