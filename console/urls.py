from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from console import views
from voice.webhooks import voice_webhook

urlpatterns = [
    path("", views.calls, name="console-calls"),
    path("calls/<str:call_id>/hangup", views.call_hangup, name="console-call-hangup"),
    path("conferences/", views.conferences, name="console-conferences"),
    path("conferences/<str:conference_id>/", views.conference, name="console-conference"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("webhooks/voice", voice_webhook, name="voice-webhook"),
    path("admin/", admin.site.urls),
]
