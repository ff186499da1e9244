"""Recordings and transcriptions: <Record>, <StartRecording> and friends, the REST API over
them, and their sound (real WAV, different per call, served by byte range)."""

import asyncio
import io
import time
import urllib.request
import wave

import pytest

from console.processes import free_port
from tests.sandbox.conftest import API_AUTH, response, sandbox_config, start_sandbox
from voice.sandbox import audio
from voice.sandbox.scenarios import Scenario
from voice.sandbox.webhook_sender import basic_authorization

pytestmark = pytest.mark.asyncio

HOLD = "<Pause duration='600'/>"
MESSAGE = "Hi, this is Dana from Northwind. My order number is 4 4 7 1, please call me back."
VOICEMAIL = (
    "<SpeakSentence>Leave a message</SpeakSentence>"
    "<Record recordCompleteUrl='/recorded' recordingAvailableUrl='/available' transcribe='true'"
    " transcriptionAvailableUrl='/transcribed' username='v' password='vp' maxDuration='60'/>"
)


async def leave_voicemail(sandbox, application, ends_message: str):
    application.reply("initiate", response(VOICEMAIL))
    application.reply("recordComplete", response("<SpeakSentence>Thank you</SpeakSentence><Hangup/>"))
    call = await sandbox.offer(to_number="+19195550150", utterance=MESSAGE, endsMessage=ends_message)
    (available,) = await application.wait_for("recordingAvailable")
    (transcribed,) = await application.wait_for("transcriptionAvailable", timeout=8)
    return call, available, transcribed


async def test_a_caller_who_keys_pound_ends_the_message_with_record_complete_then_recording_available(sandbox, application):
    call, available, _ = await leave_voicemail(sandbox, application, "#")

    (complete,) = application.events("recordComplete")
    assert complete.path == "/recorded" and complete.auth == ("v", "vp")
    assert complete.payload["recordingId"] == available.payload["recordingId"]
    assert complete.payload["answerTime"] and "answerTime" not in available.payload
    assert available.path == "/available" and available.auth == ("v", "vp")
    assert available.payload["status"] == "complete" and available.payload["channels"] == 1
    assert available.payload["fileFormat"] == "wav" and available.payload["duration"].startswith("PT")
    assert available.payload["mediaUrl"].endswith(f"/calls/{call['callId']}/recordings/{available.payload['recordingId']}/media")


async def test_a_caller_who_hangs_up_ends_the_message_without_record_complete(sandbox, application):
    _, available, transcribed = await leave_voicemail(sandbox, application, "hangup")

    assert not application.events("recordComplete")
    assert available.payload["status"] == "complete"
    assert transcribed.payload["recordingId"] == available.payload["recordingId"]


async def test_the_transcript_is_what_the_caller_said(sandbox, application):
    call, available, transcribed = await leave_voicemail(sandbox, application, "#")
    recording_id = available.payload["recordingId"]

    status, body, _ = await sandbox.request("GET", f"/calls/{call['callId']}/recordings/{recording_id}/transcription")

    metadata = transcribed.payload["transcription"]
    assert transcribed.path == "/transcribed" and transcribed.auth == ("v", "vp")
    assert metadata["status"] == "available" and metadata["id"].startswith("t-")
    assert metadata["url"].endswith(f"/recordings/{recording_id}/transcription")
    assert status == 200
    assert body["id"] == metadata["id"] and body["status"] == "available" and body["completedTime"]
    assert body["transcripts"][0]["text"] == MESSAGE
    assert 0 < body["transcripts"][0]["confidence"] <= 1


async def test_transcription_on_request_goes_to_the_callback_url_given(sandbox, application):
    call, available, _ = await leave_voicemail(sandbox, application, "#")
    path = f"/calls/{call['callId']}/recordings/{available.payload['recordingId']}/transcription"

    status, _, _ = await sandbox.request(
        "POST", path, json={"callbackUrl": application.at("/again"), "username": "t", "password": "tp", "tag": "again"}
    )
    (again,) = await application.wait_for("transcriptionAvailable", timeout=8, tag="again")

    assert status == 200
    assert again.path == "/again" and again.auth == ("t", "tp")


async def test_start_recording_excludes_paused_time_and_stop_makes_it_available(sandbox, application):
    application.reply(
        "initiate",
        response(
            "<StartRecording recordingAvailableUrl='/available' multiChannel='true'/>"
            "<SpeakSentence>Hello</SpeakSentence><Pause duration='4'/>"
            "<PauseRecording/><Pause duration='20'/><ResumeRecording/><Pause duration='4'/>"
            "<StopRecording/>" + HOLD
        ),
    )
    await sandbox.offer()

    (available,) = await application.wait_for("recordingAvailable")

    # 4 s, then 4 s more after the 20 s paused, with "Hello" and the verbs' own time; the
    # sandbox's clock runs fast, so a loaded machine's lag adds simulated seconds: the bound
    # is what would show the pause counted (28 s and more), not a tight one.
    seconds = float(available.payload["duration"][2:-1])
    assert 8 <= seconds < 20
    assert available.payload["channels"] == 2


