"""S1 in docs/benchmarks.md: Django's own floor for a webhook. The console's middleware and
server, and a view that reads and parses the body and answers 204: what every Django view
costs before its own work."""

import json
import os

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.benchmarks.floor_settings"

from django.core.asgi import get_asgi_application  # noqa: E402 (settings first)


@csrf_exempt
def webhook(request):
    json.loads(request.body)
    return HttpResponse(status=204)


application = get_asgi_application()

from console import urls  # noqa: E402 (after setup)

# The console's URLs behind it: its middleware may name them (the admin's prefix).
urlpatterns = [path("webhooks/voice", webhook), *urls.urlpatterns]
