"""The sandbox's clock: real time for people, accelerated for tests.

Every wait in the simulation goes through Clock.sleep and every timestamp through
Clock.now, so one `speed` factor compresses a ten-minute call into seconds while the
webhooks still carry consistent times.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone


class Clock:
    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall_origin = datetime.now(timezone.utc)
        self._monotonic_origin = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._monotonic_origin) * self.speed
        return self._wall_origin + timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

