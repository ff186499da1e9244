"""Every page sends a Content-Security-Policy that refuses inline scripts (issue 12), and no
template or script of ours needs what the policy refuses: inline scripts and event handlers,
javascript: URLs, style attributes, eval."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from console.processes import BASE_DIR
from tests.support.recordings import recording
from voice.models import Call, CallState, Conference

CALL = "c-7d1e2f3a-0b4c-4d5e-8f90-a1b2c3d4e5f6"
CONFERENCE = "conf-3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"

PAGES = [
    "/",
    f"/calls/{CALL}",
    f"/conferences/{CONFERENCE}/",
    "/conferences/",
    "/history/",
    "/recordings/",
    "/recordings/r-0001/",
    "/audit/",
    "/admin/",
    "/admin/console/auditentry/",
    "/admin/axes/accessattempt/",
    "/admin/voice/route/add/",
]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in header.split(";") if part.strip())}


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))
    now = timezone.now()
    Call.objects.create(call_id=CALL, direction="inbound", state=CallState.ANSWERED, start_time=now)
    Conference.objects.create(conference_id=CONFERENCE, name="sales-floor", created_time=now)
    recording()
    return client


@pytest.mark.parametrize("page", PAGES)
def test_every_page_sends_a_policy_without_inline_scripts(admin_client, page):
    response = admin_client.get(page)
    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'self'" in directives["connect-src"] and "'self'" in directives["media-src"]


def test_the_sign_in_page_sends_the_policy_too(client, db):
    assert policy(client.get("/login/"))["script-src"] == ["'self'"]


def test_htmx_is_told_not_to_inject_its_indicator_style_nor_to_eval(admin_client):
    page = admin_client.get("/").content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert config, "base.html configures htmx"
    assert '"includeIndicatorStyles": false' in config.group(1)
    assert '"allowEval": false' in config.group(1)


TEMPLATES = sorted((BASE_DIR / "templates").rglob("*.html"))
SCRIPTS = sorted((BASE_DIR / "static" / "js").glob("*.js"))

# What the policy refuses, as it appears in a template.
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)
EVAL = re.compile(r"\beval\s*\(|new\s+Function\s*\(|\bFunction\s*\(|set(?:Timeout|Interval)\s*\(\s*[\"']")


def _relative(path: Path) -> str:
    return str(path.relative_to(BASE_DIR))


@pytest.mark.parametrize("template", TEMPLATES, ids=_relative)
def test_no_template_has_an_inline_script_handler_style_or_javascript_url(template):
    text = template.read_text()
    found = [
        match.group(0)
        for pattern in (INLINE_HANDLER, INLINE_SCRIPT, STYLE, JAVASCRIPT_URL)
        for match in pattern.finditer(text)
    ]
    assert not found


@pytest.mark.parametrize("script", SCRIPTS, ids=_relative)
def test_no_script_evaluates_text_as_code(script):
    assert not EVAL.findall(script.read_text())
