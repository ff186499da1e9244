import pytest
import responses as responses_lib


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.BANDWIDTH_API_URL = "https://bandwidth.test/api/v2"
    settings.BANDWIDTH_ACCOUNT_ID = "9900000"


@pytest.fixture(autouse=True)
def _pushes_drained_by_the_test(settings):
    """Live pushes wait for console.live.drain(), called by the tests that look at them: a
    hub's render thread could not see a test's uncommitted rows."""
    from console import live

    settings.LIVE_PUSH_IN_BACKGROUND = False
    yield
    live.discard()


@pytest.fixture(autouse=True)
def _tasks_handed_over_in_the_committing_thread(settings):
    settings.HANDOVER_IN_BACKGROUND = False


@pytest.fixture(autouse=True)
def _shared_copies_read_afresh():
    """Each process keeps the routes, the directory and the alert rules in memory
    (voice/shared_copy.py); a test's rows go with its rolled-back transaction, which no
    signal reports."""
    from console import alert_rules, directory
    from voice import route_table

    copies = (route_table.table, directory.directory, alert_rules.saved_rules)
    for copy in copies:
        copy.forget()
    yield
    for copy in copies:
        copy.forget()


@pytest.fixture
def bandwidth_api():
    """Canned answers for the Bandwidth API (unit tests of the client and actions)."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


