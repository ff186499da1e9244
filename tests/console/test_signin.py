"""Sign-in is guarded (issue 12): a username is locked out from an address after too many
wrong passwords, for a cool-off; the page says until when; every failure, the lock-out, the
sign-ins and sign-outs are in the audit log with the address; an admin can unlock."""

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from console import roles
from console.processes import BASE_DIR
from console.models import AuditEntry

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"


@pytest.fixture
def ada(make_operator):
    return make_operator(roles.AGENT, "ada")


def sign_in(client, password: str, *, username: str = "ada", address: str = ATTACKER):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_until_locked(client, settings, address: str = ATTACKER):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "not-the-password", address=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def shown_lock_end(page: str) -> datetime:
    """The end of the lock-out the sign-in page states (its <time datetime>)."""
    start = page.index('datetime="', page.index("locked until")) + len('datetime="')
    return datetime.fromisoformat(page[start : page.index('"', start)])


def test_the_attempt_after_the_limit_is_refused_even_with_the_right_password(client, ada, settings):
    fail_until_locked(client, settings)
    response = sign_in(client, "pw")
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert "Too many failed sign-ins" in page
    ends = shown_lock_end(page)
    expected = timezone.now() + settings.AXES_COOLOFF_TIME
    assert expected - timedelta(seconds=30) <= ends <= expected
    assert int(response["Retry-After"]) == pytest.approx(settings.AXES_COOLOFF_TIME.total_seconds(), abs=30)


def test_the_failure_that_reaches_the_limit_already_shows_the_lock_out(client, ada, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    response = sign_in(client, "wrong")
    assert response.status_code == 429
    assert "locked until" in response.content.decode()


def test_retrying_while_locked_out_does_not_push_the_end_back(client, ada, settings):
    fail_until_locked(client, settings)
    first = shown_lock_end(sign_in(client, "pw").content.decode())
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=1))
    again = shown_lock_end(sign_in(client, "wrong").content.decode())
    assert again == first - timedelta(minutes=1)


def test_after_the_cool_off_the_right_password_signs_in(client, ada, settings):
    fail_until_locked(client, settings)
    assert sign_in(client, "pw").status_code == 429
    # The cool-off passes.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME)
    response = sign_in(client, "pw")
    assert response.status_code == 302
    assert signed_in(client)


def test_a_lock_out_from_one_address_leaves_the_owner_at_another_free_to_sign_in(client, ada, settings):
    fail_until_locked(client, settings, address=ATTACKER)
    response = sign_in(client, "pw", address=OWNER)
    assert response.status_code == 302
    assert signed_in(client)


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, ada, settings):
    settings.PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/login/", {"username": "ada", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.99, {ATTACKER}",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    # The owner comes through the same proxy, from another address.
    response = client.post(
        "/login/", {"username": "ada", "password": "pw"}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=OWNER
    )
    assert response.status_code == 302


def test_each_failure_and_the_lock_out_are_audited_with_the_address(client, ada, settings):
    fail_until_locked(client, settings)
    sign_in(client, "pw")
    failures = AuditEntry.objects.filter(verb="sign-in failed")
    assert failures.count() == settings.AXES_FAILURE_LIMIT
    assert {(e.actor_id, e.actor_name, e.target) for e in failures} == {(None, "anonymous", "ada")}
    assert all(ATTACKER in e.detail for e in failures)
    (locked,) = AuditEntry.objects.filter(verb="locked out")
    assert locked.target == "ada" and ATTACKER in locked.detail and "until" in locked.detail
    assert locked.pk > max(failure.pk for failure in failures)
    (refused,) = AuditEntry.objects.filter(verb="sign-in refused")
    assert refused.target == "ada" and ATTACKER in refused.detail


def test_a_failed_sign_in_for_an_unknown_username_is_audited_too(client, db):
    sign_in(client, "whatever", username="mallory")
    (entry,) = AuditEntry.objects.filter(verb="sign-in failed")
    assert entry.target == "mallory" and ATTACKER in entry.detail


def test_signing_in_and_out_are_audited(client, ada):
    sign_in(client, "pw", address=OWNER)
    client.post("/logout/", REMOTE_ADDR=OWNER)
    entries = list(AuditEntry.objects.order_by("id").values_list("actor_name", "verb", "target"))
    assert entries == [("ada", "signed in", "ada"), ("ada", "signed out", "ada")]
    assert OWNER in AuditEntry.objects.get(verb="signed in").detail


@pytest.fixture
def admin_client(client):
    root = get_user_model().objects.create_superuser("root", password="pw")
    client.force_login(root)
    return client


def test_an_admin_sees_the_lock_out_and_unlocks_it_and_the_user_signs_in(client, admin_client, ada, settings):
    from django.test import Client

    attacker = Client()
    fail_until_locked(attacker, settings)
    listing = admin_client.get("/admin/axes/accessattempt/").content.decode()
    assert "ada" in listing and ATTACKER in listing
    attempt = AccessAttempt.objects.get(username="ada")
    response = admin_client.post(
        "/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    (unlocked,) = AuditEntry.objects.filter(verb="unlocked")
    assert (unlocked.actor_name, unlocked.target) == ("root", "ada")
    assert ATTACKER in unlocked.detail
    assert sign_in(attacker, "pw").status_code == 302


def test_deleting_a_lock_out_in_the_admin_is_an_audited_unlock(admin_client, ada, settings):
    from django.test import Client

    fail_until_locked(Client(), settings)
    attempt = AccessAttempt.objects.get(username="ada")
    response = admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    (unlocked,) = AuditEntry.objects.filter(verb="unlocked")
    assert (unlocked.actor_name, unlocked.target) == ("root", "ada")


def test_the_lock_out_settings_follow_the_environment():
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.AXES_FAILURE_LIMIT, int(settings.AXES_COOLOFF_TIME.total_seconds()), settings.PROXY_COUNT)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "console.settings"}
    env.update(SIGNIN_FAILURE_LIMIT="3", SIGNIN_LOCKOUT_SECONDS="120", PROXY_COUNT="1")
    result = subprocess.run([sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["3", "120", "1"], result.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_under_asgi_the_locked_out_page_is_served_too(async_client, make_operator, settings):
    """Under daphne the middleware runs asynchronously, and axes hands the lock-out page
    other arguments there."""
    from asgiref.sync import sync_to_async

    await sync_to_async(make_operator)(roles.AGENT, "ada")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        await async_client.post("/login/", {"username": "ada", "password": "wrong"})
    response = await async_client.post("/login/", {"username": "ada", "password": "pw"})
    assert response.status_code == 429
    assert "locked until" in response.content.decode()
