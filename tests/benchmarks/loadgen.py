"""An open-loop load generator: requests leave on a timetable, and latency is measured
from each request's scheduled time, so a slow server cannot hide its queue (the
"coordinated omission" a closed-loop tool such as wrk suffers from)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp


@dataclass
class Result:
    rate: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def achieved(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def row(self, label: str) -> str:
        return (
            f"| {label} | {self.rate:.0f} | {self.achieved:.0f} | {self.percentile(50):.1f} | {self.percentile(90):.1f} "
            f"| {self.percentile(99):.1f} | {max(self.latencies_ms, default=float('nan')):.1f} | {self.errors} |"
        )


async def _run(url: str, headers: dict, bodies: Callable[[int], bytes], rate: float, seconds: float) -> Result:
    result = Result(rate=rate, seconds=seconds)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        start = time.perf_counter()
        total = int(rate * seconds)

        async def one(i: int) -> None:
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                async with session.post(url, data=bodies(i), timeout=aiohttp.ClientTimeout(total=30)) as response:
                    await response.read()
                    if response.status >= 300:
                        result.errors += 1
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                result.errors += 1
                return
            result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)

        await asyncio.gather(*(one(i) for i in range(total)))
    return result


def run(url: str, headers: dict, bodies: Callable[[int], bytes], rate: float, seconds: float) -> Result:
    return asyncio.run(_run(url, headers, bodies, rate, seconds))


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")
