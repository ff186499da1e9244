"""Streaming CSV: rows are written as they are read, so an export of any size holds one
chunk of rows in memory (Django's "Streaming large CSV files" recipe)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

CHUNK = 2000


class _Echo:
    """A file-like object whose write returns what it was given, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _lines(header: list[str], rows: Iterable[Any], to_cells: Callable[[Any], list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(to_cells(row))


def streaming_csv(filename: str, header: list[str], rows: Iterable[Any], to_cells: Callable[[Any], list[str]]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_lines(header, rows, to_cells), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
