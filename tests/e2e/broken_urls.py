"""The console's URLs and one that fails, for the browser test of the 500 page."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from console.urls import handler403, handler404, handler500, urlpatterns as console_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a fault the test caused")


urlpatterns = [*console_urlpatterns, path("broken", broken)]
