"""Logging filters for the console's terminal output."""

from __future__ import annotations

import logging


class NoTracebackBelow500(logging.Filter):
    """A refused request (403 for a permission, 404) is logged as one line: Django attaches
    the exception to the record, whose traceback says nothing an operator can act on. A 5xx
    keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.") and getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
