"""A short run of the benchmark harness (no figures asserted): it runs, and nothing oversells."""

from __future__ import annotations

from pathlib import Path

from omni.platform.natsserver import EmbeddedNats
from tests.bench.__main__ import bench_echo, bench_stock, report, two_replicas
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
