"""python manage.py loadbalancer — HAProxy in front of the console processes, configured by
console/loadbalancer.py (docker-compose.yml's lb service runs it)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand

from console import loadbalancer


class Command(BaseCommand):
    help = "Run HAProxy in the foreground in front of the given console processes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--bind", default="0.0.0.0:8000", help="where browsers and Bandwidth connect")
        parser.add_argument("--servers", nargs="+", required=True, help="the console processes, host:port each")
        parser.add_argument("--resolver", default="", help="a DNS server to find --servers' addresses (docker: 127.0.0.11:53)")

    def handle(self, *args, **options) -> None:
        path = loadbalancer.write(
            settings.VAR_DIR / "haproxy.cfg", options["bind"], options["servers"], resolver=options["resolver"]
        )
        command = loadbalancer.command(path)
        os.execv(command[0], command)
