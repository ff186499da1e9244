from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import re_path

from console.consumers import LiveConsumer
from console.live import STREAM
from console.media_consumer import MediaStreamConsumer
from voice.stream_credentials import MEDIA_PATH

websocket_urlpatterns = [
    re_path(rf"^ws/live/(?P<stream>{STREAM})/$", LiveConsumer.as_asgi()),
]

# Browsers' sockets: handshakes from other origins are refused (cross-site websocket
# hijacking), then the session's user is resolved for the consumer. Bandwidth's media
# streams come with no Origin and no session: they carry their own credentials
# (console/media_consumer.py).
websocket_application = URLRouter(
    [
        re_path(rf"^{MEDIA_PATH.lstrip('/')}$", MediaStreamConsumer.as_asgi()),
        # A lookahead: the browsers' router matches the whole path, as websocket_urlpatterns spell it.
        re_path(r"^(?=ws/live/)", AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
    ]
)
