"""Traffic scenarios: who calls in, how often, how long they stay, and how callees answer.

Each scenario is seeded (the same seed gives the same callers, numbers and durations) and
runs at a chosen rate of inbound calls per minute.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from voice.sandbox.sim import Callee, Simulation

# The application's own numbers, as a Bandwidth account would have them.
DEMO_NUMBERS = ("+19195550100", "+19195550101", "+19195550102")


def random_number(rng: random.Random) -> str:
    """A North American number in E.164 (NXX-NXX-XXXX, no leading 0 or 1 in area or exchange)."""
    return f"+1{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"


@dataclass
class Scenario:
    """No traffic of its own; callees answer after a short ring and stay until hung up."""

    name = "quiet"
    rate: float = 0.0

    def callee(self, rng: random.Random, to_number: str) -> Callee:
        return Callee(ring_seconds=1.0, outcome="answer", hold_seconds=None)

    async def run(self, sim: Simulation) -> None:
        return None


@dataclass
class Demo(Scenario):
    """Callers dialling the application's numbers at `rate` calls a minute; most stay a few
    minutes, a few stay for hours (stuck calls an agent should find); outbound callees
    answer after a ring, now and then busy or unanswered."""

    name = "demo"
    rate: float = 6.0

    def callee(self, rng: random.Random, to_number: str) -> Callee:
        roll = rng.random()
        if roll < 0.08:
            return Callee(ring_seconds=rng.uniform(2, 5), outcome="busy")
        if roll < 0.14:
            return Callee(outcome="timeout")
        return Callee(ring_seconds=rng.uniform(2, 6), outcome="answer", hold_seconds=rng.uniform(60, 900))

    def hold_seconds(self, rng: random.Random) -> float:
        if rng.random() < 0.05:
            return rng.uniform(2 * 3600, 6 * 3600)
        return rng.uniform(30, 600)

    async def run(self, sim: Simulation) -> None:
        if self.rate <= 0:
            return
        while True:
            sim.offer_inbound(
                from_number=random_number(sim.rng),
                to_number=sim.rng.choice(DEMO_NUMBERS),
                hold_seconds=self.hold_seconds(sim.rng),
            )
            await sim.clock.sleep(sim.rng.expovariate(self.rate / 60.0))


SCENARIOS: dict[str, type[Scenario]] = {"quiet": Scenario, "demo": Demo}
