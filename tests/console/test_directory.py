"""Numbers as people read them, and the directory: names beside numbers, found by the
searches, edited and imported by admins, each change audited."""

import pytest
from django.utils import timezone

from console import directory, phone_numbers, roles
from console.models import AuditEntry, DirectoryEntry
from voice.models import Call, CallState

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_operator):
    client.force_login(make_operator(roles.ADMIN))
    return client


def live_call(call_id: str, from_number: str, to_number: str = "+19195550100") -> Call:
    return Call.objects.create(
        call_id=call_id, direction="inbound", state=CallState.ANSWERED, from_number=from_number, to_number=to_number,
        start_time=timezone.now(),
    )


def test_a_number_of_the_home_region_reads_in_national_format_and_any_other_in_international(settings):
    assert phone_numbers.display("+19195550100") == "(919) 555-0100"
    assert phone_numbers.display("+442079460958") == "+44 20 7946 0958"
    settings.PHONE_HOME_REGION = "GB"
    assert phone_numbers.display("+442079460958") == "020 7946 0958"
    assert phone_numbers.display("+19195550100") == "+1 919-555-0100"


def test_what_is_no_phone_number_is_shown_as_it_is():
    assert phone_numbers.display("sip:me@pbx.example.com") == "sip:me@pbx.example.com"
    assert phone_numbers.display("") == ""


def test_a_search_finds_a_number_typed_in_either_form_or_in_part(agent_client):
    live_call("c-one", "+14155550126")
    live_call("c-two", "+13125550178")
    for typed in ("(415) 555-0126", "+1 415 555 0126", "4155550126", "555-0126"):
        html = agent_client.get("/", {"number": typed}).content.decode()
        assert 'id="call-c-one"' in html and 'id="call-c-two"' not in html, typed


def test_a_name_in_the_directory_shows_beside_its_number_and_finds_its_calls(agent_client):
    DirectoryEntry.objects.create(number="+14155550126", name="Priya Raman", label="VIP")
    live_call("c-one", "+14155550126")
    live_call("c-two", "+13125550178")
    html = agent_client.get("/").content.decode()
    assert '<span class="party-name">Priya Raman</span> <span class="number" title="+14155550126">(415) 555-0126</span> <span class="party-label">VIP</span>' in html
    html = agent_client.get("/", {"number": "priya"}).content.decode()
    assert 'id="call-c-one"' in html and 'id="call-c-two"' not in html
    html = agent_client.get("/", {"number": "vip"}).content.decode()
    assert 'id="call-c-one"' in html and 'id="call-c-two"' not in html


def test_the_history_finds_calls_by_a_name(make_operator, client):
    client.force_login(make_operator(roles.SUPERVISOR))
    DirectoryEntry.objects.create(number="+13125550178", name="Marcus Bell", label="Contoso")
    for call_id, number in (("c-one", "+14155550126"), ("c-two", "+13125550178")):
        Call.objects.create(
            call_id=call_id, direction="inbound", state=CallState.ENDED, from_number=number, to_number="+19195550100",
            start_time=timezone.now(), end_time=timezone.now(),
        )
    html = client.get("/history/", {"number": "contoso"}).content.decode()
    assert "c-two" in html and "c-one" not in html


def test_a_change_to_the_directory_is_shown_at_once():
    assert directory.described("+14155550126") == "(415) 555-0126"
    entry = DirectoryEntry.objects.create(number="+14155550126", name="Priya Raman")
    assert directory.described("+14155550126") == "Priya Raman, (415) 555-0126"
    entry.delete()
    assert directory.described("+14155550126") == "(415) 555-0126"


