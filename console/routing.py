from django.urls import path

from console.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/<str:stream>/", LiveConsumer.as_asgi()),
]
