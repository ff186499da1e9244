"""An agent signs in, sees a sandbox call appear without reloading, hangs it up, sees it leave."""

import pytest

from tests.e2e.flows import agent_hangs_up_a_call_that_appears_live
from tests.support.services import require_postgres, require_redis
from tests.support.stack import running_stack

pytestmark = pytest.mark.e2e


def test_agent_hangs_up_a_live_call_in_the_embedded_default(page, tmp_path):
    with running_stack(tmp_path) as stack:
        agent_hangs_up_a_call_that_appears_live(page, stack)


@pytest.mark.production
def test_agent_hangs_up_a_live_call_on_postgresql_redis_and_a_separate_worker(page, tmp_path):
    require_postgres()
    require_redis()
    with running_stack(tmp_path, production=True) as stack:
        agent_hangs_up_a_call_that_appears_live(page, stack)
