"""Conferences: listConferences, getConference, updateConference, updateConferenceMember,
and the real API's member GET and PUT .../bxml.
https://dev.bandwidth.com/apis/voice/#tag/Conferences"""

from __future__ import annotations

from aiohttp import web

from voice.sandbox import bxml_parser
from voice.sandbox.api_common import (
    API_PREFIX,
    NotFound,
    conference_of,
    date_time_parameter,
    json_body,
    no_content,
    page,
    simulation,
)
from voice.sandbox.conference_lifecycle import CoachTaken
from voice.sandbox.request_fields import (
    Invalid,
    boolean_field,
    credentials,
    method_field,
    text_field,
    url_field,
)
from voice.sandbox.resources import Member, SimConference
from voice.sandbox.webhook_sender import Target


def _active(conference: SimConference) -> SimConference:
    # A completed conference can be read but no longer changed.
    if conference.is_over:
        raise NotFound(f"Conference [{conference.conference_id}] is not active")
    return conference


def _member(request: web.Request, conference: SimConference) -> Member:
    member_id = request.match_info["memberId"]
    member = conference.members.get(member_id)
    if member is None:
        raise NotFound(f"Member [{member_id}] not found in conference [{conference.conference_id}]")
    return member


async def list_conferences(request: web.Request) -> web.Response:
    """Filters name, minCreatedTime, maxCreatedTime; oldest first; pageSize up to 1000."""
    sim = simulation(request)
    conferences = list(sim.conferences.by_id.values())
    low, high = date_time_parameter(request, "minCreatedTime"), date_time_parameter(request, "maxCreatedTime")
    if "name" in request.query:
        conferences = [conference for conference in conferences if conference.name == request.query["name"]]
    if low is not None:
        conferences = [conference for conference in conferences if conference.created_time >= low]
    if high is not None:
        conferences = [conference for conference in conferences if conference.created_time <= high]
    items, headers = page(request, conferences, max_size=1000)
    return web.json_response([conference.to_json(sim.config.api_base) for conference in items], headers=headers)


async def get_conference(request: web.Request) -> web.Response:
    return web.json_response(conference_of(request).to_json(simulation(request).config.api_base))


async def update_conference(request: web.Request) -> web.Response:
    """status completed ends the conference (members continue their own BXML); redirectUrl
    sends conferenceRedirect, whose reply runs in the conference; 204."""
    conference = conference_of(request)
    body = await json_body(request)
    status = body.get("status", "active")
    if status not in ("active", "completed"):
        raise Invalid("status must be one of [active, completed]")
    tag = text_field(body, "tag", 256)
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
    _active(conference)
    conferences = simulation(request).conferences
    if "tag" in body:
        conference.tag = tag or None
    if status == "completed":
        conferences.end(conference)
    elif target.url:
        conferences.redirect(conference, target)
    return no_content()


async def replace_conference_bxml(request: web.Request) -> web.Response:
    """PUT /conferences/{id}/bxml: a <Bxml> document of conference verbs, run in turn; 204."""
    conference = conference_of(request)
    try:
        verbs = bxml_parser.only_conference_verbs(bxml_parser.parse(await request.text(), root="Bxml"))
    except bxml_parser.InvalidBxml as invalid:
        raise Invalid(f"Invalid BXML: {invalid}") from None
    simulation(request).conferences.run(_active(conference), verbs)
    return no_content()


async def get_member(request: web.Request) -> web.Response:
    conference = conference_of(request)
    member = _member(request, conference)
    return web.json_response(member.to_json(conference, simulation(request).config.api_base))


async def update_member(request: web.Request) -> web.Response:
    """A partial update of mute, hold and callIdsToCoach; 204. No webhook reports it, as on
    Bandwidth: a client confirms it with the member GET."""
    conference = conference_of(request)
    body = await json_body(request)
    changes = {name: value for name in ("mute", "hold") if (value := boolean_field(body, name)) is not None}
    coached = body.get("callIdsToCoach")
    if coached is not None:
        if not isinstance(coached, list) or not all(isinstance(item, str) for item in coached):
            raise Invalid("callIdsToCoach must be a list of call ids")
        changes["callIdsToCoach"] = coached
    member = _member(request, _active(conference))
    try:
        simulation(request).conferences.update_member(conference, member, changes)
    except CoachTaken as taken:
        raise Invalid(str(taken)) from None
    return no_content()


def add_routes(router: web.UrlDispatcher) -> None:
    base = f"{API_PREFIX}/conferences"
    router.add_get(base, list_conferences)
    router.add_get(f"{base}/{{conferenceId}}", get_conference)
    router.add_post(f"{base}/{{conferenceId}}", update_conference)
    router.add_put(f"{base}/{{conferenceId}}/bxml", replace_conference_bxml)
    router.add_get(f"{base}/{{conferenceId}}/members/{{memberId}}", get_member)
    router.add_put(f"{base}/{{conferenceId}}/members/{{memberId}}", update_member)
