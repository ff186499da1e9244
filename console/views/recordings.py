"""Recordings: the searchable list, one recording's page with its player and transcript,
its media (played or downloaded through the console), and the actions on it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST, require_safe

from console import operations, paging, recording_page, recording_search
from console.recording_media import media_response
from console.decorators import operator_required
from voice.models import Recording


@require_GET
@operator_required("console.view_recordings")
def recording_list(request: HttpRequest) -> HttpResponse:
    form = recording_search.RecordingSearchForm(request.GET)
    page = paging.newest_first(form.apply(recording_search.listed()), "start_time", request.GET.get("after"))
    context = {
        "form": form,
        "page": page,
        "rows": recording_search.rows(page.items, form.words),
        "query": paging.query_without_cursor(request),
    }
    return render(request, paging.list_template(request, "console/recordings.html"), context)


def _page_context(recording: Recording) -> dict:
    transcription = recording_page.transcription_of(recording)
    return {
        "recording": recording,
        "transcription": transcription,
        "may_transcribe": recording_page.may_transcribe(recording, transcription),
        "actions": recording_page.latest_actions(recording),
    }


# HEAD too: a page whose socket closed asks with HEAD whether the session still holds.
@require_safe
@operator_required("console.view_recordings")
def recording_detail(request: HttpRequest, recording_id: str) -> HttpResponse:
    recording = get_object_or_404(Recording.objects.select_related("conference"), recording_id=recording_id)
    recording_page.want_waveform(recording)
    partial = request.htmx and not request.htmx.history_restore_request
    template = "console/recording.html#recording-live" if partial else "console/recording.html"
    return render(request, template, _page_context(recording))


@require_GET
@operator_required("console.view_recordings")
def recording_media(request: HttpRequest, recording_id: str) -> HttpResponseBase:
    recording = get_object_or_404(Recording.objects.select_related("conference"), recording_id=recording_id)
    return media_response(request, recording, download=False)


@require_GET
@operator_required("console.view_recordings")
def recording_download(request: HttpRequest, recording_id: str) -> HttpResponseBase:
    recording = get_object_or_404(Recording.objects.select_related("conference"), recording_id=recording_id)
    return media_response(request, recording, download=True)


def _acted(request: HttpRequest, recording: Recording) -> HttpResponse:
    if not request.htmx:
        return redirect("console-recording", recording_id=recording.recording_id)
    recording.refresh_from_db()
    return render(request, "console/recording.html#recording-live", _page_context(recording))


@require_POST
@operator_required("console.manage_recordings")
def recording_transcribe(request: HttpRequest, recording_id: str) -> HttpResponse:
    recording = get_object_or_404(Recording, recording_id=recording_id)
    operations.request_transcription(request.user, recording)
    return _acted(request, recording)


@require_POST
@operator_required("console.manage_recordings")
def recording_delete(request: HttpRequest, recording_id: str) -> HttpResponse:
    recording = get_object_or_404(Recording, recording_id=recording_id)
    operations.delete_recording(request.user, recording)
    return _acted(request, recording)


@require_POST
@operator_required("console.manage_recordings")
def recording_archive(request: HttpRequest, recording_id: str) -> HttpResponse:
    recording = get_object_or_404(Recording, recording_id=recording_id)
    operations.archive_recording(request.user, recording)
    return _acted(request, recording)


urlpatterns = [
    path("recordings/", recording_list, name="console-recordings"),
    path("recordings/<bandwidth_id:recording_id>/", recording_detail, name="console-recording"),
    path("recordings/<bandwidth_id:recording_id>/media", recording_media, name="console-recording-media"),
    path("recordings/<bandwidth_id:recording_id>/download", recording_download, name="console-recording-download"),
    path("recordings/<bandwidth_id:recording_id>/transcribe", recording_transcribe, name="console-recording-transcribe"),
    path("recordings/<bandwidth_id:recording_id>/delete", recording_delete, name="console-recording-delete"),
    path("recordings/<bandwidth_id:recording_id>/archive", recording_archive, name="console-recording-archive"),
]
