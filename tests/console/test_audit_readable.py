"""The audit log names what was acted on as people read it (issue 13): numbers formatted and
named from the directory, conferences by name; a mute all is one entry listing its members,
whose outcome is theirs together. The CSV keeps numbers in E.164."""

from unittest import mock

import pytest
from django.utils import timezone

from console import operations, roles
from console.models import AuditEntry, DirectoryEntry
from voice.models import Action, ActionStatus, Call, CallState, Conference, ConferenceMember, MemberState

pytestmark = pytest.mark.django_db

CONFERENCE = "conf-59082d52-4a2ab5be-ce26-43ed-af94-431b8a19d4e3"
MEMBERS = {"c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d": "+14155550126", "c-2a91404e-5d0c965c-b235-4a8f-b33c-9fc4d2644365": "+13125550178"}


@pytest.fixture(autouse=True)
def named():
    DirectoryEntry.objects.create(number="+14155550126", name="Priya Raman", label="VIP")


@pytest.fixture
def conference(db):
    conference = Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=timezone.now())
    for call_id, number in MEMBERS.items():
        Call.objects.create(call_id=call_id, direction="inbound", state=CallState.ANSWERED, from_number=number, to_number="+19195550100", start_time=timezone.now())
        ConferenceMember.objects.create(conference=conference, call_id=call_id, from_number=number, to_number="+19195550100", state=MemberState.JOINED, joined_at=timezone.now())
    return conference


@pytest.fixture
def admin(make_operator, client):
    user = make_operator(roles.ADMIN)
    client.force_login(user)
    return user


@pytest.fixture(autouse=True)
def enqueued():
    with mock.patch("voice.tasks.perform_action.apply_async_on_commit") as enqueue:
        yield enqueue


def test_a_hang_up_reads_as_the_numbers_with_their_names(client, admin, conference):
    call = Call.objects.get(from_number="+14155550126")
    operations.hang_up(admin, call)
    html = client.get("/audit/").content.decode()
    assert '<span class="party-text" title="+14155550126">Priya Raman, (415) 555-0126</span> → <span class="party-text" title="+19195550100">(919) 555-0100</span>' in html
    # The id it was sent for stays, beneath.
    assert f'<span class="audit-target mono" title="What the action was sent for">{call.call_id}</span>' in html


def test_a_mute_all_is_one_entry_naming_its_members_with_their_outcome_together(client, admin, conference):
    batch = operations.mute_all(admin, conference, True)
    entry = AuditEntry.objects.get()
    assert (entry.verb, entry.target, entry.batch) == ("mute all", CONFERENCE, batch)
    html = client.get("/audit/").content.decode()
    assert "sales-floor: " in html and "Priya Raman, (415) 555-0126" in html and "(312) 555-0178" in html
    assert entry.result == "pending"

    actions = list(batch.actions.all())
    Action.objects.filter(pk=actions[0].pk).update(status=ActionStatus.DONE)
    Action.objects.filter(pk=actions[1].pk).update(status=ActionStatus.FAILED)
    batch.close_if_finished()
    assert AuditEntry.objects.get().result == "failed"
    Action.objects.filter(pk=actions[1].pk).update(status=ActionStatus.DONE)
    assert AuditEntry.objects.get().result == "done"


def test_the_log_is_searched_by_a_name_a_number_in_either_form_or_a_conference(client, admin, conference):
    operations.hang_up(admin, Call.objects.get(from_number="+14155550126"))
    operations.hang_up(admin, Call.objects.get(from_number="+13125550178"))
    operations.end(admin, conference)
    for typed, expected in (("priya", 1), ("VIP", 1), ("(312) 555-0178", 1), ("+1 312 555 0178", 1), ("sales-floor", 1), ("919", 2)):
        html = client.get("/audit/", {"target": typed}).content.decode()
        assert html.count('class="audit-on"') == expected, typed


def test_the_csv_keeps_numbers_in_e164(client, admin, conference):
    operations.hang_up(admin, Call.objects.get(from_number="+14155550126"))
    body = b"".join(client.get("/audit/audit.csv").streaming_content).decode()
    assert "+14155550126 → +19195550100" in body and "Priya" not in body
