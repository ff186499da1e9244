"""Routes are edited in the Django admin; the mirror is shown there read-only."""

import pytest

from voice.models import Call, Route

pytestmark = pytest.mark.django_db


def test_an_admin_adds_a_route_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/voice/route/add/",
        {
            "name": "Night line",
            "enabled": "on",
            "match": "prefix",
            "number": "+1919555",
            "priority": "10",
            "flow": "conference",
            "sentence": "",
            "conference_name": "night-desk",
            "join_on_hold": "on",
            "max_record_seconds": "60",
            "forward_to": "",
            "forward_from": "",
        },
    )
    assert response.status_code == 302, response.content
    route = Route.objects.get(name="Night line")
    assert (route.match, route.number, route.conference_name, route.join_on_hold) == ("prefix", "+1919555", "night-desk", True)


def test_the_admin_refuses_a_conference_route_without_a_conference(admin_client):
    response = admin_client.post(
        "/admin/voice/route/add/",
        {"name": "Broken", "match": "default", "priority": "10", "flow": "conference", "max_record_seconds": "60"},
    )
    assert response.status_code == 200
    assert not Route.objects.exists()
    assert "Name the conference to join." in response.content.decode()


def test_calls_are_shown_but_not_editable_in_the_admin(admin_client):
    call = Call.objects.create(call_id="c-1", direction="inbound")
    assert admin_client.get("/admin/voice/call/").status_code == 200
    assert admin_client.get(f"/admin/voice/call/{call.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/voice/call/{call.pk}/change/", {"state": "ended"}).status_code == 403
    assert Call.objects.get().state == "initiated"
