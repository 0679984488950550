"""A short run of the benchmark harness (no figures asserted): it runs, and nothing oversells."""

from __future__ import annotations

from pathlib import Path

from omni.platform.natsserver import EmbeddedNats
from tests.bench.__main__ import bench_echo, bench_stock, report


async def test_the_benchmark_harness_runs_and_checks_oversell(
    tmp_path: Path, nats_server: EmbeddedNats, capsys: object
) -> None:
    echo = await bench_echo(0.2)
    results = await bench_stock(
        "SQLite", f"sqlite+aiosqlite:///{tmp_path}/s.db", nats_server.url, 0.2
    )
    report(echo, results)
    assert echo.calls > 0 and all(r.calls > 0 for r in results)
    assert results[-1].outcomes["OK"] == 50
