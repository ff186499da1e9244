"""Call flows: routes pick the BXML, built with a real XML builder, with every URL
Switchboard's own authenticated webhook."""

from xml.etree import ElementTree

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tests.support.bandwidth import payload
from tests.voice.conftest import deliver
from voice import flows, stream_credentials
from voice.demo import DEMO_ROUTES, ensure_demo_routes
from voice.management.commands.sandbox import DEMO_NUMBERS
from voice.models import Call, Conference, ConferenceMember, Event, Route

pytestmark = pytest.mark.django_db

INBOUND = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"


def route(name: str, number: str = "", **fields) -> Route:
    match = fields.pop("match", Route.Match.EXACT if number else Route.Match.DEFAULT)
    fields.setdefault("flow", Route.Flow.SPEAK_HANGUP)
    fields.setdefault("sentence", f"This is {name}.")
    return Route.objects.create(name=name, number=number, match=match, **fields)


def call_to(number: str, **changes) -> ElementTree.Element:
    """The BXML an inbound call to `number` is answered with, parsed."""
    answer = deliver(payload("initiate", to=number, **changes))
    assert answer.status == 200
    return ElementTree.fromstring(answer.body)


def spoken(document: ElementTree.Element) -> list[str]:
    return [element.text for element in document.iter("SpeakSentence")]


def test_without_any_route_a_call_is_told_to_hold():
    document = call_to("+19195550100")
    assert [element.tag for element in document] == ["SpeakSentence", "Pause", "Hangup"]
    assert document.find("Pause").get("duration") == str(flows.HOLD_SECONDS)


def test_an_exact_route_beats_a_prefix_which_beats_the_default():
    route("default")
    route("prefix", "+1919", match=Route.Match.PREFIX)
    route("exact", "+19195550100")
    assert spoken(call_to("+19195550100")) == ["This is exact."]
    assert spoken(call_to("+19195550111", callId="c-2")) == ["This is prefix."]
    assert spoken(call_to("+15553334444", callId="c-3")) == ["This is default."]


def test_the_longest_prefix_wins_then_the_lowest_priority_number():
    route("short", "+1", match=Route.Match.PREFIX, priority=1)
    route("long", "+1919555", match=Route.Match.PREFIX, priority=50)
    route("long-but-later", "+1919555", match=Route.Match.PREFIX, priority=60)
    assert spoken(call_to("+19195550123")) == ["This is long."]


def test_a_disabled_route_is_skipped():
    route("off", "+19195550100", enabled=False)
    route("default")
    assert spoken(call_to("+19195550100")) == ["This is default."]


def test_an_outbound_call_is_routed_by_the_number_it_was_placed_from():
    route("sales line", "+19195550100", flow=Route.Flow.CONFERENCE, conference_name="sales-floor", sentence="")
    route("default")
    answer = deliver(payload("answer", **{"from": "+19195550100", "to": "+15557654321"}))
    assert ElementTree.fromstring(answer.body).find("Conference").text == "sales-floor"
    other = deliver(payload("answer", callId="c-other", **{"from": "+19195550999", "to": "+19195550100"}))
    assert spoken(ElementTree.fromstring(other.body)) == ["This is default."]


def test_a_conference_flow_sends_conference_events_to_the_webhook_with_its_credentials(settings):
    settings.PUBLIC_URL = "https://switchboard.example.com"
    route("exec", "+19195550102", flow=Route.Flow.CONFERENCE, conference_name="exec-briefing", join_muted=True)
    conference = call_to("+19195550102").find("Conference")
    assert conference.text == "exec-briefing"
    assert conference.get("conferenceEventUrl") == "https://switchboard.example.com/webhooks/voice"
    assert conference.get("conferenceEventMethod") == "POST"
    assert conference.get("username") == settings.WEBHOOK_USERNAME
    assert conference.get("password") == settings.WEBHOOK_PASSWORD
    assert conference.get("mute") == "true"
    assert conference.get("hold") is None
    call = Call.objects.get(call_id=INBOUND)
    assert call.route.name == "exec"
    assert call.flow["conference"] == "exec-briefing"


def test_a_member_joins_muted_or_on_hold_as_its_flow_said():
    route("exec", "+19195550102", flow=Route.Flow.CONFERENCE, conference_name="thisConference", join_muted=True, join_on_hold=True)
    call_to("+19195550102")
    deliver(payload("conferenceMemberJoin", callId=INBOUND))
    member = ConferenceMember.objects.get(call_id=INBOUND)
    assert (member.mute, member.hold, member.is_coach) == (True, True, False)


