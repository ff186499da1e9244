"""Calls: createCall, listCalls, getCall, updateCall, and the real API's PUT .../bxml and
PUT .../recording. https://dev.bandwidth.com/apis/voice/#tag/Calls"""

from __future__ import annotations

from aiohttp import web

from voice.sandbox import bxml_parser
from voice.sandbox.api_common import (
    API_PREFIX,
    Conflict,
    call_of,
    date_time_parameter,
    error,
    json_body,
    no_content,
    page,
    simulation,
)
from voice.sandbox.call_lifecycle import LimitExceeded
from voice.sandbox.call_requests import MAX_TAG, place_call
from voice.sandbox.request_fields import (
    Invalid,
    credentials,
    method_field,
    text_field,
    url_field,
)
from voice.sandbox.resources import INITIATED, SimCall
from voice.sandbox.webhook_sender import Target


def _modifiable(call: SimCall) -> None:
    """Only an answered call can be redirected or given new BXML."""
    if call.is_over or call.state == INITIATED:
        raise Conflict(f"Call [{call.call_id}] cannot be modified in its current state")


async def create_call(request: web.Request) -> web.Response:
    sim = simulation(request)
    body = await json_body(request)
    try:
        call = place_call(sim, body)
    except LimitExceeded as limit:
        return error(429, "error", str(limit), {"Retry-After": str(limit.retry_after)})
    response = {
        **call.to_json(),
        # createCallResponse's own fields (the real API), beside the seed spec's Call.
        "callTimeout": call.call_timeout,
        "callbackTimeout": call.callback_timeout,
        "answerUrl": call.answer_target.url,
        "answerMethod": call.answer_target.method,
        "answerFallbackMethod": call.answer_target.fallback_method,
        "disconnectMethod": call.disconnect_target.method if call.disconnect_target else "POST",
        "priority": 5,
    }
    if call.answer_target.fallback_url:
        response["answerFallbackUrl"] = call.answer_target.fallback_url
    if call.disconnect_target:
        response["disconnectUrl"] = call.disconnect_target.url
    return web.json_response(response, status=201, headers={"Location": call.call_url})


async def list_calls(request: web.Request) -> web.Response:
    """The real API's listCalls: filters to, from, minStartTime, maxStartTime, disconnectCause;
    oldest first; pageSize up to 10000 with a Link header to the next page."""
    calls = list(simulation(request).calls.by_id.values())
    low, high = date_time_parameter(request, "minStartTime"), date_time_parameter(request, "maxStartTime")
    for name, attribute in (("to", "to_number"), ("from", "from_number"), ("disconnectCause", "disconnect_cause")):
        if name in request.query:
            calls = [call for call in calls if getattr(call, attribute) == request.query[name]]
    if low is not None:
        calls = [call for call in calls if call.start_time >= low]
    if high is not None:
        calls = [call for call in calls if call.start_time <= high]
    items, headers = page(request, calls, max_size=10000)
    return web.json_response([call.to_json() for call in items], headers=headers)


async def get_call(request: web.Request) -> web.Response:
    return web.json_response(call_of(request).to_json())


async def update_call(request: web.Request) -> web.Response:
    """Hang up (state completed) or redirect (redirectUrl); 200 with no body, as Bandwidth.
    The body is checked (400), then the call's state (409), and only then is anything
    applied: a refused update changes nothing, the tag included."""
    call = call_of(request)
    body = await json_body(request)
    state = body.get("state", "active")
    if state not in ("active", "completed"):
        raise Invalid("state must be one of [active, completed]")
    tag = text_field(body, "tag", MAX_TAG)
    username, password = credentials(body, "username", "password")
    fallback_username, fallback_password = credentials(body, "fallbackUsername", "fallbackPassword")
    target = Target(
        url=url_field(body, "redirectUrl") or "",
        method=method_field(body, "redirectMethod"),
        username=username,
        password=password,
        fallback_url=url_field(body, "redirectFallbackUrl") or "",
        fallback_method=method_field(body, "redirectFallbackMethod"),
        fallback_username=fallback_username,
        fallback_password=fallback_password,
    )
    redirecting = state == "active" and bool(target.url)
    if state == "active" and not redirecting and "tag" not in body:
        raise Invalid("redirectUrl is required when state is active")
    if call.is_over:
        raise Conflict(f"Call [{call.call_id}] cannot be modified in its current state")
    if redirecting:
        _modifiable(call)
    sim = simulation(request)
    if state == "completed":
        sim.calls.hang_up(call)
        return no_content(200)
    if "tag" in body:
        call.tag = tag or None
    if redirecting:
        sim.redirect(call, target)
    return no_content(200)


async def replace_call_bxml(request: web.Request) -> web.Response:
    """PUT /calls/{id}/bxml: a <Bxml> document replaces the running one; 204."""
    call = call_of(request)
    try:
        verbs = bxml_parser.parse(await request.text(), root="Bxml")
    except bxml_parser.InvalidBxml as invalid:
        raise Invalid(f"Invalid BXML: {invalid}") from None
    _modifiable(call)
    simulation(request).replace_bxml(call, verbs)
    return no_content()


async def update_recording_state(request: web.Request) -> web.Response:
    """PUT /calls/{id}/recording {"state": "paused"|"recording"}: pause or resume the
    <StartRecording> recording (nothing to do if none runs); 200."""
    call = call_of(request)
    body = await json_body(request)
    state = body.get("state")
    if state not in ("paused", "recording"):
        raise Invalid("state must be one of [paused, recording]")
    if call.is_over:
        raise Conflict(f"Call [{call.call_id}] cannot be modified in its current state")
    recorder = call.background_recorder
    if recorder is not None:
        now = simulation(request).clock.now()
        if state == "paused":
            recorder.pause(now)
        else:
            recorder.resume(now)
    return no_content(200)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(f"{API_PREFIX}/calls", create_call)
    router.add_get(f"{API_PREFIX}/calls", list_calls)
    router.add_get(f"{API_PREFIX}/calls/{{callId}}", get_call)
    router.add_post(f"{API_PREFIX}/calls/{{callId}}", update_call)
    router.add_put(f"{API_PREFIX}/calls/{{callId}}/bxml", replace_call_bxml)
    router.add_put(f"{API_PREFIX}/calls/{{callId}}/recording", update_recording_state)
