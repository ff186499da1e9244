"""A production-profile Switchboard for the benchmarks: daphne and a separate Celery worker
pinned to core 0 on PostgreSQL and Redis, started from this checkout or from another git
revision (BENCH_COMPARE_REF), so that before and after are measured in one session on the
same machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from console.processes import BASE_DIR, ProcessGroup, free_port, wait_for_port
from tests.support.services import REDIS_URL
from tests.support.stack import PRODUCTION_SECRETS, _postgres_database


@dataclass
class BenchStack:
    url: str
    passwords: dict[str, str]
    env: dict[str, str]
    source: Path
    logs: Path
    # Every daphne's URL (url is the first), and its process id.
    urls: list[str] = field(default_factory=list)
    daphne_pids: list[int] = field(default_factory=list)

    def daphne_cpu_seconds(self) -> float:
        """CPU time the daphne processes have used so far (user and system)."""
        ticks = 0
        for pid in self.daphne_pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def manage(self, *args: str) -> str:
        """Runs manage.py of the stack's source with the stack's environment (the same database)."""
        done = subprocess.run(
            [sys.executable, str(self.source / "manage.py"), *args],
            env=self.env, cwd=self.source, capture_output=True, text=True, check=True, timeout=600,
        )
        return done.stdout


@contextmanager
def source_tree(ref: str | None):
    """This checkout (ref None), or `ref` exported from git into a temporary directory."""
    if not ref:
        yield BASE_DIR
        return
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as tmp:
        archive = Path(tmp) / "source.tar"
        subprocess.run(["git", "archive", "--output", str(archive), ref], cwd=BASE_DIR, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "src", filter="data")
        (Path(tmp) / "src" / "sitecustomize.py").write_text(ONLY_THIS_SOURCE)
        yield Path(tmp) / "src"


# Written into another revision's source: this checkout's editable install finds a module
# of console or voice that revision lacks (console/tasks.py for one) in this checkout, and
# the revision would run a mixture. Python imports sitecustomize from PYTHONPATH after the
# install's finder is in place; this takes it out.
ONLY_THIS_SOURCE = """import sys

sys.meta_path[:] = [finder for finder in sys.meta_path if not getattr(finder, "__module__", "").startswith("__editable__")]
"""


@contextmanager
def production_stack(source: Path, tmp: Path, *, daphnes: int = 1):
    """daphne (several with `daphnes`) and a Celery worker on core 0; no sandbox (the
    benchmark sends the webhooks itself)."""
    import redis

    logs = tmp / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with _postgres_database() as database_url:
        redis.Redis.from_url(REDIS_URL).flushdb()
        env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            PRODUCTION_SECRETS,
            DATABASE_URL=database_url,
            REDIS_URL=REDIS_URL,
            VAR_DIR=str(tmp / "var"),
            # INFO: channels_redis reports dropped messages ("over capacity") at INFO.
            LOG_LEVEL="INFO",
            # The source under test, not this checkout's editable install.
            PYTHONPATH=str(source),
        )
        ports = [free_port() for _ in range(daphnes)]
        env["PUBLIC_URL"] = f"http://127.0.0.1:{ports[0]}"
        stack = BenchStack(url=env["PUBLIC_URL"], passwords={}, env=env, source=source, logs=logs)
        stack.manage("migrate", "--noinput", "-v", "0")
        stack.manage("demo_data")
        stack.manage("collectstatic", "--noinput", "-v", "0")
        stack.passwords = json.loads((tmp / "var" / "demo-users.json").read_text())
        group = ProcessGroup(env=env)
        files = []
        try:
            def start(name: str, command: list[str]):
                output = (logs / f"{name}.log").open("w")
                files.append(output)
                return group.processes.setdefault(
                    name,
                    subprocess.Popen(["taskset", "-c", "0", *command], cwd=source, env=env, stdout=output, stderr=subprocess.STDOUT),
                )

            for n, port in enumerate(ports):
                daphne = start(f"daphne{n}", [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "console.asgi:application"])
                assert wait_for_port("127.0.0.1", port, 30, alive=lambda: daphne.poll() is None), (logs / f"daphne{n}.log").read_text()
                stack.daphne_pids.append(daphne.pid)
            start("worker", [sys.executable, "-m", "celery", "-A", "console", "worker", "--loglevel", "WARNING", "--concurrency", "2"])
            stack.urls = [f"http://127.0.0.1:{port}" for port in ports]
            yield stack
        finally:
            group.stop()
            for output in files:
                output.close()
