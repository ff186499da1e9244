"""What a webhook handler gives back: the answer Bandwidth gets, and whether anything changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from voice import bxml
from voice.events import IncomingEvent


@dataclass(frozen=True)
class Answer:
    status: int
    body: str = ""

    @property
    def content_type(self) -> str:
        return "application/xml; charset=utf-8" if self.body else "text/plain"


NO_CONTENT = Answer(204)


def bxml_answer(verbs: list[Element]) -> Answer:
    return Answer(200, bxml.response(*verbs))


@dataclass(frozen=True)
class Applied:
    answer: Answer
    # False when the event was valid but changed nothing (it arrived after a newer one).
    changed: bool = True


Handler = Callable[[IncomingEvent], Applied]
