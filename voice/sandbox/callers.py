"""The people who call in and who answer: a scripted message each (said in a <Record>, heard
in recordings, read in transcripts), the digits they key at a <Gather>, and their numbers.
"""

from __future__ import annotations

import random

from voice.sandbox.resources import Party

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
