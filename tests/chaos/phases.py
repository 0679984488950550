"""The phases of the fault suite, each with load running across its fault, and the checks
after each: kill -9 of a stock replica, of an orders replica, a NATS restart, and kill -9 of
PostgreSQL for a few seconds. Each phase's orders also sell a SKU ahead, against a purchase
order under a cap, and part of that order arrives once everything is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.orders.v1 import orders_pb2_grpc
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.chaos import checks, world
from tests.chaos.cluster import Cluster, Replica, dsn
from tests.chaos.load import LOCATIONS, PLENTIFUL, REGIONS, RETRYABLE, Ledger, Load
from tests.helpers.stock import location

# The bound: no order is left PENDING this long after everything is back.
DECIDED_WITHIN = 10.0
# How long a late order is still waited for, to show how late (a 30 s ack wait shows).
LATE_LIMIT = 45.0


@dataclass(frozen=True)
class Profile:
    rounds: int = 1  # times through the four faults
    workers: int = 4  # callers reserving, and as many placing orders
    before: float = 2.0  # seconds of load before the fault
    frozen: float = 0.5  # a replica is stopped (SIGSTOP) this long before its kill -9
    down: float = 2.0  # how long a killed replica or NATS stays away
    postgres_down: float = 3.0
    after: float = 3.0  # seconds of load once everything is back
    hot_units: int = 30  # of each phase's scarce SKU per location, again once back
    ahead_supply: int = 40  # units of each phase's purchase order, sold ahead by the web
    ahead_cap: int = 15  # units the web may have waiting at once
    ahead_arrive: int = 10  # of them, received once everything is back (filling the oldest)


SHORT = Profile()
LONG = Profile(rounds=3, workers=8, before=5, down=3, postgres_down=5, after=10, hot_units=150)


@dataclass
class PhaseResult:
    name: str
    fault_seconds: float = 0.0  # from the fault until every replica was SERVING again
    # From "back" until the last order placed before it was decided (<= 0: before "back").
    decided_after: float | None = None
    findings: checks.Findings = field(default_factory=checks.Findings)
    replica_errors: dict[str, list[str]] = field(default_factory=dict)


Fault = Callable[[Cluster, Profile], Awaitable[None]]


async def kill_stock_replica(cluster: Cluster, profile: Profile) -> None:
    await _kill_and_restart(cluster.stock[0], profile)


async def kill_orders_replica(cluster: Cluster, profile: Profile) -> None:
    await _kill_and_restart(cluster.orders[1], profile)


async def _kill_and_restart(replica: Replica, profile: Profile) -> None:
    await asyncio.to_thread(replica.kill9, profile.frozen)
    await asyncio.sleep(profile.down)
    replica.start()


async def restart_nats(cluster: Cluster, profile: Profile) -> None:
    await asyncio.to_thread(cluster.nats.stop)
    await asyncio.sleep(profile.down)
    await asyncio.to_thread(cluster.nats.start)  # same port, same store


async def kill_postgres(cluster: Cluster, profile: Profile) -> None:
    await asyncio.to_thread(cluster.postgres.kill9)
    await asyncio.sleep(profile.postgres_down)
    cluster.postgres.restart()  # same port, same data: crash recovery first
    await cluster.postgres.wait_ready()


FAULTS: list[tuple[str, Fault]] = [
    ("stock-kill9", kill_stock_replica),
    ("orders-kill9", kill_orders_replica),
    ("nats-restart", restart_nats),
    ("postgres-kill9", kill_postgres),
]


async def retrying(call: Callable[[], Awaitable[object]], within: float = 60.0) -> None:
    """A setup call (seeding stock) sent until it succeeds; it carries an idempotency key."""
    deadline = time.monotonic() + within
    while True:
        try:
            await call()
            return
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in RETRYABLE or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


async def seed(stub: stock_pb2_grpc.StockServiceStub) -> None:
    for loc, region in zip(LOCATIONS, REGIONS, strict=True):
        await stub.CreateLocation(
            pb.CreateLocationRequest(location=location(loc, region=region)), timeout=10
        )
        for sku in PLENTIFUL:
            await receive(stub, sku, loc, 1_000_000, f"seed-{sku}-{loc}")


async def receive(
    stub: stock_pb2_grpc.StockServiceStub, sku: str, loc: str, qty: int, key: str
) -> None:
    request = pb.ReceiveStockRequest(sku=sku, location_id=loc, quantity=qty, idempotency_key=key)
    await retrying(lambda: stub.ReceiveStock(request, timeout=5))


async def supply_ahead(stub: stock_pb2_grpc.StockServiceStub, sku: str, profile: Profile) -> str:
    """A purchase order of `sku` due at the first location in five days, which the web may
    sell ahead up to the profile's cap; its id."""
    due = Timestamp()
    due.FromDatetime(datetime.now(UTC) + timedelta(days=5))
    request = pb.CreatePurchaseOrderRequest(
        idempotency_key=f"{sku}-po",
        location_id=LOCATIONS[0],
        supplier="Chaos Mills",
        lines=[pb.NewPurchaseOrderLine(sku=sku, quantity=profile.ahead_supply, expected_at=due)],
    )
    made: list[str] = []

    async def create() -> None:
        made.append((await stub.CreatePurchaseOrder(request, timeout=5)).purchase_order.id)

    await retrying(create)
    policy = pb.PresalePolicy(
        channel=cpb.CHANNEL_WEB, sku=sku, kind=pb.PRESALE_KIND_PREORDER, cap=profile.ahead_cap
    )
    await retrying(
        lambda: stub.SetPresalePolicy(pb.SetPresalePolicyRequest(policy=policy), timeout=5)
    )
    return made[-1]


