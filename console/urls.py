from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from console.views import board, calls, history
from voice.webhooks import voice_webhook

urlpatterns = [
    path("", board.calls, name="console-calls"),
    path("board/figures", board.board_figures, name="console-board-figures"),
    path("calls/<str:call_id>", calls.call_detail, name="console-call"),
    path("calls/<str:call_id>/hangup", calls.call_hangup, name="console-call-hangup"),
    path("history/", history.call_history, name="console-history"),
    path("history/calls.csv", history.call_history_csv, name="console-history-csv"),
    path("audit/", history.audit_log, name="console-audit"),
    path("audit/audit.csv", history.audit_log_csv, name="console-audit-csv"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("webhooks/voice", voice_webhook, name="voice-webhook"),
    path("admin/", admin.site.urls),
]
