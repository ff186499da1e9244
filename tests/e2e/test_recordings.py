"""An admin finds a voicemail by a word of its transcript, plays it and seeks (the browser
gets 206 partial content through the console's proxy), downloads it, deletes it after
confirming, and finds all of it in the audit log. Once on the embedded default (SQLite's
match), once in the production profile (PostgreSQL's full-text search, a separate worker)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.flows import sign_in, wait_until_live
from tests.support.sandbox import wait_until
from tests.support.services import require_postgres, require_redis
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.e2e

VOICEMAIL = "+19195550150"
CALLER = "+15550004242"
MESSAGE = "Hello, this is Robin about the zeppelin tickets for Friday, please call me back."


def voicemail_transcribed(stack: Stack) -> str:
    """A caller leaves a message on the voicemail route (recorded, transcribed); returns the
    recording's id once its transcript has reached the console."""
    call_id = stack.sandbox.offer_inbound(from_number=CALLER, to_number=VOICEMAIL, utterance=MESSAGE)["callId"]
    wait_until(
        lambda: any(
            hook["eventType"] == "transcriptionAvailable" and hook["status"] == 204 and hook["payload"].get("callId") == call_id
            for hook in stack.sandbox.webhooks()
        ),
        timeout=40,
        interval=0.5,
        message="the transcription to be announced",
    )
    (recording,) = [r for r in stack.sandbox.recordings() if r.get("callId") == call_id]
    return recording["recordingId"]


def admin_finds_plays_downloads_and_deletes_a_recording(page: Page, stack: Stack) -> None:
    recording_id = voicemail_transcribed(stack)
    sign_in(page, stack, "admin")
    page.get_by_role("link", name="Recordings").click()

    # The transcript's text is fetched by a task after the webhook: search until it is there.
    row = page.locator(f"#recording-row-{recording_id}")
    search = page.get_by_role("searchbox", name="Words in the transcript")
    for _ in range(20):
        search.fill("")
        search.fill("Zeppelin")
        try:
            expect(row).to_be_visible(timeout=1_000)
            break
        except AssertionError:
            continue
    expect(row).to_be_visible()
    expect(row.locator("mark")).to_have_text("zeppelin")
    expect(page.locator("tr.recording-row")).to_have_count(1)

    media = []
    page.on("response", lambda response: media.append(response) if response.url.endswith("/media") else None)
    row.get_by_role("link").click()
    expect(page.locator(".transcript")).to_contain_text(MESSAGE)
    wait_until_live(page)
    # The waveform the server computed is drawn (its peaks arrive live if computed after load).
    wait_until(lambda: page.evaluate("JSON.parse(document.getElementById('waveform-peaks').textContent || 'null')"), timeout=15)

    page.get_by_role("button", name="Play").click()
    wait_until(lambda: page.evaluate("document.getElementById('player-audio').currentTime") > 0.2, timeout=15)
    waveform = page.locator("canvas.waveform")
    box = waveform.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    duration = page.evaluate("document.getElementById('player-audio').duration")
    wait_until(lambda: page.evaluate("document.getElementById('player-audio').currentTime") >= duration * 0.55, timeout=10)
    assert any(response.status == 206 for response in media), [(r.status, r.request.headers.get("range")) for r in media]
    partial = next(response for response in media if response.status == 206)
    assert partial.headers["content-range"].startswith("bytes 0-")
    assert partial.headers["accept-ranges"] == "bytes"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    name = download.value.suggested_filename
    assert re.fullmatch(rf"\d{{4}}-\d{{2}}-\d{{2}}_\d{{4}}_\+15550004242_to_\+19195550150_{recording_id}\.wav", name), name
    with open(download.value.path(), "rb") as saved:
        assert saved.read(4) == b"RIFF"

    page.get_by_role("button", name="Delete…").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("purges the media within 24 to 48 hours")
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.locator(".recording-state .notice")).to_contain_text(
        "Bandwidth purges the media within 24 to 48 hours", timeout=15_000
    )
    expect(page.locator(".transcript")).to_contain_text("Deleted with the recording")
    expect(page.get_by_role("button", name="Play")).to_be_disabled()
    assert recording_id not in {r["recordingId"] for r in stack.sandbox.recordings()}

    page.goto(f"{stack.url}/audit/?target={recording_id}")
    rows = page.locator("#results tbody tr")
    expect(rows.filter(has_text="play recording")).to_contain_text("ok")
    expect(rows.filter(has_text="download recording")).to_contain_text("ok")
    expect(rows.filter(has_text="delete recording")).to_contain_text("done")
    expect(rows.filter(has_text="delete recording")).to_contain_text("admin")


def test_an_admin_finds_plays_downloads_and_deletes_a_recording(page, tmp_path):
    with running_stack(tmp_path) as stack:
        admin_finds_plays_downloads_and_deletes_a_recording(page, stack)


@pytest.mark.production
def test_the_same_on_postgresql_full_text_search_and_a_separate_worker(page, tmp_path):
    require_postgres()
    require_redis()
    with running_stack(tmp_path, production=True) as stack:
        admin_finds_plays_downloads_and_deletes_a_recording(page, stack)
