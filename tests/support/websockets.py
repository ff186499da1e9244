"""Signed-in websocket clients on a running stack, as a browser opens them (session cookie,
same Origin), without a browser: for tests and benchmarks that need many."""

from __future__ import annotations

import re

import aiohttp


async def sign_in(session: aiohttp.ClientSession, url: str, username: str, password: str) -> None:
    """Signs `session` in through the login form (its cookie jar must accept IP hosts:
    aiohttp.CookieJar(unsafe=True))."""
    async with session.get(f"{url}/login/") as page:
        html = await page.text()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    async with session.post(f"{url}/login/", data=form, headers={"Referer": f"{url}/login/"}) as answer:
        assert answer.status == 200 and "sessionid" in {c.key for c in session.cookie_jar}, answer.status


async def open_socket(session: aiohttp.ClientSession, url: str, path: str) -> aiohttp.ClientWebSocketResponse:
    return await session.ws_connect(url.replace("http://", "ws://") + path, headers={"Origin": url}, heartbeat=None, max_msg_size=0)
