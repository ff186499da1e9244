"""Recordings of calls and conferences, and their transcriptions."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from voice import signals
from voice.facts import RecordingInfo, TranscriptionPart
from voice.models.call import Call
from voice.models.conference import Conference
from voice.models.mirror import allowed_from, fill_missing
from voice.schema import (
    ACCOUNT_ID_LENGTH,
    FROM_LENGTH,
    ID_LENGTH,
    RECORDING_NAME_LENGTH,
    TAG_LENGTH,
    TO_LENGTH,
    URL_LENGTH,
)

# Recordings and transcriptions


class RecordingStatus(models.TextChoices):
    # recordComplete seen: the recording exists but is not downloadable yet.
    PROCESSING = "processing", "processing"
    COMPLETE = "complete", "complete"
    # Downloadable, with gaps.
    PARTIAL = "partial", "partial"
    ERROR = "error", "error"
    DELETED = "deleted", "deleted"


# The statuses in which Bandwidth has the media to download.
DOWNLOADABLE_RECORDING_STATUSES = (RecordingStatus.COMPLETE, RecordingStatus.PARTIAL)

RECORDING_TRANSITIONS: dict[str, frozenset[str]] = {
    RecordingStatus.PROCESSING: frozenset(
        {RecordingStatus.COMPLETE, RecordingStatus.PARTIAL, RecordingStatus.ERROR, RecordingStatus.DELETED}
    ),
    RecordingStatus.COMPLETE: frozenset({RecordingStatus.DELETED}),
    RecordingStatus.PARTIAL: frozenset({RecordingStatus.DELETED}),
    RecordingStatus.ERROR: frozenset({RecordingStatus.DELETED}),
    RecordingStatus.DELETED: frozenset(),
}


# Bandwidth keeps recordings and transcriptions 30 days
# (https://dev.bandwidth.com/docs/voice/guides/recordingGuide); an archived copy outlives it.
RECORDING_RETENTION = timedelta(days=30)
# Bandwidth transcribes call recordings longer than 0.5 s and shorter than 4 h
# (https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/transcribeCallRecording).
TRANSCRIBABLE_SECONDS = (0.5, 4 * 3600.0)


class RecordingQuerySet(models.QuerySet):
    def listed(self) -> RecordingQuerySet:
        """What the recordings list pages through: every recording with a start time (each
        of Bandwidth's recording events and listings carries one)."""
        return self.filter(start_time__isnull=False)


class Recording(models.Model):
    """A recording of a call (<Record>, <StartRecording>) or of a conference.

    Metadata, and optionally an archived copy of the media in Switchboard's own storage;
    otherwise the console streams the media from Bandwidth on demand, which keeps it 30 days
    (https://dev.bandwidth.com/docs/voice/guides/recordingGuide)."""

    recording_id = models.CharField(max_length=ID_LENGTH, unique=True)
    # The recorded call; empty for a conference recording. No database constraint: the
    # recording's events may arrive before any event about the call.
    call = models.ForeignKey(
        Call,
        to_field="call_id",
        db_column="call_id",
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="recordings",
    )
    conference = models.ForeignKey(
        Conference,
        to_field="conference_id",
        db_column="conference_id",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recordings",
    )
    account_id = models.CharField(max_length=ACCOUNT_ID_LENGTH, blank=True)
    parent_call_id = models.CharField(max_length=ID_LENGTH, blank=True)
    direction = models.CharField(max_length=8, blank=True)
    from_number = models.CharField(max_length=FROM_LENGTH, blank=True)
    to_number = models.CharField(max_length=TO_LENGTH, blank=True)
    # recordingName (newer API), or the conference's name for a conference recording.
    name = models.CharField(max_length=RECORDING_NAME_LENGTH, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    file_format = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.PROCESSING)
    media_url = models.CharField(max_length=URL_LENGTH, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    tag = models.CharField(max_length=TAG_LENGTH, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # Switchboard's own copy of the media (Django's default storage), so that it outlives
    # Bandwidth's retention: voice/recordings.py.
    archive_name = models.CharField(max_length=255, blank=True)
    archive_size = models.PositiveBigIntegerField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The waveform the player draws: peak levels (0 to 100) of equal slices of the audio,
    # computed once from the media; null until then.
    peaks = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        # Lists page through recordings by (start_time, id) in either direction.
        ordering = ["start_time", "id"]
        indexes = [models.Index(fields=["start_time", "id"], name="recording_start_keyset")]

    def __str__(self) -> str:
        return self.recording_id

    @property
    def is_conference(self) -> bool:
        return not self.call_id

    @property
    def is_deleted(self) -> bool:
        return self.status == RecordingStatus.DELETED

    @property
    def is_archived(self) -> bool:
        return bool(self.archive_name)

    @property
    def is_at_bandwidth(self) -> bool:
        """Downloadable from Bandwidth, as far as Switchboard knows: processed, not deleted,
        and within the retention period."""
        return (
            self.status in DOWNLOADABLE_RECORDING_STATUSES
            and not (self.expires_at and self.expires_at <= timezone.now())
        )

    @property
    def is_playable(self) -> bool:
        return not self.is_deleted and (self.is_archived or self.is_at_bandwidth)

    @property
    def expires_at(self) -> datetime | None:
        """When Bandwidth's retention ends (counted from the end of the recording)."""
        moment = self.end_time or self.start_time
        return moment + RECORDING_RETENTION if moment else None

    @property
    def can_be_transcribed(self) -> bool:
        low, high = TRANSCRIBABLE_SECONDS
        return (
            not self.is_conference
            and self.is_at_bandwidth
            and (self.duration_seconds is None or low < self.duration_seconds < high)
        )

    @property
    def can_be_deleted(self) -> bool:
        """At Bandwidth: only call recordings have a DELETE
        (https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/deleteRecording)."""
        return not self.is_conference and not self.is_deleted

    def changed(self) -> None:
        signals.recording_changed.send(sender=Recording, recording_id=self.recording_id)

    def mark_deleted(self) -> bool:
        """Bandwidth deleted it (or no longer has it). What Switchboard derived from its
        content goes too: the transcript's text and the waveform. The archived copy, if any,
        is removed by the caller, which owns the storage."""
        moved = Recording.advance(self.recording_id, RecordingStatus.DELETED, deleted_at=timezone.now(), peaks=None)
        if moved:
            Transcription.objects.filter(recording=self).update(text="", confidence=None, updated_at=timezone.now())
        self.refresh_from_db()
        if moved:
            self.changed()
        return moved

    def store_archive(self, name: str, size: int) -> bool:
        """Keep the archived copy's name, once; False if another run archived it first."""
        now = timezone.now()
        stored = Recording.objects.filter(pk=self.pk, archive_name="").exclude(status=RecordingStatus.DELETED).update(
            archive_name=name, archive_size=size, archived_at=now, updated_at=now
        )
        self.refresh_from_db()
        if stored:
            self.changed()
        return bool(stored)

    def forget_archive(self) -> str:
        """Drop the reference to the archived copy; returns its name for the caller to delete."""
        name = self.archive_name
        if name and Recording.objects.filter(pk=self.pk, archive_name=name).update(
            archive_name="", archive_size=None, archived_at=None, updated_at=timezone.now()
        ):
            self.refresh_from_db()
            self.changed()
            return name
        return ""

    def store_peaks(self, peaks: list[int]) -> bool:
        stored = Recording.objects.filter(pk=self.pk, peaks__isnull=True).update(peaks=peaks, updated_at=timezone.now())
        self.refresh_from_db()
        if stored:
            self.changed()
        return bool(stored)

    @classmethod
    def advance(cls, recording_id: str, to_status: str, **fields) -> bool:
        return bool(
            cls.objects.filter(
                recording_id=recording_id, status__in=allowed_from(RECORDING_TRANSITIONS, to_status)
            ).update(status=to_status, updated_at=timezone.now(), **fields)
        )

    @classmethod
    def observe(cls, info: RecordingInfo, status: str, *, conference: Conference | None = None) -> tuple[Recording, dict]:
        """Create the recording from what Bandwidth says of it (a webhook or the API), or
        move it to `status` and fill what it lacks; returns it and what changed,
        {column: (before, after)}.

        `status` is Bandwidth's as given (recordingAvailable's complete, partial or error;
        the API's, which may say processing or deleted): a status Switchboard does not know
        is taken as still processing."""
        if status not in RecordingStatus.values:
            status = RecordingStatus.PROCESSING
        return cls.store(
            info.recording_id,
            status,
            call_id=info.call_id,
            conference=conference,
            account_id=info.account_id,
            parent_call_id=info.parent_call_id,
            direction=info.direction,
            from_number=info.from_number,
            to_number=info.to_number,
            name=info.name,
            channels=info.channels,
            duration_seconds=info.duration_seconds,
            file_format=info.file_format,
            media_url=info.media_url,
            start_time=info.start_time,
            end_time=info.end_time,
            tag=info.tag,
        )

    @classmethod
    def store(
        cls, recording_id: str, status: str, *, call_id: str = "", conference: Conference | None = None, **facts
    ) -> tuple[Recording, dict[str, tuple]]:
        """Create the recording, or move it to `status` and fill the facts it lacks; returns
        it with what changed ({field: (before, after)}), whatever told us (an event, the API)."""
        facts = {name: value for name, value in facts.items() if value not in (None, "")}
        recording, created = cls.objects.get_or_create(
            recording_id=recording_id,
            defaults={
                **facts,
                "call_id": call_id or None,
                "conference": conference,
                "status": status,
                "last_event_at": timezone.now(),
            },
        )
        if created:
            recording.changed()
            return recording, {"status": (None, status)}
        mine = cls.objects.filter(pk=recording.pk)
        mine.update(last_event_at=timezone.now())
        changes: dict[str, tuple] = {}
        if status != recording.status and cls.advance(recording_id, status):
            changes["status"] = (recording.status, status)
        for name in fill_missing(mine, call_id=call_id or None, **facts):
            changes[name] = (getattr(recording, name), facts.get(name, call_id))
        if conference is not None and mine.filter(conference__isnull=True).update(conference=conference):
            changes["conference_id"] = (None, conference.conference_id)
        recording.refresh_from_db()
        if changes:
            recording.changed()
        return recording, changes


class TranscriptionStatus(models.TextChoices):
    """Bandwidth's values (https://dev.bandwidth.com/docs/voice/webhooks/transcriptionAvailable)."""

    NONE = "none", "none"
    # Requested (<Record transcribe="true">), not announced yet.
    PROCESSING = "processing", "transcribing"
    AVAILABLE = "available", "available"
    ERROR = "error", "error"
    TIMEOUT = "timeout", "timed out"
    FILE_SIZE_TOO_BIG = "file-size-too-big", "recording too long"
    FILE_SIZE_TOO_SMALL = "file-size-too-small", "recording too short"
    # A status Bandwidth added since: the raw one is in the stored event.
    UNKNOWN = "unknown", "status unknown"


_TRANSCRIPTION_FINAL = frozenset(
    {
        TranscriptionStatus.AVAILABLE,
        TranscriptionStatus.ERROR,
        TranscriptionStatus.TIMEOUT,
        TranscriptionStatus.FILE_SIZE_TOO_BIG,
        TranscriptionStatus.FILE_SIZE_TOO_SMALL,
        TranscriptionStatus.UNKNOWN,
    }
)
TRANSCRIPTION_TRANSITIONS: dict[str, frozenset[str]] = {
    TranscriptionStatus.NONE: frozenset({TranscriptionStatus.PROCESSING, *_TRANSCRIPTION_FINAL}),
    TranscriptionStatus.PROCESSING: _TRANSCRIPTION_FINAL,
    **{status: frozenset() for status in _TRANSCRIPTION_FINAL},
    # An operator may ask again after a transcription that failed or timed out.
    TranscriptionStatus.ERROR: frozenset({TranscriptionStatus.PROCESSING}),
    TranscriptionStatus.TIMEOUT: frozenset({TranscriptionStatus.PROCESSING}),
    TranscriptionStatus.UNKNOWN: frozenset({TranscriptionStatus.PROCESSING}),
}
# Failed in a way a new request may cure.
TRANSCRIPTION_RETRYABLE = frozenset(
    {TranscriptionStatus.NONE, TranscriptionStatus.ERROR, TranscriptionStatus.TIMEOUT, TranscriptionStatus.UNKNOWN}
)


class Transcription(models.Model):
    """The transcript of a call recording; its text is kept for search.

    Bandwidth's transcriptionAvailable carries only metadata: the text is fetched by a
    task (voice.tasks.fetch_transcription), and `fetched_at` says it has been."""

    recording = models.OneToOneField(Recording, on_delete=models.CASCADE, related_name="transcription")
    transcription_id = models.CharField(max_length=ID_LENGTH, blank=True)
    status = models.CharField(max_length=24, choices=TranscriptionStatus.choices, default=TranscriptionStatus.PROCESSING)
    url = models.CharField(max_length=URL_LENGTH, blank=True)
    completed_time = models.DateTimeField(null=True, blank=True)
    text = models.TextField(blank=True)
    # The mean confidence over the transcript's parts, 0 to 1.
    confidence = models.FloatField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"transcription of {self.recording_id}"

    @classmethod
    def advance(cls, recording: Recording, to_status: str, **fields) -> bool:
        return bool(
            cls.objects.filter(recording=recording, status__in=allowed_from(TRANSCRIPTION_TRANSITIONS, to_status)).update(
                status=to_status, updated_at=timezone.now(), **fields
            )
        )

    @classmethod
    def observe(cls, recording: Recording, status: str, part: TranscriptionPart) -> dict[str, tuple]:
        """Store a transcription's metadata as Bandwidth gives it (its id, url and completed
        time); once it is available, its text is wanted (signals.transcript_wanted: a task
        fetches it). Returns what changed."""
        transcription, changes = cls.store(
            recording, status, transcription_id=part.id, url=part.url, completed_time=part.completed_time
        )
        if changes and transcription.wants_text:
            transcription.want_text()
        return changes

    def fetch_failed(self, reason: str) -> None:
        """Bandwidth refused the transcript: a permanent failure, shown on the recording."""
        Transcription.objects.filter(pk=self.pk).update(fetch_error=reason[:2000])

    def tried(self) -> None:
        """A fetch was tried and gave up for now: reconciliation asks again later."""
        Transcription.objects.filter(pk=self.pk).update(updated_at=timezone.now())

    def want_text(self) -> None:
        signals.transcript_wanted.send(sender=Transcription, transcription_pk=self.pk)

    @classmethod
    def store(cls, recording: Recording, status: str, **metadata) -> tuple[Transcription, dict[str, tuple]]:
        """As Recording.store, for a recording's transcription (its metadata, not its text)."""
        metadata = {name: value for name, value in metadata.items() if value not in (None, "")}
        transcription, created = cls.objects.get_or_create(recording=recording, defaults={**metadata, "status": status})
        if created:
            recording.changed()
            return transcription, {"transcription": (None, status)}
        changes: dict[str, tuple] = {}
        if status != transcription.status and cls.advance(recording, status):
            changes["transcription"] = (transcription.status, status)
        for name in fill_missing(cls.objects.filter(pk=transcription.pk), **metadata):
            changes[f"transcription.{name}"] = (getattr(transcription, name), metadata[name])
        transcription.refresh_from_db()
        if changes:
            recording.changed()
        return transcription, changes

    @classmethod
    def requested(cls, recording: Recording) -> bool:
        """Bandwidth accepted an operator's request to transcribe: transcribing until
        transcriptionAvailable says how it went. A failed earlier attempt is started over."""
        transcription, created = cls.objects.get_or_create(
            recording=recording, defaults={"status": TranscriptionStatus.PROCESSING}
        )
        moved = created or cls.advance(
            recording,
            TranscriptionStatus.PROCESSING,
            transcription_id="",
            url="",
            completed_time=None,
            text="",
            confidence=None,
            fetched_at=None,
            fetch_error="",
        )
        if moved:
            recording.changed()
        return moved

    @property
    def wants_text(self) -> bool:
        """Available at Bandwidth, not fetched yet: voice.tasks.fetch_transcription's job."""
        return self.status == TranscriptionStatus.AVAILABLE and self.fetched_at is None

    def store_text(self, text: str, confidence: float | None) -> bool:
        """Keep the fetched transcript, once (a second delivery of the task changes nothing)."""
        now = timezone.now()
        stored = Transcription.objects.filter(pk=self.pk, fetched_at__isnull=True).update(
            text=text, confidence=confidence, fetched_at=now, fetch_error="", updated_at=now
        )
        # Before the refresh, which would drop the cached recording (and cost a SELECT).
        if stored:
            self.recording.changed()
        self.refresh_from_db()
        return bool(stored)
