"""manage.py sandbox explains itself and takes its limits and faults from the command line."""

import subprocess
import sys

import requests

from console.processes import BASE_DIR
from tests.support.sandbox import running_sandbox


def test_help_explains_every_option():
    result = subprocess.run(
        [sys.executable, "manage.py", "sandbox", "--help"], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for option in (
        "--port",
        "--scenario",
        "--rate",
        "--seed",
        "--speed",
        "--calls-per-second",
        "--max-calls",
        "--max-conference-members",
        "--fault-429",
        "--fault-5xx",
        "--fault-latency-ms",
        "--fault-webhook-duplicate",
        "--fault-webhook-reorder",
        "--fault-webhook-drop",
    ):
        assert option in result.stdout
    assert "PUBLIC_URL" in result.stdout


def test_a_fault_out_of_range_stops_the_command_with_a_reason():
    result = subprocess.run(
        [sys.executable, "manage.py", "sandbox", "--fault-webhook-drop", "2"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "webhookDrop" in result.stderr


def test_fault_flags_and_the_environment_set_the_running_sandbox(tmp_path):
    args = ("--fault-429", "1", "--fault-webhook-drop", "0.2")
    with running_sandbox(public_url="http://127.0.0.1:9", log_dir=tmp_path, args=args) as sandbox:
        faults = sandbox.faults()
        limited = requests.get(f"{sandbox.api_url}/accounts/9900000/calls/c-1", auth=sandbox.auth, timeout=5)
        application = sandbox.application()

    assert faults["errorRate429"] == 1 and faults["webhookDrop"] == 0.2 and faults["latencyMs"] == 0
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert application["callInitiatedCallbackUrl"] == application["callStatusCallbackUrl"] == "http://127.0.0.1:9/webhooks/voice"