async def test_recording_pause_and_resume_through_the_api(sandbox, application):
    application.reply("initiate", response("<StartRecording recordingAvailableUrl='/available'/>" + HOLD))
    call = await sandbox.offer()
    await application.wait_for("initiate")
    await sandbox.settle(3)
    paused, _, _ = await sandbox.request("PUT", f"/calls/{call['callId']}/recording", json={"state": "paused"})
    await sandbox.settle(30)
    resumed, _, _ = await sandbox.request("PUT", f"/calls/{call['callId']}/recording", json={"state": "recording"})
    await sandbox.settle(3)
    await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "completed"})

    (available,) = await application.wait_for("recordingAvailable")

    assert paused == resumed == 200
    assert float(available.payload["duration"][2:-1]) < 15


async def test_a_recording_in_progress_is_kept_when_the_call_ends(sandbox, application):
    application.reply("initiate", response("<StartRecording recordingAvailableUrl='/available' tag='rec'/>" + HOLD))
    call = await sandbox.offer(holdSeconds=5)

    (available,) = await application.wait_for("recordingAvailable")

    assert available.payload["callId"] == call["callId"] and available.payload["tag"] == "rec"


async def recorded_call(sandbox, application, **caller) -> tuple[str, str]:
    application.reply("initiate", response("<StartRecording recordingAvailableUrl='/available'/><Pause duration='6'/><Hangup/>"))
    call = await sandbox.offer(**caller)
    (available,) = await application.wait_for("recordingAvailable", callId=call["callId"])
    return call["callId"], available.payload["recordingId"]


async def test_recordings_are_listed_read_and_deleted_through_the_api(sandbox, application):
    call_id, recording_id = await recorded_call(sandbox, application)
    base = f"/calls/{call_id}/recordings"

    listed, recordings, _ = await sandbox.request("GET", base)
    _, one, _ = await sandbox.request("GET", f"{base}/{recording_id}")
    _, account, _ = await sandbox.request("GET", "/recordings?minStartTime=2000-01-01T00:00:00.000Z")
    deleted, _, _ = await sandbox.request("DELETE", f"{base}/{recording_id}")
    gone, _, _ = await sandbox.request("GET", f"{base}/{recording_id}")
    media_gone, _, _ = await sandbox.request("GET", f"{base}/{recording_id}/media")

    assert listed == 200 and [r["recordingId"] for r in recordings] == [recording_id]
    assert one["callId"] == call_id and one["status"] == "complete" and one["fileFormat"] == "wav"
    assert one["mediaUrl"].endswith(f"{base}/{recording_id}/media") and one["direction"] == "inbound"
    assert [r["recordingId"] for r in account] == [recording_id]
    assert deleted == 204 and gone == 404 and media_gone == 404


async def test_media_is_a_wav_file_of_the_recordings_length(sandbox, application):
    call_id, recording_id = await recorded_call(sandbox, application)

    status, media, headers = await sandbox.request("GET", f"/calls/{call_id}/recordings/{recording_id}/media")

    assert status == 200 and headers["Content-Type"] == "audio/wav" and headers["Accept-Ranges"] == "bytes"
    with wave.open(io.BytesIO(media)) as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
        assert 5.5 <= wav.getnframes() / 8000 <= 7
        frames = wav.readframes(wav.getnframes())
    assert max(frames[1::2]) > 0x20  # loud enough somewhere to be speech, not only noise


async def test_two_calls_sound_different(sandbox, application):
    first = await recorded_call(sandbox, application, utterance="Please call me back about my order.")
    second = await recorded_call(sandbox, application, utterance="The delivery truck is at the dock.")

    _, one, _ = await sandbox.request("GET", f"/calls/{first[0]}/recordings/{first[1]}/media")
    _, other, _ = await sandbox.request("GET", f"/calls/{second[0]}/recordings/{second[1]}/media")

    assert one[44:] != other[44:]


async def test_media_serves_byte_ranges_for_seeking(sandbox, application):
    call_id, recording_id = await recorded_call(sandbox, application)
    url = f"/calls/{call_id}/recordings/{recording_id}/media"
    _, whole, _ = await sandbox.request("GET", url)
    size = len(whole)

    middle, part, middle_headers = await sandbox.request("GET", url, headers={"Range": "bytes=100-1099"})
    tail, end, tail_headers = await sandbox.request("GET", url, headers={"Range": "bytes=-500"})
    rest, after, _ = await sandbox.request("GET", url, headers={"Range": f"bytes={size - 10}-"})
    beyond, _, beyond_headers = await sandbox.request("GET", url, headers={"Range": f"bytes={size}-"})

    assert middle == 206 and part == whole[100:1100]
    assert middle_headers["Content-Range"] == f"bytes 100-1099/{size}" and middle_headers["Content-Length"] == "1000"
    assert tail == 206 and end == whole[-500:] and tail_headers["Content-Range"] == f"bytes {size - 500}-{size - 1}/{size}"
    assert rest == 206 and after == whole[-10:]
    assert beyond == 416 and beyond_headers["Content-Range"] == f"bytes */{size}"


