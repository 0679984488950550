"""The console's read model on SQLite and PostgreSQL: each event counted once whatever the
redeliveries, and the same figures whatever order the events arrive in."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from omni.common.v1 import common_pb2 as cpb
from omni.console.figures import model, reading
from omni.console.figures.model import migrate
from omni.console.figures.recording import Recorder
from omni.console.settings import ConsoleSettings
from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.v1 import messaging_pb2 as pickup_msg
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.platform import streams
from omni.platform.db import create_engine
from omni.platform.messaging import ensure_streams
from omni.platform.natsserver import EmbeddedNats
from omni.returns.v1 import messaging_pb2 as returns_msg
from omni.returns.v1 import returns_pb2 as rpb
from omni.stock.v1 import messaging_pb2 as stock_msg
from omni.stock.v1 import stock_pb2 as spb
from tests.helpers.checks import eventually

NOW = datetime.now(UTC).replace(microsecond=0)
_ids = itertools.count()


def _ago(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)


def _ts(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def _msg(subject: str, event: object) -> Msg:
    return Msg(_client=None, subject=subject, data=event.SerializeToString())  # type: ignore[arg-type, attr-defined]


def _order(
    order_id: str, channel: int, lines: dict[str, tuple[int, int]], placed: datetime
) -> opb.Order:
    return opb.Order(
        id=order_id,
        channel=channel,  # type: ignore[arg-type]
        customer_id="c",
        currency="EUR",
        lines=[
            opb.OrderLine(
                sku=sku,
                quantity=q,
                unit_price=p,
                allocations=[opb.Allocation(location_id="STORE-1", quantity=q)],
            )
            for sku, (q, p) in lines.items()
        ],
        pickup=cpb.PickupAt(location_id="STORE-1"),
        created_at=_ts(placed),
        total=sum(q * p for q, p in lines.values()),
    )


def _order_event(kind: str, order: opb.Order, at: datetime) -> Msg:
    event = orders_msg.OrderChanged(event_id=f"o{next(_ids)}", occurred_at=_ts(at), order=order)
    return _msg(f"orders.events.{kind}", event)


def _task_event(kind: str, status: int, version: int, at: datetime) -> Msg:
    task = ppb.PickupTask(
        id="T1",
        order_id="O1",
        store_id="STORE-1",
        status=status,  # type: ignore[arg-type]
        version=version,
        created_at=_ts(NOW - timedelta(minutes=5)),
        hold_until=_ts(NOW + timedelta(minutes=30)),
    )
    event = pickup_msg.PickupChanged(event_id=f"p{next(_ids)}", occurred_at=_ts(at), task=task)
    return _msg(f"pickup.events.{kind}", event)


def _level_event(available: int, version: int, where: str = "WH-1") -> Msg:
    level = spb.StockLevel(sku="MUG", location_id=where, available=available, version=version)
    event = stock_msg.StockLevelChanged(event_id=f"s{next(_ids)}", level=level)
    return _msg(f"stock.availability.{where}.MUG", event)


def _history() -> list[tuple[str, Msg]]:
    """A web pickup order placed, confirmed, made ready, collected and partly returned at a
    store; a POS order; and a stock level changing twice (by consumer)."""
    web = _order(
        "O1", cpb.CHANNEL_WEB, {"MUG": (2, 1000), "CUP": (1, 500)}, NOW - timedelta(minutes=5)
    )
    pos = _order("O2", cpb.CHANNEL_POS, {"CUP": (4, 500)}, NOW - timedelta(minutes=4))
    rma = rpb.Return(
        id="R1",
        order_id="O1",
        channel=cpb.CHANNEL_POS,
        location_id="STORE-1",
        currency="EUR",
        lines=[rpb.ReturnLine(sku="MUG", quantity=1, reason="chipped")],
    )
    received = returns_msg.ReturnChanged(
        event_id="r1",
        occurred_at=_ts(NOW - timedelta(minutes=1)),
        rma=rma,
        received=[rpb.ReceivedLine(sku="MUG", quantity=1)],
    )
    return [
        ("orders", _order_event("placed", web, NOW - timedelta(minutes=5))),
        ("orders", _order_event("confirmed", web, NOW - timedelta(minutes=5))),
        ("orders", _order_event("confirmed", pos, NOW - timedelta(minutes=4))),
        (
            "pickup",
            _task_event("picking", ppb.PICKUP_STATUS_PICKING, 2, NOW - timedelta(minutes=4)),
        ),
        ("pickup", _task_event("ready", ppb.PICKUP_STATUS_READY, 3, NOW - timedelta(minutes=3))),
        ("returns", _msg("returns.events.received", received)),
        ("level", _level_event(7, 5)),
        ("level", _level_event(1, 6)),
        ("level", _level_event(3, 1, "STORE-1")),
        ("level", _level_event(0, 2, "STORE-1")),
    ]


async def _figures(url: str, shuffled: int | None) -> dict[str, object]:
    """Applies the history (shuffled by the seed, with every event delivered twice) and reads
    back what the dashboard and the timeline show."""
    await migrate(url)
    engine = create_engine(url, pool_size=2)
    recorder = Recorder(engine, link=None)  # type: ignore[arg-type]  # handlers only, no NATS
    handle = {
        "orders": recorder.on_order,
        "pickup": recorder.on_pickup,
        "returns": recorder.on_return,
        "level": recorder.on_level,
    }
    deliveries = _history() * 2
    if shuffled is not None:
        random.Random(shuffled).shuffle(deliveries)
    try:
        for kind, msg in deliveries:
            await handle[kind](msg)
        sales = await reading.sales_last_hour(engine, "EUR", NOW)
        pickups = await reading.pickup_figures(engine, NOW)
        returns = await reading.returns_figures(engine, NOW - timedelta(days=1))
        return {
            "orders": sales.orders,
            "gmv": sales.gmv,
            # the day the orders were placed (5 minutes ago: yesterday, just after midnight)
            "leaders": await reading.leaderboard(engine, _ago(5).date(), "EUR"),
            "pickups": (pickups.stores, pickups.ready_median_s, pickups.ready_count),
            "reasons": returns.by_reason,
            "matrix": returns.matrix,
            "low": await reading.low_stock(engine, 2),
            "out": await reading.out_of_stock(engine, ["STORE-1", "STORE-2"]),
            "timeline": [said for _, said in await reading.timeline_of(engine, "O1")],
        }
    finally:
        await engine.dispose()


@pytest.mark.parametrize("seed", [None, 1, 2])
async def test_figures_count_each_event_once_in_any_order(
    new_database: object, seed: int | None
) -> None:
    url = await new_database(f"console{seed}")  # type: ignore[operator]
    shown = await _figures(url, seed)

    minute = [0] * reading.HOUR_MINUTES
    web, pos = list(minute), list(minute)
    web[-6], pos[-5] = 1, 1  # placed 5 and 4 minutes ago: each counted once, in its minute
    assert shown["orders"] == {"WEB": web, "POS": pos}
    assert shown["gmv"] == 2500 + 2000
    assert shown["leaders"] == [
        reading.Product("CUP", 5, 2500),
        reading.Product("MUG", 2, 2000),
    ]
    # The older "picking" event never overwrites "ready"; ready 2 minutes after the order.
    assert shown["pickups"] == ([reading.StorePickups("STORE-1", 0, 1, 1)], 120.0, 1)
    assert shown["reasons"] == [("chipped", 1)]
    assert shown["matrix"] == {("WEB", "POS"): 1}
    # The network total follows each location's latest level (1 + 0), whatever came first.
    assert shown["low"] == [("MUG", 1)]
    assert shown["out"] == [("STORE-1", ["MUG"])]
    assert shown["timeline"] == [
        "Placed through Web: 3 units, 25.00 EUR, for collection at STORE-1",
        "Confirmed: 3 units from STORE-1",
        "Picking started at STORE-1",
        "Ready for collection at STORE-1",
        "Returned at STORE-1 through Store (POS): 1 unit",
    ]


async def test_a_message_that_is_not_an_event_is_dropped_and_changes_nothing(
    new_database: object,
) -> None:
    url = await new_database("console")  # type: ignore[operator]
    await migrate(url)
    engine = create_engine(url, pool_size=1)
    try:
        recorder = Recorder(engine, link=None)  # type: ignore[arg-type]
        await recorder.on_order(Msg(_client=None, subject="orders.events.placed", data=b"\xff\x00"))  # type: ignore[arg-type]
        await recorder.on_order(_msg("orders.events.placed", orders_msg.OrderChanged()))
        assert (await reading.sales_last_hour(engine, "EUR", NOW)).orders == {}
        assert await reading.timeline_of(engine, "") == []
    finally:
        await engine.dispose()


async def _recorder_on(url: str, connections: int = 4) -> tuple[Recorder, object]:
    await migrate(url)
    engine = create_engine(url, pool_size=connections)
    return Recorder(engine, link=None), engine  # type: ignore[arg-type]  # handlers only


async def test_concurrent_orders_with_the_same_products_in_other_orders_all_count(
    new_database: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Handled at once (as the consumer does), orders naming the same SKUs in shuffled line
    orders never wait on each other in a cycle (no transaction is rerun after a deadlock),
    and every one counts, once."""
    caplog.set_level(logging.INFO, logger="omni.platform.db")
    url = await new_database("console")  # type: ignore[operator]
    recorder, engine = await _recorder_on(url, connections=16)  # more than the console's
    skus = ["A", "B", "C", "D", "E", "F"]
    shuffle = random.Random(7)
    events = []
    for i in range(64):
        lines = shuffle.sample(skus, len(skus))
        # each its own minute (its own first row to lock), the products in any order
        placed = NOW.replace(hour=12) - timedelta(days=1, minutes=i)
        order = _order(f"O{i}", spb_web(), {sku: (1, 100) for sku in lines}, placed)
        events.append(_order_event("confirmed", order, placed))
    try:
        await asyncio.gather(*(recorder.on_order(m) for m in events))
        day = (NOW - timedelta(days=1)).date()
        board = await reading.leaderboard(engine, day, "EUR")  # type: ignore[arg-type]
        assert {(p.sku, p.units, p.amount) for p in board} == {(s, 64, 6400) for s in skus}
        assert not [r.message for r in caplog.records if "retrying transaction" in r.message]
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


