"""Idle websockets stay open in the production profile (daphne on Redis): nothing closes a
socket that merely has nothing to say. redis-py 8 times reads out after 5 s by default,
the time channels_redis blocks waiting for a message, and every idle consumer crashed
("Timeout reading from 127.0.0.1:6379") and closed with 1011, every 5 s."""

import asyncio

import aiohttp
import pytest

from tests.support.services import require_postgres, require_redis
from tests.support.stack import running_stack
from tests.support.websockets import open_socket, sign_in

pytestmark = pytest.mark.production

SOCKETS = 50
IDLE_SECONDS = 120


async def sockets_closed_while_idle(url: str, password: str) -> list:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await sign_in(session, url, "agent", password)
        sockets = [await open_socket(session, url, "/ws/live/calls/" if n % 2 else "/ws/live/conferences/") for n in range(SOCKETS)]

        async def read(socket):
            async for _ in socket:
                pass  # frames, if any; the loop ends when the socket closes
            return socket.close_code

        readers = [asyncio.ensure_future(read(socket)) for socket in sockets]
        await asyncio.sleep(IDLE_SECONDS)
        closed = [reader.result() for reader in readers if reader.done()]
        for socket in sockets:
            await socket.close()
        return closed


def test_fifty_idle_websockets_stay_open_for_two_minutes(tmp_path):
    require_postgres()
    require_redis()
    with running_stack(tmp_path, production=True) as stack:
        closed = asyncio.run(sockets_closed_while_idle(stack.url, stack.passwords["agent"]))
        assert closed == [], f"{len(closed)} sockets closed, codes {sorted(set(closed))}"
        assert "Timeout reading" not in stack.log_text()
