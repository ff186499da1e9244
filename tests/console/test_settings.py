"""The settings module: embedded defaults, and a production profile that refuses to guess."""

import os
import subprocess
import sys

from console.processes import BASE_DIR

SECRETS = [
    "SECRET_KEY",
    "BANDWIDTH_ACCOUNT_ID",
    "BANDWIDTH_USERNAME",
    "BANDWIDTH_PASSWORD",
    "BANDWIDTH_APPLICATION_ID",
    "WEBHOOK_USERNAME",
    "WEBHOOK_PASSWORD",
]


def load_settings(**env) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in SECRETS and key != "DEBUG"}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.BANDWIDTH_API_URL)"],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "console.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_debug_off_missing_secrets_are_named_and_start_is_refused():
    result = load_settings(DEBUG="false", SECRET_KEY="k" * 60, BANDWIDTH_USERNAME="user")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for name in ("BANDWIDTH_ACCOUNT_ID", "BANDWIDTH_PASSWORD", "WEBHOOK_USERNAME", "WEBHOOK_PASSWORD"):
        assert name in result.stderr
    assert "SECRET_KEY," not in result.stderr and "BANDWIDTH_USERNAME" not in result.stderr


def test_with_debug_off_and_every_secret_set_the_real_bandwidth_is_the_default():
    result = load_settings(DEBUG="false", **{name: "set" for name in SECRETS})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://voice.bandwidth.com/api/v2"


def test_the_embedded_default_talks_to_the_local_sandbox():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8001/api/v2"


def test_a_malformed_boolean_is_refused_not_guessed():
    result = load_settings(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_the_production_profile_passes_djangos_deployment_checks():
    env = {name: "set-" + name.lower() for name in SECRETS}
    env["SECRET_KEY"] = "a-production-secret-key-" + "x1y2z3" * 8
    clean = {key: value for key, value in os.environ.items() if key not in SECRETS and key != "DEBUG"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**clean, "DEBUG": "false", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
