from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from console.views import board, calls
from voice.webhooks import voice_webhook

urlpatterns = [
    path("", board.calls, name="console-calls"),
    path("board/figures", board.board_figures, name="console-board-figures"),
    path("calls/<str:call_id>", calls.call_detail, name="console-call"),
    path("calls/<str:call_id>/hangup", calls.call_hangup, name="console-call-hangup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("webhooks/voice", voice_webhook, name="voice-webhook"),
    path("admin/", admin.site.urls),
]
