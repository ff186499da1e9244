"""Streaming CSV: rows are written as they are read, so an export of any size holds one
chunk of rows in memory (Django's "Streaming large CSV files" recipe).

Under ASGI (daphne) Django reads a synchronous iterator to the end before sending anything,
so there the rows are read by an asynchronous iterator that fetches each chunk in the
request's own thread (where the database cursor lives); under WSGI the plain generator
streams as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

CHUNK = 2000


def moment(value: datetime | None) -> str:
    """A time as a CSV cell: in the operator's time zone, to the second, with its offset."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S%z") if value else ""


def _chunks(header: list[str], rows: Iterable[Any], to_cells: Callable[[Any], list[str]]) -> Iterator[str]:
    """The CSV text, CHUNK rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(to_cells(row))
        if count % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _from_request_thread(chunks: Iterator[str]) -> AsyncIterator[str]:
    # thread_sensitive: every chunk is read in the request's one thread, the thread whose
    # database connection holds the cursor.
    read = sync_to_async(next, thread_sensitive=True)
    while (chunk := await read(chunks, None)) is not None:
        yield chunk


def streaming_csv(
    request: HttpRequest, filename: str, header: list[str], rows: Iterable[Any], to_cells: Callable[[Any], list[str]]
) -> StreamingHttpResponse:
    chunks = _chunks(header, rows, to_cells)
    content = _from_request_thread(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