async def test_seeking_back_serves_the_seconds_already_rendered_without_rendering_them_again(sandbox, application, monkeypatch):
    call_id, recording_id = await recorded_call(sandbox, application)
    rendered = []
    render = audio.Waveform._block
    monkeypatch.setattr(audio.Waveform, "_block", lambda waveform, block: rendered.append(block) or render(waveform, block))
    url = f"/calls/{call_id}/recordings/{recording_id}/media"

    _, first, _ = await sandbox.request("GET", url, headers={"Range": "bytes=20000-40000"})
    _, again, _ = await sandbox.request("GET", url, headers={"Range": "bytes=20000-40000"})

    assert first == again and len(first) == 20001
    # Bytes 20000-40000 are in the second and third seconds of audio (16000 bytes each, after a 44-byte header).
    assert rendered == [1, 2]


def fetch(url: str) -> bytes:
    """A client of its own (a thread, off the sandbox's loop) that reads as fast as it is sent."""
    request = urllib.request.Request(url, headers={"Authorization": basic_authorization(*API_AUTH)})
    with urllib.request.urlopen(request, timeout=60) as media:
        return media.read()


async def test_the_sandbox_answers_at_once_while_it_serves_a_long_recording(application):
    port = free_port()
    # Five simulated minutes of recording in a tenth of a second.
    server, sandbox = await start_sandbox(sandbox_config(application, port, speed=3000), Scenario(), port)
    try:
        application.reply(
            "initiate", response("<StartRecording recordingAvailableUrl='/available'/><Pause duration='300'/><StopRecording/>" + HOLD)
        )
        call = await sandbox.offer()
        (available,) = await application.wait_for("recordingAvailable")
        download = asyncio.ensure_future(asyncio.to_thread(fetch, available.payload["mediaUrl"]))
        answered = [time.monotonic()]
        while not download.done():
            status, _, _ = await sandbox.request("GET", f"/calls/{call['callId']}")
            answered.append(time.monotonic())
            await asyncio.sleep(0.02)
        answered.append(time.monotonic())
        media = await download
    finally:
        await sandbox.session.close()
        await server.close()

    assert status == 200 and len(media) > 300 * 8000 * 2
    # Rendering five minutes of audio takes over a second of CPU; the API kept answering meanwhile.
    longest_silence = max(later - earlier for earlier, later in zip(answered, answered[1:]))
    assert len(answered) >= 10 and longest_silence < 0.5, (len(answered), longest_silence)


async def test_deleting_media_keeps_the_metadata(sandbox, application):
    call_id, recording_id = await recorded_call(sandbox, application)
    url = f"/calls/{call_id}/recordings/{recording_id}"

    deleted, _, _ = await sandbox.request("DELETE", f"{url}/media")
    metadata, _, _ = await sandbox.request("GET", url)
    media, _, _ = await sandbox.request("GET", f"{url}/media")

    assert (deleted, metadata, media) == (204, 200, 404)


async def test_a_recording_without_a_transcription_has_none_to_get(sandbox, application):
    call_id, recording_id = await recorded_call(sandbox, application)

    status, body, _ = await sandbox.request("GET", f"/calls/{call_id}/recordings/{recording_id}/transcription")

    assert status == 404 and body["type"] == "validation"


async def test_transcription_on_request_without_a_callback_url_goes_to_the_recordings_transcription_url(sandbox, application):
    application.reply(
        "initiate",
        response("<StartRecording transcriptionAvailableUrl='/its-own'/><Pause duration='4'/><StopRecording/>" + HOLD),
    )
    call = await sandbox.offer()
    await sandbox.settle(8)
    (recording,) = sandbox.sim.recordings.by_id.values()

    status, _, _ = await sandbox.request("POST", f"/calls/{call['callId']}/recordings/{recording.recording_id}/transcription", json={})
    (transcribed,) = await application.wait_for("transcriptionAvailable", timeout=8)

    assert status == 200 and transcribed.path == "/its-own"


async def test_transcription_without_any_url_goes_to_the_applications_status_url(sandbox, application):
    call_id, recording_id = await recorded_call(sandbox, application)

    await sandbox.request("POST", f"/calls/{call_id}/recordings/{recording_id}/transcription", json={})
    (transcribed,) = await application.wait_for("transcriptionAvailable", timeout=8)

    assert transcribed.path == "/status" and transcribed.auth == ("hooks", "hooks-password")
