"""Alerts: the bell's re-read, acknowledging, the list of open and cleared alerts, and the
rules and destinations an admin sets."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from console import alerts
from console.alert_forms import AcknowledgeForm, AlertDestinationsForm, AlertRulesForm
from console.bell import Bell
from console.live_frames import stamp
from console.models import Alert, AlertDestinations, AuditEntry

# Cleared alerts the page lists.
CLEARED_SHOWN = 100


@require_safe
@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    context = {
        "open_alerts": Alert.objects.open()[:500],
        "cleared_alerts": Alert.objects.filter(cleared_at__isnull=False).order_by("-cleared_at", "-id")[:CLEARED_SHOWN],
    }
    return render(request, "console/alerts.html", context)


@require_safe
@login_required
def alert_bell(request: HttpRequest) -> HttpResponse:
    return render(request, "console/alerts.html#bell-content", {"bell": Bell.now(stamp())})


@require_POST
@login_required
def alert_acknowledge(request: HttpRequest) -> HttpResponse:
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("No such alert.")
    alert = get_object_or_404(Alert, pk=form.cleaned_data["alert"])
    alerts.acknowledge(alert, request.user)
    if request.htmx:
        return render(request, "console/alerts.html#bell-content", {"bell": Bell.now(stamp())})
    return redirect("console-alerts")


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("console.manage_alerts", raise_exception=True)
def alert_settings(request: HttpRequest) -> HttpResponse:
    destinations = AlertDestinations.current()
    posted = request.POST if request.method == "POST" else None
    rules_form = AlertRulesForm(posted)
    destinations_form = AlertDestinationsForm(posted, instance=destinations)
    if posted is not None:
        if rules_form.is_valid() and destinations_form.is_valid():
            with transaction.atomic():
                changed = rules_form.save(request.user)
                if destinations_changed := destinations_form.changed_fields():
                    destinations_form.instance.updated_by = request.user.get_username()
                    destinations_form.save()
                    changed.append("destinations: " + ", ".join(destinations_changed))
                if changed:
                    AuditEntry.record(request.user, "set alert rules", "alerts", outcome="ok", detail="; ".join(changed))
            messages.success(request, "Saved.")
            return redirect("console-alert-settings")
        return render(request, "console/alert_settings.html", {"rules_form": rules_form, "destinations_form": destinations_form}, status=422)
    return render(request, "console/alert_settings.html", {"rules_form": rules_form, "destinations_form": destinations_form})


urlpatterns = [
    path("alerts/", alert_list, name="console-alerts"),
    path("alerts/bell", alert_bell, name="console-alert-bell"),
    path("alerts/acknowledge", alert_acknowledge, name="console-alert-acknowledge"),
    path("alerts/settings", alert_settings, name="console-alert-settings"),
]