def test_an_admin_adds_edits_and_deletes_an_entry_each_audited(admin_client):
    response = admin_client.post("/directory/add", {"number": "(415) 555-0126", "name": "Priya Raman", "kind": "contact", "label": "VIP"})
    assert response.status_code == 302
    entry = DirectoryEntry.objects.get()
    assert entry.number == "+14155550126"  # kept in E.164
    response = admin_client.post(f"/directory/{entry.pk}/", {"number": "+14155550126", "name": "Priya R.", "kind": "agent", "label": "Sales"})
    assert response.status_code == 302
    assert DirectoryEntry.objects.get().name == "Priya R."
    assert admin_client.post(f"/directory/{entry.pk}/delete").status_code == 302
    assert not DirectoryEntry.objects.exists()
    audited = list(AuditEntry.objects.order_by("at", "id").values_list("verb", "target", "detail"))
    assert audited == [
        ("add to directory", "+14155550126", "Priya Raman (VIP), contact"),
        ("edit directory", "+14155550126", "Priya Raman (VIP), contact → Priya R. (Sales), agent line"),
        ("delete from directory", "+14155550126", "Priya R. (Sales), agent line"),
    ]
    assert "Directory" in admin_client.get("/directory/").content.decode()


def test_a_number_that_is_no_phone_number_is_refused_with_the_reason(admin_client):
    response = admin_client.post("/directory/add", {"number": "call me", "name": "X", "kind": "contact"})
    assert response.status_code == 422
    assert "Not a phone number" in response.content.decode()
    assert not DirectoryEntry.objects.exists()


def test_agents_and_supervisors_may_not_edit_the_directory(agent_client, make_operator, client):
    assert agent_client.get("/directory/").status_code == 403
    assert agent_client.post("/directory/add", {"number": "+14155550126", "name": "X", "kind": "contact"}).status_code == 403
    assert not DirectoryEntry.objects.exists()


def upload(client, text: str, name: str = "people.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/directory/import", {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def test_a_csv_file_adds_and_updates_entries(admin_client):
    DirectoryEntry.objects.create(number="+14155550126", name="Old name")
    response = upload(admin_client, "number,name,kind,label\n(415) 555-0126,Priya Raman,contact,VIP\n+442079460958,Elena Fischer,,Fabrikam UK\n")
    assert response.status_code == 302
    assert dict(DirectoryEntry.objects.values_list("number", "name")) == {"+14155550126": "Priya Raman", "+442079460958": "Elena Fischer"}
    assert directory.described("+442079460958") == "Elena Fischer, +44 20 7946 0958"
    assert AuditEntry.objects.get().detail == "1 added, 1 updated"


def test_a_csv_file_with_a_bad_line_writes_nothing_and_names_each_bad_line(admin_client):
    DirectoryEntry.objects.create(number="+14155550126", name="Kept")
    text = (
        "number,name,kind,label\n"
        "+14155550126,Changed,contact,\n"
        "not a number,Someone,contact,\n"
        "+13125550178,,contact,\n"
        "+12125550143,Dana,robot,\n"
        "+14155550126,Twice,contact,\n"
    )
    response = upload(admin_client, text)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was imported: 4 lines to fix." in html
    for line in ("Line 3: number", "Line 4: name", "Line 5: kind", "Line 6: +14155550126 is on an earlier line too."):
        assert line in html
    assert list(DirectoryEntry.objects.values_list("name", flat=True)) == ["Kept"]


@pytest.mark.boundary
@pytest.mark.parametrize(
    "body, reason",
    [
        (b"\xff\xfenumber", "not UTF-8"),
        (b"phone,who\n+14155550126,X\n", "missing columns number, name"),
        (b"number,name\n+14155550126,X,extra\n", "more cells than columns"),
        (b"number,name\n+1415555\x000126,X\n", "Line 2"),
        (("number,name\n+14155550126," + "x" * 200 + "\n").encode(), "Line 2: name"),
    ],
)
def test_a_file_that_is_no_directory_csv_is_refused_with_the_reason(admin_client, body, reason):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post("/directory/import", {"file": SimpleUploadedFile("x.csv", body)})
    assert response.status_code == 422
    assert reason in response.content.decode()
    assert not DirectoryEntry.objects.exists()
