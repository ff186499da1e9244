"""The demo's routes: one per number the sandbox's demo scenario calls (its DEMO_NUMBERS),
and a default. Created when missing, never overwritten: an admin's edits survive restarts."""

from __future__ import annotations

from voice import flows
from voice.models import Route

DEMO_ROUTES: tuple[dict, ...] = (
    {
        "name": "Sales floor",
        "number": "+19195550100",
        "flow": Route.Flow.CONFERENCE,
        "conference_name": "sales-floor",
        "sentence": "Welcome to the sales floor.",
    },
    {
        "name": "Support bridge",
        "number": "+19195550101",
        "flow": Route.Flow.CONFERENCE,
        "conference_name": "support-bridge",
        "sentence": "Connecting you to the support bridge.",
        "record_conference": True,
    },
    {
        "name": "Executive briefing",
        "number": "+19195550102",
        "flow": Route.Flow.CONFERENCE,
        "conference_name": "exec-briefing",
        "sentence": "You are joining the executive briefing, muted.",
        "join_muted": True,
    },
    {
        "name": "Voicemail",
        "number": "+19195550150",
        "flow": Route.Flow.RECORD,
        "sentence": "Nobody can take your call. Please leave a message after the tone, then press pound.",
        "max_record_seconds": 120,
        "transcribe": True,
    },
    {
        "name": "Office hours announcement",
        "number": "+19195550199",
        "flow": Route.Flow.SPEAK_HANGUP,
        "sentence": "Our offices are open nine to five, Monday to Friday. Goodbye.",
    },
    {
        "name": "Default",
        "match": Route.Match.DEFAULT,
        "number": "",
        "flow": Route.Flow.SPEAK_HOLD,
        "sentence": flows.DEFAULT_SENTENCE,
        "priority": 1000,
    },
)


def ensure_demo_routes() -> list[Route]:
    routes = []
    for spec in DEMO_ROUTES:
        fields = {"match": Route.Match.EXACT, **spec}
        route, _ = Route.objects.get_or_create(name=fields.pop("name"), defaults=fields)
        routes.append(route)
    return routes
