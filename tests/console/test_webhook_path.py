"""The webhook's own way through the ASGI application (console/webhook_path.py) answers
every request as Django's whole stack answers it: the same status, headers and body, for
webhooks accepted, refused (credentials, schema, size, method, host) and redelivered."""

import asyncio
import gzip
import json

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings

from console.webhook_path import PATH, WebhookPath
from voice.models import Call, Event, Route
from tests.support.bandwidth import payload, webhook_auth

pytestmark = pytest.mark.django_db(transaction=True)

# Headers whose value differs from one answer to the next whatever the path.
VARYING = {b"date"}


def ask(application, *, method="POST", body=b"", headers=(), path=PATH, query=b"", host=b"127.0.0.1"):
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
        "headers": [(b"host", host), *headers, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer = {"body": b""}

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = sorted((name.lower(), value) for name, value in message["headers"] if name.lower() not in VARYING)
        else:
            answer["body"] += message.get("body", b"")

    asyncio.run(application(scope, receive, send))
    return answer


def both(**request):
    """The answer of the webhook path and of Django's whole stack to the same request."""
    return ask(WebhookPath(ASGIHandler()), **request), ask(ASGIHandler(), **request)


def authorized(*headers):
    return [(b"authorization", webhook_auth().encode()), (b"content-type", b"application/json"), *headers]


def test_an_accepted_webhook_and_its_redelivery_are_answered_alike():
    body = json.dumps(payload("answer")).encode()
    lean = ask(WebhookPath(ASGIHandler()), body=body, headers=authorized())
    whole = ask(ASGIHandler(), body=body, headers=authorized())
    assert lean["status"] == 200
    assert lean == whole
    assert Call.objects.count() == 1
    assert Event.objects.count() == 1


def test_a_compressed_answer_is_compressed_alike():
    # A BXML answer long enough for GZipMiddleware (200 bytes).
    Route.objects.create(name="long", match=Route.Match.DEFAULT, flow=Route.Flow.SPEAK_HANGUP, sentence="Thank you for calling. " * 10)
    body = json.dumps(payload("answer")).encode()
    lean = ask(WebhookPath(ASGIHandler()), body=body, headers=authorized((b"accept-encoding", b"gzip")))
    whole = ask(ASGIHandler(), body=body, headers=authorized((b"accept-encoding", b"gzip")))
    # Django pads what it compresses with random bytes (against BREACH): the length varies.
    for answer in (lean, whole):
        answer["body"] = gzip.decompress(answer["body"])
        answer["headers"] = [(name, value) for name, value in answer["headers"] if name != b"content-length"]
    assert (b"content-encoding", b"gzip") in lean["headers"]
    assert lean == whole


@pytest.mark.parametrize(
    "request_",
    [
        {"body": json.dumps(payload("answer")).encode()},
        {"body": json.dumps(payload("answer")).encode(), "headers": [(b"authorization", webhook_auth(password="wrong").encode())]},
        {"body": b"{not json", "headers": authorized()},
        {"body": json.dumps(payload("answer", callId="a/b")).encode(), "headers": authorized()},
        {"body": json.dumps(payload("answer", tag="x" * 70_000)).encode(), "headers": authorized()},
        {"body": b"x" * 3_000_000, "headers": authorized()},
        {"method": "PUT", "body": json.dumps(payload("answer")).encode(), "headers": authorized()},
        {"method": "GET", "query": b"eventType=answer&callId=a%2Fb", "headers": authorized()},
        {"body": json.dumps(payload("answer")).encode(), "headers": authorized(), "host": b"evil.example"},
    ],
    ids=["no credentials", "wrong password", "not JSON", "bad id", "too large", "larger than Django reads", "PUT", "bad GET", "foreign host"],
)
def test_a_refused_webhook_is_refused_alike_and_writes_no_mirror_row(request_):
    lean, whole = both(**request_)
    assert 400 <= lean["status"] < 500
    assert lean == whole
    assert not Call.objects.exists()
    assert not Event.objects.exclude(outcome=Event.Outcome.REFUSED).exists()


@override_settings(SECURE_SSL_REDIRECT=True)
def test_a_webhook_over_http_is_redirected_alike_where_https_is_required():
    lean, whole = both(body=json.dumps(payload("answer")).encode(), headers=authorized())
    assert lean["status"] == 301
    assert lean == whole
    assert not Event.objects.exists()


def test_every_other_path_goes_to_django():
    lean, whole = both(method="GET", path="/login/")
    assert lean["status"] == whole["status"] == 200
    lean, whole = both(path=PATH + "/", body=b"{}", headers=authorized())
    assert lean["status"] == whole["status"]
