"""Every page an operator can open, for tests that check none of them fails over what the
mirror holds: through Django's test client, or over HTTP against a running stack."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

from voice.models import Call, Conference, Recording

LISTS = [
    "/",
    "/board/figures",
    "/conferences/",
    "/history/",
    "/history/calls.csv",
    "/recordings/",
    "/audit/",
    "/audit/audit.csv",
]


def admin_lists() -> list[str]:
    """The Django admin's list of every model it shows."""
    return [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in apps.get_models()
        if admin.site.is_registered(model)
    ]


def pages_of(call_ids, conference_ids, recording_ids) -> list[str]:
    """The lists, the admin's lists, and the page of each call, conference and recording."""
    return [
        *LISTS,
        *admin_lists(),
        *(f"/calls/{call_id}" for call_id in call_ids),
        *(f"/conferences/{conference_id}/" for conference_id in conference_ids),
        *(f"/recordings/{recording_id}/" for recording_id in recording_ids),
    ]


def every_page() -> list[str]:
    """Every page over what this test's database holds, the admin's change pages included."""
    pages = pages_of(
        Call.objects.values_list("call_id", flat=True),
        Conference.objects.values_list("conference_id", flat=True),
        Recording.objects.values_list("recording_id", flat=True),
    )
    for model in apps.get_models():
        if admin.site.is_registered(model):
            base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            pages += [f"{base}{pk}/change/" for pk in model.objects.values_list("pk", flat=True)[:50]]
    return pages


def failing_pages(client, pages: list[str] | None = None) -> dict[str, int]:
    """The pages that answer anything but 200, with their status. `client` is Django's test
    client or a requests session; a streamed CSV export is read to its end (its rows are
    rendered as it streams)."""
    failing = {}
    for page in every_page() if pages is None else pages:
        response = client.get(page)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        if response.status_code != 200:
            failing[page] = response.status_code
    return failing
