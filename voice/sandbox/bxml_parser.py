"""Reading the BXML an application returns, as Bandwidth would: parsed, then validated.

A document that is not well-formed XML, has the wrong root, or names a verb Bandwidth does
not know is invalid, and the call ends with cause invalid-bxml. Webhook replies have the
root <Response>; the documents PUT to .../bxml have <Bxml>.
https://dev.bandwidth.com/docs/voice/bxml
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

from voice.sandbox.webhook_sender import Target

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

# The only verbs a conference runs (replies to conference events, PUT /conferences/{id}/bxml);
# a document with any other is refused whole. https://dev.bandwidth.com/docs/voice/bxml/conference
CONFERENCE_VERBS = frozenset(
    {"PlayAudio", "SpeakSentence", "StartRecording", "StopRecording", "PauseRecording", "ResumeRecording"}
)

# Verbs a transferAnswer reply may not use (it runs on the B-leg before the bridge).
# https://dev.bandwidth.com/docs/voice/webhooks/transferAnswer
NOT_ON_TRANSFER_ANSWER = frozenset({"Bridge", "Conference", "Forward", "Transfer"})

# Conference names: at most 100 letters, digits, '-', '_' and '.'.
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class InvalidBxml(ValueError):
    pass


@dataclass(frozen=True)
class Verb:
    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    text: str = ""
    children: tuple[Verb, ...] = ()

    def number(self, name: str, default: float, low: float | None = None, high: float | None = None) -> float:
        raw = self.attributes.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        # float() also reads "nan" and "inf", which no BXML attribute means.
        if not math.isfinite(value):
            raise InvalidBxml(f"<{self.name} {name}> must be a number, not {raw!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidBxml(f"<{self.name} {name}> must be between {low:g} and {high:g}, not {raw}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.attributes.get(name)
        if raw is None:
            return default
        if raw.lower() not in ("true", "false"):
            raise InvalidBxml(f"<{self.name} {name}> must be true or false, not {raw!r}")
        return raw.lower() == "true"

    def url(self, name: str, base: str) -> str:
        """An URL attribute, resolved against the URL that served the document ("" if absent)."""
        raw = self.attributes.get(name, "").strip()
        if not raw:
            return ""
        resolved = urljoin(base, raw) if base else raw
        if urlsplit(resolved).scheme not in ("http", "https") or not urlsplit(resolved).netloc:
            raise InvalidBxml(f"<{self.name} {name}> is not an http or https URL: {raw!r}")
        return resolved

    def method(self, name: str) -> str:
        raw = self.attributes.get(name, "POST").upper()
        if raw not in ("POST", "GET"):
            raise InvalidBxml(f"<{self.name} {name}> must be POST or GET")
        return raw

    def target(self, event: str, base: str) -> Target | None:
        """The webhook target of `event` (e.g. "gather": gatherUrl, gatherMethod,
        gatherFallbackUrl, gatherFallbackMethod) with the verb's credentials; None without a URL."""
        url = self.url(f"{event}Url", base)
        if not url:
            return None
        return Target(
            url=url,
            method=self.method(f"{event}Method"),
            username=self.attributes.get("username", ""),
            password=self.attributes.get("password", ""),
            fallback_url=self.url(f"{event}FallbackUrl", base),
            fallback_method=self.method(f"{event}FallbackMethod"),
            fallback_username=self.attributes.get("fallbackUsername", ""),
            fallback_password=self.attributes.get("fallbackPassword", ""),
        )


@dataclass(frozen=True)
class Document:
    """The verbs to run and the URL relative URLs in them resolve against."""

    verbs: tuple[Verb, ...]
    base_url: str = ""


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


def only_conference_verbs(verbs: list[Verb]) -> list[Verb]:
    """The document, if every verb is one a conference runs; InvalidBxml otherwise."""
    others = sorted({verb.name for verb in verbs} - CONFERENCE_VERBS)
    if others:
        raise InvalidBxml(
            f"a conference runs only {', '.join(sorted(CONFERENCE_VERBS))}; this document has {', '.join(others)}"
        )
    return verbs


def conference_name(verb: Verb) -> str:
    name = verb.text
    if not name or len(name) > 100 or not set(name) <= _NAME_CHARACTERS:
        raise InvalidBxml("a conference name is 1 to 100 letters, digits, '-', '_' or '.'")
    return name
