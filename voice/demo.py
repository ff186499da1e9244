"""The demo account's numbers and the console's routes for them: one per number, and a
default. Created when missing, never overwritten: an admin's edits survive restarts.

The sandbox's demo traffic calls these numbers; its command hands them to it, so that the
traffic fits the routes that answer it.
"""

from __future__ import annotations

from voice import flows
from voice.models import Route

SALES_FLOOR_NUMBER = "+19195550100"
SUPPORT_BRIDGE_NUMBER = "+19195550101"
EXEC_BRIEFING_NUMBER = "+19195550102"
VOICEMAIL_NUMBER = "+19195550150"
ANNOUNCEMENT_NUMBER = "+19195550199"
# A number of the account no route names: the default route answers it (speak, then hold).
UNROUTED_NUMBER = "+19195550142"
# The demo supervisor's own phone (not the account's): the console rings it to listen in,
# and the demo's sandbox answers it at once and stays until the console hangs up.
SUPERVISOR_PHONE = "+19195550177"

# Callers who call again and again (the sandbox's demo draws one caller in a few from them),
# named in the console's directory.
REGULAR_CALLERS = ("+12125550143", "+13125550178", "+14155550126", "+442079460958")

# Names for the demo's numbers (console's directory): number, name, kind, team or label.
DEMO_DIRECTORY: tuple[tuple[str, str, str, str], ...] = (
    (SALES_FLOOR_NUMBER, "Sales line", "agent", "Sales"),
    (SUPPORT_BRIDGE_NUMBER, "Support line", "agent", "Support"),
    (EXEC_BRIEFING_NUMBER, "Executive briefing", "agent", "Management"),
    (VOICEMAIL_NUMBER, "Voicemail", "agent", "Front desk"),
    (ANNOUNCEMENT_NUMBER, "Office hours", "agent", "Front desk"),
    (SUPERVISOR_PHONE, "Sam Ortiz (supervisor)", "agent", "Support"),
    ("+12125550143", "Dana Whitfield", "contact", "Northwind"),
    ("+13125550178", "Marcus Bell", "contact", "Contoso"),
    ("+14155550126", "Priya Raman", "contact", "VIP"),
    ("+442079460958", "Elena Fischer", "contact", "Fabrikam UK"),
)

# The conference each conference number's route joins.
DEMO_CONFERENCES: dict[str, str] = {
    SALES_FLOOR_NUMBER: "sales-floor",
    SUPPORT_BRIDGE_NUMBER: "support-bridge",
    EXEC_BRIEFING_NUMBER: "exec-briefing",
}

DEMO_ROUTES: tuple[dict, ...] = (
    {
        "name": "Sales floor",
        "number": SALES_FLOOR_NUMBER,
        "flow": Route.Flow.CONFERENCE,
        "conference_name": DEMO_CONFERENCES[SALES_FLOOR_NUMBER],
        "sentence": "Welcome to the sales floor.",
        "show_talking": True,
    },
    {
        "name": "Support bridge",
        "number": SUPPORT_BRIDGE_NUMBER,
        "flow": Route.Flow.CONFERENCE,
        "conference_name": DEMO_CONFERENCES[SUPPORT_BRIDGE_NUMBER],
        "sentence": "Connecting you to the support bridge.",
        "record_conference": True,
        "show_talking": True,
    },
    {
        "name": "Executive briefing",
        "number": EXEC_BRIEFING_NUMBER,
        "flow": Route.Flow.CONFERENCE,
        "conference_name": DEMO_CONFERENCES[EXEC_BRIEFING_NUMBER],
        "sentence": "You are joining the executive briefing, muted.",
        "join_muted": True,
        "show_talking": True,
    },
    {
        "name": "Voicemail",
        "number": VOICEMAIL_NUMBER,
        "flow": Route.Flow.RECORD,
        "sentence": "Nobody can take your call. Please leave a message after the tone, then press pound.",
        "max_record_seconds": 120,
        "transcribe": True,
    },
    {
        "name": "Office hours announcement",
        "number": ANNOUNCEMENT_NUMBER,
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
