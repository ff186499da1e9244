"""The REST API's answers: authentication, validation errors in Bandwidth's shape, account
limits, and the extensions from the real API."""

import json
import re
from collections import defaultdict

import pytest

from console.processes import free_port
from tests.sandbox.conftest import ACCOUNT, APPLICATION_ID, response, sandbox_config, start_sandbox
from voice.sandbox.scenarios import Scenario
from voice.sandbox.server import build_app
from voice.sandbox.webhook_sender import basic_authorization

pytestmark = pytest.mark.asyncio


def create_body(application, **changes) -> dict:
    body = {
        "from": "+19195550100",
        "to": "+15553334444",
        "applicationId": APPLICATION_ID,
        "answerUrl": application.at("/answer"),
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


async def test_wrong_credentials_are_refused_with_401(sandbox):
    wrong = {"Authorization": basic_authorization("api-user", "nope")}
    unauthorized, body, headers = await sandbox.request("GET", "/calls/c-1", headers=wrong)
    missing, _, _ = await sandbox.request("GET", "/sandbox/calls", headers={"Authorization": ""})

    assert unauthorized == 401 and body["type"] == "authentication-error"
    assert headers["WWW-Authenticate"].startswith("Basic ")
    assert missing == 401


DENIED = (403, "authorization-error", "Access is denied")
NOT_VALID_HERE = (401, "authentication-error", "The credentials provided are not valid for account [1234]")
NO_SUCH_ACCOUNT = (404, "validation", "Account [1234] not found")


@pytest.mark.parametrize(
    ("method", "path", "answer"),
    [
        pytest.param("POST", "/calls", DENIED, id="createCall"),
        pytest.param("GET", "/calls", DENIED, id="listCalls"),
        pytest.param("GET", "/recordings", NOT_VALID_HERE, id="listAccountRecordings"),
        pytest.param("GET", "/conferences", NOT_VALID_HERE, id="listConferences"),
        pytest.param("GET", "/calls/c-1", NO_SUCH_ACCOUNT, id="getCall"),
        pytest.param("PUT", "/calls/c-1/bxml", NO_SUCH_ACCOUNT, id="updateCallBxml"),
        pytest.param("DELETE", "/calls/c-1/recordings/r-1/media", NO_SUCH_ACCOUNT, id="deleteRecordingMedia"),
        pytest.param("PUT", "/conferences/conf-1/members/c-1", NO_SUCH_ACCOUNT, id="updateConferenceMember"),
    ],
)
async def test_another_accounts_id_is_refused_with_a_status_its_operation_documents(sandbox, method, path, answer):
    status, body, _ = await sandbox.request(method, f"{sandbox.url}/api/v2/accounts/1234{path}", json={})

    assert (status, body["type"], body["description"]) == answer and body["id"] == ""


async def test_unknown_ids_and_paths_answer_404_in_the_error_shape(sandbox):
    call, call_body, _ = await sandbox.request("GET", "/calls/c-unknown")
    conference, _, _ = await sandbox.request("GET", "/conferences/conf-unknown")
    member, _, _ = await sandbox.request("GET", "/conferences/conf-unknown/members/c-unknown")
    path, path_body, _ = await sandbox.request("GET", "/nothing-here")
    method, method_body, _ = await sandbox.request("DELETE", "/calls/c-unknown")

    assert call_body == {"type": "validation", "description": "Call [c-unknown] not found", "id": ""}
    assert (call, conference, member, path) == (404, 404, 404, 404)
    assert path_body["description"] == "Not Found"
    assert method == 405 and method_body["description"] == "Method Not Allowed"


async def test_every_405_names_in_allow_the_methods_its_path_serves(sandbox):
    served = defaultdict(set)
    for route in build_app(sandbox.config, Scenario()).router.routes():
        served[route.resource.canonical].add(route.method)
    answers = {}
    for path in served:
        # No route serves PATCH.
        url = sandbox.url + re.sub(r"\{\w+\}", "x", path.replace("{accountId}", ACCOUNT))
        status, body, headers = await sandbox.request("PATCH", url)
        answers[path] = (status, {method.strip() for method in headers.get("Allow", "").split(",")}, set(body))

    assert any(path.startswith("/sandbox/") for path in served)
    assert answers == {path: (405, methods, {"type", "description", "id"}) for path, methods in served.items()}


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"to": None}, "Missing at least one required field"),
        ({"to": "5553334444"}, "Invalid to: must be an E164 telephone number"),
        ({"from": "+0123"}, "Invalid from: must be an E164 telephone number"),
        ({"callTimeout": 0.5}, "callTimeout must be within the range [1, 300], but was 0.5"),
        ({"callbackTimeout": 26}, "callbackTimeout must be within the range [1, 25], but was 26"),
        ({"tag": "x" * 257}, "tag must contain at most 256 characters"),
        ({"answerUrl": "not a url"}, "Invalid answerUrl: only http and https are allowed"),
        ({"disconnectUrl": "ftp://example.com/x"}, "Invalid disconnectUrl: only http and https are allowed"),
        ({"answerMethod": "PUT"}, "Invalid answerMethod. Supported methods: [POST, GET]"),
        ({"applicationId": "other"}, "Application id other not found"),
        ({"callTimeout": "30"}, "callTimeout must be a number"),
    ],
)
async def test_create_call_refuses_an_invalid_body_with_bandwidths_text(sandbox, application, changes, description):
    status, body, _ = await sandbox.request("POST", "/calls", json=create_body(application, **changes))

    assert status == 400
    assert body["type"] == "validation" and description in body["description"]
    assert not sandbox.sim.calls.by_id


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", "42"])
async def test_a_body_that_is_not_a_json_object_is_a_bad_request(sandbox, raw):
    status, body, _ = await sandbox.request("POST", "/calls", data=raw, headers={"Content-Type": "application/json"})

    assert status == 400 and body["description"] == "Bad Request"


