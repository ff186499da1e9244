"""The recordings list and page: who may see them, search, keyset pages, the actions on a
recording and their audit records, and the live push."""

from datetime import datetime, timedelta, timezone as dt_timezone
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.utils import timezone

from console import live, operations, recording_media, recording_search, roles
from console.models import AuditEntry
from tests.support.recordings import NOON, recording
from voice import actions
from voice.models import Action, ActionKind, Conference, Recording, RecordingStatus, Transcription, TranscriptionStatus

pytestmark = pytest.mark.django_db

URLS = [
    ("get", "/recordings/"),
    ("get", "/recordings/r-0001/"),
    ("get", "/recordings/r-0001/media"),
    ("get", "/recordings/r-0001/download"),
    ("post", "/recordings/r-0001/transcribe"),
    ("post", "/recordings/r-0001/delete"),
    ("post", "/recordings/r-0001/archive"),
]


@pytest.fixture
def boss_client(client, make_operator):
    client.force_login(make_operator(roles.ADMIN, "boss"))
    return client


@pytest.fixture
def enqueued():
    """Actions requested are recorded but not sent (no worker in unit tests)."""
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit") as enqueue:
        yield enqueue


def shown(client, query: str = "") -> list[str]:
    html = client.get(f"/recordings/?{query}", headers={"HX-Request": "true"}).content.decode()
    return [line.split('id="recording-row-')[1].split('"')[0] for line in html.splitlines() if 'id="recording-row-' in line]


@pytest.mark.parametrize("method, url", URLS)
def test_an_agent_gets_403_on_every_recordings_url(agent_client, method, url):
    recording()
    assert getattr(agent_client, method)(url).status_code == 403


@pytest.mark.parametrize("method, url", URLS)
def test_a_supervisor_gets_403_on_every_recordings_url_unless_granted(client, make_operator, method, url):
    recording()
    supervisor = make_operator(roles.SUPERVISOR)
    client.force_login(supervisor)
    assert getattr(client, method)(url).status_code == 403


def test_a_supervisor_granted_the_view_permission_browses_but_does_not_manage(client, make_operator, enqueued):
    recording()
    supervisor = make_operator(roles.SUPERVISOR)
    supervisor.user_permissions.add(Permission.objects.get(codename="view_recordings"))
    client.force_login(supervisor)
    assert client.get("/recordings/").status_code == 200
    page = client.get("/recordings/r-0001/").content.decode()
    assert "Request transcription" not in page and "Delete…" not in page
    assert client.post("/recordings/r-0001/delete").status_code == 403
    assert not Action.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    recording()
    response = client.get("/recordings/r-0001/media")
    assert response.status_code == 302 and "/login/" in response["Location"]
    # A page whose socket closed asks with HEAD whether its session still holds.
    assert client.head("/recordings/r-0001/").status_code == 302


def test_the_nav_links_recordings_for_those_who_may_see_them(make_operator):
    from django.test import Client

    boss, supervisor = Client(), Client()
    boss.force_login(make_operator(roles.ADMIN, "boss"))
    supervisor.force_login(make_operator(roles.SUPERVISOR))
    assert 'href="/recordings/"' in boss.get("/history/").content.decode()
    assert 'href="/recordings/"' not in supervisor.get("/history/").content.decode()


def test_recordings_are_listed_newest_first_with_calls_and_conferences(boss_client):
    Conference.objects.create(conference_id="conf-1", name="sales-floor")
    recording("r-old", start=NOON - timedelta(hours=2))
    recording("r-new", start=NOON)
    recording("r-conf", call_id="", conference_id="conf-1", start=NOON - timedelta(hours=1))
    assert shown(boss_client) == ["r-new", "r-conf", "r-old"]
    html = boss_client.get("/recordings/").content.decode()
    assert "sales-floor" in html and "+15551112222" in html


def test_filters_by_number_call_conference_duration_and_transcript(boss_client):
    Conference.objects.create(conference_id="conf-1", name="sales-floor")
    recording("r-a", call_id="c-a", from_number="+15557771234", seconds=10, transcript="hello there")
    recording("r-b", call_id="c-b", seconds=100)
    recording("r-c", call_id="", conference_id="conf-1", seconds=50)
    assert shown(boss_client, "number=777-12") == ["r-a"]
    assert shown(boss_client, "call=c-b") == ["r-b"]
    assert shown(boss_client, "conference=SALES-floor") == ["r-c"]
    assert shown(boss_client, "conference=conf-1") == ["r-c"]
    assert set(shown(boss_client, "min_seconds=20")) == {"r-b", "r-c"}
    assert shown(boss_client, "max_seconds=20") == ["r-a"]
    assert shown(boss_client, "transcript=yes") == ["r-a"]
    assert set(shown(boss_client, "transcript=no")) == {"r-b", "r-c"}


