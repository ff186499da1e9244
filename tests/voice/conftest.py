import pytest

from voice import events, intake


def deliver(body: dict) -> intake.Answer:
    """One webhook through the whole critical path, as the view runs it."""
    return intake.receive(events.parse(body))


@pytest.fixture
def enqueued_fetches(monkeypatch):
    """The transcript fetches handlers enqueue (after commit), as (task, transcription pk)."""
    calls = []

    class Recorder:
        @staticmethod
        def delay_on_commit(pk):
            calls.append(pk)

    monkeypatch.setattr("voice.tasks.fetch_transcription", Recorder)
    return calls
