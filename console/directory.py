"""The directory: names for numbers, read from each process's memory, and the CSV import.

Every number the console shows is looked up here (a board of a hundred rows, each live frame
rendered in every daphne process), and the directory changes only when an admin edits it.
So each process keeps a copy, as it does the call routes (voice/shared_copy.py says how it
stays current).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from console import phone_numbers
from console.models import DirectoryEntry
from voice.shared_copy import SharedCopy

# Every entry by its number.
directory = SharedCopy(DirectoryEntry, lambda: {entry.number: entry for entry in DirectoryEntry.objects.all()}, "console.directory.version")


def entry_for(number: str) -> DirectoryEntry | None:
    return directory.get().get(number) if number else None


def described(number: str) -> str:
    """A number as a sentence names it: "Ann Lee, (919) 555-0100", or "(919) 555-0100"."""
    entry = entry_for(number)
    shown = phone_numbers.display(number)
    return f"{entry.name}, {shown}" if entry else shown


def numbers_named(text: str) -> list[str]:
    """The numbers whose name or label holds `text` (case aside)."""
    text = text.strip().casefold()
    if not text:
        return []
    return [
        number
        for number, entry in directory.get().items()
        if text in entry.name.casefold() or text in entry.label.casefold()
    ]


# What a person types for a number, whole or in part: digits and the signs numbers are written with.
NUMBERISH = re.compile(r"^[\d\s()+./-]+$")


def matching(text: str, *fields: str) -> Q:
    """The rows one of whose `fields` (numbers in E.164) is the number `text` names, in
    either form, or holds part of it, or is a directory entry whose name or label holds
    `text`."""
    found = Q(pk__in=[])
    text = text.strip()
    digits = phone_numbers.search_digits(text) if NUMBERISH.match(text) else ""
    named = numbers_named(text)
    for name in fields:
        if digits:
            found |= Q(**{f"{name}__contains": digits})
        if named:
            found |= Q(**{f"{name}__in": named})
    return found


# The CSV import

IMPORT_COLUMNS = ("number", "name", "kind", "label")
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 10_000


@dataclass
class ImportResult:
    # Line number (as a spreadsheet counts them, the header is line 1) and what is wrong.
    errors: list[tuple[int, str]] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def import_csv(upload: bytes) -> ImportResult:
    """Adds or updates (by number) the entries of a CSV file with the columns number, name,
    and optionally kind (contact or agent) and label. Every line is checked first: one bad
    line and nothing is written, and every bad line is reported."""
    result = ImportResult()
    if len(upload) > IMPORT_MAX_BYTES:
        result.errors.append((0, f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB."))
        return result
    try:
        text = upload.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        result.errors.append((0, f"The file is not UTF-8 text ({error.reason} at byte {error.start})."))
        return result
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in ("number", "name") if name not in header]
    unknown = [name for name in header if name not in IMPORT_COLUMNS]
    if missing or unknown:
        parts = [f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"] if missing else []
        parts += [f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"] if unknown else []
        result.errors.append((1, "The header must name number, name, kind, label: " + "; ".join(parts) + "."))
        return result
    reader.fieldnames = header
    entries: dict[str, DirectoryEntry] = {}
    try:
        for row in reader:
            line = reader.line_num
            if len(entries) + len(result.errors) >= IMPORT_MAX_ROWS:
                result.errors.append((line, f"More than {IMPORT_MAX_ROWS:,} lines: import them in parts."))
                break
            if None in row:
                result.errors.append((line, "more cells than columns."))
                continue
            values = {name: (row.get(name) or "").strip() for name in IMPORT_COLUMNS}
            if not any(values.values()):
                continue
            entry = DirectoryEntry(
                number=phone_numbers.to_e164(values["number"]) or values["number"], name=values["name"], kind=values["kind"].lower() or DirectoryEntry.Kind.CONTACT,
                label=values["label"],
            )
            try:
                entry.full_clean(validate_unique=False)
            except ValidationError as error:
                result.errors.append((line, _reasons(error)))
                continue
            if entry.number in entries:
                result.errors.append((line, f"{entry.number} is on an earlier line too."))
                continue
            entries[entry.number] = entry
    except csv.Error as error:
        result.errors.append((reader.line_num, f"not readable as CSV: {error}."))
    if result.errors:
        return result
    with transaction.atomic():
        known = set(DirectoryEntry.objects.filter(number__in=list(entries)).values_list("number", flat=True))
        DirectoryEntry.objects.bulk_create(
            entries.values(), update_conflicts=True, unique_fields=["number"], update_fields=["name", "kind", "label", "updated_at"]
        )
        # bulk_create sends no post_save: every process reads the directory again.
        transaction.on_commit(directory.changed)
    result.updated = len(known)
    result.created = len(entries) - result.updated
    return result


def _reasons(error: ValidationError) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
