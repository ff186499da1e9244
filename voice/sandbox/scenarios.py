"""Traffic scenarios: who calls in, how often, what they say, how long they stay, and how
callees answer.

Each scenario is seeded (the same seed gives the same callers, numbers, sentences and
durations) and runs at a chosen rate of inbound calls per minute.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voice.sandbox.api import Invalid
from voice.sandbox.api_calls import place_call
from voice.sandbox.failures import survives
from voice.sandbox.sim import LimitExceeded, Party

if TYPE_CHECKING:
    from voice.sandbox.sim import Simulation

log = logging.getLogger("sandbox.scenarios")

# The demo account's numbers and what the console's routes do with a call to each. The
# console's demo data imports these, so that its routes and the demo traffic fit together.
SALES_FLOOR_NUMBER = "+19195550100"
SUPPORT_BRIDGE_NUMBER = "+19195550101"
EXEC_BRIEFING_NUMBER = "+19195550102"
VOICEMAIL_NUMBER = "+19195550150"
ANNOUNCEMENT_NUMBER = "+19195550199"
# A number of the account no route names: the console's default route (speak, then hold).
UNROUTED_NUMBER = "+19195550142"

DEMO_NUMBERS: dict[str, str] = {
    SALES_FLOOR_NUMBER: "joins the caller to conference sales-floor",
    SUPPORT_BRIDGE_NUMBER: "joins the caller to conference support-bridge",
    EXEC_BRIEFING_NUMBER: "joins the caller to conference exec-briefing, muted",
    VOICEMAIL_NUMBER: "records a voicemail, transcribed (<Record transcribe=\"true\">)",
    ANNOUNCEMENT_NUMBER: "speaks an announcement, then hangs up",
}
# The conference each conference number joins, and the one joined muted.
DEMO_CONFERENCES: dict[str, str] = {
    SALES_FLOOR_NUMBER: "sales-floor",
    SUPPORT_BRIDGE_NUMBER: "support-bridge",
    EXEC_BRIEFING_NUMBER: "exec-briefing",
}
MUTED_CONFERENCES = frozenset({"exec-briefing"})

# Short phone messages callers say (in a <Record>, in recordings, in transcripts), with the
# digits they key at a <Gather>.
UTTERANCES: tuple[tuple[str, str], ...] = (
    ("Hi, this is Dana from Northwind. My order number is 4 4 7 1, please call me back.", "4471#"),
    ("Hello, I'm calling about the invoice we received last week. It looks like we were billed twice.", "2"),
    ("Good morning, this is Priya. I'd like to move my appointment on Thursday to the afternoon.", "1"),
    ("Hey, it's Marcus. The delivery truck is at the loading dock but nobody is here to sign.", "3"),
    ("Hi, I'm returning a call from this number. My account number is 8 2 0 5 5.", "82055#"),
    ("This is Elena from the clinic. Your test results are ready, please call us back today.", "1"),
    ("Hello, my internet has been down since this morning and the router light is blinking red.", "2"),
    ("Hi, I wanted to confirm the table for six at seven thirty on Saturday.", "1"),
    ("Yes, hi, I'm calling to cancel my subscription. The reference is 3 3 9.", "339#"),
    ("Good afternoon, this is Tom from facilities. The fire alarm test is scheduled for Friday at ten.", "0"),
    ("Hi, it's Aisha. I'm running about fifteen minutes late for the meeting, start without me.", "1"),
    ("Hello, I'd like to speak to someone about a refund for order 5 1 2 0.", "5120#"),
    ("This is a message for the sales team. We are interested in a quote for two hundred seats.", "2"),
    ("Hi, I think I left my laptop charger in the conference room on the third floor.", "3"),
    ("Hello, my flight was cancelled and I need to rebook for tomorrow morning.", "1"),
    ("Hi, this is Sam. Can you send me the contract again? The link in the email expired.", "2"),
    ("Good evening, I'm calling to report a water leak in apartment 1 2 B.", "12#"),
    ("Hello, I'd like to update the billing address on my account.", "2"),
    ("Hi, this is Grace from accounting. The quarterly numbers are in the shared folder.", "0"),
    ("Hey, just checking whether the package shipped. The tracking number has not updated.", "3"),
    ("Hello, the card reader at the front desk keeps declining payments.", "2"),
    ("Hi, I'm calling about the job posting for the warehouse supervisor position.", "1"),
    ("This is Luis. The server room temperature alarm went off again at noon.", "9"),
    ("Hello, could someone call me back about the warranty on my dishwasher? Thanks.", "1"),
)


def random_number(rng: random.Random) -> str:
    """A North American number in E.164 (NXX-NXX-XXXX, no leading 0 or 1 in area or exchange)."""
    return f"+1{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"


def random_caller(rng: random.Random, hold_seconds: float | None = None) -> Party:
    """A person with a scripted message (and more to say in a longer conversation)."""
    first, *others = rng.sample(UTTERANCES, 3)
    return Party(
        sentences=[first[0], *(sentence for sentence, _ in others)],
        digits=[first[1], others[0][1]],
        hold_seconds=hold_seconds,
        ends_message=rng.choice(("hangup", "hangup", "#")),
    )


@dataclass
class Scenario:
    """No traffic of its own; callees answer after a short ring and stay until hung up."""

    name = "quiet"
    rate: float = 0.0

    def callee(self, rng: random.Random, to_number: str) -> Party:
        callee = random_caller(rng)
        callee.ring_seconds = 1.0
        return callee

    async def run(self, sim: Simulation) -> None:
        return None


# Where demo callers call, with weights: mostly the three conferences.
DEMO_ROUTES: tuple[tuple[str, float], ...] = (
    (SALES_FLOOR_NUMBER, 0.3),
    (SUPPORT_BRIDGE_NUMBER, 0.25),
    (EXEC_BRIEFING_NUMBER, 0.15),
    (VOICEMAIL_NUMBER, 0.15),
    (ANNOUNCEMENT_NUMBER, 0.07),
    (UNROUTED_NUMBER, 0.08),
)

# One conference caller in this many stays for hours (a stuck call).
STUCK_EVERY = 12


@dataclass
class Demo(Scenario):
    """Callers dialling the account's numbers at `rate` calls a minute (after a first few in
    quick succession, so conferences fill up at once); most stay minutes, a few stay for
    hours (stuck calls an agent should find); voicemail callers leave a message and hang up
    or key #. Now and then the account dials out, as another client of the account would:
    some callees are busy or do not answer."""

    name = "demo"
    rate: float = 6.0
    # Callers arriving at the start, a couple of seconds apart.
    warm_up: int = 8
    # Dial-outs per inbound call, on average; the first comes soon after the start.
    dial_out_share: float = 0.2
    first_dial_out: float = 10.0

    def callee(self, rng: random.Random, to_number: str) -> Party:
        callee = random_caller(rng, hold_seconds=rng.uniform(60, 600))
        callee.ring_seconds = rng.uniform(2, 6)
        roll = rng.random()
        if roll < 0.1:
            callee.outcome = "busy"
        elif roll < 0.18:
            callee.outcome = "timeout"
        elif roll < 0.21:
            callee.outcome = "rejected"
        return callee

    def caller(self, rng: random.Random, to_number: str, arrival: int) -> Party:
        if to_number == VOICEMAIL_NUMBER:
            return random_caller(rng, hold_seconds=rng.uniform(90, 150))
        if to_number == ANNOUNCEMENT_NUMBER:
            return random_caller(rng, hold_seconds=rng.uniform(40, 90))
        if arrival % STUCK_EVERY == STUCK_EVERY // 2:
            return random_caller(rng, hold_seconds=rng.uniform(2 * 3600, 6 * 3600))
        return random_caller(rng, hold_seconds=rng.uniform(45, 600))

    async def run(self, sim: Simulation) -> None:
        if self.rate <= 0:
            return
        sim.spawn(self._dial_outs(sim))
        numbers, weights = zip(*DEMO_ROUTES)
        arrival = 0
        while True:
            with survives("the demo's next caller"):
                to_number = sim.rng.choices(numbers, weights)[0]
                party = self.caller(sim.rng, to_number, arrival)
                sim.offer_inbound(from_number=random_number(sim.rng), to_number=to_number, party=party)
            arrival += 1
            await sim.clock.sleep(2.0 if arrival < self.warm_up else sim.rng.expovariate(self.rate / 60.0))

    async def _dial_outs(self, sim: Simulation) -> None:
        # Its own generator for the numbers dialled, seeded from the scenario's.
        rng = random.Random(sim.rng.random())
        await sim.clock.sleep(self.first_dial_out)
        while True:
            with survives("the demo's next dial-out"):
                self.dial_out(sim, rng)
            await sim.clock.sleep(rng.expovariate(self.rate * self.dial_out_share / 60.0))

    def dial_out(self, sim: Simulation, rng: random.Random) -> None:
        """createCall as another client of the account would send it: the answer and disconnect
        webhooks to the application's status URL with its callback credentials."""
        application = sim.config.application
        if not application.call_status_url:
            return
        body = {
            "from": rng.choice((SALES_FLOOR_NUMBER, SUPPORT_BRIDGE_NUMBER)),
            "to": random_number(rng),
            "applicationId": sim.config.application_id,
            "answerUrl": application.call_status_url,
            "disconnectUrl": application.call_status_url,
            "username": application.callback_username,
            "password": application.callback_password,
            "tag": "demo-dial-out",
        }
        try:
            place_call(sim, body)
        except (LimitExceeded, Invalid) as refused:
            log.info("demo dial-out refused: %s", refused)


SCENARIOS: dict[str, type[Scenario]] = {"quiet": Scenario, "demo": Demo}
