"""A closed-loop load generator: N concurrent callers for a fixed time, latencies recorded."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc


@dataclass
class Result:
    name: str
    calls: int
    seconds: float
    latencies_ms: list[float]
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def drive(
    name: str, call: Callable[[int], Awaitable[None]], *, seconds: float, concurrency: int = 64
) -> Result:
    """Runs `call(i)` from `concurrency` callers for `seconds`; i is unique per call."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    counter = iter(range(10**12))
    stop_at = time.perf_counter() + seconds

    async def caller() -> None:
        while time.perf_counter() < stop_at:
            i = next(counter)
            started = time.perf_counter()
            try:
                await call(i)
                outcomes["OK"] += 1
            except grpc.aio.AioRpcError as exc:
                outcomes[exc.code().name] += 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return Result(name, len(latencies), time.perf_counter() - started, latencies, outcomes)


CONNECTIONS = 8  # many storefronts, not one: each channel gets its own HTTP/2 connection


def open_channels(target: str, count: int = CONNECTIONS) -> list[grpc.aio.Channel]:
    return [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(count)
    ]
