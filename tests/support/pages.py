"""Every page an operator can open, for tests that check none of them fails over what the
mirror holds."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

from voice.models import Call, Conference, Recording

LISTS = ["/", "/board/figures", "/conferences/", "/history/", "/history/calls.csv", "/recordings/", "/audit/", "/audit/audit.csv"]


def every_page() -> list[str]:
    """The lists, the page of every call, conference and recording the mirror holds, and
    the Django admin's list and change page of every model it shows."""
    pages = list(LISTS)
    pages += [f"/calls/{call_id}" for call_id in Call.objects.values_list("call_id", flat=True)]
    pages += [f"/conferences/{conference_id}/" for conference_id in Conference.objects.values_list("conference_id", flat=True)]
    pages += [f"/recordings/{recording_id}/" for recording_id in Recording.objects.values_list("recording_id", flat=True)]
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages.append(base)
        pages += [f"{base}{pk}/change/" for pk in model.objects.values_list("pk", flat=True)[:50]]
    return pages


def failing_pages(client) -> dict[str, int]:
    """The pages that answer anything but 200, with their status."""
    failing = {}
    for page in every_page():
        response = client.get(page)
        if response.status_code != 200:
            failing[page] = response.status_code
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return failing
