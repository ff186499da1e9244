"""The ASGI entry point: HTTP through Django, websockets through Channels."""

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
