"""A whole running Switchboard for end-to-end tests: the same processes `make run` starts
(embedded default), or daphne, a separate Celery worker and the sandbox on PostgreSQL and
Redis (production profile)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from console.processes import (
    ProcessGroup,
    beat_command,
    console_command,
    free_port,
    manage_command,
    start_balanced,
    wait_for_port,
    worker_command,
)
from tests.support.sandbox import SandboxHandle
from tests.support.services import POSTGRES_URL, REDIS_URL

PRODUCTION_SECRETS = {
    "DEBUG": "false",
    "SECRET_KEY": "e2e-" + uuid.uuid4().hex * 2,
    "BANDWIDTH_ACCOUNT_ID": "5550001",
    "BANDWIDTH_USERNAME": "e2e-api-user",
    "BANDWIDTH_PASSWORD": "e2e-api-" + uuid.uuid4().hex,
    "BANDWIDTH_APPLICATION_ID": str(uuid.uuid4()),
    "WEBHOOK_USERNAME": "e2e-hooks",
    "WEBHOOK_PASSWORD": "e2e-hooks-" + uuid.uuid4().hex,
    # The browser talks plain http to 127.0.0.1 in the test.
    "SECURE_COOKIES": "false",
    "SECURE_SSL_REDIRECT": "false",
}
# How long a process may take to listen: a bound, not a pause. Python processes importing
# Django and Twisted take tens of seconds on a loaded two-core machine.
STARTED_WITHIN = 90


@dataclass
class Stack:
    url: str
    sandbox: SandboxHandle
    passwords: dict[str, str]
    logs: Path
    # The production profile's PostgreSQL database; None for the embedded default's SQLite.
    database_url: str | None = None
    # Each console process's own URL (the load balancer, at `url`, spreads over them).
    consoles: list[str] = field(default_factory=list)
    # The processes by name ("console", "worker", "beat", "sandbox"…), and how to start one
    # again with its command: the fault tests kill and restart them.
    processes: ProcessGroup | None = None
    start: Callable[[str], subprocess.Popen] | None = None

    def log_text(self) -> str:
        return stack_logs(self.logs)

    def kill(self, name: str) -> None:
        """SIGKILL the process `name`, as the kernel's OOM killer or a lost machine would."""
        process = self.processes.processes[name]
        process.kill()
        process.wait()


@contextmanager
def _postgres_database():
    import psycopg

    name = f"switchboard_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(command: list[str], env: dict, log: Path) -> None:
    with log.open("a") as output:
        subprocess.run(command, env=env, check=True, stdout=output, stderr=subprocess.STDOUT, timeout=180)


@contextmanager
def running_stack(tmp_path: Path, *, production: bool = False, web: int = 1, workers: int = 1, redis_url: str = REDIS_URL):
    """The processes `make run` starts, or with `production` those of the production
    profile: `web` daphne processes (behind HAProxy when more than one), `workers` Celery
    workers and beat, on a PostgreSQL database of its own and `redis_url`."""
    logs = tmp_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    console_port, sandbox_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        PUBLIC_URL=f"http://127.0.0.1:{console_port}",
        BANDWIDTH_API_URL=f"http://127.0.0.1:{sandbox_port}/api/v2",
    )
    with _postgres_database() if production else _nothing() as database_url:
        if production:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
            env.update(PRODUCTION_SECRETS, DATABASE_URL=database_url, REDIS_URL=redis_url)
        if web > 1:
            # Behind HAProxy, which appends the client's address to X-Forwarded-For.
            env["PROXY_COUNT"] = "1"
        setup_log = logs / "setup.log"
        _run(manage_command("migrate", "--noinput"), env, setup_log)
        _run(manage_command("demo_data"), env, setup_log)
        if production:
            _run(manage_command("collectstatic", "--noinput"), env, setup_log)
        passwords = json.loads((tmp_path / "var" / "demo-users.json").read_text())

        group = ProcessGroup(env=env)
        files, commands = [], {}
        try:
            def start(name: str, command: list[str] | None = None):
                """Start `command` as `name`, or without one start `name` again."""
                command = commands.setdefault(name, command)
                output = (logs / f"{name}.log").open("a")
                files.append(output)
                return group.start(name, command, stdout=output, stderr=subprocess.STDOUT)

            consoles = _start_consoles(start, console_port, web, tmp_path / "var", logs)
            if production:
                for number in range(1, workers + 1):
                    start(f"worker{number}" if workers > 1 else "worker", worker_command(f"worker{number}@%h"))
                start("beat", beat_command(tmp_path / "var" / "celerybeat-schedule"))
            sandbox = start("sandbox", manage_command("sandbox", "--port", str(sandbox_port), "--scenario", "quiet"))
            if not wait_for_port("127.0.0.1", sandbox_port, STARTED_WITHIN, alive=lambda: sandbox.poll() is None):
                raise RuntimeError("the sandbox did not start:\n" + (logs / "sandbox.log").read_text())
            auth = (env.get("BANDWIDTH_USERNAME", "sandbox"), env.get("BANDWIDTH_PASSWORD", "sandbox-password"))
            stack = Stack(
                url=f"http://127.0.0.1:{console_port}",
                sandbox=SandboxHandle(url=f"http://127.0.0.1:{sandbox_port}", log=logs / "sandbox.log", auth=auth),
                passwords=passwords,
                logs=logs,
                database_url=database_url,
                consoles=consoles,
                processes=group,
                start=start,
            )
            try:
                yield stack
            except Exception:
                # A failing test shows what the processes said (pytest prints captured output).
                print(stack.log_text())
                raise
        finally:
            group.stop()
            for output in files:
                output.close()


def _start_consoles(start, port: int, count: int, var: Path, logs: Path) -> list[str]:
    """One daphne on `port`, or `count` of them behind HAProxy listening on `port`."""
    if count == 1:
        console = start("console", console_command("127.0.0.1", port))
        if not wait_for_port("127.0.0.1", port, STARTED_WITHIN, alive=lambda: console.poll() is None):
            raise RuntimeError("the console did not start:\n" + (logs / "console.log").read_text())
        return [f"http://127.0.0.1:{port}"]
    ports = start_balanced(start, "127.0.0.1", port, count, var / "haproxy.cfg")
    return [f"http://127.0.0.1:{own}" for own in ports]


def stack_logs(logs: Path) -> str:
    return "\n".join(f"--- {path.name}\n{path.read_text()[-5000:]}" for path in sorted(logs.glob("*.log")))


@contextmanager
def _nothing():
    yield None
