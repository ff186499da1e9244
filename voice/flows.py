"""Which BXML a call gets when Bandwidth asks (initiate for inbound, answer for outbound)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from voice import bxml
from voice.models import Call

# Keeps the caller on the line until they hang up or an operator ends the call; Bandwidth
# allows a Pause of up to 86400 s.
HOLD_SECONDS = 3600


def verbs_for(call: Call) -> list[Element]:
    return [
        bxml.speak_sentence("Thank you for calling. Please hold while we connect you."),
        bxml.pause(HOLD_SECONDS),
        bxml.hangup(),
    ]
