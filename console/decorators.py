"""Preconditions for operator views."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRedirect


def operator_required(*permissions: str):
    """Signed in (else to the login page, also for htmx requests, which would otherwise
    swap the login form into a table row) and holding every one of `permissions` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                if request.htmx:
                    return HttpResponseClientRedirect(redirect_to_login(request.htmx.current_url or "/").url)
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perms(permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