async def test_a_body_of_another_content_type_is_refused_with_415(sandbox, application):
    status, body, _ = await sandbox.request(
        "POST", "/calls", data=json.dumps(create_body(application)), headers={"Content-Type": "text/plain"}
    )

    assert status == 415 and "text/plain" in body["description"]


async def test_create_call_answers_with_the_call_its_location_and_the_real_apis_fields(sandbox, application):
    status, body, headers = await sandbox.request(
        "POST", "/calls", json=create_body(application, disconnectUrl=application.at("/d"), tag="t", callTimeout=12)
    )

    assert status == 201
    assert headers["Location"] == body["callUrl"] == f"{sandbox.api}/calls/{body['callId']}"
    assert body["callId"].startswith("c-") and body["state"] == "initiated" and body["direction"] == "outbound"
    assert body["enqueuedTime"].endswith("Z") and body["startTime"].endswith("Z")
    assert (body["answerUrl"], body["answerMethod"], body["disconnectUrl"]) == (application.at("/answer"), "POST", application.at("/d"))
    assert (body["callTimeout"], body["callbackTimeout"], body["tag"], body["priority"]) == (12, 15, "t", 5)
    assert None not in body.values()


async def test_create_call_accepts_what_the_official_sdk_adds(sandbox, application):
    status, _, _ = await sandbox.request(
        "POST",
        "/calls",
        json=create_body(
            application, answerFallbackMethod="POST", disconnectMethod="POST", callTimeout=30, callbackTimeout=15, priority=5
        ),
    )
    call_id = next(iter(sandbox.sim.calls.by_id))
    hang_up, _, _ = await sandbox.request(
        "POST", f"/calls/{call_id}", json={"state": "completed", "redirectMethod": "POST", "redirectFallbackMethod": "POST"}
    )

    assert (status, hang_up) == (201, 200)


