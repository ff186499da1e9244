"""One production-profile stack for the whole fault suite (starting one takes most of a
case's time on a loaded machine): daphne, a Celery worker and beat, the sandbox, a
PostgreSQL database of its own and a redis-server of its own, which one case kills."""

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CHROMIUM_FLAGS
from tests.faults.harness import FAST_RECONCILIATION, environment, private_redis
from tests.support.services import chromium_path, require_postgres
from tests.support.stack import running_stack

# The killed worker's actions are resolved once its lease has run out: short enough for
# the test (a mute here takes two requests of at most a second or two each); actions stay
# fresh while a worker or Redis is away, so that each ends done, not dropped.
FAULT_SETTINGS = {**FAST_RECONCILIATION, "ACTION_CLAIM_LEASE": 8, "ACTION_STALE_AFTER": 90}


@pytest.fixture(scope="package")
def browser():
    """Debian's chromium, once for the suite (the package has no asyncio tests, whose event
    loop Playwright's sync API would hold: tests/e2e/conftest.py)."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def redis(tmp_path_factory):
    with private_redis(tmp_path_factory.mktemp("redis")) as redis:
        yield redis


@pytest.fixture(scope="package")
def stack(redis, tmp_path_factory):
    require_postgres()
    with environment(**FAULT_SETTINGS), running_stack(tmp_path_factory.mktemp("faults"), production=True, redis_url=redis.url) as stack:
        yield stack
