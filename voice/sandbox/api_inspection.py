"""The sandbox's own API (not Bandwidth's), under the same Basic credentials: what it holds,
what it received and sent, and the settings that change while it runs.

    GET  /sandbox/calls            every call, as Bandwidth's call resource
    POST /sandbox/calls            make an inbound call arrive now
    PUT  /sandbox/callees/{number} script how an outbound call to a number is answered
    GET  /sandbox/conferences      every conference with its members, past ones included
    GET  /sandbox/recordings       every recording's metadata, conference ones included
    GET  /sandbox/streams          every media stream (<StartStream>): state, frames sent, and
                                   when each frame that starts a sentence was sent
    POST /sandbox/streams/{id}/stop  end a stream as a failure on Bandwidth's side would
    GET  /sandbox/requests         the REST requests received (passwords masked)
    GET  /sandbox/webhooks         the webhooks sent, with the status each got
    GET|PUT /sandbox/faults        fault injection
    GET|PUT /sandbox/application   the voice application's callback settings
    GET  /sandbox/openapi.yml      the specification the sandbox conforms to
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from voice.sandbox.api_common import REQUESTS, json_body, simulation
from voice.sandbox.callers import random_caller
from voice.sandbox.config import InvalidSetting
from voice.sandbox.request_fields import E164, Invalid
from voice.sandbox.resources import Party

OPENAPI = Path(__file__).with_name("openapi.yml")
OUTCOMES = ("answer", "busy", "timeout", "rejected")
MESSAGE_ENDINGS = ("hangup", "#", "silence")


def _positive(body: dict, name: str) -> float | None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        raise Invalid(f"{name} must be a positive number")
    return value


def _party(body: dict[str, Any], base: Party) -> Party:
    """A caller or callee from the body's optional utterance, digits, endsMessage and holdSeconds."""
    utterance = body.get("utterance")
    if utterance is not None and (not isinstance(utterance, str) or not utterance.strip()):
        raise Invalid("utterance must be a sentence")
    digits = body.get("digits")
    if isinstance(digits, str):
        digits = [digits]
    if digits is not None and (not isinstance(digits, list) or not all(isinstance(d, str) for d in digits)):
        raise Invalid("digits must be a string, or a list of strings (one per <Gather>)")
    noisy = body.get("noisyLine", base.noisy_line)
    if not isinstance(noisy, bool):
        raise Invalid("noisyLine must be true or false")
    ending = body.get("endsMessage", base.ends_message)
    if ending not in MESSAGE_ENDINGS:
        raise Invalid(f"endsMessage must be one of {', '.join(MESSAGE_ENDINGS)}")
    return Party(
        sentences=[utterance, *base.sentences[1:]] if utterance else base.sentences,
        digits=list(digits) if digits is not None else base.digits,
        hold_seconds=_positive(body, "holdSeconds"),
        ends_message=ending,
        ring_seconds=_positive(body, "ringSeconds") or base.ring_seconds,
        outcome=base.outcome,
        noisy_line=noisy,
    )


async def calls(request: web.Request) -> web.Response:
    return web.json_response([call.to_json() for call in simulation(request).calls.by_id.values()])


async def offer_inbound(request: web.Request) -> web.Response:
    """Make an inbound call arrive now: {"from", "to"} and optionally "holdSeconds" (without
    it the caller stays until someone hangs up), "utterance", "digits", "endsMessage",
    "noisyLine" (steady noise on their line, between their words too)."""
    sim = simulation(request)
    body = await json_body(request)
    from_, to = body.get("from"), body.get("to")
    if not isinstance(from_, str) or not E164.match(from_) or not isinstance(to, str) or not E164.match(to):
        raise Invalid("from and to must be E164 telephone numbers")
    call = sim.offer_inbound(from_number=from_, to_number=to, party=_party(body, random_caller(sim.rng)))
    return web.json_response(call.to_json(), status=201)


async def script_callee(request: web.Request) -> web.Response:
    """How outbound calls to a number are answered from now on: {"outcome": answer | busy |
    timeout | rejected} and optionally "ringSeconds", "holdSeconds", "utterance", "digits"."""
    sim = simulation(request)
    number = request.match_info["number"]
    body = await json_body(request)
    outcome = body.get("outcome", "answer")
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}")
    party = _party(body, random_caller(sim.rng))
    party.outcome = outcome
    sim.calls.scripted_callees[number] = party
    return web.json_response({"number": number, "outcome": outcome})


async def conferences(request: web.Request) -> web.Response:
    return web.json_response([conference.inspection() for conference in simulation(request).conferences.by_id.values()])


async def recordings(request: web.Request) -> web.Response:
    return web.json_response([recording.metadata() for recording in simulation(request).recordings.by_id.values()])


async def streams(request: web.Request) -> web.Response:
    return web.json_response([stream.inspection() for stream in simulation(request).streams.by_id.values()])


async def stop_stream(request: web.Request) -> web.Response:
    """End a media stream as Bandwidth ends one that fails on its side: the call goes on,
    mediaStreamStopped says cause error."""
    sim = simulation(request)
    stream = sim.streams.by_id.get(request.match_info["stream_id"])
    if stream is None or stream.state != "started":
        raise Invalid("no media stream sending with that id")
    await sim.streams.fail(stream, "The stream was stopped by the sandbox's inspection API")
    return web.json_response(stream.inspection())


async def received_requests(request: web.Request) -> web.Response:
    return web.json_response(list(request.app[REQUESTS]))


async def webhooks(request: web.Request) -> web.Response:
    return web.json_response([delivery.to_json() for delivery in simulation(request).sender.history])


async def faults(request: web.Request) -> web.Response:
    config = simulation(request).config
    if request.method == "PUT":
        try:
            config.faults = config.faults.updated(await json_body(request))
        except InvalidSetting as invalid:
            raise Invalid(str(invalid)) from None
    return web.json_response(config.faults.to_json())


async def application(request: web.Request) -> web.Response:
    config = simulation(request).config
    if request.method == "PUT":
        try:
            config.application = config.application.updated(await json_body(request))
        except InvalidSetting as invalid:
            raise Invalid(str(invalid)) from None
    return web.json_response(config.application.to_json())


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=OPENAPI.read_bytes(), content_type="application/yaml")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/sandbox/calls", calls)
    router.add_post("/sandbox/calls", offer_inbound)
    router.add_put("/sandbox/callees/{number}", script_callee)
    router.add_get("/sandbox/conferences", conferences)
    router.add_get("/sandbox/recordings", recordings)
    router.add_get("/sandbox/streams", streams)
    router.add_post("/sandbox/streams/{stream_id}/stop", stop_stream)
    router.add_get("/sandbox/requests", received_requests)
    router.add_get("/sandbox/webhooks", webhooks)
    router.add_route("GET", "/sandbox/faults", faults)
    router.add_route("PUT", "/sandbox/faults", faults)
    router.add_route("GET", "/sandbox/application", application)
    router.add_route("PUT", "/sandbox/application", application)
    router.add_get("/sandbox/openapi.yml", openapi)