async def test_creating_calls_beyond_the_calls_per_second_limit_answers_429_with_retry_after(sandbox, application):
    statuses = []
    for _ in range(6):
        status, body, headers = await sandbox.request("POST", "/calls", json=create_body(application))
        statuses.append(status)

    assert statuses == [201] * 5 + [429]
    assert body == {"type": "error", "description": "Account call creation rate limit exceeded", "id": ""}
    assert headers["Retry-After"] == "1"


async def test_creating_calls_beyond_the_concurrent_call_limit_answers_429(application):
    port = free_port()
    server, sandbox = await start_sandbox(sandbox_config(application, port, max_concurrent_calls=2), Scenario(), port)
    try:
        statuses = [(await sandbox.request("POST", "/calls", json=create_body(application)))[0] for _ in range(3)]
        _, body, headers = await sandbox.request("POST", "/calls", json=create_body(application))

        assert statuses == [201, 201, 429]
        assert body["description"] == "Account concurrent call limit exceeded" and headers["Retry-After"]
    finally:
        await sandbox.session.close()
        await server.close()


async def test_update_call_refuses_a_state_outside_its_enum_and_a_redirect_without_url(sandbox, application):
    call = await sandbox.create_call(application)

    bad_state, _, _ = await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "paused"})
    no_url, body, _ = await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "active"})

    assert bad_state == 400
    assert no_url == 400 and "redirectUrl" in body["description"]


async def test_updating_a_calls_tag_alone_is_accepted(sandbox, application):
    call = await sandbox.create_call(application)

    status, _, _ = await sandbox.request("POST", f"/calls/{call['callId']}", json={"tag": "relabelled"})

    assert status == 200 and (await sandbox.call(call["callId"]))["tag"] == "relabelled"


async def test_a_redirect_refused_with_409_changes_nothing_not_even_the_tag(sandbox, application):
    await sandbox.callee(ringSeconds=20)
    call = await sandbox.create_call(application, tag="first")

    status, body, _ = await sandbox.request(
        "POST", f"/calls/{call['callId']}", json={"tag": "second", "redirectUrl": application.at("/moved")}
    )
    await sandbox.settle(1)

    assert status == 409 and body["description"].endswith("cannot be modified in its current state")
    assert (await sandbox.call(call["callId"]))["tag"] == "first"
    assert not application.events("redirect")


async def test_a_redirect_without_url_is_refused_before_the_calls_state_is_looked_at(sandbox, application):
    application.reply("answer", response("<Hangup/>"))
    call = await sandbox.create_call(application, tag="first")
    await application.wait_for("disconnect")

    status, _, _ = await sandbox.request("POST", f"/calls/{call['callId']}", json={"state": "active"})

    assert status == 400


async def test_list_filters_refuse_a_value_that_is_not_a_date_time(sandbox):
    statuses = [
        (await sandbox.request("GET", path))[0]
        for path in ("/recordings?from=2020-01-01", "/conferences?minCreatedTime=soon", "/calls?pageSize=0", "/calls?pageToken=%%%")
    ]
    fine, _, _ = await sandbox.request("GET", "/recordings?to=2030-01-01T00:00:00Z")

    assert statuses == [400] * 4
    assert fine == 200


async def test_the_requests_received_are_listed_with_passwords_masked(sandbox, application):
    await sandbox.request("POST", "/calls", json=create_body(application, password="hunter2", username="me"))

    _, received, _ = await sandbox.request("GET", "/sandbox/requests")

    (create,) = [r for r in received if r["method"] == "POST"]
    assert create["status"] == 201 and create["path"].endswith("/calls")
    assert "hunter2" not in create["body"] and json.loads(create["body"])["password"] == "*****"


async def test_the_specification_is_served(sandbox):
    status, body, headers = await sandbox.request("GET", "/sandbox/openapi.yml")

    assert status == 200 and headers["Content-Type"].startswith("application/yaml")
    assert b"operationId: createCall" in body
