"""The Django admin: call routes are edited here; the mirror and the event log are shown
read-only (they change only through Bandwidth's webhooks and reconciliation)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from voice.models import (
    Call,
    Conference,
    ConferenceMember,
    Event,
    Recording,
    Route,
    Transcription,
)


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "match", "number", "priority", "flow", "conference_name", "forward_to"]
    list_editable = ["enabled", "priority"]
    list_filter = ["enabled", "flow", "match"]
    search_fields = ["name", "number", "conference_name", "forward_to"]
    fieldsets = [
        (None, {"fields": ["name", "enabled", ("match", "number"), "priority", "flow", "sentence"]}),
        (
            "Join a conference",
            {"fields": ["conference_name", ("join_muted", "join_on_hold", "join_as_coach"), "record_conference", "show_talking"]},
        ),
        ("Record a message", {"fields": ["max_record_seconds", "transcribe"]}),
        ("Forward", {"fields": ["forward_to", "forward_from"]}),
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["call_id", "direction", "from_number", "to_number", "state", "start_time", "route"]
    list_filter = ["state", "direction"]
    search_fields = ["call_id", "from_number", "to_number"]


class MemberInline(admin.TabularInline):
    model = ConferenceMember
    fields = ["call_id", "from_number", "state", "mute", "hold", "call_ids_to_coach", "joined_at", "left_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Conference)
class ConferenceAdmin(ReadOnlyAdmin):
    list_display = ["conference_id", "name", "state", "created_time", "completed_time", "is_recording"]
    list_filter = ["state"]
    search_fields = ["conference_id", "name"]
    inlines = [MemberInline]


class TranscriptionInline(admin.StackedInline):
    model = Transcription
    fields = ["transcription_id", "status", "completed_time", "confidence", "fetched_at", "fetch_error", "text"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
    list_display = ["recording_id", "call_id", "conference_id", "status", "start_time", "duration_seconds"]
    list_filter = ["status", "file_format"]
    search_fields = ["recording_id", "call_id"]
    inlines = [TranscriptionInline]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_type", "source", "outcome", "call_id", "conference_id", "answer_status", "answer_ms"]
    list_filter = ["source", "outcome", "event_type"]
    search_fields = ["call_id", "conference_id", "recording_id"]
