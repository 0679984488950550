"""The outbox: events of committed changes reach JetStream exactly once, whatever NATS does."""

from __future__ import annotations

import asyncio
from collections import Counter

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from omni.platform.messaging import MSG_ID_HEADER
from omni.platform.natsserver import EmbeddedNats
from omni.platform.streams import availability_subject
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from tests.helpers.checks import eventually, unique
from tests.helpers.running import running_stock
from tests.helpers.stock import add_location, receive

PAYLOADS = {
    "stock.events.reserved": msg_pb.StockReserved,
    "stock.events.location_changed": msg_pb.LocationChanged,
}


async def read_whole_stream(url: str) -> list[tuple[str, str, str]]:
    """Every message in STOCK_EVENTS: (subject, Nats-Msg-Id, event_id)."""
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
                msg_id = (m.headers or {}).get(MSG_ID_HEADER, "")
                seen.append((m.subject, msg_id, event.event_id))
        return seen
    finally:
        await nc.close()


async def test_an_event_is_published_right_after_its_commit_not_on_the_poll(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    async with running_stock(database_url, nats_server, outbox_poll_seconds=60) as stock:
        await stock.app.nats.ready.wait()
        await add_location(stock.stub, "L1")
        sku = unique("SKU")
        changes = await stock.bus.subscribe(availability_subject("L1", sku))
        await stock.bus.flush()  # the server has the subscription before the event
        await receive(stock.stub, sku, "L1", 5)
        # Within 5 s, while the poll would take 60 s: published by the commit itself.
        event = msg_pb.StockLevelChanged.FromString((await changes.next_msg(5)).data)
        assert (event.level.sku, event.level.on_hand) == (sku, 5)


async def test_the_longest_ids_make_a_subject_the_outbox_holds(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    """Ids of 64 characters, every "." written "%2E": a subject of about 400 characters (over
    255 gave INTERNAL on PostgreSQL; found by tests/integration/test_fuzz.py)."""
    location_id, sku = "L" + "." * 63, "S" + "." * 63
    async with running_stock(database_url, nats_server) as stock:
        await stock.app.nats.ready.wait()
        await add_location(stock.stub, location_id)
        changes = await stock.bus.subscribe(availability_subject(location_id, sku))
        await stock.bus.flush()  # the server has the subscription before the event
        await receive(stock.stub, sku, location_id, 1)
        event = msg_pb.StockLevelChanged.FromString((await changes.next_msg(5)).data)
        assert (event.level.sku, event.level.location_id) == (sku, location_id)


async def test_events_committed_while_nats_is_down_arrive_exactly_once(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    sku = unique("SKU")
    async with running_stock(database_url, nats_server) as stock:
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

    seen = await read_whole_stream(nats_server.operator_url)
    assert Counter(subject for subject, _, _ in seen) == Counter(
        {"stock.events.location_changed": 1, "stock.events.reserved": 40}
    )
    assert len({event_id for _, _, event_id in seen}) == len(seen), "an event arrived twice"
    assert all(msg_id == event_id for _, msg_id, event_id in seen)
    # The availability stream holds the latest level: 1 receipt + 40 reservations.
    assert (await latest_availability(nats_server.operator_url, sku)).version == 41


async def latest_availability(url: str, sku: str) -> pb.StockLevel:
    nc = await nats.connect(url)
    try:
        stored = await nc.jetstream().get_last_msg(
            "STOCK_AVAILABILITY", availability_subject("L1", sku)
        )
        return msg_pb.StockLevelChanged.FromString(stored.data).level
    finally:
        await nc.close()
