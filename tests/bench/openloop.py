"""`make bench`, its second part: latency when calls arrive on their own schedule.

A closed loop (64 callers, each waiting for its answer before the next call) measures the
maximum, where latency is only queueing. Real shoppers do not wait for each other: here calls
are sent at Poisson arrival times at 25, 50, 75 and 90% of that maximum, and 120% (past it),
and each call's latency counts from the time it was due to be sent, not from when it went out,
so a server that falls behind is charged for the wait (no coordinated omission). Reserve, and
PlaceOrder until CONFIRMED, on PostgreSQL, each service in its own process.

CPU per call is the machine's: all its busy CPU time (servers, PostgreSQL, NATS and this load
alike, from /proc/stat) over the calls answered at that rate; "system" leaves out this load
generator's own, and the CPU of each process (stock, orders, postgres, nats, the load) is
given at 25% load and at the maximum. The gRPC echo gets the same curve: what a bare gRPC
call costs when it comes alone rather than in a crowd is the floor under every service's
ratio. Speeds are also given as ratios to the echo's maximum in the same run, since the
machine's speed drifts between days.

`--compare REF` runs the same curve on the code of commit REF too (a git worktree, its protos
generated), in the same session, with the same load (the same rates, from this tree's
maximums, and the same arrival times): absolute figures drift by 4x between
days, so only a comparison made the same hour says whether a change helped. BENCH_SECONDS
(default 10) sets each point's length.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import nats as nats_py
import psutil
import uvloop

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.bench.harness import Outcome, drive, open_channels, seed, server
from tests.bench.orders import ordering
from tests.chaos.cluster import dsn
from tests.conftest import create_postgres_database, postgres_admin
from tests.helpers.processes import free_port, wait_serving

Call = Callable[[int], Awaitable[None]]
SHARES = (0.25, 0.5, 0.75, 0.9, 1.2)
SKUS = [f"SKU-{i:04d}" for i in range(1000)]
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Point:
    """One rate of the curve."""

    share: float  # of the closed-loop maximum
    offered: float  # calls per second sent
    # Of the calls that succeeded, and of those that timed out (at the cutoff, a floor: they
    # took longer); a fast refusal is not a fast answer, so refusals are not in it.
    latencies_ms: list[float]
    cpu: Cpu  # spent meanwhile
    outcomes: Counter[str] = field(default_factory=Counter)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def answered(self) -> int:
        """Calls that succeeded: what CPU per call is per."""
        return self.outcomes["OK"]

    @property
    def errors(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != "OK")


@dataclass
class Cpu:
    """CPU seconds: the machine's, and each process group's (see `group`)."""

    machine: float
    by: Counter[str]

    def __sub__(self, before: Cpu) -> Cpu:
        by = Counter({g: self.by[g] - before.by[g] for g in self.by})
        return Cpu(self.machine - before.machine, by)

    def per_call_ms(self, calls: int, group: str | None = None) -> float:
        spent = self.machine if group is None else self.by[group]
        return spent / max(calls, 1) * 1000

    def system_per_call_ms(self, calls: int) -> float:
        """The machine's, less this load generator's."""
        return (self.machine - self.by["load"]) / max(calls, 1) * 1000


GROUPS = ("stock", "orders", "echo", "postgres", "nats", "load", "other")


def group(proc: psutil.Process) -> str:
    if proc.pid == os.getpid():
        return "load"
    line = " ".join(proc.info["cmdline"] or [proc.info["name"] or ""])
    for module, name in (("omni.stock", "stock"), ("omni.orders", "orders")):
        if module in line:
            return name
    if "tests.bench.echo" in line:
        return "echo"
    if "nats-server" in line:
        return "nats"
    return "postgres" if "postgres" in line else "other"


def cpu_now() -> Cpu:
    """The machine's busy CPU time since boot (all cores, from /proc/stat), and each live
    process group's."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle, iowait
    machine = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    by: Counter[str] = Counter(dict.fromkeys(GROUPS, 0.0))
    for proc in psutil.process_iter(["cmdline", "name", "cpu_times"]):
        times = proc.info["cpu_times"]
        if times is not None:
            by[group(proc)] += times.user + times.system
    return Cpu(machine, by)


CUTOFF_SECONDS = 10.0


