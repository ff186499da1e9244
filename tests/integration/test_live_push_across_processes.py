"""The production profile with two console processes (as behind a load balancer) and a
separate worker: a change committed by one process reaches the browsers of every process,
each frame numbered for its socket, and a burst reaches them all with nothing lost."""

import asyncio
import re

import aiohttp
import pytest

from tests.support.services import require_postgres, require_redis
from tests.support.stack import running_stack
from tests.support.websockets import open_socket, sign_in

pytestmark = pytest.mark.production

CALLERS = 12


async def calls_seen_ended_by_each_socket(stack) -> tuple[list[dict[str, list[int]]], list[str]]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await sign_in(session, stack.url, "agent", stack.passwords["agent"])
        # Two sockets on each process: the same session, as two tabs behind a balancer.
        sockets = [await open_socket(session, url, "/ws/live/calls/") for url in stack.consoles for _ in range(2)]
        await asyncio.sleep(0.5)
        callers = await asyncio.to_thread(
            lambda: [stack.sandbox.offer_inbound(from_number=f"+1555000{8000 + n}", to_number="+19195550199")["callId"] for n in range(CALLERS)]
        )
        seen: list[dict[str, list[int]]] = [{} for _ in sockets]

        async def read(index, socket):
            async for message in socket:
                sequence = int(re.match(r"<!--seq (\d+)-->", message.data)[1])
                for call_id in re.findall(r'<tr id="call-([^"]+)"[^>]*class="[^"]*state-ended', message.data):
                    seen[index].setdefault(call_id, []).append(sequence)
                if set(callers) <= seen[index].keys():
                    return

        # The route speaks office hours and hangs up: every call ends within seconds.
        await asyncio.wait_for(asyncio.gather(*(read(n, s) for n, s in enumerate(sockets))), timeout=60)
        for socket in sockets:
            await socket.close()
        return seen, callers


def test_every_process_pushes_every_change_to_its_own_browsers(tmp_path):
    require_postgres()
    require_redis()
    with running_stack(tmp_path, production=True, web=2) as stack:
        seen, callers = asyncio.run(calls_seen_ended_by_each_socket(stack))
        for per_socket in seen:
            assert set(callers) <= per_socket.keys()