async def test_odd_events_are_recorded_as_well_as_they_can_be(new_database: object) -> None:
    """A channel or status this console does not know yet (a newer service), text with NUL
    or longer than a column, a time no calendar holds: recorded, never failing the event
    (which would otherwise be retried and set aside)."""
    url = await new_database("console")  # type: ignore[operator]
    recorder, engine = await _recorder_on(url)
    order = _order("O-odd", 99, {"S" * 80: (1, 100)}, _ago(1))
    order.currency = "EUROS"
    order.created_at.seconds = 10**13  # the year 318857
    rma = rpb.Return(
        id="R-odd",
        order_id="O-odd",
        channel=42,  # type: ignore[arg-type]
        lines=[rpb.ReturnLine(sku="S", quantity=1, reason="torn\x00" + "x" * 300)],
    )
    received = returns_msg.ReturnChanged(
        event_id="r-odd", rma=rma, received=[rpb.ReceivedLine(sku="S", quantity=1)]
    )
    try:
        await recorder.on_order(_order_event("placed", order, _ago(1)))
        await recorder.on_order(_order_event("confirmed", order, _ago(1)))
        await recorder.on_pickup(_task_event("ready", 77, 1, _ago(1)))
        await recorder.on_return(_msg("returns.events.received", received))
        returns = await reading.returns_figures(engine, _ago(60))  # type: ignore[arg-type]
        assert returns.by_reason == [("torn" + "x" * 196, 1)]
        assert returns.matrix == {("UNKNOWN_99", "UNKNOWN_42"): 1}
        steps = [said for _, said in await reading.timeline_of(engine, "O-odd")]  # type: ignore[arg-type]
        assert steps[0].startswith("Placed through Unknown (99): 1 unit")
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


