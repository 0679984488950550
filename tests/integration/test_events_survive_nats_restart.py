"""The outbox: events of committed changes reach JetStream exactly once, whatever NATS does."""

from __future__ import annotations

import asyncio
from collections import Counter

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from omni.platform.messaging import MSG_ID_HEADER
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers import add_location, eventually, receive, running_stock, unique

PAYLOADS = {
    "stock.events.level_changed": msg_pb.StockLevelChanged,
    "stock.events.reserved": msg_pb.StockReserved,
    "stock.events.location_changed": msg_pb.LocationChanged,
}


async def read_whole_stream(url: str) -> list[tuple[str, str, str]]:
    """Every message in STOCK_EVENTS: (subject, Nats-Msg-Id, event_id in the payload)."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        total = (await js.stream_info("STOCK_EVENTS")).state.messages
        sub = await js.pull_subscribe(
            "stock.events.>",
            stream="STOCK_EVENTS",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        seen: list[tuple[str, str, str]] = []
        while len(seen) < total:
            for m in await sub.fetch(min(256, total - len(seen)), timeout=5):
                event = PAYLOADS[m.subject].FromString(m.data)
                seen.append((m.subject, (m.headers or {}).get(MSG_ID_HEADER, ""), event.event_id))
        return seen
    finally:
        await nc.close()


async def test_events_committed_while_nats_is_down_arrive_exactly_once(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    sku = unique("SKU")
    async with running_stock(database_url, nats_server.url) as stock:
        await stock.app.nats.ready.wait()
        await add_location(stock.stub, "L1")
        await receive(stock.stub, sku, "L1", 100)

        async def reserve(i: int) -> None:
            await stock.stub.Reserve(
                pb.ReserveRequest(
                    idempotency_key=f"k{i}",
                    lines=[pb.ReserveLine(sku=sku, location_id="L1", quantity=1)],
                )
            )

        await asyncio.gather(*(reserve(i) for i in range(10)))
        nats_server.stop()
        await asyncio.gather(*(reserve(i) for i in range(10, 30)))  # committed, NATS down
        writers = asyncio.gather(*(reserve(i) for i in range(30, 40)))
        nats_server.start()  # same port, same store: clients reconnect
        await writers

        async def outbox_empty() -> bool:
            return await stock.app.relay.pending() == 0

        await eventually(outbox_empty, within=30)

    seen = await read_whole_stream(nats_server.url)
    # 1 location + 1 receipt + 40 reservations x (1 level change + 1 reserved)
    assert Counter(subject for subject, _, _ in seen) == Counter(
        {
            "stock.events.location_changed": 1,
            "stock.events.level_changed": 41,
            "stock.events.reserved": 40,
        }
    )
    assert len({event_id for _, _, event_id in seen}) == len(seen), "an event arrived twice"
    assert all(msg_id == event_id for _, msg_id, event_id in seen)
