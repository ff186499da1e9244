"""What Bandwidth says about its objects (a call, a conference and its members, a recording
and its transcription), whether a webhook or the API said it: one typed object each, read
through voice/schema.py's types, and mapped to the mirror's columns once, by the models.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from voice.schema import (
    AccountId,
    ApplicationId,
    Channels,
    ConferenceName,
    Document,
    Flag,
    FromNumber,
    Id,
    OptionalCallStatus,
    OptionalCause,
    OptionalDirection,
    OptionalDuration,
    OptionalFileFormat,
    OptionalId,
    OptionalRecordingState,
    OptionalTime,
    OptionalTranscriptionState,
    RecordingName,
    Tag,
    Text,
    ToNumber,
    Url,
)

# A conference holds at most 20 members (https://dev.bandwidth.com/docs/voice/bxml/conference);
# a listing of more is not one Bandwidth could send.
CONFERENCE_MEMBER_LIMIT = 100
# callIdsToCoach: the members one coach coaches.
CoachedCalls = Annotated[list[Id], BeforeValidator(lambda value: [] if value is None else value), Field(max_length=100)]


class TranscriptionPart(BaseModel):
    """A recording's transcription as transcriptionAvailable and the recordings listing
    give it: metadata; the text is fetched."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: OptionalId = ""
    url: Url = ""
    status: OptionalTranscriptionState = ""
    completed_time: OptionalTime = Field(None, alias="completedTime")


class CallInfo(Document):
    """A call: getCall's answer, an item of listCalls, or what a call event says of its
    call (voice.events.CallEvent.facts)."""

    call_id: Id = Field(alias="callId")
    state: OptionalCallStatus = Field("", alias="state")
    direction: OptionalDirection = Field("", alias="direction")
    from_number: FromNumber = Field("", alias="from")
    to_number: ToNumber = Field("", alias="to")
    start_time: OptionalTime = Field(None, alias="startTime")
    answer_time: OptionalTime = Field(None, alias="answerTime")
    end_time: OptionalTime = Field(None, alias="endTime")
    disconnect_cause: OptionalCause = Field("", alias="disconnectCause")
    tag: Tag = Field("", alias="tag")
    parent_call_id: OptionalId = Field("", alias="parentCallId")
    error_message: Text = Field("", alias="errorMessage")
    account_id: AccountId = Field("", alias="accountId")
    application_id: ApplicationId = Field("", alias="applicationId")


class MemberInfo(Document):
    """A conference member's controls (getConferenceMember, getConference activeMembers)."""

    call_id: Id = Field(alias="callId")
    mute: Flag = False
    hold: Flag = False
    call_ids_to_coach: CoachedCalls = Field(default_factory=list, alias="callIdsToCoach")


class ConferenceInfo(Document):
    conference_id: Id = Field(alias="id")
    name: ConferenceName = Field("", alias="name")
    created_time: OptionalTime = Field(None, alias="createdTime")
    completed_time: OptionalTime = Field(None, alias="completedTime")
    tag: Tag = Field("", alias="tag")
    # None when the answer does not list them (listConferences never does).
    active_members: list[MemberInfo] | None = Field(None, alias="activeMembers", max_length=CONFERENCE_MEMBER_LIMIT)

    @property
    def is_final(self) -> bool:
        return self.completed_time is not None


class RecordingInfo(Document):
    """A call recording's or a conference recording's metadata (both documents' fields),
    from the API or from a webhook (voice.events.RecordingEvent.facts)."""

    recording_id: Id = Field(alias="recordingId")
    call_id: OptionalId = Field("", alias="callId")
    conference_id: OptionalId = Field("", alias="conferenceId")
    account_id: AccountId = Field("", alias="accountId")
    parent_call_id: OptionalId = Field("", alias="parentCallId")
    direction: OptionalDirection = Field("", alias="direction")
    from_number: FromNumber = Field("", alias="from")
    to_number: ToNumber = Field("", alias="to")
    # recordingName in the newer API; a conference recording's is its conference's name.
    name: RecordingName = Field("", validation_alias=AliasChoices("recordingName", "name"))
    channels: Channels = Field(None, alias="channels")
    duration_seconds: OptionalDuration = Field(None, alias="duration")
    file_format: OptionalFileFormat = Field("", alias="fileFormat")
    status: OptionalRecordingState = Field("", alias="status")
    media_url: Url = Field("", alias="mediaUrl")
    start_time: OptionalTime = Field(None, alias="startTime")
    end_time: OptionalTime = Field(None, alias="endTime")
    transcription: TranscriptionPart | None = None
    # Only webhooks carry the call's tag.
    tag: Tag = Field("", alias="tag")
