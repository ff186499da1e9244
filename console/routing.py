from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import re_path

from console.consumers import LiveConsumer
from console.live import STREAM

websocket_urlpatterns = [
    re_path(rf"^ws/live/(?P<stream>{STREAM})/$", LiveConsumer.as_asgi()),
]

# Refuses handshakes from other origins (cross-site websocket hijacking), then resolves the
# session's user for the consumer.
websocket_application = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
