"""Reading the BXML an application returns, as Bandwidth would: parsed, then validated.

A document that is not well-formed XML, has the wrong root, or names a verb Bandwidth does
not know is invalid, and the call ends with cause invalid-bxml.
https://dev.bandwidth.com/docs/voice/bxml
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree import ElementTree

# Bandwidth's limit on a BXML document.
MAX_BYTES = 64 * 1024

KNOWN_VERBS = frozenset(
    {
        "Bridge", "Conference", "Forward", "Gather", "Hangup", "Pause", "PauseRecording", "PlayAudio",
        "Record", "Redirect", "ResumeRecording", "Ring", "SendDtmf", "SpeakSentence", "StartGather",
        "StartRecording", "StartStream", "StartTranscription", "StopGather", "StopRecording", "StopStream",
        "StopTranscription", "Tag", "Transfer",
    }
)


class InvalidBxml(ValueError):
    pass


@dataclass(frozen=True)
class Verb:
    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    text: str = ""
    children: tuple[Verb, ...] = ()

    def number(self, name: str, default: float) -> float:
        raw = self.attributes.get(name)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            raise InvalidBxml(f"<{self.name} {name}> must be a number, not {raw!r}") from None

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.attributes.get(name)
        if raw is None:
            return default
        if raw.lower() not in ("true", "false"):
            raise InvalidBxml(f"<{self.name} {name}> must be true or false, not {raw!r}")
        return raw.lower() == "true"


def _verb(element: ElementTree.Element) -> Verb:
    return Verb(
        name=element.tag,
        attributes=dict(element.attrib),
        text=(element.text or "").strip(),
        children=tuple(_verb(child) for child in element),
    )


def parse(document: str, *, root: str = "Response") -> list[Verb]:
    """The verbs of a document, in order. An empty reply is an empty <Response/>."""
    if not document.strip():
        return []
    if len(document.encode()) > MAX_BYTES:
        raise InvalidBxml("the document is larger than 64 KB")
    try:
        element = ElementTree.fromstring(document)
    except ElementTree.ParseError as error:
        raise InvalidBxml(f"not well-formed XML: {error}") from None
    if element.tag != root:
        raise InvalidBxml(f"the root element must be <{root}>, not <{element.tag}>")
    verbs = [_verb(child) for child in element]
    for verb in verbs:
        if verb.name not in KNOWN_VERBS:
            raise InvalidBxml(f"<{verb.name}> is not a BXML verb")
    return verbs
