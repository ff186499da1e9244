import pytest
import responses as responses_lib


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.BANDWIDTH_API_URL = "https://bandwidth.test/api/v2"
    settings.BANDWIDTH_ACCOUNT_ID = "9900000"


@pytest.fixture
def bandwidth_api():
    """Canned answers for the Bandwidth API (unit tests of the client and actions)."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


