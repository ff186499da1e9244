"""Traffic scenarios: who calls in, how often, what they say, how long they stay, and how
callees answer.

Each scenario is seeded (the same seed gives the same callers, numbers, sentences and
durations) and runs at a chosen rate of inbound calls per minute.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from voice.sandbox.call_lifecycle import LimitExceeded
from voice.sandbox.call_requests import place_call
from voice.sandbox.callers import random_caller, random_number
from voice.sandbox.failures import survives
from voice.sandbox.request_fields import Invalid
from voice.sandbox.resources import Party, SimCall
from voice.sandbox.simulation import Simulation

log = logging.getLogger("sandbox.scenarios")


@dataclass(frozen=True)
class DemoNumbers:
    """The account's numbers the demo calls, by what the application does with a call to each.
    The sandbox's entry point gives them (the console's demo routes define them), so that the
    demo's traffic fits the routes that answer it."""

    # Each number whose route joins the caller to a conference, with that conference's name;
    # their sessions' breaks come in this order.
    conferences: Mapping[str, str]
    # Records a message (<Record>).
    voicemail: str
    # Speaks, then hangs up.
    announcement: str
    # A number of the account no route names: the application's default.
    unrouted: str
    # The conference numbers the demo dials out from (the application routes an answered
    # dial-out by the number it was placed from).
    dial_out_from: tuple[str, ...]
    # Operators' own phones (outside the account): they answer at once and stay until hung up.
    operator_phones: tuple[str, ...] = ()
    # Callers who call again and again (one caller in REGULAR_EVERY is one of them), so that
    # the console's directory has names for some of the demo's callers.
    regulars: tuple[str, ...] = ()


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


# How often demo callers call each kind of number, as weights: mostly the conferences.
CONFERENCE_WEIGHT = 0.25
VOICEMAIL_WEIGHT = 0.12
ANNOUNCEMENT_WEIGHT = 0.05
UNROUTED_WEIGHT = 0.08

# How long (seconds) a conference caller or a callee stays: at the default rate a conference
# holds three to five of them on average.
CONFERENCE_STAY = (30.0, 240.0)
# A conference with this many members takes no more demo callers (they dial another number)
# and no dial-outs, however the arrivals bunch up: far from Bandwidth's 20, so that nobody
# hears "full".
CROWDED = 10

# Conferences take calls in sessions: every hour, each conference's number takes a break of
# ten minutes (nobody calls it and the demo does not dial out from it), longer than anyone but
# a stuck caller stays, so that the conference empties and completes (its recording with it)
# and the next caller opens a new one. The breaks are staggered: one conference at a time.
SESSION_CYCLE = 3600.0
BREAK_SECONDS = 600.0

# One caller in this many is a stuck caller, if the group of stuck callers has room
# (StuckCallers): one who stays for hours, long enough for the console to flag the call as
# stuck (after two hours by default) and for an operator to find it.
STUCK_EVERY = 12
STUCK_STAY = (2.5 * 3600.0, 4 * 3600.0)
MAX_STUCK = 3

# Calls already up when the demo starts, as on an account busy before the console came up:
# how long ago each started (seconds). Past the console's default thresholds (long after 30
# minutes, stuck after 2 hours), so that long and stuck calls are on the board within a
# minute of `make run`, not hours later. They hold on the unrouted number.
ALREADY_UP = (38 * 60.0, 52 * 60.0, 75 * 60.0, 2.2 * 3600.0, 3.1 * 3600.0)
# How much longer (seconds) each stays: under an hour, by when the demo's own stuck callers
# (StuckCallers) are on their way to being stuck.
ALREADY_UP_STAY = {"long": (15 * 60.0, 40 * 60.0), "stuck": (40 * 60.0, 55 * 60.0)}
# One caller in this many is a regular (DemoNumbers.regulars).
REGULAR_EVERY = 4
# One conference caller in this many calls from a noisy line (steady noise between their
# words): the line a supervisor would want to mute. Counted, not drawn, so that the seeded
# traffic stays the same.
NOISY_EVERY = 4


@dataclass
class StuckCallers:
    """At most MAX_STUCK stuck callers at once, all in one conference. Only when the last of a
    group has gone does the next group start, in the next conference in turn, so that every
    conference is free of them for hours and empties at its breaks."""

    # The conference numbers, taken in turn.
    numbers: list[str]
    turn: int = 0
    group: list[SimCall] = field(default_factory=list)

    def number(self) -> str | None:
        """The conference number the next stuck caller calls, or None while the group is full."""
        if len(self.group) >= MAX_STUCK and all(call.is_over for call in self.group):
            self.turn += 1
            self.group = []
        if len(self.group) >= MAX_STUCK:
            return None
        return self.numbers[self.turn % len(self.numbers)]


