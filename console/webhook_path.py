"""The webhook's own way through the ASGI application: Bandwidth's callbacks reach the same
view (voice/webhooks.py: HTTP Basic in constant time, the size limit, the schema, 4xx with
a reason) behind the middleware that concerns a request nobody signs in to, and nothing
else.

Why: a webhook is most of what a console process serves, and through Django's full stack
it cost more CPU than its own work. Measured with tests/benchmarks/webhook_cpu.py (CPU per
webhook over a call's and a conference's lifecycle on PostgreSQL, one process): a trivial
view behind the console's whole middleware costs 2.6-3.3 ms, against 1.6-1.7 ms with none;
Django's ASGI handler also starts a thread per request (its ThreadSensitiveContext) and
hops between the event loop and that thread four times. Sessions, CSRF (the view is
exempt), authentication, messages, htmx, the operator's time zone, axes (sign-in only),
WhiteNoise (static files only) and the admin's NUL check do nothing for a webhook but cost
it; the middleware that does something to its answer runs as it does for every page
(settings.WEBHOOK_MIDDLEWARE: the host check, the HTTPS redirect and security headers, the
CSP header, compression, X-Frame-Options), in the same order.

Here a webhook's body is read as Django reads it, its request built by Django's
ASGIRequest, its view run on a thread of a small pool kept for webhooks (no thread started
per request), with Django's request_started and request_finished around it (the database
connection goes back to the pool as after any request) and Django's conversion of an
exception into a response at every layer, as Django's handler does.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.urls import set_script_prefix, set_urlconf
from django.utils.log import log_response
from django.utils.module_loading import import_string

from voice.webhooks import voice_webhook

PATH = "/webhooks/voice"
# Threads that run webhooks' views at once: enough to overlap one webhook's wait for the
# database with another's work, and well under the database pool (DATABASE_POOL_SIZE), so
# a burst queues here rather than timing out for a connection.
THREADS = 8


class WebhookPath:
    """The ASGI application of the HTTP side: webhooks here, everything else to Django's
    handler (`pages`)."""

    def __init__(self, pages: ASGIHandler) -> None:
        self.pages = pages
        self.handler = self._chain()
        self.executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="webhook")

    @staticmethod
    def _chain():
        # As BaseHandler.load_middleware builds it: each layer converts what is raised
        # inside it into a response.
        handler = convert_exception_to_response(voice_webhook)
        for path in reversed(settings.WEBHOOK_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        return handler

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].removeprefix(scope.get("root_path", "")) != PATH:
            await self.pages(scope, receive, send)
            return
        try:
            body = await self.pages.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            request, refused = self.pages.create_request(scope, body)
            if request is None:
                await self.pages.send_response(refused, send)
                return
            response = await asyncio.get_running_loop().run_in_executor(self.executor, self._respond, scope, request)
            await self.pages.send_response(response, send)
        finally:
            body.close()

    def _respond(self, scope, request):
        # As Django's handler does (BaseHandler.get_response), but for the chain.
        signals.request_started.send(sender=ASGIHandler, scope=scope)
        set_urlconf(settings.ROOT_URLCONF)
        response = self.handler(request)
        response._resource_closers.append(request.close)
        if response.status_code >= 400:
            log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        response._handler_class = ASGIHandler
        # Sends request_finished (the database connection is given back), as Django does
        # once a response is sent; the answer is in memory, whole.
        response.close()
        return response

