"""What the system holds after a phase, read from the services' APIs, the events streams
(JetStream) and the stock tables."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import grpc
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import messaging_pb2 as omsg
from omni.orders.v1 import orders_pb2 as opb
from omni.orders.v1 import orders_pb2_grpc
from omni.stock.v1 import messaging_pb2 as smsg
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.chaos.load import Ledger, Request

Units = Counter[tuple[str, str]]  # (sku, location) -> units


@dataclass
class Stored:
    """A reservation as the stock tables hold it."""

    reference: str
    status: str
    channel: str = ""
    held: Units = field(default_factory=Counter)  # quantity - committed - released per line
    waiting: Units = field(default_factory=Counter)  # of those, backordered (not on a shelf)


@dataclass
class World:
    """What the system holds now."""

    reservations: dict[str, Stored]  # by id, read from the stock tables
    reserved_events: Counter[str]  # reservation id -> stock.events.reserved messages
    rejected_events: Counter[str]  # order id -> stock.events.allocation_rejected messages
    order_events: Counter[tuple[str, str]]  # (order id, subject) -> orders.events messages
    orders: list[opb.Order]
    levels: list[pb.StockLevel]
    direct: dict[str, pb.Reservation]  # this phase's acknowledged reservations (GetReservation)
    presale: list[pb.PresalePolicy]  # the web's, with the units each lets wait now


async def read_subject(nats_url: str, stream: str, subject: str) -> list[tuple[str, bytes]]:
    """Every message of `subject` in `stream`, from the first: (subject, payload)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.ALL)
        sub = await js.pull_subscribe(subject, stream=stream, config=config)
        total = (await sub.consumer_info()).num_pending
        seen: list[tuple[str, bytes]] = []
        while len(seen) < total:
            batch = await sub.fetch(min(500, total - len(seen)), timeout=10)
            seen += [(m.subject, m.data) for m in batch]
            await batch[-1].ack()  # AckPolicy.ALL: everything up to it
        await sub.unsubscribe()
        return seen
    finally:
        await nc.close()


async def read_world(
    nats_url: str,
    stock_dsn: str,
    stock: stock_pb2_grpc.StockServiceStub,
    orders: orders_pb2_grpc.OrdersServiceStub,
    ledger: Ledger,
    phase: str,
    skus: list[str],
) -> World:
    reserved = await read_subject(nats_url, "STOCK_EVENTS", "stock.events.reserved")
    rejected = await read_subject(nats_url, "STOCK_EVENTS", "stock.events.allocation_rejected")
    changes = await read_subject(nats_url, "ORDERS_EVENTS", "orders.events.>")
    return World(
        reservations=await _reservation_rows(stock_dsn),
        reserved_events=Counter(
            smsg.StockReserved.FromString(d).reservation.id for _, d in reserved
        ),
        rejected_events=Counter(
            smsg.AllocationRejected.FromString(d).reference for _, d in rejected
        ),
        order_events=Counter(
            (omsg.OrderChanged.FromString(d).order.id, s.rsplit(".", 1)[1]) for s, d in changes
        ),
        orders=await _all_orders(orders),
        levels=list((await stock.GetAvailability(pb.GetAvailabilityRequest(skus=skus))).levels),
        direct=await _direct_reservations(
            stock, [r for r in ledger.of_kind("Reserve") if r.phase == phase]
        ),
        presale=list(
            (
                await stock.ListPresalePolicies(
                    pb.ListPresalePoliciesRequest(channel=cpb.CHANNEL_WEB, page_size=500)
                )
            ).policies
        ),
    )


RESERVATION_ROWS = """
    SELECT r.id, r.reference, r.status, r.channel, l.sku, l.location_id,
           l.quantity - l.committed - l.released AS held, l.waiting
    FROM reservations r LEFT JOIN reservation_lines l ON l.reservation_id = r.id
"""


async def _reservation_rows(stock_dsn: str) -> dict[str, Stored]:
    """Every reservation, straight from the tables (all phases': too many to ask one by one)."""
    conn = await asyncpg.connect(stock_dsn)
    try:
        rows = await conn.fetch(RESERVATION_ROWS)
    finally:
        await conn.close()
    found: dict[str, Stored] = {}
    for row in rows:
        stored = found.setdefault(
            row["id"], Stored(row["reference"], row["status"], row["channel"])
        )
        if row["sku"] is not None:
            stored.held[(row["sku"], row["location_id"])] += row["held"]
            stored.waiting[(row["sku"], row["location_id"])] += row["waiting"]
    return found


async def _all_orders(stub: orders_pb2_grpc.OrdersServiceStub) -> list[opb.Order]:
    found: list[opb.Order] = []
    token = ""
    while True:
        page = await stub.ListOrders(
            opb.ListOrdersRequest(page_size=500, page_token=token), timeout=30
        )
        found += page.orders
        token = page.next_page_token
        if not token:
            return found


async def _direct_reservations(
    stub: stock_pb2_grpc.StockServiceStub, requests: list[Request]
) -> dict[str, pb.Reservation]:
    room = asyncio.Semaphore(32)
    found: dict[str, pb.Reservation] = {}

    async def get(reservation_id: str) -> None:
        async with room:
            try:
                reply = await stub.GetReservation(
                    pb.GetReservationRequest(id=reservation_id), timeout=10
                )
                found[reservation_id] = reply.reservation
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.NOT_FOUND:
                    raise

    ids = {i for r in requests if r.final == "OK" for i in r.answered_ids}
    await asyncio.gather(*(get(i) for i in ids))
    return found
