import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from console import roles
from console.live_hub import hub


@pytest.fixture
def make_operator(db):
    roles.sync_roles()

    def make(role: str | None, username: str | None = None):
        user = get_user_model().objects.create_user(username or role or "nobody", password="pw")
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def agent_client(client, make_operator):
    client.force_login(make_operator(roles.AGENT))
    return client


@pytest.fixture
def supervisor_client(client, make_operator):
    client.force_login(make_operator(roles.SUPERVISOR))
    return client


@pytest.fixture
def live_hub(settings):
    """Changes published and pushed by this process's hub to the sockets that joined it, as
    when running (transactional tests only: the hub reads the rows in a thread of its own)."""
    settings.LIVE_PUSH_IN_BACKGROUND = True
    yield hub
    hub.stop()
