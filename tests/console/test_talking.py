"""Who is talking, measured against the sandbox's own audio: the sentences a caller says on a
clean line and on a noisy one, as the sandbox streams them (voice/sandbox/audio.py)."""

from console.talking import FRAMES_PER_TICK, VoiceActivity
from voice.sandbox import audio

SENTENCES = ["Hello everyone, this is Dana with a question about the invoice", "Can you all hear me now"]


def listen(noisy: bool, frames: int = 1500):
    """Each tick's (speaking, noisy) and the ticks in which a sentence starts."""
    voice = audio.LiveVoice(audio.Speaker.seeded(3), SENTENCES, seed=42, noisy=noisy)
    analysis = VoiceActivity()
    ticks, onsets = [], []
    for index in range(frames):
        frame, starts = voice.next_frame()
        if starts:
            onsets.append(index // FRAMES_PER_TICK)
        analysis.feed(frame)
        if index % FRAMES_PER_TICK == FRAMES_PER_TICK - 1:
            ticks.append((analysis.speaking, analysis.noisy))
    return ticks, onsets


def spans(flags: list[bool]) -> list[tuple[int, int]]:
    found, start = [], None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            found.append((start, index))
            start = None
    return found


def test_speaking_follows_each_sentence_on_a_clean_line_and_on_a_noisy_one():
    for noisy in (False, True):
        ticks, onsets = listen(noisy)
        speaking = spans([tick[0] for tick in ticks])
        assert len(speaking) == len(onsets) >= 3, (noisy, speaking, onsets)
        for (start, end), onset in zip(speaking, onsets):
            # Within 100 ms of the sentence's first word; ended within a second of its last.
            assert onset <= start <= onset + 1, (noisy, start, onset)
            assert end - start >= 10 or end == len(ticks)


def test_only_the_noisy_line_is_flagged_noisy_after_two_seconds_of_sound_while_not_speaking():
    clean, _ = listen(noisy=False)
    noisy, onsets = listen(noisy=True)
    assert not any(tick[1] for tick in clean)
    flagged = [index for index, tick in enumerate(noisy) if tick[1]]
    assert flagged, "the noisy line is flagged"
    # Two seconds of sound while not speaking, counted from the stream's start.
    assert sum(1 for tick in noisy[: flagged[0] + 1] if not tick[0]) >= 20


def test_an_unchanged_state_is_sent_again_only_every_few_seconds():
    voice = audio.LiveVoice(audio.Speaker.seeded(3), [], seed=1)
    analysis = VoiceActivity()
    sent = [analysis.feed(voice.next_frame()[0]) for _ in range(500)]
    assert 2 <= len([activity for activity in sent if activity is not None]) <= 4
