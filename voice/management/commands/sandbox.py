"""python manage.py sandbox — run the local Bandwidth stand-in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from voice import demo
from voice.sandbox import server
from voice.sandbox.config import Application, Faults, InvalidSetting, SandboxConfig
from voice.sandbox.scenarios import Demo, DemoNumbers, Scenario

# The numbers the sandbox's demo calls: those the console's demo routes answer. It dials out
# from two of the conference numbers (the console routes an answered dial-out by the number it
# was placed from, into that number's conference).
DEMO_NUMBERS = DemoNumbers(
    conferences=demo.DEMO_CONFERENCES,
    voicemail=demo.VOICEMAIL_NUMBER,
    announcement=demo.ANNOUNCEMENT_NUMBER,
    unrouted=demo.UNROUTED_NUMBER,
    dial_out_from=(demo.SALES_FLOOR_NUMBER, demo.SUPPORT_BRIDGE_NUMBER),
    operator_phones=(demo.SUPERVISOR_PHONE,),
    regulars=demo.REGULAR_CALLERS,
)
# The traffic each --scenario generates (each takes an optional rate).
SCENARIOS: dict[str, Callable[..., Scenario]] = {"demo": partial(Demo, numbers=DEMO_NUMBERS), "quiet": Scenario}

# Fault injection flags and the /sandbox/faults field each sets.
FAULT_FLAGS = {
    "--fault-429": ("errorRate429", float, "share of REST requests answered 429 with Retry-After (0 to 1)"),
    "--fault-5xx": ("errorRate5xx", float, "share of REST requests answered 500 or 503 (0 to 1)"),
    "--fault-latency-ms": ("latencyMs", int, "milliseconds added to every REST answer"),
    "--fault-webhook-duplicate": ("webhookDuplicate", float, "share of async webhooks sent twice (0 to 1)"),
    "--fault-webhook-reorder": ("webhookReorder", float, "share of async webhooks held back so later ones overtake them"),
    "--fault-webhook-drop": ("webhookDrop", float, "share of async webhooks never sent (0 to 1)"),
}


def _sandbox_address() -> tuple[str, int]:
    """Where the console expects the sandbox: BANDWIDTH_API_URL, unless that is the real
    Bandwidth, in which case the default local address."""
    parts = urlsplit(settings.BANDWIDTH_API_URL)
    if parts.hostname and not parts.hostname.endswith("bandwidth.com") and parts.port:
        return parts.hostname, parts.port
    return "127.0.0.1", 8001


class Command(BaseCommand):
    help = (
        "Run the sandbox: a local Bandwidth Voice API that simulates calls, conferences, "
        "recordings and transcriptions, executes the console's BXML and sends it webhooks. "
        "It reads the console's environment (BANDWIDTH_ACCOUNT_ID, BANDWIDTH_USERNAME/PASSWORD "
        "for its API; PUBLIC_URL and WEBHOOK_USERNAME/PASSWORD for its voice application: "
        "where and how it sends webhooks). See docs/sandbox.md."
    )

    def add_arguments(self, parser) -> None:
        host, port = _sandbox_address()
        parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
        parser.add_argument(
            "--port", type=int, default=port, help=f"port to listen on (default {port}, the port of BANDWIDTH_API_URL)"
        )
        parser.add_argument(
            "--scenario",
            choices=sorted(SCENARIOS),
            default="demo",
            help="traffic to generate: 'demo' (callers into conferences, voicemail, dial-outs, stuck calls, "
            "busy and unanswered callees) or 'quiet' (none; calls come only through the API). Default demo.",
        )
        parser.add_argument(
            "--rate", type=float, default=None, help="inbound calls per minute the scenario generates (demo default 6)"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable traffic")
        parser.add_argument(
            "--speed",
            type=float,
            default=1.0,
            help="simulated seconds per real second (default 1; tests use more to run scenarios faster)",
        )
        parser.add_argument(
            "--calls-per-second", type=float, default=5.0, help="createCall rate limit before 429 (Bandwidth: 5)"
        )
        parser.add_argument(
            "--max-calls", type=int, default=100, help="concurrent call limit before 429 (Bandwidth: 100)"
        )
        parser.add_argument(
            "--max-conference-members", type=int, default=20, help="members a conference holds (Bandwidth: 20)"
        )
        for flag, (_, kind, description) in FAULT_FLAGS.items():
            parser.add_argument(flag, type=kind, default=None, help=f"{description}; default 0, changeable at /sandbox/faults")

    def handle(self, *args, **options) -> None:
        if options["speed"] <= 0:
            raise CommandError("--speed must be positive")
        if options["calls_per_second"] <= 0 or options["max_calls"] < 1 or options["max_conference_members"] < 1:
            raise CommandError("--calls-per-second, --max-calls and --max-conference-members must be positive")
        chosen = {field: options[flag[2:].replace("-", "_")] for flag, (field, _, _) in FAULT_FLAGS.items()}
        try:
            faults = Faults().updated({field: value for field, value in chosen.items() if value is not None})
        except InvalidSetting as invalid:
            raise CommandError(str(invalid)) from None
        logging.getLogger("sandbox").setLevel(logging.INFO)
        advertised_host, _ = _sandbox_address()
        webhook_url = f"{settings.PUBLIC_URL}/webhooks/voice"
        config = SandboxConfig(
            account_id=settings.BANDWIDTH_ACCOUNT_ID,
            username=settings.BANDWIDTH_USERNAME,
            password=settings.BANDWIDTH_PASSWORD,
            application_id=settings.BANDWIDTH_APPLICATION_ID,
            application=Application(
                call_initiated_url=webhook_url,
                call_status_url=webhook_url,
                callback_username=settings.WEBHOOK_USERNAME,
                callback_password=settings.WEBHOOK_PASSWORD,
            ),
            public_base=f"http://{advertised_host}:{options['port']}",
            calls_per_second=options["calls_per_second"],
            max_concurrent_calls=options["max_calls"],
            max_conference_members=options["max_conference_members"],
            speed=options["speed"],
            seed=options["seed"],
            faults=faults,
        )
        make_scenario = SCENARIOS[options["scenario"]]
        scenario = make_scenario() if options["rate"] is None else make_scenario(rate=options["rate"])
        self.stdout.write(f"Sandbox on http://{options['host']}:{options['port']} (scenario {scenario.name}); webhooks to {webhook_url}")
        server.run(config, scenario, host=options["host"], port=options["port"])