async def open_loop(call: Call, rate: float, seconds: float, share: float, seed: int = 7) -> Point:
    """Calls sent at Poisson arrival times at `rate` a second for `seconds` (the same times
    for the same seed: two codes compared get the same schedule); each latency from the
    call's due time. Calls unanswered 10 s after the last was due count as timed out."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    numbers = itertools.count()
    arrivals = random.Random(seed)
    dues: list[float] = []

    async def one(due: float) -> None:
        try:
            await call(next(numbers))
        except grpc.aio.AioRpcError as exc:
            outcomes[exc.code().name] += 1
        except Outcome as outcome:
            outcomes[str(outcome)] += 1
        else:
            outcomes["OK"] += 1
            latencies.append((time.perf_counter() - due) * 1000)

    tasks: list[asyncio.Task[None]] = []
    # This sender's own full garbage collections paused it for 100 ms (a bare echo's p99 at
    # 25% load read 60 ms): charged to whatever was measured. Off while the point runs.
    gc.collect()
    gc.disable()
    cpu = cpu_now()
    try:
        start = due = time.perf_counter()
        while due < start + seconds:
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(due)))
            dues.append(due)
            due += arrivals.expovariate(rate)
        _, late = await asyncio.wait(tasks, timeout=CUTOFF_SECONDS)
    finally:
        gc.enable()
    cutoff = time.perf_counter()
    for task, when in zip(tasks, dues, strict=True):
        if task in late:
            task.cancel()
            latencies.append((cutoff - when) * 1000)  # at least this long
    outcomes["timed out"] += len(late)
    return Point(share, len(tasks) / seconds, latencies, cpu_now() - cpu, outcomes)


async def curve(
    code: str, kind: str, call: Call, seconds: float, maximum: float | None = None
) -> Curve:
    """The closed-loop maximum (and the CPU per call there), then the open-loop points at
    each share of `maximum` (given: another code's, so that both are offered the same rates;
    else this one's)."""
    await drive("warm-up", call, seconds=min(1.0, seconds))
    cpu = cpu_now()
    closed = await drive(kind, call, seconds=seconds)
    at_maximum = Point(1.0, closed.rate, closed.latencies_ms, cpu_now() - cpu, closed.outcomes)
    base = maximum or closed.rate
    points = []
    for n, share in enumerate(SHARES):
        points.append(await open_loop(call, base * share, seconds, share, seed=n))
        await asyncio.sleep(1.0)  # what the last point left queued drains
    return Curve(code, kind, closed.rate, at_maximum, points)


async def echo_curve(seconds: float) -> Curve:
    """The same curve for a bare gRPC echo (its own process): the ceiling, and the floor of
    what a call costs alone."""
    port = free_port()
    async with server(["tests.bench.echo", str(port)], {}, port) as target:
        echoes = [c.unary_unary("/bench.Echo/Echo") for c in open_channels(target)]

        async def call(i: int) -> None:
            await echoes[i % len(echoes)](ECHOED)

        return await curve("a bare server", "gRPC echo", call, seconds)


ECHOED = pb.ReserveRequest(  # what Reserve carries
    idempotency_key="bench-0000000001",
    lines=[pb.ReserveLine(sku="SKU-0001", location_id="L1", quantity=1)],
).SerializeToString()


@asynccontextmanager
async def reserving(
    database_url: str, nats: EmbeddedNats, code: dict[str, str]
) -> AsyncIterator[Call]:
    """A stock process, stocked; yields a call reserving one unit of a random SKU."""
    port = free_port()
    env = {
        **code,
        **nats.env("stock"),
        "OMNI_STOCK_DATABASE_URL": database_url,
        "OMNI_STOCK_GRPC_PORT": str(port),
        "OMNI_LOG_LEVEL": "WARNING",
    }
    async with server(["omni.stock"], env, port) as target:
        await wait_serving(target)
        stubs = [stock_pb2_grpc.StockServiceStub(c) for c in open_channels(target)]
        await seed(stubs[0], dict.fromkeys(SKUS, 10**6))
        keys = itertools.count()

        async def call(i: int) -> None:
            line = pb.ReserveLine(sku=random.choice(SKUS), location_id="L1", quantity=1)
            request = pb.ReserveRequest(idempotency_key=f"cart-{next(keys)}", lines=[line])
            await stubs[i % len(stubs)].Reserve(request, timeout=10)

        yield call


@dataclass
class Curve:
    code: str  # "this tree", or the commit compared with
    kind: str  # "Reserve", "PlaceOrder until CONFIRMED"
    maximum: float
    at_maximum: Point  # the closed loop
    points: list[Point]


async def measure_code(
    label: str,
    code: dict[str, str],
    work: str,
    admin: str,
    seconds: float,
    users: bool,
    rates_of: list[Curve] | None = None,
) -> list[Curve]:
    """Both curves on the code `code` picks (this tree's: {}). `users`: NATS with Omni's
    users (off when comparing with code from before them, for both). `rates_of`: curves
    measured before, whose maximums set the rates here too (the same load for both)."""
    maxima = {c.kind: c.maximum for c in rates_of or []}
    curves = []
    with EmbeddedNats(Path(work) / f"nats-{label}", users=users) as nats:
        async with reserving(await create_postgres_database(admin), nats, code) as call:
            curves.append(await curve(label, "Reserve", call, seconds, maxima.get("Reserve")))
        stock_url = await create_postgres_database(admin)
        orders_url = await create_postgres_database(admin)
        async with ordering(stock_url, orders_url, nats, code) as (call, _, _):
            name = "PlaceOrder until CONFIRMED"
            before = await footprint(stock_url, orders_url, nats)
            curves.append(await curve(label, name, call, seconds, maxima.get(name)))
            await asyncio.sleep(2.0)  # the last events published, the outboxes drained
            after = await footprint(stock_url, orders_url, nats)
            per_order(label, before, after)
    return curves


async def footprint(stock_url: str, orders_url: str, nats: EmbeddedNats) -> dict[str, int]:
    """Bytes in each database and stream now, and how many orders there are."""
    found: dict[str, int] = {}
    for name, url in (("stock database", stock_url), ("orders database", orders_url)):
        conn = await asyncpg.connect(dsn(url))
        try:
            found[name] = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
            if name == "orders database":
                found["orders"] = int(await conn.fetchval("SELECT count(*) FROM orders"))
        finally:
            await conn.close()
    nc = await nats_py.connect(nats.operator_url)
    try:
        for info in await nc.jetstream().streams_info():
            found[f"{info.config.name} stream"] = int(info.state.bytes)
    finally:
        await nc.close()
    return found


def per_order(label: str, before: dict[str, int], after: dict[str, int]) -> None:
    """What one order adds to each database and stream, and a day of them at 10 a second."""
    orders = after["orders"] - before["orders"]
    if orders <= 0:
        return
    print(f"\nBytes per order ({label}; {orders} orders placed, PostgreSQL, before pruning):")
    total = 0
    for name in sorted(set(after) - {"orders"}):
        grown = (after[name] - before.get(name, 0)) / orders
        if grown > 0:
            total += int(grown)
            print(
                f"  {name:<28}{grown:>10,.0f} B   a day at 10/s: {grown * 864_000 / 2**30:,.1f} GiB"
            )
    print(f"  {'in all':<28}{total:>10,} B   a day at 10/s: {total * 864_000 / 2**30:,.1f} GiB")


def checkout(ref: str, into: Path) -> dict[str, str]:
    """Commit `ref` in a worktree at `into`, its protos generated: the environment that makes
    a service process run that code."""
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(into), ref], check=True
    )
    protos = sorted(str(p.relative_to(into / "protos")) for p in (into / "protos").rglob("*.proto"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{into / 'protos'}",
            f"--python_out={into / 'services'}",
            f"--grpc_python_out={into / 'services'}",
            *protos,
        ],
        check=True,
    )
    for generated in (into / "services" / "omni").glob("*/v1"):
        (generated / "__init__.py").touch()
    return {"PYTHONPATH": str(into / "services")}


