"""Who is talking: a conference member's voice activity, level and noisy line, from the audio
Bandwidth streams (console/media_consumer.py), every 100 ms.

- Speaking: WebRTC's voice activity detector (webrtcvad) classifies each 20 ms frame, which
  tells a voice from steady noise (a hum, a hiss, a busy room) at any level. A member starts
  speaking on the first tick with two voiced frames, and stops after half a second with none
  (the gaps between words do not flicker the indicator).
- Level: the frame energy in dBFS, as a meter of LEVEL_STEPS steps, falling one step per tick
  at most (a meter that holds its peaks briefly, as meters do).
- Noisy line: sound louder than a quiet line's (NOISY_DB) for two seconds while the member is
  not speaking; it clears after about a second of quiet.

Measured against the sandbox's audio (tests/console/test_talking.py): on a clean line and on a
noisy one, speaking follows each sentence and only the noisy line is flagged noisy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import webrtcvad

from console import media_audio

SAMPLE_RATE = 8000
FRAME_BYTES = 160  # 20 ms of PCMU
FRAMES_PER_TICK = 5  # 100 ms
# webrtcvad's aggressiveness, 0 to 3: 2 keeps noise out and words in (measured on the sandbox's lines).
VAD_MODE = 2
ONSET_FRAMES = 2
# webrtcvad calls the first frames of a stream voice while it adapts to the line: they are not counted.
WARM_UP_FRAMES = 10
HANGOVER_TICKS = 5
LEVEL_FLOOR_DB = -56.0
LEVEL_STEP_DB = 8.0
LEVEL_STEPS = 5
# A clean line's noise is about -53 dBFS; a noisy one's -35.
NOISY_DB = -45.0
NOISY_AFTER_TICKS = 20
# Even unchanged, a member's state is sent again this often: a console process that started
# listening later, or a page opened meanwhile, knows it within this many ticks.
REFRESH_TICKS = 50
FULL_SCALE = 32768.0**2


@dataclass(frozen=True)
class Activity:
    speaking: bool
    level: int
    noisy: bool


class VoiceActivity:
    """One member's stream, analysed: feed it PCMU payloads, it says what changed."""

    def __init__(self) -> None:
        self.vad = webrtcvad.Vad(VAD_MODE)
        self.pending = b""
        self.frames = self.voiced = 0
        self.energy = 0.0
        self.speaking = False
        self.quiet_ticks = 0
        self.level = 0
        self.noisy_ticks = 0
        self.noisy = False
        self.shown: Activity | None = None
        self.since_shown = 0
        self.frames_analysed = 0

    def feed(self, payload: bytes) -> Activity | None:
        """The member's activity after this payload, if a tick ended and it changed (or is due again)."""
        self.pending = self.pending + payload if self.pending else payload
        result = None
        while len(self.pending) >= FRAME_BYTES:
            frame, self.pending = self.pending[:FRAME_BYTES], self.pending[FRAME_BYTES:]
            voiced = self.vad.is_speech(media_audio.to_pcm16(frame), SAMPLE_RATE)
            self.voiced += voiced and self.frames_analysed >= WARM_UP_FRAMES
            self.energy += media_audio.mean_square(frame)
            self.frames += 1
            self.frames_analysed += 1
            if self.frames == FRAMES_PER_TICK:
                result = self._tick() or result
        return result

    def _tick(self) -> Activity | None:
        mean_square = self.energy / self.frames
        db = 10 * math.log10(mean_square / FULL_SCALE) if mean_square > 0 else -96.0
        if self.voiced >= ONSET_FRAMES:
            self.speaking, self.quiet_ticks = True, 0
        elif self.voiced == 0:
            self.quiet_ticks += 1
            if self.quiet_ticks >= HANGOVER_TICKS:
                self.speaking = False
        else:
            self.quiet_ticks = 0
        step = max(0, min(LEVEL_STEPS, int((db - LEVEL_FLOOR_DB) // LEVEL_STEP_DB)))
        self.level = max(step, self.level - 1)
        if not self.speaking:
            if db > NOISY_DB:
                self.noisy_ticks = min(self.noisy_ticks + 1, NOISY_AFTER_TICKS)
            else:
                self.noisy_ticks = max(0, self.noisy_ticks - 2)
            if self.noisy_ticks >= NOISY_AFTER_TICKS:
                self.noisy = True
            elif self.noisy_ticks == 0:
                self.noisy = False
        self.frames = self.voiced = 0
        self.energy = 0.0
        activity = Activity(self.speaking, self.level, self.noisy)
        self.since_shown += 1
        if activity != self.shown or self.since_shown >= REFRESH_TICKS:
            self.shown, self.since_shown = activity, 0
            return activity
        return None