@dataclass
class Demo(Scenario):
    """Callers dialling the account's numbers at `rate` calls a minute (after a first few in
    quick succession, so conferences fill up at once); most stay minutes, a few stay for
    hours (stuck calls an agent should find); voicemail callers leave a message and hang up
    or key #. Conferences take calls in sessions with a break between. Now and then the
    account dials out, as another client of the account would: some callees are busy or do
    not answer."""

    name = "demo"
    rate: float = 6.0
    # Callers arriving at the start, a couple of seconds apart.
    warm_up: int = 8
    # Dial-outs per inbound call, on average; the first comes soon after the start.
    dial_out_share: float = 0.2
    first_dial_out: float = 10.0
    numbers: DemoNumbers = field(kw_only=True)
    conference_callers: int = field(default=0, init=False)

    def on_break(self, number: str, elapsed: float) -> bool:
        """Whether a conference's number is between sessions `elapsed` seconds into the demo."""
        conferences = list(self.numbers.conferences)
        offset = conferences.index(number) * SESSION_CYCLE / len(conferences)
        return (elapsed - offset) % SESSION_CYCLE >= SESSION_CYCLE - BREAK_SECONDS

    def takes_calls(self, sim: Simulation, number: str, elapsed: float) -> bool:
        """Whether the demo sends a caller to `number` now: any number but a conference's that
        is on a break or crowded."""
        conferences = self.numbers.conferences
        if number not in conferences:
            return True
        return not self.on_break(number, elapsed) and sim.conferences.size(conferences[number]) < CROWDED

    def weighted_numbers(self) -> list[tuple[str, float]]:
        """Where demo callers call, with weights."""
        return [
            *((number, CONFERENCE_WEIGHT) for number in self.numbers.conferences),
            (self.numbers.voicemail, VOICEMAIL_WEIGHT),
            (self.numbers.announcement, ANNOUNCEMENT_WEIGHT),
            (self.numbers.unrouted, UNROUTED_WEIGHT),
        ]

    def callee(self, rng: random.Random, to_number: str) -> Party:
        if to_number in self.numbers.operator_phones:
            operator = random_caller(rng)
            operator.ring_seconds = 1.0
            return operator
        callee = random_caller(rng, hold_seconds=rng.uniform(*CONFERENCE_STAY))
        callee.ring_seconds = rng.uniform(2, 6)
        roll = rng.random()
        if roll < 0.1:
            callee.outcome = "busy"
        elif roll < 0.18:
            callee.outcome = "timeout"
        elif roll < 0.21:
            callee.outcome = "rejected"
        return callee

    def caller(self, rng: random.Random, to_number: str) -> Party:
        if to_number == self.numbers.voicemail:
            return random_caller(rng, hold_seconds=rng.uniform(90, 150))
        if to_number == self.numbers.announcement:
            return random_caller(rng, hold_seconds=rng.uniform(40, 90))
        if to_number in self.numbers.conferences:
            caller = random_caller(rng, hold_seconds=rng.uniform(*CONFERENCE_STAY))
            self.conference_callers += 1
            caller.noisy_line = self.conference_callers % NOISY_EVERY == 1
            return caller
        return random_caller(rng, hold_seconds=rng.uniform(45, 600))

    async def run(self, sim: Simulation) -> None:
        if self.rate <= 0:
            return
        started = sim.clock.now()
        # The callers' own generator, seeded from the scenario's: the simulation's draws (call
        # ids, callees) depend on what else happens at the same moment, the callers' do not.
        rng = random.Random(sim.rng.random())
        sim.scheduler.spawn(self._dial_outs(sim, started))
        self.already_up(sim, rng)
        stuck = StuckCallers(list(self.numbers.conferences))
        arrival = 0
        while True:
            with survives("the demo's next caller"):
                elapsed = (sim.clock.now() - started).total_seconds()
                self.call_in(sim, rng, elapsed, stuck if arrival % STUCK_EVERY == STUCK_EVERY // 2 else None)
            arrival += 1
            await sim.clock.sleep(2.0 if arrival < self.warm_up else rng.expovariate(self.rate / 60.0))

    def already_up(self, sim: Simulation, rng: random.Random) -> None:
        """The calls up since long before the start (ALREADY_UP)."""
        for ago in ALREADY_UP:
            stay = ALREADY_UP_STAY["stuck" if ago >= 2 * 3600.0 else "long"]
            party = random_caller(rng, hold_seconds=rng.uniform(*stay))
            sim.offer_inbound(from_number=self.caller_number(rng), to_number=self.numbers.unrouted, party=party, started_ago=ago)

    def caller_number(self, rng: random.Random) -> str:
        if self.numbers.regulars and rng.randrange(REGULAR_EVERY) == 0:
            return rng.choice(self.numbers.regulars)
        return random_number(rng)

    def call_in(self, sim: Simulation, rng: random.Random, elapsed: float, stuck: StuckCallers | None) -> None:
        """One caller dials a number that takes calls; a stuck caller (when `stuck` has room)
        dials the conference of the stuck group instead."""
        numbers, weights = zip(*[(number, weight) for number, weight in self.weighted_numbers() if self.takes_calls(sim, number, elapsed)])
        to_number = rng.choices(numbers, weights)[0]
        party = self.caller(rng, to_number)
        stuck_number = stuck.number() if stuck is not None else None
        is_stuck = stuck_number is not None and self.takes_calls(sim, stuck_number, elapsed)
        if is_stuck:
            to_number, party.hold_seconds = stuck_number, rng.uniform(*STUCK_STAY)
        call = sim.offer_inbound(from_number=self.caller_number(rng), to_number=to_number, party=party)
        if is_stuck:
            stuck.group.append(call)

    async def _dial_outs(self, sim: Simulation, started: datetime) -> None:
        # Its own generator for the numbers dialled, seeded from the scenario's.
        rng = random.Random(sim.rng.random())
        await sim.clock.sleep(self.first_dial_out)
        while True:
            with survives("the demo's next dial-out"):
                self.dial_out(sim, rng, (sim.clock.now() - started).total_seconds())
            await sim.clock.sleep(rng.expovariate(self.rate * self.dial_out_share / 60.0))

    def dial_out(self, sim: Simulation, rng: random.Random, elapsed: float) -> None:
        """createCall as another client of the account would send it, from a number whose
        conference takes calls: the answer and disconnect webhooks to the application's status
        URL with its callback credentials."""
        application = sim.config.application
        numbers = [number for number in self.numbers.dial_out_from if self.takes_calls(sim, number, elapsed)]
        if not application.call_status_url or not numbers:
            return
        body = {
            "from": rng.choice(numbers),
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