def remove_worktree(tree: Path) -> None:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False
    )


def report(echo: float, curves: list[Curve]) -> None:
    print(f"\ngRPC echo (64 callers): {echo:.0f} calls/s; 'of echo' below is a rate's ratio to it.")
    for c in curves:
        top = c.at_maximum
        print(
            f"\n{c.kind}, {c.code}: closed-loop maximum {c.maximum:.0f}/s ({c.maximum / echo:.1%}"
            f" of echo), CPU per call there {top.cpu.per_call_ms(top.answered):.2f} ms"
            f" (system {top.cpu.system_per_call_ms(top.answered):.2f} ms)"
        )
        print(
            f"{'load':>6}{'sent/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}"
            f"{'errors':>8}{'CPU ms':>8}{'vs max':>8}{'system':>8}{'vs max':>8}  outcomes"
        )
        top_machine = max(top.cpu.per_call_ms(top.answered), 1e-9)
        top_system = max(top.cpu.system_per_call_ms(top.answered), 1e-9)
        for p in c.points:
            machine, system = p.cpu.per_call_ms(p.answered), p.cpu.system_per_call_ms(p.answered)
            print(
                f"{p.share:>6.0%}{p.offered:>8.0f}{p.percentile(50):>9.1f}{p.percentile(90):>9.1f}"
                f"{p.percentile(99):>9.1f}{p.percentile(99.9):>10.1f}{p.errors:>8}"
                f"{machine:>8.2f}{machine / top_machine:>7.1f}x"
                f"{system:>8.2f}{system / top_system:>7.1f}x  {dict(p.outcomes)}"
            )
        quarter = next(p for p in c.points if p.share == 0.25)
        spent = [
            f"{g} {quarter.cpu.per_call_ms(quarter.answered, g):.2f}"
            f"/{top.cpu.per_call_ms(top.answered, g):.2f}"
            for g in GROUPS
            if top.cpu.by[g] > 0.05 * top.cpu.machine
        ]
        print(f"  CPU ms per call by process, at 25% / at the maximum: {', '.join(spent)}")


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.openloop", description=__doc__)
    parser.add_argument("--compare", metavar="REF", help="also measure commit REF, the same way")
    args = parser.parse_args()
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    with (
        tempfile.TemporaryDirectory(prefix="omni-openloop-") as work,
        postgres_admin(os.path.join(work, "postgres")) as admin,
    ):
        echo = await echo_curve(seconds)
        users = not args.compare
        curves = [echo, *await measure_code("this tree", {}, work, admin, seconds, users)]
        if args.compare:
            tree = Path(work) / "compared"
            try:
                code = await asyncio.to_thread(checkout, args.compare, tree)
                curves += await measure_code(
                    args.compare, code, work, admin, seconds, users, rates_of=curves
                )
            finally:
                await asyncio.to_thread(remove_worktree, tree)
        report(echo.maximum, curves)


if __name__ == "__main__":
    uvloop.run(main())