def spb_web() -> int:
    return int(cpb.CHANNEL_WEB)


async def test_consumers_wait_for_the_schema_instead_of_setting_events_aside(
    nats_server: EmbeddedNats, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A console started before its migration ran (migrate-on-start off, as in Kubernetes)
    handles no event until the schema is there, then every one: none fails, none is lost."""
    monkeypatch.setattr(model, "SCHEMA_POLL_SECONDS", 0.1)
    url = f"sqlite+aiosqlite:///{tmp_path}/console.db"
    settings = ConsoleSettings(
        database_url=url,
        migrate_on_start=False,
        **nats_server.settings("console"),
        session_key="q8lO3Sx2F3rYbJr7aTQK0mJ6bqNSlWcDPk3rdD0n1Mc=",
    )
    nc = await nats.connect(nats_server.operator_url)
    await ensure_streams(nc.jetstream(), [streams.ORDERS_EVENTS], replicas=1)
    placed = _order_event("placed", _order("O-early", cpb.CHANNEL_WEB, {"MUG": (1, 100)}, NOW), NOW)
    await nc.jetstream().publish(placed.subject, placed.data)
    read_model = model.ReadModel(settings, [])
    await read_model.start()
    try:
        await asyncio.sleep(1.0)
        with pytest.raises(NotFoundError):  # not consuming: nothing handled, nothing failed
            await nc.jetstream().consumer_info("ORDERS_EVENTS", "console-orders")
        await migrate(url)

        async def recorded() -> list[object]:
            return await reading.timeline_of(read_model.engine, "O-early")  # type: ignore[return-value]

        await eventually(recorded, within=10)
    finally:
        await read_model.stop()
        await nc.close()
