"""What the tests need from the machine, and what happens when it is missing.

Locally a test that needs Redis, PostgreSQL or Chromium is skipped when they are missing;
under CI (CI=true) it fails instead, so a green CI run has really run every test.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# A database of its own: the production-profile tests flush it before they start. Two
# checkouts testing at once on one machine must set different ones.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require(available: bool, what: str) -> None:
    if available:
        return
    if UNDER_CI:
        pytest.fail(f"{what} is required under CI and is missing")
    pytest.skip(f"{what} is not available")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    require(bool(path), "Chromium (Debian's chromium package)")
    return path


def require_postgres() -> None:
    require(_answers("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")


def require_redis() -> None:
    require(_answers("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
