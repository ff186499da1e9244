"""BXML, Bandwidth's call-control XML, built with a real XML builder (everything escaped).

https://dev.bandwidth.com/docs/voice/bxml
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, tostring

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _attribute(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def verb(name: str, text: str | None = None, **attributes: object) -> Element:
    """One verb; attributes given as None are left out, booleans become true/false."""
    element = Element(name, {key: _attribute(value) for key, value in attributes.items() if value is not None})
    if text is not None:
        element.text = text
    return element


def response(*verbs: Element) -> str:
    """A webhook reply: <Response> with the verbs in order."""
    root = Element("Response")
    root.extend(verbs)
    return XML_DECLARATION + tostring(root, encoding="unicode")


def speak_sentence(text: str, *, voice: str = "julie") -> Element:
    return verb("SpeakSentence", text, voice=voice)


def pause(seconds: float) -> Element:
    return verb("Pause", duration=seconds)


def hangup() -> Element:
    return verb("Hangup")


# Bandwidth answers an inbound call when it executes the first verb not in this set (Ring
# answers unless answerCall="false"). https://dev.bandwidth.com/docs/voice/bxml/ring
_NON_ANSWERING = frozenset({"Hangup", "Forward", "Tag", "Ring"})


def answers_call(verbs: list[Element]) -> bool:
    for element in verbs:
        if element.tag == "Ring" and element.get("answerCall", "true") == "true":
            return True
        if element.tag not in _NON_ANSWERING:
            return True
    return False
