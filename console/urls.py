"""Every URL of the console. Each views module lists its own pages beside their views."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from console.views import (
    alerts,
    board,
    calls,
    conferences,
    directory,
    errors,
    health,
    history,
    profile,
    recordings,
)
from voice.webhooks import voice_webhook

urlpatterns = [
    *alerts.urlpatterns,
    *board.urlpatterns,
    *calls.urlpatterns,
    *conferences.urlpatterns,
    *directory.urlpatterns,
    *history.urlpatterns,
    *health.urlpatterns,
    *profile.urlpatterns,
    *recordings.urlpatterns,
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("webhooks/voice", voice_webhook, name="voice-webhook"),
    path("admin/", admin.site.urls),
]

# The console's own pages for errors, in its frame (console/views/errors.py).
handler403 = errors.forbidden
handler404 = errors.not_found
handler500 = errors.server_error
