"""Exchanges: units of a fulfilled order swapped for another SKU through any channel. The
replacement is ordered at once (in advance) or once the returned units arrive; the price
difference is charged or refunded when the replacement is confirmed; the returned units are
restocked where they are received; both orders name each other; cancelling either side gives
back what was settled. Real stock, orders and returns services on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as opb
from omni.platform.natsserver import EmbeddedNats
from omni.returns.v1 import messaging_pb2 as returns_msg
from omni.returns.v1 import returns_pb2 as rpb
from tests.helpers.checks import eventually, unique
from tests.helpers.stock import level_of, receive
from tests.integration.test_returns import (
    PRICE,
    Shop,
    arrived,
    create,
    return_request,
    shipped_order,
    shop_running,
    urls,
)

__all__ = ["urls"]  # fixture

NORTH = cpb.ShipTo(region="north")
SELLABLE = rpb.CONDITION_SELLABLE


class Events:
    """returns.events as they come, by type."""

    def __init__(self, sub: object) -> None:
        self._sub = sub

    async def next(self, kind: str) -> returns_msg.ReturnChanged:
        """The next event of `kind`, skipping others."""
        while True:
            msg = await self._sub.next_msg(10)  # type: ignore[attr-defined]
            if msg.subject.endswith("." + kind):
                return returns_msg.ReturnChanged.FromString(msg.data)


@pytest.fixture
async def shop(urls: dict[str, str], nats_server: EmbeddedNats) -> AsyncIterator[Shop]:
    async with shop_running(urls, nats_server) as running:
        yield running


async def events_of(shop: Shop) -> Events:
    js = shop.returns.bus.jetstream()
    return Events(await js.subscribe("returns.events.>", deliver_policy=DeliverPolicy.NEW))


def exchange(
    order_id: str,
    swaps: dict[str, tuple[str, int, int]],  # sku: (replacement sku, quantity, price or 0)
    *,
    advance: bool,
    location_id: str = "STORE-1",
) -> rpb.CreateReturnRequest:
    request = return_request(order_id, {s: q for s, (_, q, _) in swaps.items()}, location_id)
    request.exchange.CopyFrom(
        rpb.ExchangeRequest(
            replacements=[
                rpb.Replacement(sku=s, replacement_sku=r, unit_price=p)
                for s, (r, _, p) in swaps.items()
            ],
            ship=NORTH,
            advance=advance,
        )
    )
    return request


async def rma_now(shop: Shop, rma_id: str, done: object) -> rpb.Return:
    async def reached() -> rpb.Return | None:
        rma = (await shop.returns.stub.GetReturn(rpb.GetReturnRequest(id=rma_id))).rma
        return rma if done(rma) else None  # type: ignore[operator]

    return await eventually(reached, within=10)


async def order_of(shop: Shop, order_id: str) -> opb.Order:
    return (await shop.orders.stub.GetOrder(opb.GetOrderRequest(id=order_id))).order


async def test_an_advance_exchange_ships_the_new_size_now_and_charges_the_difference(
    shop: Shop,
) -> None:
    small, large = unique("TEE-S"), unique("TEE-L")
    order = await shipped_order(shop, small, 2)
    await receive(shop.stock.stub, large, "WH-N", 5)
    events = await events_of(shop)
    rma = await create(shop, exchange(order.id, {small: (large, 2, PRICE + 500)}, advance=True))
    assert rma.exchange.status == rpb.EXCHANGE_STATUS_ORDERED
    assert rma.exchange.difference == 2 * 500

    confirmed = await events.next("exchange_confirmed")
    assert (confirmed.charge, confirmed.refund) == (1000, 0)
    replacement_id = confirmed.rma.exchange.replacement_order_id
    replacement = await order_of(shop, replacement_id)
    assert (replacement.exchange_return_id, replacement.exchange_of_order_id) == (rma.id, order.id)
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in replacement.lines] == [
        (large, 2, PRICE + 500)
    ]
    assert replacement.status == opb.ORDER_STATUS_CONFIRMED and replacement.customer_id == "cust-1"
    original = await order_of(shop, order.id)
    assert [(x.return_id, x.replacement_order_id) for x in original.exchanges] == [
        (rma.id, replacement_id)
    ]
    assert (await level_of(shop.stock.stub, large, "WH-N")).reserved == 2

    # The old ones arrive at a store: restocked there, nothing refunded (the swap paid).
    receipt = rpb.ReceiveReturnRequest(id=rma.id, lines=[arrived(small, 2, SELLABLE, "s1")])
    got = (await shop.returns.stub.ReceiveReturn(receipt)).rma
    assert (got.status, got.refunded, got.charged) == (rpb.RETURN_STATUS_RECEIVED, 0, 1000)
    refund = await events.next("refund_issued")
    assert (refund.refund, refund.charge) == (0, 0)

    async def back_on_sale() -> bool:
        return (await level_of(shop.stock.stub, small, "STORE-1")).available == 2

    await eventually(back_on_sale)
    returned = opb.ORDER_STATUS_RETURNED
    await eventually(lambda: _status_is(shop, order.id, returned), within=10)


async def _status_is(shop: Shop, order_id: str, status: int) -> bool:
    return (await order_of(shop, order_id)).status == status


async def test_a_counter_swap_orders_the_replacement_once_the_old_one_is_in(shop: Shop) -> None:
    blue, red = unique("CAP-BLUE"), unique("CAP-RED")
    order = await shipped_order(shop, blue, 1)
    await receive(shop.stock.stub, red, "WH-N", 1)
    events = await events_of(shop)
    create_request = exchange(order.id, {blue: (red, 1, 0)}, advance=False)
    rma = (
        await shop.returns.stub.ReturnAtCounter(
            rpb.ReturnAtCounterRequest(
                create=create_request, received=[arrived(blue, 1, SELLABLE, "c1")]
            )
        )
    ).rma
    # Received in the same call: the like-for-like replacement is ordered at once.
    assert rma.exchange.status == rpb.EXCHANGE_STATUS_ORDERED
    assert (rma.exchange.difference, rma.exchange.replacements[0].unit_price) == (0, PRICE)
    confirmed = await events.next("exchange_confirmed")
    assert (confirmed.refund, confirmed.charge) == (0, 0)
    done = await rma_now(shop, rma.id, lambda r: r.exchange.status == rpb.EXCHANGE_STATUS_CONFIRMED)
    assert done.refunded == 0


async def test_no_stock_for_the_replacement_makes_it_a_plain_return_refunded_as_it_arrives(
    shop: Shop,
) -> None:
    old, gone = unique("SHOE-42"), unique("SHOE-43")
    order = await shipped_order(shop, old, 1)
    events = await events_of(shop)
    rma = await create(shop, exchange(order.id, {old: (gone, 1, 0)}, advance=True))
    failed = await events.next("exchange_failed")
    assert failed.rma.exchange.status == rpb.EXCHANGE_STATUS_FAILED
    assert failed.rma.exchange.reason == "the replacement could not be had"
    replacement = await order_of(shop, failed.rma.exchange.replacement_order_id)
    assert replacement.status == opb.ORDER_STATUS_REJECTED
    receipt = rpb.ReceiveReturnRequest(id=rma.id, lines=[arrived(old, 1, SELLABLE, "r1")])
    got = (await shop.returns.stub.ReceiveReturn(receipt)).rma
    assert got.refunded == PRICE


async def test_a_replacement_order_cancelled_gives_back_the_difference(shop: Shop) -> None:
    a, b = unique("A"), unique("B")
    order = await shipped_order(shop, a, 2)
    await receive(shop.stock.stub, b, "WH-N", 5)
    events = await events_of(shop)
    rma = await create(shop, exchange(order.id, {a: (b, 2, PRICE + 100)}, advance=True))
    confirmed = await events.next("exchange_confirmed")
    assert confirmed.charge == 200
    replacement_id = confirmed.rma.exchange.replacement_order_id
    order_events = await shop.orders.bus.jetstream().subscribe(
        "orders.events.cancelled", deliver_policy=DeliverPolicy.NEW
    )
    await shop.orders.stub.CancelOrder(opb.CancelOrderRequest(id=replacement_id, reason="nope"))
    told = orders_msg.OrderChanged.FromString((await order_events.next_msg(5)).data)
    assert (told.order.id, told.refund_due) == (replacement_id, 0)  # returns settles it
    cancelled = await events.next("exchange_cancelled")
    assert (cancelled.refund, cancelled.charge) == (200, 0)
    assert cancelled.rma.exchange.reason == "the replacement order was cancelled"
    # A plain return from now on: the old units are refunded as they arrive.
    receipt = rpb.ReceiveReturnRequest(id=rma.id, lines=[arrived(a, 2, SELLABLE, "x1")])
    got = (await shop.returns.stub.ReceiveReturn(receipt)).rma
    assert (got.refunded - got.charged) == 2 * PRICE


async def test_a_return_withdrawn_cancels_its_replacement_or_charges_one_that_shipped(
    shop: Shop,
) -> None:
    a, b = unique("A"), unique("B")
    order = await shipped_order(shop, a, 2)
    await receive(shop.stock.stub, b, "WH-N", 5)
    events = await events_of(shop)
    first = await create(shop, exchange(order.id, {a: (b, 1, PRICE + 100)}, advance=True))
    confirmed = await events.next("exchange_confirmed")
    replacement_id = confirmed.rma.exchange.replacement_order_id
    cancel = rpb.CancelReturnRequest(id=first.id, reason="changed my mind")
    withdrawn = (await shop.returns.stub.CancelReturn(cancel)).rma
    assert withdrawn.status == rpb.RETURN_STATUS_CANCELLED
    again = (await shop.returns.stub.CancelReturn(cancel)).rma  # harmless
    assert again.version == withdrawn.version
    # Orders cancels the replacement (nothing of it had left); the difference comes back.
    await eventually(
        lambda: _status_is(shop, replacement_id, opb.ORDER_STATUS_CANCELLED), within=10
    )
    ended = await rma_now(
        shop, first.id, lambda r: r.exchange.status == rpb.EXCHANGE_STATUS_CANCELLED
    )
    assert (ended.charged, ended.refunded) == (100, 100)

    async def released() -> bool:
        return (await level_of(shop.stock.stub, b, "WH-N")).reserved == 0

    await eventually(released)

    # The other unit, exchanged in advance: its replacement ships, then the customer keeps
    # the old one too. The withdrawal charges it in full.
    second = await create(shop, exchange(order.id, {a: (b, 1, PRICE + 100)}, advance=True))
    confirmed = await events.next("exchange_confirmed")
    replacement_id = confirmed.rma.exchange.replacement_order_id
    ship = opb.RecordShipmentRequest(
        order_id=replacement_id,
        shipment_id="box-x",
        location_id="WH-N",
        lines=[opb.ShipmentLine(sku=b, quantity=1)],
    )
    await shop.orders.stub.RecordShipment(ship)
    await rma_now(shop, second.id, lambda r: r.version > confirmed.rma.version)
    kept = (await shop.returns.stub.CancelReturn(rpb.CancelReturnRequest(id=second.id))).rma
    assert kept.exchange.status == rpb.EXCHANGE_STATUS_CONFIRMED
    assert (kept.charged - kept.refunded) == PRICE + 100  # the new one, at its full price


async def test_a_return_with_units_in_cannot_be_withdrawn_and_a_missing_unit_fails_a_swap(
    shop: Shop,
) -> None:
    a, b = unique("A"), unique("B")
    order = await shipped_order(shop, a, 2)
    await receive(shop.stock.stub, b, "WH-N", 5)
    rma = await create(shop, exchange(order.id, {a: (b, 2, 0)}, advance=False))
    assert rma.exchange.status == rpb.EXCHANGE_STATUS_AWAITING_RETURN
    receipt = rpb.ReceiveReturnRequest(
        id=rma.id,
        lines=[arrived(a, 1, SELLABLE, "m1"), arrived(a, 1, rpb.CONDITION_MISSING, "m2")],
    )
    got = (await shop.returns.stub.ReceiveReturn(receipt)).rma
    assert got.exchange.status == rpb.EXCHANGE_STATUS_FAILED
    assert got.exchange.reason == "an exchanged unit did not arrive" and not got.exchange.ordered
    assert got.refunded == PRICE  # the one that came back, as a plain return
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await shop.returns.stub.CancelReturn(rpb.CancelReturnRequest(id=rma.id))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    listed = await shop.orders.stub.ListOrders(opb.ListOrdersRequest(customer_id="cust-1"))
    assert not any(o.exchange_return_id == rma.id for o in listed.orders)  # never ordered
