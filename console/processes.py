"""Starting and stopping the processes that make up a running Switchboard.

Used by `manage.py up` (the embedded default) and by the end-to-end tests, so that tests
run the same processes a user does.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path

from console import loadbalancer

BASE_DIR = Path(__file__).resolve().parent.parent


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float, *, alive=lambda: True) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def console_command(host: str, port: int) -> list[str]:
    # -v 0: no access log on stdout; every webhook is in the event log already.
    return [sys.executable, "-m", "daphne", "-v", "0", "-b", host, "-p", str(port), "console.asgi:application"]


def manage_command(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


def worker_command(hostname: str = "worker@%h") -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "console", "worker",
        "--loglevel", "WARNING", "--concurrency", "2", "--hostname", hostname,
    ]  # fmt: skip


def beat_command(schedule: Path) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "console", "beat", "--loglevel", "WARNING", "--schedule", str(schedule)]


def start_balanced(start: Callable[[str, list[str]], subprocess.Popen], host: str, port: int, count: int, config: Path) -> list[int]:
    """`count` daphne processes on free ports behind HAProxy on `port`, each answering
    before this returns (`start(name, command)` starts a process); their ports."""
    ports = [free_port() for _ in range(count)]
    started = [(own, start(f"console{number}", console_command(host, own))) for number, own in enumerate(ports, 1)]
    for own, console in started:
        if not wait_for_port(host, own, 30, alive=lambda console=console: console.poll() is None):
            raise RuntimeError(f"the console on port {own} did not start")
    loadbalancer.write(config, f"{host}:{port}", [f"{host}:{own}" for own in ports])
    balancer = start("loadbalancer", loadbalancer.command(config))
    if not wait_for_port(host, port, 10, alive=lambda: balancer.poll() is None):
        raise RuntimeError("HAProxy did not start (Debian's haproxy package)")
    return ports


@dataclass
class ProcessGroup:
    """Child processes started together and stopped together (SIGTERM, then SIGKILL)."""

    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str], **popen) -> subprocess.Popen:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, **popen)
        self.processes[name] = process
        return process

    def exited(self) -> dict[str, int]:
        return {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}

    def stop(self, timeout: float = 10.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
