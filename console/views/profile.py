"""/profile/: what an operator sets for themselves (the phone the console rings to listen in,
whether alerts notify them)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from console.forms import OperatorProfileForm
from console.models import AuditEntry, OperatorProfile


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    mine, _ = OperatorProfile.objects.get_or_create(user=request.user)
    before, notified_before = mine.phone, mine.alert_notifications
    form = OperatorProfileForm(request.POST if request.method == "POST" else None, instance=mine)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            if mine.phone != before:
                AuditEntry.record(request.user, "set phone", request.user.get_username(), outcome="ok", detail=mine.phone or "none")
            if mine.alert_notifications != notified_before:
                detail = "on" if mine.alert_notifications else "off"
                AuditEntry.record(request.user, "set alert notifications", request.user.get_username(), outcome="ok", detail=detail)
            messages.success(request, "Saved.")
            return redirect("console-profile")
        return render(request, "console/profile.html", {"form": form}, status=422)
    return render(request, "console/profile.html", {"form": form})


urlpatterns = [path("profile/", profile, name="console-profile")]
