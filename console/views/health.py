"""The console's health for whoever runs it.

/healthz: the process answers HTTP. The load balancer asks it every few seconds, so it
touches nothing else (no database, no Redis).
/readyz: every part the console needs answers (console/readiness.py): 200, or 503 naming
what failed.
/metrics: Prometheus metrics, for a bearer token (METRICS_TOKEN) or a signed-in staff user.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from console import metrics, readiness


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    checks = readiness.check_all()
    ready = all(check.ok for check in checks)
    body = {
        "ready": ready,
        "failed": [check.name for check in checks if not check.ok],
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    return JsonResponse(body, status=200 if ready else 503)


def _may_read_metrics(request: HttpRequest) -> bool:
    header = request.headers.get("Authorization", "")
    if settings.METRICS_TOKEN and header.startswith("Bearer "):
        return constant_time_compare(header.removeprefix("Bearer "), settings.METRICS_TOKEN)
    return request.user.is_authenticated and request.user.is_active and request.user.is_staff


@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _may_read_metrics(request):
        response = HttpResponse("A bearer token (METRICS_TOKEN) or a staff sign-in is needed.", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]
