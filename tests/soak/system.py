"""`make soak`, its second part: the whole system for SOAK_MINUTES (10) at a steady load,
watched for what grows.

Two stock and two orders replicas on PostgreSQL and NATS (the fault suite's cluster, with no
faults) take PlaceOrder at Poisson arrival times: SOAK_RATE orders a second, or by default
SOAK_SHARE (0.5) of the maximum a 10 s closed loop reaches first. Every SOAK_SAMPLE_SECONDS
(30) it prints each replica's memory (RSS) and open files, each database's and stream's size,
the rows waiting in each outbox, the allocation queue (commands not yet handed to stock, and
those handed and not yet acknowledged), and the window's orders, latency (from each order's
due time) and refusals. At the end: each series' growth per minute after the first minute
(a least-squares slope), and, once the load stops, how long the outboxes, the queue and the
PENDING orders took to drain.

SOAK_CODE=REF soaks commit REF's code instead (a git worktree; NATS without users for code
from before them), to see whether something seen here is new.

Exits 1 if work was lost or stuck (something not drained within 60 s, or an INTERNAL or
UNKNOWN answer); growth is reported, not judged: how much is too much is the reader's call.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import nats as nats_py
import psutil
import uvloop

from omni.orders.v1 import orders_pb2 as opb
from omni.orders.v1 import orders_pb2_grpc
from tests.bench.harness import drive, seed
from tests.bench.openloop import checkout, remove_worktree
from tests.bench.orders import PLENTY, SKUS, order_request
from tests.chaos.cluster import Cluster, dsn, running_cluster

WARM_UP_SECONDS = 60.0
DRAIN_SECONDS = 60.0
ALLOCATIONS = ("STOCK_COMMANDS", "stock-allocate")  # the queue PlaceOrder waits on


@dataclass
class Window:
    """What the orders sent in one sampling interval came to."""

    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


@dataclass
class Sample:
    at: float  # seconds since the load began
    values: dict[str, float]  # series -> value (MB, files, rows, messages)
    window: Window
    seconds: float  # the window's length


class Orders:
    """PlaceOrder at Poisson arrival times, each answer counted in the window it came in
    (its latency from its due time): a slow answer shows when it comes, not earlier."""

    def __init__(self, stubs: list[orders_pb2_grpc.OrdersServiceStub]) -> None:
        self._stubs = stubs
        self._keys = 0
        self.window = Window()
        self.outcomes: Counter[str] = Counter()

    async def place(self, i: int) -> None:
        self._keys += 1
        request = order_request(f"soak-{self._keys}", i)
        order = (await self._stubs[i % len(self._stubs)].PlaceOrder(request, timeout=10)).order
        if order.status != opb.ORDER_STATUS_CONFIRMED:
            raise _Outcome(opb.OrderStatus.Name(order.status))

    async def run(self, rate: float, seconds: float) -> None:
        tasks: set[asyncio.Task[None]] = set()
        arrivals = random.Random(11)
        start = due = time.perf_counter()
        i = 0
        while due < start + seconds:
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(self._one(i, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
            due += arrivals.expovariate(rate)
        if tasks:
            await asyncio.wait(tasks, timeout=15)

    async def _one(self, i: int, due: float) -> None:
        try:
            await self.place(i)
            outcome = "OK"
        except grpc.aio.AioRpcError as exc:
            outcome = exc.code().name
        except _Outcome as other:
            outcome = str(other)
        self.window.outcomes[outcome] += 1
        self.outcomes[outcome] += 1
        if outcome == "OK":
            self.window.latencies.append((time.perf_counter() - due) * 1000)


class _Outcome(Exception):
    pass


class Watcher:
    """Reads every series from the processes, the databases and JetStream."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._processes = {r.name: psutil.Process(r.proc.pid) for r in cluster.replicas if r.proc}
        self._databases = {"stock": dsn(cluster.stock_db), "orders": dsn(cluster.orders_db)}

    async def read(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for name, proc in self._processes.items():
            values[f"{name} RSS MB"] = proc.memory_info().rss / 2**20
            values[f"{name} files"] = proc.num_fds()
        for name, url in self._databases.items():
            conn = await asyncpg.connect(url)
            try:
                size = await conn.fetchval("SELECT pg_database_size(current_database())")
                values[f"{name} database MB"] = size / 2**20
                values[f"{name} outbox rows"] = await conn.fetchval("SELECT count(*) FROM outbox")
                if name == "orders":
                    pending = "SELECT count(*) FROM orders WHERE status = 'PENDING'"
                    values["orders PENDING"] = await conn.fetchval(pending)
            finally:
                await conn.close()
        nc = await nats_py.connect(self._cluster.nats.operator_url)
        try:
            js = nc.jetstream()
            for info in await js.streams_info():
                values[f"{info.config.name} MB"] = info.state.bytes / 2**20
            queue = await js.consumer_info(*ALLOCATIONS)
            values["allocations queued"] = queue.num_pending or 0
            values["allocations in flight"] = queue.num_ack_pending or 0
            # Handed out again after their ack wait: a replica too slow to say it still works
            # on them (each is done once, but costs a second handling).
            values["allocations redelivered"] = queue.num_redelivered or 0
        finally:
            await nc.close()
        return values


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if not spread:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread * 60


SHOWN = [  # the columns of the running table: (series, heading, format)
    ("stock-1 RSS MB", "stock-1 MB", ".0f"),
    ("orders-1 RSS MB", "orders-1 MB", ".0f"),
    ("stock-1 files", "files", ".0f"),
    ("stock database MB", "stock DB", ".1f"),
    ("orders database MB", "orders DB", ".1f"),
    ("STOCK_EVENTS MB", "STOCK_EV", ".1f"),
    ("stock outbox rows", "outbox", ".0f"),
    ("allocations queued", "queued", ".0f"),
    ("allocations in flight", "flight", ".0f"),
    ("allocations redelivered", "redelivered", ".0f"),
]


def print_sample(sample: Sample, first: bool) -> None:
    if first:
        heads = "".join(f"{h:>12}" for _, h, _ in SHOWN)
        print(f"{'s':>5}{'orders/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'not OK':>8}{heads}")
    w = sample.window
    answered = sum(w.outcomes.values())
    cells = "".join(f"{sample.values.get(k, 0):>12{fmt}}" for k, _, fmt in SHOWN)
    print(
        f"{sample.at:>5.0f}{answered / max(sample.seconds, 1e-9):>10.0f}{w.percentile(50):>8.1f}"
        f"{w.percentile(99):>8.1f}{answered - w.outcomes['OK']:>8}{cells}",
        flush=True,
    )


def print_growth(samples: list[Sample]) -> None:
    settled = [s for s in samples if s.at >= WARM_UP_SECONDS] or samples
    print(f"\nGrowth per minute after the first {WARM_UP_SECONDS:.0f} s:")
    for name in sorted(samples[-1].values):
        points = [(s.at, s.values[name]) for s in settled if name in s.values]
        growth = slope_per_minute(points)
        note = ""
        if name.endswith("RSS MB"):
            note = "  flat" if abs(growth) < 0.5 else "  GROWING"
        print(f"  {name:<28}{points[-1][1]:>12,.1f} now {growth:>+12,.2f} a minute{note}")


async def drained(watcher: Watcher) -> tuple[bool, float, dict[str, float]]:
    """Waits for every outbox, the allocation queue and the PENDING orders to empty."""
    keys = ["stock outbox rows", "orders outbox rows", "allocations queued"]
    keys += ["allocations in flight", "orders PENDING"]
    started = time.monotonic()
    while True:
        values = await watcher.read()
        left = {k: values[k] for k in keys if values.get(k)}
        if not left:
            return True, time.monotonic() - started, left
        if time.monotonic() - started > DRAIN_SECONDS:
            return False, time.monotonic() - started, left
        await asyncio.sleep(0.5)


async def soak(
    minutes: float,
    sample_seconds: float,
    rate: float | None,
    share: float,
    code: Mapping[str, str] | None = None,
) -> int:
    async with running_cluster(code, users=code is None) as cluster:
        stock = cluster.stock_stubs()[0]
        await seed(stock, dict.fromkeys(SKUS, PLENTY))
        orders = Orders(cluster.orders_stubs())
        if rate is None:
            maximum = await drive("PlaceOrder, closed loop", orders.place, seconds=10.0)
            rate = maximum.rate * share
            print(f"closed-loop maximum {maximum.rate:,.0f} orders/s; soaking at {rate:,.0f}/s")
        orders.window = Window()
        watcher = Watcher(cluster)
        # What is set up lives to the end: this sender's garbage collections need not walk
        # it (their pauses would read as the system's latency).
        gc.collect()
        gc.freeze()
        try:
            return await _load_and_watch(orders, watcher, minutes, sample_seconds, rate)
        finally:
            gc.unfreeze()


async def _load_and_watch(
    orders: Orders,
    watcher: Watcher,
    minutes: float,
    sample_seconds: float,
    rate: float,
) -> int:
    """The load for `minutes`, sampled; then the growth and the drain."""
    samples: list[Sample] = []
    load = asyncio.create_task(orders.run(rate, minutes * 60))
    started = last = time.monotonic()
    while True:
        finished = load.done()
        window, orders.window = orders.window, Window()
        now = time.monotonic()
        samples.append(Sample(now - started, await watcher.read(), window, now - last))
        print_sample(samples[-1], first=len(samples) == 1)
        last = now
        if finished:
            break
        await asyncio.wait([load], timeout=sample_seconds)
    await load
    print_growth(samples)
    ok, took, left = await drained(watcher)
    print(
        f"\nOutcomes: {dict(orders.outcomes)}\n"
        + (
            f"Drained {took:.1f} s after the load stopped: outboxes, queue, PENDING orders."
            if ok
            else f"NOT DRAINED after {took:.0f} s: {left}"
        )
    )
    bugs = {c: n for c, n in orders.outcomes.items() if c in ("INTERNAL", "UNKNOWN")}
    if bugs:
        print(f"Answers that are bugs: {bugs}")
    return 0 if ok and not bugs else 1


def main() -> None:
    given, ref = os.environ.get("SOAK_RATE"), os.environ.get("SOAK_CODE")
    with tempfile.TemporaryDirectory(prefix="omni-soak-") as work:
        tree = Path(work) / "code"
        try:
            code = checkout(ref, tree) if ref else None
            if ref:
                print(f"soaking the code of {ref}")
            status = uvloop.run(
                soak(
                    float(os.environ.get("SOAK_MINUTES", "10")),
                    float(os.environ.get("SOAK_SAMPLE_SECONDS", "30")),
                    float(given) if given else None,
                    float(os.environ.get("SOAK_SHARE", "0.5")),
                    code,
                )
            )
        finally:
            if ref:
                remove_worktree(tree)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
