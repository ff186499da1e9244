"""The Bandwidth Voice API client: the only module that imports requests.

One Session per process, a timeout on every request, plain dataclasses out, and three
kinds of error in:

- TransientError: worth retrying (no connection, 429 with its Retry-After, 5xx);
- PermanentError: Bandwidth refused (4xx); `status` tells 404 (gone) from 409 (not now);
- OutcomeUnknown: a request that is not safe to repeat (creating a call) may have reached
  Bandwidth before the connection failed. Never retried blindly; reconciliation finds out.

https://dev.bandwidth.com/apis/voice
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from pydantic import BaseModel, Field, ValidationError
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from voice.facts import CallInfo, ConferenceInfo, MemberInfo, RecordingInfo
from voice.schema import (
    Document,
    Id,
    Unreadable,
    Url,
    check_storable,
    load_json,
    storable,
    text,
)

# A transcript of hours of speech is long, but not this long.
TranscriptText = text(1_000_000)
Confidence = Annotated[float | None, Field(None, ge=0, le=1)]


class BandwidthError(Exception):
    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        # Both are shown to operators and stored on the action: Bandwidth's text, made
        # storable and kept short.
        super().__init__(storable(message)[:1000])
        self.status = status
        self.body = storable(body)[:2000]


class TransientError(BandwidthError):
    def __init__(self, message: str, *, status: int | None = None, body: str = "", retry_after: float | None = None):
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class PermanentError(BandwidthError):
    pass


class OutcomeUnknown(BandwidthError):
    pass


class TranscriptPart(BaseModel):
    """One channel's transcript."""

    text: TranscriptText = ""
    confidence: Confidence = None


class TranscriptAnswer(Document):
    """getRecordingTranscription: the real API's transcripts, or the seed specification's
    metadata whose `url` holds the result."""

    transcripts: list[TranscriptPart] | None = Field(None, max_length=8)
    url: Url = ""


@dataclass(frozen=True)
class Transcript:
    text: str
    # The mean of the parts' confidences (0 to 1), None if Bandwidth gave none.
    confidence: float | None

    @classmethod
    def from_parts(cls, parts: list[TranscriptPart]) -> Transcript:
        """Bandwidth's transcripts: one part per channel of a multi-channel recording."""
        texts = [part.text.strip() for part in parts]
        confidences = [part.confidence for part in parts if part.confidence is not None]
        return cls(
            text="\n".join(text for text in texts if text),
            confidence=sum(confidences) / len(confidences) if confidences else None,
        )


@dataclass(frozen=True)
class Media:
    """A recording's media on its way from Bandwidth: the answer's status and headers, and
    the body, read in chunks as it arrives. Close it once done (or abandoned)."""

    status: int
    content_type: str
    content_length: int | None
    content_range: str
    response: requests.Response

    def chunks(self, size: int = 64 * 1024) -> Iterator[bytes]:
        try:
            yield from self.response.iter_content(size)
        except requests.RequestException as error:
            raise TransientError(f"The download from Bandwidth broke off: {error}") from error

    def close(self) -> None:
        self.response.close()


class CreatedCall(Document):
    """createCall's answer: the real API's and the seed specification's share callId."""

    call_id: Id = Field(alias="callId")


D = TypeVar("D", bound=Document)


def _answer(kind: type[D], data: Any) -> D:
    """An API answer read through its schema: an answer that does not fit is Bandwidth's
    fault, not ours, and is refused like a 4xx."""
    try:
        return kind.read(data)
    except Unreadable as error:
        raise PermanentError(f"Bandwidth's answer could not be read: {error}") from None


def _json(response: requests.Response) -> Any:
    """An answer's JSON, as load_json reads it (no NaN, NUL or deep nesting)."""
    try:
        return load_json(response.content)
    except Unreadable as error:
        raise PermanentError(f"Bandwidth's answer could not be read: {error}", status=response.status_code) from None