def test_a_coach_coaches_the_members_present_when_it_joins():
    deliver(payload("conferenceMemberJoin", callId="c-agent-1"))
    deliver(payload("conferenceMemberJoin", callId="c-agent-2"))
    deliver(payload("conferenceMemberExit", callId="c-agent-2"))
    route("coach line", "+19195550177", flow=Route.Flow.CONFERENCE, conference_name="thisConference", join_as_coach=True)
    conference = call_to("+19195550177").find("Conference")
    assert conference.get("callIdsToCoach") == "c-agent-1"
    deliver(payload("conferenceMemberJoin", callId=INBOUND, eventTime="2019-07-31T13:30:00.000Z"))
    assert ConferenceMember.objects.get(call_id=INBOUND).call_ids_to_coach == ["c-agent-1"]


def test_a_full_conference_turns_the_caller_away():
    conference = Conference.objects.create(conference_id="conf-full", name="sales-floor")
    for n in range(20):
        ConferenceMember.objects.create(conference=conference, call_id=f"c-{n}", state="joined")
    route("sales", "+19195550100", flow=Route.Flow.CONFERENCE, conference_name="sales-floor")
    document = call_to("+19195550100")
    assert document.find("Conference") is None
    assert spoken(document) == [flows.CONFERENCE_FULL]


def test_a_record_flow_records_with_transcription_and_every_url_is_the_webhook(settings):
    route("voicemail", "+19195550150", flow=Route.Flow.RECORD, max_record_seconds=120)
    record = call_to("+19195550150").find("Record")
    url = settings.PUBLIC_URL + "/webhooks/voice"
    for attribute in ("recordCompleteUrl", "recordingAvailableUrl", "transcriptionAvailableUrl"):
        assert record.get(attribute) == url
    assert record.get("transcribe") == "true"
    assert record.get("maxDuration") == "120"
    assert (record.get("username"), record.get("password")) == (settings.WEBHOOK_USERNAME, settings.WEBHOOK_PASSWORD)


def test_a_forward_flow_forwards_an_unanswered_call_without_answering_it():
    route("forward", "+19195550160", flow=Route.Flow.FORWARD, forward_to="+15557770000", forward_from="+19195550160", sentence="")
    document = call_to("+19195550160")
    assert [element.tag for element in document] == ["Forward"]
    assert document.find("Forward").attrib == {"to": "+15557770000", "from": "+19195550160"}
    call = Call.objects.get(call_id=INBOUND)
    assert call.state == "initiated"


def test_a_forward_flow_transfers_an_answered_call():
    route("forward", "+19195550160", flow=Route.Flow.FORWARD, forward_to="+15557770000")
    answer = deliver(payload("answer", **{"from": "+19195550160"}))
    number = ElementTree.fromstring(answer.body).find("Transfer/PhoneNumber")
    assert number.text == "+15557770000"
    assert number.get("transferDisconnectUrl").endswith("/webhooks/voice")


def test_spoken_text_is_escaped_not_interpreted():
    route("tricky", "+19195550199", sentence='Press 1 </SpeakSentence><Hangup/> & "more"')
    answer = deliver(payload("initiate", to="+19195550199"))
    document = ElementTree.fromstring(answer.body)
    assert [element.tag for element in document] == ["SpeakSentence", "Hangup"]
    assert spoken(document) == ['Press 1 </SpeakSentence><Hangup/> & "more"']
    assert "&lt;/SpeakSentence&gt;" in answer.body


def test_a_flow_is_answered_well_within_a_second():
    ensure_demo_routes()
    for number in ("+19195550100", "+19195550101", "+19195550102", "+19195550150", "+19195550199", "+15550000000"):
        deliver(payload("initiate", to=number, callId=f"c-{number[1:]}"))
    assert max(Event.objects.values_list("answer_ms", flat=True)) < 500


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"match": Route.Match.EXACT, "number": "", "flow": Route.Flow.SPEAK_HANGUP, "sentence": "x"}, "number"),
        ({"match": Route.Match.DEFAULT, "number": "+1", "flow": Route.Flow.SPEAK_HANGUP, "sentence": "x"}, "number"),
        ({"match": Route.Match.DEFAULT, "flow": Route.Flow.CONFERENCE}, "conference_name"),
        ({"match": Route.Match.DEFAULT, "flow": Route.Flow.CONFERENCE, "conference_name": "no spaces"}, "conference_name"),
        ({"match": Route.Match.DEFAULT, "flow": Route.Flow.FORWARD}, "forward_to"),
        ({"match": Route.Match.DEFAULT, "flow": Route.Flow.SPEAK_HOLD}, "sentence"),
    ],
)
def test_an_incomplete_route_is_refused(fields, field):
    with pytest.raises(ValidationError) as raised:
        Route(name="r", **fields).full_clean()
    assert field in raised.value.message_dict


