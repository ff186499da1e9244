"""Forgetting what has ended, as Bandwidth does, on the simulated clock, so that a long run does
not grow without bound. Live calls and live conferences are never forgotten."""

from __future__ import annotations

from datetime import datetime, timedelta

from voice.sandbox.failures import survives
from voice.sandbox.simulation import Simulation

# How long Bandwidth keeps what has ended: a call's record 7 days (getCall answers 404 after),
# a recording 30 days. https://dev.bandwidth.com/apis/voice/#operation/getCallState,
# https://dev.bandwidth.com/docs/voice/guides/recordingGuide
CALL_RETENTION = timedelta(days=7)
RECORDING_RETENTION = timedelta(days=30)
# Bandwidth documents none for conferences: the sandbox keeps a completed one, and a member
# who left, as long as the calls they are made of.
CONFERENCE_RETENTION = CALL_RETENTION
# How often (simulated seconds) the sandbox forgets what is past its retention.
SWEEP_SECONDS = 3600.0


async def keep(sim: Simulation) -> None:
    """Forget, every simulated hour, what Bandwidth would no longer know."""
    while True:
        await sim.clock.sleep(SWEEP_SECONDS)
        with survives("the retention sweep"):
            sweep(sim, sim.clock.now())


def sweep(sim: Simulation, now: datetime) -> None:
    """Forget the calls that ended more than CALL_RETENTION before `now`, the recordings
    that ended more than RECORDING_RETENTION before, and the conferences completed (and
    members who left) more than CONFERENCE_RETENTION before. A recording outlives its
    call, as on Bandwidth: it is still served under the call's URL."""
    sim.calls.forget(now - CALL_RETENTION)
    sim.recordings.forget(now - RECORDING_RETENTION)
    sim.conferences.forget(now - CONFERENCE_RETENTION)
