"""python manage.py up — the whole console on one machine, Ctrl-C stops everything it started.

The embedded default: daphne (with the embedded Celery worker and beat), the sandbox and its
demo traffic. With REDIS_URL set (the production profile): several daphne processes behind
HAProxy (console/loadbalancer.py), several Celery workers and one beat, and the sandbox."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console import processes


class Command(BaseCommand):
    help = "Run the console with the sandbox and demo traffic (several processes behind HAProxy with REDIS_URL set)."

    def add_arguments(self, parser) -> None:
        public = urlsplit(settings.PUBLIC_URL)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=public.port or 8000, help="console port (default: PUBLIC_URL's)")
        parser.add_argument("--scenario", default="demo", help="sandbox scenario (see manage.py sandbox --help)")
        parser.add_argument("--rate", type=float, default=None, help="sandbox inbound calls per minute")
        parser.add_argument("--no-sandbox", action="store_true", help="do not start the sandbox")
        parser.add_argument("--web", type=int, default=2, help="daphne processes (with REDIS_URL)")
        parser.add_argument("--workers", type=int, default=2, help="Celery workers (with REDIS_URL)")

    def handle(self, *args, **options) -> None:
        host, port = options["host"], options["port"]
        if not processes.port_is_free(host, port):
            raise CommandError(f"Port {port} is in use: is Switchboard already running? Stop it, or pass --port.")
        group = processes.ProcessGroup()
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            if settings.REDIS_URL:
                self.start_several(group, host, port, web=options["web"], workers=options["workers"])
            else:
                self.start_one(group, host, port)
            # After the console listens: the sandbox's first call must find its webhooks.
            if not options["no_sandbox"]:
                sandbox_args = ["sandbox", "--scenario", options["scenario"]]
                if options["rate"] is not None:
                    sandbox_args += ["--rate", str(options["rate"])]
                group.start("sandbox", processes.manage_command(*sandbox_args))
            self.stdout.write(
                self.style.SUCCESS(f"\nSwitchboard is running: http://{host}:{port}/")
                + "\nSign in as admin, supervisor or agent with the passwords above. Ctrl-C stops everything.\n"
            )
            while not stopping:
                exited = group.exited()
                if exited:
                    name, code = next(iter(exited.items()))
                    raise CommandError(f"The {name} process stopped (exit code {code}); stopping everything.")
                time.sleep(0.5)
        finally:
            self.stdout.write("Stopping…")
            group.stop()

    def start_one(self, group: processes.ProcessGroup, host: str, port: int) -> None:
        console = group.start("console", processes.console_command(host, port))
        if not processes.wait_for_port(host, port, 30, alive=lambda: console.poll() is None):
            raise CommandError("The console did not start; see the messages above.")

    def start_several(self, group: processes.ProcessGroup, host: str, port: int, *, web: int, workers: int) -> None:
        if web < 2:
            raise CommandError("With REDIS_URL, run at least two daphne processes (--web 2) behind the load balancer.")
        # The consoles see HAProxy's address; it appends the client's to X-Forwarded-For.
        group.env.setdefault("PROXY_COUNT", "1")
        # Every process writes its metrics to files there; /metrics adds them up. Emptied
        # first: the processes that wrote the old ones are gone (voice/metrics.py).
        metrics_dir = Path(group.env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(settings.VAR_DIR / "prometheus")))
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
        try:
            processes.start_balanced(group.start, host, port, web, settings.VAR_DIR / "haproxy.cfg")
        except RuntimeError as error:
            raise CommandError(f"{error}; see the messages above.") from error
        for number in range(1, workers + 1):
            group.start(f"worker{number}", processes.worker_command(f"worker{number}@%h"))
        group.start("beat", processes.beat_command(settings.VAR_DIR / "celerybeat-schedule"))