async def _backorders_settled(
    stock: stock_pb2_grpc.StockServiceStub,
    orders: orders_pb2_grpc.OrdersServiceStub,
    sku: str,
    within: float = 15.0,
) -> None:
    """Waits (a while) until the orders show the backorders stock holds for `sku`: the settler
    fills the oldest when units arrive, and orders follow its events."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        levels = await stock.GetAvailability(pb.GetAvailabilityRequest(skus=[sku]), timeout=10)
        held = sum(lv.backordered for lv in levels.levels)
        waiting = sum(
            a.backordered
            for o in await _of_status(orders, opb.ORDER_STATUS_CONFIRMED)
            for line in o.lines
            if line.sku == sku
            for a in line.allocations
        )
        if held == waiting:
            return
        await asyncio.sleep(0.5)


async def run_phase(
    cluster: Cluster, load: Load, ledger: Ledger, name: str, fault: Fault, profile: Profile
) -> PhaseResult:
    """Load across the fault, then (load stopped, everything back) the checks."""
    result = PhaseResult(name)
    stock, orders = cluster.stock_stubs()[0], cluster.orders_stubs()[0]
    hot, ahead = f"HOT-{name}", f"AHEAD-{name}"
    for loc in LOCATIONS:
        await receive(stock, hot, loc, profile.hot_units, f"{hot}-{loc}-1")
    po_id = await supply_ahead(stock, ahead, profile)
    cluster.mark_logs()
    stop = asyncio.Event()
    running = asyncio.create_task(load.run(name, hot, ahead, profile.workers, stop))
    try:
        await asyncio.sleep(profile.before)
        fault_at = time.monotonic()
        await fault(cluster, profile)
        await cluster.all_serving()
        back_at, back_wall = time.monotonic(), time.time()
        result.fault_seconds = back_at - fault_at
        for loc in LOCATIONS:  # more of the scarce SKU: both outcomes after recovery too
            await receive(stock, hot, loc, profile.hot_units, f"{hot}-{loc}-2")
        arrived = pb.ReceivePurchaseOrderRequest(
            id=po_id,
            idempotency_key=f"{ahead}-arrived",
            lines=[pb.ReceivedLine(sku=ahead, quantity=profile.ahead_arrive)],
        )
        await retrying(lambda: stock.ReceivePurchaseOrder(arrived, timeout=5))
        await asyncio.sleep(profile.after)
    finally:
        stop.set()
        await running
    await load.settle(name)
    await _check_decided(orders, back_at, result)
    await _backorders_settled(stock, orders, ahead)
    now = await world.read_world(
        cluster.nats.operator_url,
        dsn(cluster.stock_db),
        stock,
        orders,
        ledger,
        name,
        sorted({ln.sku for r in ledger.requests for ln in r.message.lines}),
    )
    checks.check_all(now, ledger, name, result.findings)
    sold_ahead = _sold_ahead(now, ahead)
    result.findings.check(
        "the web sold ahead, and units that arrived went to those orders",
        [] if sold_ahead[0] and sold_ahead[1] else [f"sold ahead, filled: {sold_ahead}"],
    )
    result.findings.figures["sold ahead"] = sold_ahead[0]
    result.findings.figures.update(_figures(now, ledger, name))
    result.decided_after = _decided_after(now, name, back_wall)
    result.replica_errors = cluster.errors_by_replica()
    return result


async def _check_decided(
    orders: orders_pb2_grpc.OrdersServiceStub, back_at: float, result: PhaseResult
) -> None:
    """No order PENDING DECIDED_WITHIN seconds after everything is back (a late one is waited
    for a while longer, so the figures show how late)."""
    pending = await _pending(orders)
    while pending and time.monotonic() < back_at + DECIDED_WITHIN:
        await asyncio.sleep(0.2)
        pending = await _pending(orders)
    result.findings.check(
        f"no order PENDING {DECIDED_WITHIN:.0f} s after everything is back",
        [f"{o.id} (key {o.customer_id}) placed {o.created_at.ToJsonString()}" for o in pending],
    )
    while pending and time.monotonic() < back_at + LATE_LIMIT:
        await asyncio.sleep(0.5)
        pending = await _pending(orders)


async def _pending(orders: orders_pb2_grpc.OrdersServiceStub) -> list[opb.Order]:
    return await _of_status(orders, opb.ORDER_STATUS_PENDING)


async def _of_status(orders: orders_pb2_grpc.OrdersServiceStub, status: int) -> list[opb.Order]:
    found: list[opb.Order] = []
    token = ""
    while True:
        reply = await orders.ListOrders(
            opb.ListOrdersRequest(status=status, page_size=500, page_token=token), timeout=10
        )
        found += reply.orders
        token = reply.next_page_token
        if not token:
            return found


def _sold_ahead(now: world.World, sku: str) -> tuple[int, int]:
    """Units of `sku` its confirmed orders hold, and of those, units no longer waiting."""
    allocations = [
        a
        for o in now.orders
        if o.status == opb.ORDER_STATUS_CONFIRMED
        for line in o.lines
        if line.sku == sku
        for a in line.allocations
    ]
    total = sum(a.quantity for a in allocations)
    return total, total - sum(a.backordered for a in allocations)


def _decided_after(now: world.World, phase: str, back_wall: float) -> float | None:
    """Seconds from "back" until the last of the phase's orders placed before then was decided
    (its decision is its last change); None while one is still PENDING."""
    placed_before = [
        o
        for o in now.orders
        if o.customer_id.startswith(f"{phase}-") and o.created_at.ToMicroseconds() < back_wall * 1e6
    ]
    if any(o.status == opb.ORDER_STATUS_PENDING for o in placed_before):
        return None
    return max((o.updated_at.ToMicroseconds() / 1e6 - back_wall for o in placed_before), default=0)


def _figures(now: world.World, ledger: Ledger, phase: str) -> dict[str, object]:
    mine = [r for r in ledger.requests if r.phase == phase]
    statuses = [o.status for o in now.orders if o.customer_id.startswith(f"{phase}-")]
    return {
        "reservations": sum(1 for r in mine if r.kind == "Reserve" and r.final == "OK"),
        "reserve refused": sum(1 for r in mine if r.kind == "Reserve" and r.final != "OK"),
        "confirmed": statuses.count(opb.ORDER_STATUS_CONFIRMED),
        "rejected": statuses.count(opb.ORDER_STATUS_REJECTED),
        "pending": statuses.count(opb.ORDER_STATUS_PENDING),
    }
