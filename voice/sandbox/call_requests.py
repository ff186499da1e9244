"""createCall's body, checked as Bandwidth checks it, for the REST API and for a scenario
acting as another client of the account. https://dev.bandwidth.com/apis/voice/#operation/createCall"""

from __future__ import annotations

from voice.sandbox.call_lifecycle import CallRequest
from voice.sandbox.request_fields import (
    E164,
    SIP_URI,
    Invalid,
    credentials,
    method_field,
    number_field,
    text_field,
    url_field,
)
from voice.sandbox.resources import SimCall
from voice.sandbox.simulation import Simulation
from voice.sandbox.webhook_sender import Target

REQUIRED = ("from", "to", "answerUrl", "applicationId")
# The real API's tag limit on the seed spec's calls.
MAX_TAG = 256


def call_request(body: dict, application_id: str) -> CallRequest:
    """A createCall body validated as Bandwidth does, with its error texts."""
    if any(body.get(name) in (None, "") for name in REQUIRED):
        raise Invalid("Missing at least one required field. Required fields are [from, to, answerUrl, applicationId]")
    to, from_ = body["to"], body["from"]
    if not isinstance(to, str) or not (E164.match(to) or SIP_URI.match(to)):
        raise Invalid("Invalid to: must be an E164 telephone number")
    if not isinstance(from_, str) or not E164.match(from_):
        raise Invalid("Invalid from: must be an E164 telephone number")
    if body["applicationId"] != application_id:
        raise Invalid(f"Could not create call: Application id {body['applicationId']} not found")
    username, password = credentials(body, "username", "password")
    fallback_username, fallback_password = credentials(body, "fallbackUsername", "fallbackPassword")
    answer = Target(
        url=url_field(body, "answerUrl", required=True),
        method=method_field(body, "answerMethod"),
        username=username,
        password=password,
        fallback_url=url_field(body, "answerFallbackUrl") or "",
        fallback_method=method_field(body, "answerFallbackMethod"),
        fallback_username=fallback_username,
        fallback_password=fallback_password,
    )
    disconnect_url = url_field(body, "disconnectUrl")
    # createCall's username and password go with answerUrl and disconnectUrl alike.
    disconnect = (
        Target(url=disconnect_url, method=method_field(body, "disconnectMethod"), username=username, password=password)
        if disconnect_url
        else None
    )
    return CallRequest(
        from_number=from_,
        to_number=to,
        answer=answer,
        disconnect=disconnect,
        tag=text_field(body, "tag", MAX_TAG),
        call_timeout=number_field(body, "callTimeout", 1, 300, 30),
        callback_timeout=number_field(body, "callbackTimeout", 1, 25, 15),
    )


def place_call(sim: Simulation, body: dict) -> SimCall:
    """createCall, for the REST handler and for scenarios acting as another client of the
    account; Invalid or LimitExceeded when Bandwidth would refuse it."""
    return sim.create_call(call_request(body, sim.config.application_id))
