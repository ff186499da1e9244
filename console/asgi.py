"""The ASGI entry point: HTTP through Django, websockets through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from console import routing  # noqa: E402
from console.webhook_path import WebhookPath  # noqa: E402

application = ProtocolTypeRouter({"http": WebhookPath(django_asgi_app), "websocket": routing.websocket_application})

if settings.CELERY_EMBEDDED_WORKER:
    from console import embedded

    embedded.start()

# What is loaded by now (Django, the apps, the URLs, the worker) lives as long as the
# process: moved out of the collector's sight, so that a full collection walks what the
# requests create, not all of that. Each full collection held the event loop and every
# live frame 70 to 140 ms before, about 9 ms after (docs/benchmarks.md, 2026-12-01).
gc.collect()
gc.freeze()
