"""A short run of the benchmark harness (no figures asserted): it runs, and nothing oversells."""

from __future__ import annotations

import time
from pathlib import Path

from omni.platform.natsserver import EmbeddedNats
from tests.bench.__main__ import bench_echo, bench_stock, report, two_replicas
from tests.bench.openloop import open_loop
from tests.bench.orders import bench_orders
from tests.bench.transaction import transaction_cpu_us


async def test_the_benchmark_harness_runs_and_checks_oversell(
    tmp_path: Path, nats_server: EmbeddedNats
) -> None:
    echo = await bench_echo(0.2)
    database = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    results = await bench_stock("SQLite", database, nats_server, 0.2)
    assert results[-1].outcomes["OK"] == 50  # the flash sale sold exactly its units
    results += await two_replicas("SQLite", database, nats_server, changes=5)
    stock, orders = (f"sqlite+aiosqlite:///{tmp_path}/{name}.db" for name in ("os", "o"))
    results.append(await bench_orders("SQLite", stock, orders, nats_server, 0.2))
    report([echo], results)
    assert echo.calls > 0 and all(r.calls > 0 for r in results)
    assert await transaction_cpu_us(f"sqlite+aiosqlite:///{tmp_path}/tx.db", rounds=3) > 0


async def test_the_open_loop_counts_latency_from_when_each_call_was_due() -> None:
    """Calls go out on a Poisson schedule whatever the answers do, and a call's latency
    counts from when it was due, not from when it could be sent: here each call blocks the
    whole process for 20 ms (the sender too) at 100 calls a second, so calls go out late,
    and their latencies say so (no coordinated omission)."""

    async def call(_i: int) -> None:
        time.sleep(0.02)  # noqa: ASYNC251 (on purpose: the sender waits behind it)

    point = await open_loop(call, rate=100.0, seconds=0.5, share=2.0)
    assert 25 < point.offered < 250 and point.answered == point.outcomes["OK"] > 10
    # Had latency been counted from the send, every call would take its 20 ms and no more.
    assert point.percentile(50) > 40, point.percentile(50)
    assert point.percentile(99) > 3 * point.percentile(1)