def test_outbound_calls_placed_by_the_console_use_the_webhook(settings):
    settings.PUBLIC_URL = "https://switchboard.example.com"
    assert flows.outbound_callbacks() == {
        "answer_url": "https://switchboard.example.com/webhooks/voice",
        "disconnect_url": "https://switchboard.example.com/webhooks/voice",
        "username": settings.WEBHOOK_USERNAME,
        "password": settings.WEBHOOK_PASSWORD,
    }


def test_the_demo_routes_fit_the_sandbox_demo_numbers():
    ensure_demo_routes()
    expected = {
        "+19195550100": ("Conference", "sales-floor"),
        "+19195550101": ("Conference", "support-bridge"),
        "+19195550102": ("Conference", "exec-briefing"),
        "+19195550150": ("Record", None),
        "+19195550199": ("Hangup", None),
    }
    for number, (verb, text) in expected.items():
        document = call_to(number, callId=f"c-{number[1:]}")
        assert document.find(verb) is not None, number
        if text:
            assert document.find(verb).text == text
    assert call_to("+19195550100", callId="c-x").find("Conference").get("mute") is None
    assert call_to("+19195550102", callId="c-y").find("Conference").get("mute") == "true"
    assert [element.tag for element in call_to("+15550001111", callId="c-z")] == ["SpeakSentence", "Pause", "Hangup"]


def test_demo_data_is_idempotent_and_keeps_an_admins_edits(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("demo_data")
    Route.objects.filter(name="Sales floor").update(conference_name="sales-floor-2")
    call_command("demo_data")
    assert Route.objects.count() == len(DEMO_ROUTES)
    assert Route.objects.get(name="Sales floor").conference_name == "sales-floor-2"
    assert (tmp_path / "demo-users.json").exists()


def test_every_demo_route_is_valid():
    for demo in ensure_demo_routes():
        demo.full_clean()


def test_every_number_the_sandboxs_demo_calls_has_the_route_it_expects_and_the_rest_the_default():
    routes = {route.number: route for route in ensure_demo_routes()}

    for number, name in DEMO_NUMBERS.conferences.items():
        assert (routes[number].flow, routes[number].conference_name) == (Route.Flow.CONFERENCE, name)
    assert set(DEMO_NUMBERS.dial_out_from) <= set(DEMO_NUMBERS.conferences)
    assert routes[DEMO_NUMBERS.voicemail].flow == Route.Flow.RECORD
    assert routes[DEMO_NUMBERS.announcement].flow == Route.Flow.SPEAK_HANGUP
    assert flows.route_for(DEMO_NUMBERS.unrouted).match == Route.Match.DEFAULT


def test_a_route_that_shows_who_is_talking_streams_the_members_voice_to_the_console_before_it_joins(settings):
    route("sales", "+19195550100", flow=Route.Flow.CONFERENCE, conference_name="sales-floor", show_talking=True)
    document = call_to("+19195550100")

    assert [element.tag for element in document] == ["SpeakSentence", "StartStream", "Conference", "SpeakSentence", "Hangup"]
    stream = document.find("StartStream")
    assert stream.get("tracks") == "inbound" and stream.get("name") == "talking"
    assert stream.get("destination") == settings.PUBLIC_URL.replace("http://", "ws://") + "/ws/media/"
    assert stream.get("destinationUsername") == INBOUND
    assert stream_credentials.valid(INBOUND, stream.get("destinationPassword"))
    assert not stream_credentials.valid("c-another-call", stream.get("destinationPassword"))
    assert stream.get("streamEventUrl") == settings.PUBLIC_URL + "/webhooks/voice"
    assert (stream.get("username"), stream.get("password")) == (settings.WEBHOOK_USERNAME, settings.WEBHOOK_PASSWORD)


def test_a_conference_route_without_the_option_streams_nothing():
    route("sales", "+19195550100", flow=Route.Flow.CONFERENCE, conference_name="sales-floor")
    assert call_to("+19195550100").find("StartStream") is None


def test_an_https_console_is_streamed_to_over_wss(settings):
    settings.PUBLIC_URL = "https://switchboard.example.com"
    assert stream_credentials.destination() == "wss://switchboard.example.com/ws/media/"
