"""The physical-limit baseline (S0 in docs/benchmarks.md): the least an ASGI server can do
with a webhook — read the body, parse the JSON, answer 204."""

import json


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    json.loads(body or b"{}")
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
