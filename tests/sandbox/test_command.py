"""manage.py sandbox explains itself."""

import subprocess
import sys

from console.processes import BASE_DIR


def test_help_explains_every_option():
    result = subprocess.run(
        [sys.executable, "manage.py", "sandbox", "--help"], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for option in ("--port", "--scenario", "--rate", "--seed", "--speed"):
        assert option in result.stdout
    assert "PUBLIC_URL" in result.stdout
