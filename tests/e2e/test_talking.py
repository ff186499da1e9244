"""Who is talking, in the browser: the demo's sales-floor route streams each member's voice to
the console; the page's indicator follows what the sandbox's callers say, the noisy line is
flagged beside its Mute button, and a stream that stops turns the indicator to unknown."""

import asyncio
import base64
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in
from tests.support.sandbox import wait_until
from tests.support.stack import running_stack
from voice import stream_credentials
from voice.demo import SALES_FLOOR_NUMBER

pytestmark = pytest.mark.e2e

SENTENCE = "Good morning everyone, I have a quick question about the quarterly numbers"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("talking")) as stack:
        yield stack


def test_the_indicator_follows_the_speaker_and_the_noisy_line_is_flagged(stack, page):
    sign_in(page, stack, "supervisor")
    talker = stack.sandbox.offer_inbound(from_number="+15550003001", to_number=SALES_FLOOR_NUMBER, utterance=SENTENCE)["callId"]
    noisy = stack.sandbox.offer_inbound(from_number="+15550003002", to_number=SALES_FLOOR_NUMBER, noisyLine=True)["callId"]
    page.locator("#conference-rows").get_by_role("link", name="sales-floor").click()
    indicator = page.locator(f"#talking-{talker}")
    expect(indicator).to_be_visible()
    # Every state the indicator takes, as the browser shows it.
    page.evaluate(
        """id => { window.__states = [];
            const note = () => { const el = document.getElementById(id);
                if (el && window.__states[window.__states.length - 1] !== el.dataset.talking) window.__states.push(el.dataset.talking); };
            note();
            // The body, not the member rows: a pushed frame may replace the rows' container.
            new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true}); }""",
        f"talking-{talker}",
    )

    # The caller says their sentence a second into the stream, then pauses 3 to 12 s.
    expect(indicator).to_have_attribute("data-talking", "speaking", timeout=15_000)
    expect(indicator.locator("meter")).to_be_visible()
    expect(indicator).to_have_attribute("data-talking", "silent", timeout=15_000)
    expect(page.locator(f"#noisy-{noisy}")).to_contain_text("noisy line", timeout=20_000)
    expect(page.locator(f"#noisy-{talker}")).not_to_contain_text("noisy line")
    assert "speaking" in page.evaluate("window.__states")
    (stream,) = [stream for stream in stack.sandbox.streams() if stream["callId"] == talker]
    assert stream["speechOnsets"], "the sandbox said when the sentence started"

    # m still mutes the selected member.
    page.keyboard.press("j")
    selected = page.locator("tr.member-row.selected")
    expect(selected).to_have_count(1)
    selected_id = selected.get_attribute("id")
    page.keyboard.press("m")
    expect(page.locator(f"#{selected_id} .member-mute")).to_contain_text("muted")

    # A stream that stops, the call going on: its activity is unknown.
    stack.sandbox.stop_stream(stream["id"])
    expect(indicator).to_have_attribute("data-talking", "unknown", timeout=10_000)
    expect(indicator).to_contain_text("activity unknown")
    wait_until(lambda: any(hook["eventType"] == "mediaStreamStopped" for hook in stack.sandbox.webhooks()))
    page.reload()
    expect(page.locator(f"#talking-{talker}")).to_have_attribute("data-talking", "unknown")


def _through_daphne(coroutine):
    # Playwright's sync API keeps an event loop marked running in this thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _close_code(stack, username: str, password: str, message: str) -> int | str:
    authorization = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    async with aiohttp.ClientSession() as session:
        try:
            socket = await session.ws_connect(stack.url.replace("http://", "ws://") + "/ws/media/", headers={"Authorization": authorization})
        except aiohttp.WSServerHandshakeError as refused:
            return f"HTTP {refused.status}"
        await socket.send_str(message)
        await socket.receive()
        return socket.close_code


def test_daphne_refuses_bad_credentials_and_closes_a_malformed_stream_with_the_code_that_says_why(stack):
    call_id = "c-0a0b0c0d-1111-4222-8333-444455556666"
    assert _through_daphne(_close_code(stack, call_id, "wrong", "{}")) == "HTTP 403"
    assert _through_daphne(_close_code(stack, call_id, stream_credentials.password_for(call_id), "not json")) == 4007
