"""Backorders and preorders through two stock replicas on one database (SQLite and
PostgreSQL): sold against supply on its way only where a channel's policy lets it and within
its cap; units that arrive go to the waiting lines first come, first served; supply cut or
moved cuts the newest lines or re-dates them; never more promised than shelf plus supply."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.common.v1 import common_pb2 as cpb
from omni.platform.clock import utcnow
from omni.platform.wire import timestamp
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import eventually, unique
from tests.helpers.running import Stock
from tests.helpers.stock import add_location, as_domain, ledger_fold, level_of, receive
from tests.integration.test_purchase_orders import new_order, receipt

NORTH = cpb.ShipTo(region="north")
SHORT = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture
async def replicas(two_replicas: list[Stock]) -> list[Stock]:
    await add_location(two_replicas[0].stub, "WH-1", region="north")
    return two_replicas


async def allow(
    stub: stock_pb2_grpc.StockServiceStub,
    sku: str,
    cap: int | None = None,
    channel: int = cpb.CHANNEL_WEB,
    kind: int = pb.PRESALE_KIND_BACKORDER,
) -> pb.PresalePolicy:
    policy = pb.PresalePolicy(channel=channel, sku=sku, kind=kind, cap=cap)
    return (await stub.SetPresalePolicy(pb.SetPresalePolicyRequest(policy=policy))).policy


def allocation(
    sku: str, quantity: int, channel: int = cpb.CHANNEL_WEB, key: str = ""
) -> pb.AllocateRequest:
    key = key or unique("alloc")
    return pb.AllocateRequest(
        idempotency_key=key,
        reference=key,
        lines=[pb.AllocateLine(sku=sku, quantity=quantity)],
        ship=NORTH,
        channel=channel,
    )


async def reservation(stub: stock_pb2_grpc.StockServiceStub, rid: str) -> pb.Reservation:
    return (await stub.GetReservation(pb.GetReservationRequest(id=rid))).reservation


def due(line: pb.ReservationLine) -> datetime | None:
    return line.expected_at.ToDatetime() if line.HasField("expected_at") else None


async def test_a_channel_sells_ahead_only_under_its_policy_and_never_beyond_the_supply(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("PRE")
    po = (await a.stub.CreatePurchaseOrder(new_order(days=5, **{sku: 10}))).purchase_order
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # no policy: shelf stock only
        await a.stub.Allocate(allocation(sku, 3))
    assert refused.value.code() == SHORT

    await allow(a.stub, sku)
    made = (await b.stub.Allocate(allocation(sku, 3))).reservation
    (line,) = made.lines
    assert (line.quantity, line.backordered, line.location_id) == (3, 3, "WH-1")
    assert made.channel == cpb.CHANNEL_WEB
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.on_hand, level.incoming, level.backordered, level.available) == (0, 10, 3, 0)
    # Another channel has no policy; this one may not take more than is still coming.
    with pytest.raises(grpc.aio.AioRpcError) as other:
        await a.stub.Allocate(allocation(sku, 1, channel=cpb.CHANNEL_MARKETPLACE))
    assert other.value.code() == SHORT
    with pytest.raises(grpc.aio.AioRpcError) as beyond:
        await b.stub.Allocate(allocation(sku, 8))
    assert beyond.value.code() == SHORT and "available 7" in (beyond.value.details() or "")
    level = await level_of(a.stub, sku, "WH-1")
    assert await ledger_fold(a.stub, sku, "WH-1") == as_domain(level)
    assert po.lines[0].quantity == 10

    # Shelf stock is sold first; only the rest waits.
    shelf = unique("MIX")
    await receive(a.stub, shelf, "WH-1", 2)
    await a.stub.CreatePurchaseOrder(new_order(days=5, **{shelf: 10}))
    await allow(a.stub, shelf)
    mixed = (await a.stub.Allocate(allocation(shelf, 5))).reservation
    assert (mixed.lines[0].quantity, mixed.lines[0].backordered) == (5, 3)
    # Backordered units cannot ship before they are here; held ones can.
    with pytest.raises(grpc.aio.AioRpcError) as early:
        await a.stub.Commit(
            pb.CommitRequest(
                reservation_id=mixed.id,
                lines=[pb.CommitLine(sku=shelf, location_id="WH-1", quantity=3)],
            )
        )
    assert early.value.code() == SHORT and "backordered" in (early.value.details() or "")
    await a.stub.Commit(
        pb.CommitRequest(
            reservation_id=mixed.id,
            lines=[pb.CommitLine(sku=shelf, location_id="WH-1", quantity=2)],
        )
    )
    policies = await a.stub.ListPresalePolicies(pb.ListPresalePoliciesRequest(channel=1))
    waiting = {p.sku: p.waiting for p in policies.policies}
    assert (waiting[sku], waiting[shelf]) == (3, 3)


async def test_units_that_arrive_go_to_the_waiting_lines_first_come_first_served(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("BO")
    events = await a.bus.jetstream().subscribe(
        "stock.events.backorder", deliver_policy=DeliverPolicy.NEW
    )
    po = (await a.stub.CreatePurchaseOrder(new_order(days=3, **{sku: 5}))).purchase_order
    await allow(a.stub, sku)
    first = (await a.stub.Allocate(allocation(sku, 3))).reservation
    second = (await b.stub.Allocate(allocation(sku, 2))).reservation
    expected = po.lines[0].expected_at.ToDatetime()

    async def dated() -> bool:
        lines = [(await reservation(a.stub, r.id)).lines[0] for r in (first, second)]
        return all(due(line) == expected for line in lines)

    await eventually(dated)
    # Four arrive: none of them may be sold from the shelf, they are the waiting orders'.
    await b.stub.ReceivePurchaseOrder(receipt(po.id, "r1", **{sku: 4}))
    level = await level_of(a.stub, sku, "WH-1")
    assert level.available == 0
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await a.stub.Reserve(
            pb.ReserveRequest(
                idempotency_key=unique("cart"),
                lines=[pb.ReserveLine(sku=sku, location_id="WH-1", quantity=1)],
            )
        )
    assert taken.value.code() == SHORT

    async def filled() -> tuple[int, int] | None:
        lines = [(await reservation(b.stub, r.id)).lines[0] for r in (first, second)]
        waits = (lines[0].backordered, lines[1].backordered)
        return waits if waits == (0, 1) else None

    assert await eventually(filled) == (0, 1)  # the first order is whole; the second waits for 1
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.on_hand, level.reserved, level.backordered, level.incoming) == (4, 4, 1, 1)
    # The first can ship now.
    await a.stub.Commit(pb.CommitRequest(reservation_id=first.id))
    await a.stub.ReceivePurchaseOrder(receipt(po.id, "r2", **{sku: 1}))

    async def all_filled() -> bool:
        return (await reservation(a.stub, second.id)).lines[0].backordered == 0

    await eventually(all_filled)
    seen: dict[str, int] = {}
    while sum(seen.values()) < 5:
        changed = msg_pb.BackorderChanged.FromString((await events.next_msg(5)).data)
        for line in changed.lines:
            seen[changed.reservation.id] = seen.get(changed.reservation.id, 0) + line.filled
    assert seen == {first.id: 3, second.id: 2}
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.backordered, level.reserved, level.available) == (0, 2, 0)
    assert await ledger_fold(a.stub, sku, "WH-1") == as_domain(level)
    policies = await a.stub.ListPresalePolicies(pb.ListPresalePoliciesRequest(sku=sku))
    assert policies.policies[0].waiting == 0


async def test_supply_cut_gives_up_the_newest_lines_and_supply_moved_redates_the_rest(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("CUT")
    po = (await a.stub.CreatePurchaseOrder(new_order(days=3, **{sku: 6}))).purchase_order
    await allow(a.stub, sku)
    older = (await a.stub.Allocate(allocation(sku, 3))).reservation
    newer = (await b.stub.Allocate(allocation(sku, 3))).reservation

    # The supplier sends 4, not 6: the newest order loses 2.
    amend = pb.AmendPurchaseOrderRequest(
        id=po.id, lines=[pb.PurchaseOrderAmendment(sku=sku, quantity=4)], reason="supplier short"
    )
    amended = (await b.stub.AmendPurchaseOrder(amend)).purchase_order
    assert amended.lines[0].quantity == 4
    assert (await a.stub.AmendPurchaseOrder(amend)).purchase_order.version == amended.version

    async def cut() -> pb.ReservationLine | None:
        line = (await reservation(a.stub, newer.id)).lines[0]
        return line if line.released == 2 else None

    line = await eventually(cut)
    assert (line.backordered, line.quantity) == (1, 3)
    assert (await reservation(a.stub, older.id)).lines[0].backordered == 3
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.incoming, level.backordered) == (4, 4)

    # Later than promised: both re-dated.
    later = utcnow() + timedelta(days=9)
    await a.stub.AmendPurchaseOrder(
        pb.AmendPurchaseOrderRequest(
            id=po.id, lines=[pb.PurchaseOrderAmendment(sku=sku, expected_at=timestamp(later))]
        )
    )

    async def redated() -> bool:
        lines = [(await reservation(b.stub, r.id)).lines[0] for r in (older, newer)]
        return all(due(ln) == later.replace(tzinfo=None) for ln in lines)

    await eventually(redated)
    # Nothing more will come: every waiting unit is given up, and the cap counts none.
    await b.stub.ClosePurchaseOrder(pb.ClosePurchaseOrderRequest(id=po.id, reason="supplier gone"))

    async def all_cut() -> bool:
        found = [await reservation(a.stub, r.id) for r in (older, newer)]
        return all(r.status == pb.RESERVATION_STATUS_RELEASED for r in found)

    await eventually(all_cut)
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.incoming, level.backordered, level.reserved) == (0, 0, 0)
    assert await ledger_fold(a.stub, sku, "WH-1") == as_domain(level)
    policies = await a.stub.ListPresalePolicies(pb.ListPresalePoliciesRequest(sku=sku))
    assert policies.policies[0].waiting == 0


async def test_concurrent_preorders_through_two_replicas_confirm_exactly_the_cap(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("DROP")
    await a.stub.CreatePurchaseOrder(new_order(days=20, **{sku: 100}))
    await allow(a.stub, sku, cap=30, kind=pb.PRESALE_KIND_PREORDER)

    async def attempt(i: int) -> bool:
        try:
            await (a, b)[i % 2].stub.Allocate(allocation(sku, 1), timeout=30)
            return True
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == SHORT, exc
            return False

    outcomes = await asyncio.gather(*(attempt(i) for i in range(80)))
    assert sum(outcomes) == 30
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.backordered, level.reserved, level.incoming) == (30, 0, 100)
    policies = await b.stub.ListPresalePolicies(pb.ListPresalePoliciesRequest(sku=sku))
    assert policies.policies[0].waiting == 30
    # Paused: orders already taken still wait, no new ones.
    paused = pb.PresalePolicy(
        channel=cpb.CHANNEL_WEB, sku=sku, kind=pb.PRESALE_KIND_PREORDER, cap=30, paused=True
    )
    await a.stub.SetPresalePolicy(pb.SetPresalePolicyRequest(policy=paused))
    with pytest.raises(grpc.aio.AioRpcError):
        await a.stub.Allocate(allocation(sku, 1))
    assert (await level_of(a.stub, sku, "WH-1")).backordered == 30


async def test_each_line_sold_ahead_is_due_with_the_supply_that_covers_it_in_turn(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("TWO")
    sooner = await a.stub.CreatePurchaseOrder(new_order(days=3, **{sku: 5}))
    later = await a.stub.CreatePurchaseOrder(new_order(days=9, **{sku: 5}))
    await allow(a.stub, sku)
    made = await asyncio.gather(
        *((a, b)[i % 2].stub.Allocate(allocation(sku, 1), timeout=30) for i in range(10))
    )
    lines = sorted(
        (m.reservation.created_at.ToDatetime(), m.reservation.id, due(m.reservation.lines[0]))
        for m in made
    )
    dates = [po.purchase_order.lines[0].expected_at.ToDatetime() for po in (sooner, later)]
    # First come, first covered: the five oldest by the sooner order, the rest by the later.
    assert [when for _, _, when in lines] == [dates[0]] * 5 + [dates[1]] * 5


async def test_presale_policies_are_listed_a_page_at_a_time(replicas: list[Stock]) -> None:
    a, _ = replicas
    skus = sorted(unique("PG") for _ in range(5))
    for sku in skus:
        await allow(a.stub, sku, channel=cpb.CHANNEL_APP)
    seen: list[str] = []
    token = ""
    while True:
        page = await a.stub.ListPresalePolicies(
            pb.ListPresalePoliciesRequest(channel=cpb.CHANNEL_APP, page_size=2, page_token=token)
        )
        assert len(page.policies) <= 2
        seen += [p.sku for p in page.policies]
        token = page.next_page_token
        if not token:
            break
    assert [s for s in seen if s in skus] == skus


async def test_units_brought_by_transfer_are_never_sold_ahead(replicas: list[Stock]) -> None:
    a, _ = replicas
    sku = unique("PRE")
    await add_location(a.stub, "STORE-9", region="north", kind=pb.LOCATION_KIND_STORE)
    await a.stub.CreatePurchaseOrder(new_order(days=5, **{sku: 10}))  # due at WH-1
    await allow(a.stub, sku)
    request = pb.AllocateRequest(
        idempotency_key=unique("alloc"),
        lines=[pb.AllocateLine(sku=sku, quantity=2)],
        near=pb.ShipNear(location_id="STORE-9", by_transfer=True),
        channel=cpb.CHANNEL_WEB,
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # nothing on a shelf to send
        await a.stub.Allocate(request)
    assert refused.value.code() == SHORT
    assert (await level_of(a.stub, sku, "WH-1")).backordered == 0