def test_the_date_range_is_in_the_operators_time_zone(boss_client):
    # 02:00 UTC on the 11th is still the 10th in New York.
    recording("r-late", start=datetime(2026, 3, 11, 2, 0, tzinfo=dt_timezone.utc))
    boss_client.cookies["tz"] = "America/New_York"
    assert shown(boss_client, "since=2026-03-10&until=2026-03-10") == ["r-late"]
    boss_client.cookies["tz"] = "UTC"
    assert shown(boss_client, "since=2026-03-10&until=2026-03-10") == []


def test_the_transcript_search_finds_every_word_and_marks_them(boss_client):
    recording("r-a", call_id="c-a", transcript="Please call me back about the invoices for March.")
    recording("r-b", call_id="c-b", transcript="The delivery is late again.")
    recording("r-c", call_id="c-c")
    assert shown(boss_client, "q=invoice") == ["r-a"]
    assert shown(boss_client, "q=INVOICE+march") == ["r-a"]
    assert shown(boss_client, "q=invoice+delivery") == []
    html = boss_client.get("/recordings/?q=invoice").content.decode()
    assert "<mark>invoices</mark>" in html


def test_deleted_recordings_are_listed_only_when_asked(boss_client):
    recording("r-kept")
    recording("r-gone", call_id="c-2", status=RecordingStatus.DELETED)
    assert shown(boss_client) == ["r-kept"]
    assert set(shown(boss_client, "deleted=on")) == {"r-kept", "r-gone"}


