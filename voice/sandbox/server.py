"""Assembling and running the sandbox: one aiohttp application, one event loop."""

from __future__ import annotations

import logging
import random
from collections import deque

import aiohttp
from aiohttp import web

from voice.sandbox import (
    api_calls,
    api_conferences,
    api_inspection,
    api_recordings,
    retention,
)
from voice.sandbox.api_common import FAULT_RNG, REQUESTS, SIMULATION
from voice.sandbox.api_middleware import MIDDLEWARES
from voice.sandbox.clock import Clock
from voice.sandbox.config import SandboxConfig
from voice.sandbox.scenarios import Scenario
from voice.sandbox.simulation import Simulation
from voice.sandbox.webhook_sender import WebhookSender

log = logging.getLogger("sandbox")


def build_app(config: SandboxConfig, scenario: Scenario) -> web.Application:
    app = web.Application(middlewares=MIDDLEWARES)
    app[REQUESTS] = deque(maxlen=5000)
    # Faults draw from their own generator, so that switching them on leaves the seeded
    # traffic unchanged.
    app[FAULT_RNG] = random.Random(None if config.seed is None else config.seed + 1)
    for routes in (api_calls, api_conferences, api_recordings, api_inspection):
        routes.add_routes(app.router)

    async def simulation_context(app: web.Application):
        # The webhook client lives on the server's loop, beside the API it serves.
        session = aiohttp.ClientSession()
        clock = Clock(config.speed)
        sender = WebhookSender(session, faults=lambda: config.faults, rng=app[FAULT_RNG], sleep=clock.sleep)
        sim = Simulation(config, clock, sender, random.Random(config.seed), callee=scenario.callee)
        app[SIMULATION] = sim
        sim.scheduler.spawn(scenario.run(sim))
        sim.scheduler.spawn(retention.keep(sim))
        yield
        await sim.streams.shutdown()
        await sim.scheduler.shutdown()
        await session.close()

    app.cleanup_ctx.append(simulation_context)
    return app


def run(config: SandboxConfig, scenario: Scenario, *, host: str, port: int) -> None:
    log.info("sandbox: scenario %s at %.1f calls/min, speed x%g, on http://%s:%d", scenario.name, scenario.rate, config.speed, host, port)
    web.run_app(build_app(config, scenario), host=host, port=port, print=None, access_log=None, handle_signals=True)