def _json_list(response: requests.Response) -> list[Any]:
    data = _json(response)
    if not isinstance(data, list):
        raise PermanentError("Bandwidth's answer is not a list", status=response.status_code)
    return data


def _read(model: type[BaseModel], data: Any) -> Any:
    """A part of an answer through its schema; PermanentError if it does not fit."""
    try:
        check_storable(data)
        return model.model_validate(data)
    except (Unreadable, ValidationError) as error:
        raise PermanentError(f"Bandwidth's answer could not be read: {error}") from None


def _iso(value: datetime) -> str:
    """Bandwidth's own format: UTC, milliseconds, Z."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _description(response: requests.Response) -> str:
    """Bandwidth's error text: {"type", "description", "id"}; the status line otherwise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("description"):
        return str(body["description"])
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


def _http_error(response: requests.Response, description: str, body: str) -> BandwidthError:
    """The error an answer of 400 or more means: a 429 (with its Retry-After) or a 5xx is
    worth retrying; any other is Bandwidth refusing."""
    if response.status_code == 429:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return TransientError(description, status=429, body=body, retry_after=retry_after)
    if response.status_code >= 500:
        return TransientError(description, status=response.status_code, body=body)
    return PermanentError(description, status=response.status_code, body=body)


class BandwidthClient:
    def __init__(
        self,
        *,
        api_url: str,
        account_id: str,
        username: str,
        password: str,
        timeout: tuple[float, float] = (3.05, 10.0),
    ) -> None:
        self.base = f"{api_url.rstrip('/')}/accounts/{account_id}"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = (username, password)
        self.session.headers.update({"Accept": "application/json", "User-Agent": "Switchboard/0.1"})

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict | None = None,
        params: dict | None = None,
        idempotent: bool = True,
        xml: str | None = None,
        headers: dict | None = None,
        stream: bool = False,
        also_ok: tuple[int, ...] = (),
    ) -> requests.Response:
        """`path` is under the account, or a whole URL Bandwidth gave (a next page, a
        transcript): only ever on Bandwidth's own host, since it carries our credentials.
        The body is `json`, or a BXML document given as `xml`. A `stream`ed answer's body is
        read by the caller, who closes it; `also_ok` are error statuses the caller reads
        as an answer (a media Range beyond the file: 416)."""
        url = self.base + path
        if path.startswith(("http://", "https://")):
            if urlsplit(path).netloc != urlsplit(self.base).netloc:
                raise PermanentError(f"Refusing to send the API credentials to {urlsplit(path).netloc}")
            url = path
        headers = dict(headers or {})
        body = {}
        if xml is not None:
            body["data"] = xml.encode()
            headers["Content-Type"] = "application/xml"
        try:
            response = self.session.request(
                method,
                url,
                json=json,
                params=params,
                headers=headers,
                stream=stream,
                timeout=self.timeout,
                allow_redirects=False,
                **body,
            )
        except requests.ConnectionError as error:
            reason = error.args[0] if error.args else None
            never_sent = isinstance(error, requests.ConnectTimeout) or isinstance(
                getattr(reason, "reason", reason), (NewConnectionError, ConnectTimeoutError)
            )
            if idempotent or never_sent:
                raise TransientError(f"Bandwidth could not be reached: {error}") from error
            raise OutcomeUnknown(f"The connection to Bandwidth failed after sending: {error}") from error
        except requests.Timeout as error:
            if idempotent:
                raise TransientError("Bandwidth did not answer in time") from error
            raise OutcomeUnknown("Bandwidth did not answer in time; the request may have been applied") from error
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema) as error:
            raise PermanentError(f"The Bandwidth API URL is not usable: {error}") from error
        except requests.RequestException as error:
            # An answer broken off half-way (ChunkedEncodingError and the like).
            if idempotent:
                raise TransientError(f"Bandwidth's answer was cut short: {error}") from error
            raise OutcomeUnknown(f"Bandwidth's answer was cut short; the request may have been applied: {error}") from error

        if response.status_code < 400 or response.status_code in also_ok:
            return response
        # An error's body is small: read it for the message, then let the connection go.
        try:
            description, text = _description(response), response.text
        finally:
            response.close()
        raise _http_error(response, description, text)

    # Calls

    def create_call(
        self,
        *,
        to: str,
        from_number: str,
        answer_url: str,
        disconnect_url: str,
        application_id: str,
        username: str = "",
        password: str = "",
        tag: str | None = None,
        call_timeout: float | None = None,
    ) -> CreatedCall:
        body: dict[str, Any] = {
            "to": to,
            "from": from_number,
            "applicationId": application_id,
            "answerUrl": answer_url,
            "disconnectUrl": disconnect_url,
        }
        if username:
            body.update(username=username, password=password)
        if tag is not None:
            body["tag"] = tag
        if call_timeout is not None:
            body["callTimeout"] = call_timeout
        return _answer(CreatedCall, _json(self._request("POST", "/calls", json=body, idempotent=False)))

    def get_call(self, call_id: str) -> CallInfo:
        return _answer(CallInfo, _json(self._request("GET", f"/calls/{call_id}")))

    def hang_up(self, call_id: str) -> None:
        """Ends an answered call, cancels a ringing one. 404: unknown; 409: already ended.
        https://dev.bandwidth.com/apis/voice/#tag/Calls/operation/updateCall"""
        self._request("POST", f"/calls/{call_id}", json={"state": "completed"})

    def redirect(self, call_id: str, *, redirect_url: str, username: str = "", password: str = "") -> None:
        """Interrupt the call's BXML: Bandwidth sends a redirect webhook to `redirect_url` and
        runs the BXML it answers. Takes the call out of a conference. 409: not answered yet,
        or ended. https://dev.bandwidth.com/apis/voice/#tag/Calls/operation/updateCall"""
        body: dict[str, Any] = {"state": "active", "redirectUrl": redirect_url, "redirectMethod": "POST"}
        if username:
            body.update(username=username, password=password)
        self._request("POST", f"/calls/{call_id}", json=body)

    def replace_bxml(self, call_id: str, document: str) -> None:
        """Replace the call's running BXML with `document` (root <Bxml>) at once; 204. Takes
        the call out of a conference. 409: not answered yet, or ended.
        https://dev.bandwidth.com/apis/voice/#tag/Calls/operation/updateCallBxml"""
        self._request("PUT", f"/calls/{call_id}/bxml", xml=document)

    def _pages(self, path: str, params: dict) -> Iterator[dict[str, Any]]:
        """Every item of a listing, following its Link rel="next" pages."""
        response = self._request("GET", path, params=params)
        while True:
            yield from _json_list(response)
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            response = self._request("GET", following)

    def list_calls(self, *, min_start_time: datetime | None = None) -> list[CallInfo]:
        """The account's calls of the last 7 days (Bandwidth keeps no more), oldest first.
        Not in the seed specification: a 404 or 405 says this Bandwidth does not offer it.
        https://dev.bandwidth.com/apis/voice/#tag/Calls/operation/listCalls"""
        params: dict[str, Any] = {"pageSize": 1000}
        if min_start_time is not None:
            params["minStartTime"] = _iso(min_start_time)
        return [_answer(CallInfo, item) for item in self._pages("/calls", params)]

    # Conferences

    def list_conferences(self, *, min_created_time: datetime | None = None) -> list[ConferenceInfo]:
        """Conferences, active and completed, without their members.
        https://dev.bandwidth.com/apis/voice/#tag/Conferences/operation/listConferences"""
        params: dict[str, Any] = {"pageSize": 1000}
        if min_created_time is not None:
            params["minCreatedTime"] = _iso(min_created_time)
        return [_answer(ConferenceInfo, item) for item in self._pages("/conferences", params)]

    def get_conference(self, conference_id: str) -> ConferenceInfo:
        """The conference with its activeMembers (mute, hold, callIdsToCoach of each).
        https://dev.bandwidth.com/apis/voice/#tag/Conferences/operation/getConference"""
        return _answer(ConferenceInfo, _json(self._request("GET", f"/conferences/{conference_id}")))

    def end_conference(self, conference_id: str) -> None:
        """Eject every member (each continues its own BXML after <Conference>) and complete
        the conference; 204. The field is `status`, whatever the docs' prose says (`state`
        is silently ignored). https://dev.bandwidth.com/apis/voice/#tag/Conferences/operation/updateConference"""
        self._request("POST", f"/conferences/{conference_id}", json={"status": "completed"})

    def redirect_conference(self, conference_id: str, *, redirect_url: str, username: str = "", password: str = "") -> None:
        """Bandwidth sends conferenceRedirect to `redirect_url`; the BXML answered (conference
        verbs only: recording, speech, audio) runs in the conference.
        https://dev.bandwidth.com/apis/voice/#tag/Conferences/operation/updateConference"""
        body: dict[str, Any] = {"status": "active", "redirectUrl": redirect_url, "redirectMethod": "POST"}
        if username:
            body.update(username=username, password=password)
        self._request("POST", f"/conferences/{conference_id}", json=body)

    def update_member(
        self,
        conference_id: str,
        member_id: str,
        *,
        mute: bool | None = None,
        hold: bool | None = None,
        call_ids_to_coach: list[str] | None = None,
    ) -> None:
        """A partial update of one member: fields left None are not sent, and Bandwidth keeps
        them. 204, and no webhook follows (read the member back to confirm). One coach per
        conference; an empty list ends coaching.
        https://dev.bandwidth.com/apis/voice/#tag/Conferences/operation/updateConferenceMember"""
        body: dict[str, Any] = {}
        if mute is not None:
            body["mute"] = mute
        if hold is not None:
            body["hold"] = hold
        if call_ids_to_coach is not None:
            body["callIdsToCoach"] = call_ids_to_coach
        self._request("PUT", f"/conferences/{conference_id}/members/{member_id}", json=body)

    def get_member(self, conference_id: str, member_id: str) -> MemberInfo:
        """One member's mute, hold and callIdsToCoach; 404 once it has left. Not in the seed
        specification. https://dev.bandwidth.com/apis/voice/#tag/Conferences/operation/getConferenceMember"""
        return _answer(MemberInfo, _json(self._request("GET", f"/conferences/{conference_id}/members/{member_id}")))

    # Recordings and transcriptions

    def list_recordings(
        self, *, min_start_time: datetime | None = None, max_start_time: datetime | None = None
    ) -> list[RecordingInfo]:
        """The account's call recordings (at most 1000, no further pages), with their
        transcriptions' metadata. Filtered by minStartTime/maxStartTime, which mean the same in
        the real API and the seed specification (their from/to do not).
        https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/listAccountCallRecordings"""
        params = {}
        if min_start_time is not None:
            params["minStartTime"] = _iso(min_start_time)
        if max_start_time is not None:
            params["maxStartTime"] = _iso(max_start_time)
        data = _json_list(self._request("GET", "/recordings", params=params or None))
        return [_answer(RecordingInfo, item) for item in data]

    def list_conference_recordings(self, conference_id: str) -> list[RecordingInfo]:
        """https://dev.bandwidth.com/apis/voice/#tag/Conferences/operation/listConferenceRecordings"""
        data = _json_list(self._request("GET", f"/conferences/{conference_id}/recordings"))
        return [_answer(RecordingInfo, {**item, "conferenceId": conference_id}) for item in data]

    def get_transcription(self, call_id: str, recording_id: str) -> Transcript:
        """A recording's transcript. The real API answers {"transcripts": [{text,
        confidence}]}; the seed specification answers metadata whose `url` holds the result,
        which is then fetched (only from Bandwidth's own host: it gets our credentials).
        https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/getRecordingTranscription"""
        answer = _answer(TranscriptAnswer, _json(self._request("GET", self._recording_path(call_id, recording_id) + "/transcription")))
        if answer.transcripts is not None:
            return Transcript.from_parts(answer.transcripts)
        if urlsplit(answer.url).netloc != urlsplit(self.base).netloc:
            raise PermanentError(f"The transcription of {recording_id} has no transcripts and no usable url")
        response = self._request("GET", answer.url)
        if "json" not in response.headers.get("Content-Type", ""):
            return Transcript.from_parts([_read(TranscriptPart, {"text": response.text})])
        result = _json(response)
        if isinstance(result, dict) and isinstance(result.get("transcripts"), list):
            return Transcript.from_parts(_answer(TranscriptAnswer, result).transcripts)
        if isinstance(result, dict) and "text" in result:
            return Transcript.from_parts([_read(TranscriptPart, result)])
        raise PermanentError(f"The transcription of {recording_id} could not be read")

    @staticmethod
    def _recording_path(call_id: str, recording_id: str, *, conference_id: str = "") -> str:
        """A call's or a conference's recording; each id quoted as one path segment (ids
        come from webhooks, and must not lead anywhere else under the account)."""
        owner = f"/calls/{quote(call_id, safe='')}" if call_id else f"/conferences/{quote(conference_id, safe='')}"
        return f"{owner}/recordings/{quote(recording_id, safe='')}"

    def request_transcription(
        self, call_id: str, recording_id: str, *, callback_url: str, username: str, password: str
    ) -> int:
        """Ask Bandwidth to transcribe a call recording; transcriptionAvailable comes to
        `callback_url`. Any 2xx is success (204 in the real API, 200 in the seed
        specification). Only call recordings of 0.5 s to 4 h can be transcribed.
        https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/transcribeCallRecording"""
        body = {"callbackUrl": callback_url, "callbackMethod": "POST", "username": username, "password": password}
        return self._request("POST", self._recording_path(call_id, recording_id) + "/transcription", json=body).status_code

    def delete_recording(self, call_id: str, recording_id: str) -> int:
        """Delete a call recording: its metadata, media and transcription are inaccessible at
        once, and purged within 24 to 48 hours. Bandwidth offers no deletion of conference
        recordings. https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/deleteRecording"""
        return self._request("DELETE", self._recording_path(call_id, recording_id)).status_code

    def recording_media(
        self, recording_id: str, *, call_id: str = "", conference_id: str = "", byte_range: str = ""
    ) -> Media:
        """A call's or a conference's recording media, streamed (the caller reads the chunks
        and closes it). `byte_range` is forwarded as the Range header: Bandwidth answers 206
        with Content-Range, or 416 for a range beyond the file, which is returned too. The
        URL is built from the ids on Bandwidth's own host, never taken from a mediaUrl, so
        the credentials go nowhere else.
        https://dev.bandwidth.com/apis/voice/#tag/Recordings/operation/downloadCallRecording"""
        path = self._recording_path(call_id, recording_id, conference_id=conference_id) + "/media"
        headers = {"Accept": "audio/*"}
        if byte_range:
            headers["Range"] = byte_range
        response = self._request("GET", path, headers=headers, stream=True, also_ok=(416,))
        length = response.headers.get("Content-Length", "")
        return Media(
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            content_length=int(length) if length.isdigit() else None,
            content_range=response.headers.get("Content-Range", ""),
            response=response,
        )


_local = threading.local()


def client() -> BandwidthClient:
    """This thread's client, configured from settings (requests.Session is not thread-safe;
    a change of settings, as tests make, gets a new one)."""
    config = (
        settings.BANDWIDTH_API_URL,
        settings.BANDWIDTH_ACCOUNT_ID,
        settings.BANDWIDTH_USERNAME,
        settings.BANDWIDTH_PASSWORD,
        tuple(settings.BANDWIDTH_TIMEOUT),
    )
    if getattr(_local, "config", None) != config:
        api_url, account_id, username, password, timeout = config
        _local.client = BandwidthClient(
            api_url=api_url, account_id=account_id, username=username, password=password, timeout=timeout
        )
        _local.config = config
    return _local.client