def test_keyset_pages_cover_every_recording_once(boss_client):
    for i in range(120):
        recording(f"r-{i:03d}", call_id=f"c-{i:03d}", start=NOON - timedelta(seconds=i // 2))  # pairs share a start
    seen, query = [], ""
    while True:
        html = boss_client.get(f"/recordings/?{query}", headers={"HX-Request": "true"}).content.decode()
        seen += [line.split('id="recording-row-')[1].split('"')[0] for line in html.splitlines() if 'id="recording-row-' in line]
        if "after=" not in html:
            break
        query = "after=" + html.split("after=")[1].split('"')[0]
    assert len(seen) == 120 and len(set(seen)) == 120


def test_the_excerpt_shows_the_text_around_the_first_match_escaped():
    text = "<b>" + "x " * 200 + "the invoice is due " + "y " * 200
    marked = str(recording_search.excerpt(text, ["invoice"]))
    assert "<mark>invoice</mark>" in marked
    assert marked.startswith("…") and marked.endswith("…")
    assert "<b>" not in str(recording_search.excerpt(text, []))


def test_time_left_at_bandwidth_and_archived_recordings_say_so(boss_client):
    recording("r-young", end_time=None, start=timezone.now() - timedelta(days=2), seconds=30)
    recording("r-archived", call_id="c-2", archive_name="recordings/x.wav", archive_size=10)
    recording("r-expired", call_id="c-3", start=timezone.now() - timedelta(days=31))
    html = boss_client.get("/recordings/").content.decode()
    assert "27 days left" in html
    assert "archived" in html
    assert "gone from Bandwidth" in html


def test_the_page_offers_transcribe_archive_and_delete_to_admins(boss_client):
    recording()
    html = boss_client.get("/recordings/r-0001/").content.decode()
    assert "Request transcription" in html and "Archive in Switchboard" in html and "Delete…" in html
    assert "Bandwidth purges the media within 24 to 48 hours" in html
    assert 'ws-connect="/ws/live/recording-r-0001/"' in html


def test_a_conference_recording_explains_that_bandwidth_cannot_transcribe_it(boss_client, enqueued):
    Conference.objects.create(conference_id="conf-1", name="sales-floor")
    recording("r-conf", call_id="", conference_id="conf-1")
    html = boss_client.get("/recordings/r-conf/").content.decode()
    assert "Bandwidth cannot transcribe conference recordings" in html
    assert "Request transcription" not in html and "Delete…" not in html
    boss_client.post("/recordings/r-conf/transcribe")
    assert not Action.objects.exists()


def test_requesting_a_transcription_is_an_audited_action_shown_pending(boss_client, enqueued):
    recording()
    html = boss_client.post("/recordings/r-0001/transcribe", headers={"HX-Request": "true"}).content.decode()
    action = Action.objects.get()
    assert (action.kind, action.target, action.call_id) == (ActionKind.TRANSCRIBE, "r-0001", "c-0001")
    assert "Asking Bandwidth to transcribe" in html
    entry = AuditEntry.objects.get()
    assert (entry.actor_name, entry.verb, entry.target, entry.action) == ("boss", "transcribe recording", "r-0001", action)
    boss_client.post("/recordings/r-0001/transcribe")
    assert Action.objects.count() == 1 and AuditEntry.objects.count() == 1


def test_a_transcript_already_available_is_not_requested_again(boss_client, enqueued):
    recording(transcript="hello")
    assert "Request transcription" not in boss_client.get("/recordings/r-0001/").content.decode()
    boss_client.post("/recordings/r-0001/transcribe")
    assert not Action.objects.exists()


def test_deleting_is_an_audited_action(boss_client, enqueued):
    recording()
    response = boss_client.post("/recordings/r-0001/delete")
    assert response.status_code == 302
    action = Action.objects.get()
    assert action.kind == ActionKind.DELETE_RECORDING
    assert AuditEntry.objects.get().verb == "delete recording"
    assert "Deleting at Bandwidth" in boss_client.get("/recordings/r-0001/").content.decode()


def test_archiving_is_an_audited_action(boss_client, enqueued):
    recording()
    boss_client.post("/recordings/r-0001/archive")
    assert Action.objects.get().kind == ActionKind.ARCHIVE_RECORDING
    assert AuditEntry.objects.get().verb == "archive recording"


def test_a_deleted_recording_says_bandwidth_purges_it_and_offers_nothing(boss_client):
    recording(status=RecordingStatus.DELETED, deleted_at=timezone.now())
    html = boss_client.get("/recordings/r-0001/").content.decode()
    assert "Bandwidth purges the media within 24 to 48 hours" in html
    assert "Request transcription" not in html and "Archive in Switchboard" not in html and "Delete…" not in html


def test_the_call_page_links_its_recordings(boss_client):
    from voice.models import Call

    Call.objects.create(call_id="c-0001", direction="inbound", state="ended", start_time=NOON, end_time=NOON)
    recording()
    assert 'href="/recordings/r-0001/"' in boss_client.get("/calls/c-0001").content.decode()


def test_the_download_name_says_when_who_and_which(settings):
    made = recording(start=datetime(2026, 11, 24, 9, 13, tzinfo=dt_timezone.utc), recording_id="r-xyz")
    assert recording_media.download_name(made, "wav") == "2026-11-24_0913_+15551112222_to_+19195550150_r-xyz.wav"
    Conference.objects.create(conference_id="conf-1", name="sales floor")
    conference = recording("r-c", call_id="", conference_id="conf-1", start=datetime(2026, 11, 24, 9, 13, tzinfo=dt_timezone.utc))
    assert recording_media.download_name(conference, "wav") == "2026-11-24_0913_conference_sales-floor_r-c.wav"


def test_the_waveform_is_computed_once_when_first_looked_at(boss_client):
    cache.clear()
    recording()
    with mock.patch("voice.tasks.compute_waveform.delay_on_commit") as delay:
        boss_client.get("/recordings/r-0001/")
        boss_client.get("/recordings/r-0001/")
    delay.assert_called_once()


def test_the_recording_stream_is_only_for_those_who_may_view_recordings(make_operator):
    recording()
    assert live.group_for_stream("recording-r-0001", make_operator(roles.ADMIN, "boss")) == "live.recording.r-0001"
    assert live.group_for_stream("recording-r-0001", make_operator(roles.SUPERVISOR)) is None
    assert live.group_for_stream("recording-r-nope", make_operator(roles.ADMIN, "other")) is None


def test_a_stored_transcript_is_pushed_to_the_recordings_viewers(django_capture_on_commit_callbacks):
    made = recording()
    transcription = Transcription.objects.create(recording=made, status=TranscriptionStatus.AVAILABLE)
    with mock.patch("console.live.send") as send:
        with django_capture_on_commit_callbacks(execute=True):
            transcription.store_text("call me back", 0.9)
        live.drain()
    ((group, html),) = [call.args for call in send.call_args_list]
    assert group == "live.recording.r-0001"
    assert 'id="recording-r-0001"' in html


def test_a_recording_action_changing_state_is_pushed(django_capture_on_commit_callbacks, enqueued):
    recording()
    with mock.patch("console.live.send") as send:
        with django_capture_on_commit_callbacks(execute=True):
            operations.delete_recording(None, Recording.objects.get())
        live.drain()
    assert [call.args[0] for call in send.call_args_list] == ["live.recording.r-0001"]


def test_an_automatic_archive_is_audited_as_done_by_the_system(settings, enqueued):
    settings.ARCHIVE_RECORDINGS = True
    made = recording()
    actions.archive_when_available(made, {"status": (RecordingStatus.PROCESSING, RecordingStatus.COMPLETE)})
    entry = AuditEntry.objects.get()
    assert (entry.actor_name, entry.verb, entry.target, entry.result) == ("system", "archive recording", "r-0001", "pending")