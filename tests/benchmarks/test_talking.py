"""Who is talking, measured: the CPU one console process (daphne, the embedded default) spends
on 60 concurrent media streams (3 conferences of 20 members, 3,000 frames a second), and the lag
from the sandbox sending the frame that starts a sentence to the speaking indicator changing in
a browser that watches one of the conferences.

CPU: the console's user+system time (/proc/<pid>/stat) over MEASURE_SECONDS once every stream
is sending, divided by that time (cores); and, less its idle use measured before the streams,
divided by the frames the sandbox sent meanwhile (CPU per frame, which depends less on what
else the machine runs). The sandbox's own CPU is
given too: it shares the machine.

Lag: the sandbox records the moment (wall clock) it sends each frame that starts one of a
caller's sentences (/sandbox/streams, speechOnsets); the browser records the moment (Date.now())
each member's indicator turns to speaking. A sentence's lag is the first turn to speaking
within 5 s after its onset, for members silent just before it.

Results: printed, and written to var/benchmarks/talking.md for docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import CHROMIUM_FLAGS
from tests.support.sandbox import wait_until
from tests.support.services import chromium_path
from tests.support.stack import running_stack
from voice.demo import DEMO_CONFERENCES

pytestmark = pytest.mark.benchmark

MEMBERS = int(os.environ.get("BENCH_MEMBERS", 20))
WARM_UP_SECONDS = float(os.environ.get("BENCH_WARM_UP", 10))
MEASURE_SECONDS = float(os.environ.get("BENCH_SECONDS", 60))
IDLE_SECONDS = 15
TICKS = os.sysconf("SC_CLK_TCK")

SENTENCES = [
    "Good morning everyone, the numbers for the quarter are in",
    "Can you all hear me, I think my line is breaking up",
    "Let us move on to the next item on the agenda please",
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def frames_sent(stack) -> int:
    return sum(stream["framesSent"] for stream in stack.sandbox.streams())


def started_streams(stack) -> int:
    try:
        return sum(stream["state"] == "started" for stream in stack.sandbox.streams())
    except requests.RequestException:
        # The sandbox's API answers late while it starts many streams on a loaded machine.
        return -1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_sixty_streams_and_the_speaking_indicators_lag(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with running_stack(tmp_path_factory.mktemp("talking-bench")) as stack:
        # What the console spends with no stream at all (its embedded worker and beat, the
        # reconciliation): the streams' cost is what comes on top.
        time.sleep(5)
        idle_started, idle_before = time.monotonic(), cpu_seconds(stack.pids["console"])
        time.sleep(IDLE_SECONDS)
        idle_cores = (cpu_seconds(stack.pids["console"]) - idle_before) / (time.monotonic() - idle_started)
        calls: dict[str, list[str]] = {}
        for number, name in DEMO_CONFERENCES.items():
            calls[name] = []
            for member in range(MEMBERS):
                call = stack.sandbox.offer_inbound(
                    from_number=f"+1555{len(calls):03d}{member:04d}",
                    to_number=number,
                    utterance=SENTENCES[member % len(SENTENCES)],
                    noisyLine=member % 5 == 0,
                )
                calls[name].append(call["callId"])
                # Callers arriving ten a second, as a busy hour's would, not all at once.
                time.sleep(0.1)
        wait_until(lambda: started_streams(stack) == 3 * MEMBERS, timeout=120, interval=1.0)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.goto(stack.url + "/")
            page.fill("#id_username", "supervisor")
            page.fill("#id_password", stack.passwords["supervisor"])
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            watched = "sales-floor"
            page.locator("#conference-rows").get_by_role("link", name=watched).click()
            page.wait_for_selector(f"#talking-{calls[watched][-1]}")
            page.evaluate(
                """() => { window.__turns = []; const last = new Map();
                    const look = () => { const now = Date.now();
                        for (const el of document.querySelectorAll('#member-rows [data-talking]')) {
                            const state = el.dataset.talking, id = el.id.slice(8);
                            if (state === "speaking" && last.get(id) !== "speaking") window.__turns.push([id, now]);
                            last.set(id, state);
                        } };
                    look();
                    new MutationObserver(look).observe(document.body,
                        {subtree: true, childList: true, attributes: true, attributeFilter: ["data-talking"]}); }"""
            )
            time.sleep(WARM_UP_SECONDS)
            console, sandbox = stack.pids["console"], stack.pids["sandbox"]
            started = time.monotonic()
            cpu_before, sandbox_before, frames_before = cpu_seconds(console), cpu_seconds(sandbox), frames_sent(stack)
            window_start = time.time()
            time.sleep(MEASURE_SECONDS)
            elapsed = time.monotonic() - started
            cpu_after, sandbox_after, frames_after = cpu_seconds(console), cpu_seconds(sandbox), frames_sent(stack)
            turns = page.evaluate("window.__turns")
            browser.close()
        streams = {stream["callId"]: stream for stream in stack.sandbox.streams()}
        live_streams = sum(stream["state"] == "started" for stream in streams.values())

    turns_by_call: dict[str, list[float]] = {}
    for call_id, at in turns:
        turns_by_call.setdefault(call_id, []).append(at / 1000)
    lags, missed = [], 0
    for call_id in calls[watched]:
        for onset in streams[call_id]["speechOnsets"]:
            if not window_start <= onset <= window_start + MEASURE_SECONDS - 2:
                continue
            after = [at for at in turns_by_call.get(call_id, []) if onset - 0.05 <= at <= onset + 5]
            if after:
                lags.append((after[0] - onset) * 1000)
            else:
                missed += 1

    nearest = []
    for call_id in calls[watched]:
        for onset in streams[call_id]["speechOnsets"]:
            if window_start <= onset <= window_start + MEASURE_SECONDS - 2:
                deltas = [at - onset for at in turns_by_call.get(call_id, [])]
                nearest.append(min(deltas, key=abs) if deltas else None)
    print(f"\n{len(turns)} turns to speaking seen; nearest turn to each onset (s): {nearest[:20]}; frames {frames_before} to {frames_after}; states {[s['state'] for s in streams.values()]}")
    cores = (cpu_after - cpu_before) / elapsed
    frames = frames_after - frames_before
    per_frame_us = (cpu_after - cpu_before - idle_cores * elapsed) / frames * 1e6
    sandbox_cores = (sandbox_after - sandbox_before) / elapsed
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, load average "
        f"{' '.join(f'{value:.1f}' for value in os.getloadavg())} at the end (other work on the machine); "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"Streams: {3 * MEMBERS} started, {live_streams} still sending at the end; {frames / elapsed:.0f} frames/s over {elapsed:.0f} s",
        f"Console process (daphne, embedded default, one browser on {watched}): {cores:.2f} cores with the streams, "
        f"{idle_cores:.2f} idle before them; {per_frame_us:.1f} us CPU per frame (the difference over the frames)",
        f"Sandbox process (sending the 60 streams): {sandbox_cores:.2f} cores",
        f"Speaking indicator lag, sandbox frame to browser ({len(lags)} sentence starts, {missed} without a turn to speaking within 5 s): "
        + (f"p50 {percentile(lags, 0.5):.0f} ms, p95 {percentile(lags, 0.95):.0f} ms, max {max(lags):.0f} ms" if lags else "none measured"),
    ]
    report = "\n".join(lines)
    print("\n" + report)
    out = Path("var/benchmarks")
    out.mkdir(parents=True, exist_ok=True)
    (out / "talking.md").write_text(report + "\n")
    assert frames > 0


def test_the_consoles_own_work_per_frame():
    """What the console does with one media message, without daphne: JSON, base64, the
    analysis (PCMU decoding, webrtcvad, energy) and, when it changes, the publication; CPU
    time (time.process_time) over 60 streams' worth of a minute of audio from the sandbox."""
    import base64
    import json

    from console.talking import VoiceActivity
    from voice.sandbox import audio

    voices = [audio.LiveVoice(audio.Speaker.seeded(n), [SENTENCES[n % 3]], seed=n, noisy=n % 5 == 0) for n in range(60)]
    messages = [
        [json.dumps({"eventType": "media", "track": "inbound", "payload": base64.b64encode(voice.next_frame()[0]).decode()}) for _ in range(500)]
        for voice in voices
    ]
    analyses = [VoiceActivity() for _ in voices]
    started = time.process_time()
    changes = 0
    for frame in range(500):
        for analysis, stream in zip(analyses, messages):
            message = json.loads(stream[frame])
            changes += analysis.feed(base64.b64decode(message["payload"], validate=True)) is not None
    spent = time.process_time() - started
    per_frame = spent / (500 * len(voices)) * 1e6
    report = (
        f"The console's own work per media message (JSON, base64, PCMU, webrtcvad, energy), without daphne: "
        f"{per_frame:.1f} us CPU; {changes} changes published for {500 * len(voices)} frames "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    print("\n" + report)
    out = Path("var/benchmarks")
    out.mkdir(parents=True, exist_ok=True)
    (out / "talking-analysis.md").write_text(report + "\n")
    assert per_frame > 0
