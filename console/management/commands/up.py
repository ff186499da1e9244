"""python manage.py up — the whole console on one machine: daphne (with the embedded Celery
worker), the sandbox and its demo traffic. Ctrl-C stops everything it started."""

from __future__ import annotations

import signal
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console import processes


class Command(BaseCommand):
    help = "Run the console under daphne, with the sandbox and demo traffic (the embedded default)."

    def add_arguments(self, parser) -> None:
        public = urlsplit(settings.PUBLIC_URL)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=public.port or 8000, help="console port (default: PUBLIC_URL's)")
        parser.add_argument("--scenario", default="demo", help="sandbox scenario (see manage.py sandbox --help)")
        parser.add_argument("--rate", type=float, default=None, help="sandbox inbound calls per minute")
        parser.add_argument("--no-sandbox", action="store_true", help="do not start the sandbox")

    def handle(self, *args, **options) -> None:
        if settings.REDIS_URL:
            raise CommandError("REDIS_URL is set: run daphne, the Celery worker and beat as separate processes (see README).")
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
            console = group.start("console", processes.console_command(host, port))
            if not processes.wait_for_port(host, port, 30, alive=lambda: console.poll() is None):
                raise CommandError("The console did not start; see the messages above.")
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
