"""Purchase orders through two stock replicas on one database (SQLite and PostgreSQL): units
incoming until received (by RPC or by a scanner), once per key, over-receipts reported,
cancel and close, the ledger and the events; bad input refused with nothing changed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
import pytest
from nats.js.api import DeliverPolicy

from omni.platform.clock import utcnow
from omni.platform.wire import timestamp
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import unique
from tests.helpers.running import Stock, authorized
from tests.helpers.stock import add_location, as_domain, ledger_fold, level_of, receive
from tests.integration.test_scans import code, scan, send

S = pb.PurchaseOrderStatus
INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
async def replicas(two_replicas: list[Stock]) -> list[Stock]:
    await add_location(two_replicas[0].stub, "WH-1")
    await add_location(two_replicas[0].stub, "WH-2")
    return two_replicas


def new_order(location: str = "WH-1", days: int = 2, **lines: int) -> pb.CreatePurchaseOrderRequest:
    due = timestamp(utcnow() + timedelta(days=days))
    return pb.CreatePurchaseOrderRequest(
        idempotency_key=unique("po-key"),
        location_id=location,
        supplier="Acme Denim",
        reference="PO-2026-77",
        lines=[
            pb.NewPurchaseOrderLine(sku=s, quantity=q, expected_at=due) for s, q in lines.items()
        ],
    )


def receipt(po_id: str, key: str, **lines: int) -> pb.ReceivePurchaseOrderRequest:
    return pb.ReceivePurchaseOrderRequest(
        id=po_id,
        idempotency_key=key,
        lines=[pb.ReceivedLine(sku=s, quantity=q) for s, q in lines.items()],
        actor="dock-1",
    )


async def test_units_are_incoming_until_received_in_parts_once_per_key(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("A")
    events = await a.bus.jetstream().subscribe(
        "stock.events.purchase_order.*", deliver_policy=DeliverPolicy.NEW
    )
    request = new_order(**{sku: 10})
    po = (await a.stub.CreatePurchaseOrder(request)).purchase_order
    assert (await b.stub.CreatePurchaseOrder(request)).purchase_order.id == po.id  # resent
    assert po.status == S.PURCHASE_ORDER_STATUS_OPEN and po.lines[0].quantity == 10
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.incoming, level.on_hand, level.available) == (10, 0, 0)

    first = await a.stub.ReceivePurchaseOrder(receipt(po.id, "r1", **{sku: 6}))
    again = await b.stub.ReceivePurchaseOrder(receipt(po.id, "r1", **{sku: 6}))  # resent
    assert first.purchase_order.status == S.PURCHASE_ORDER_STATUS_PARTIALLY_RECEIVED
    assert again.purchase_order.lines[0].received == 6
    assert (again.levels[0].on_hand, again.levels[0].incoming) == (6, 4)
    done = await b.stub.ReceivePurchaseOrder(receipt(po.id, "r2", **{sku: 4}))
    assert done.purchase_order.status == S.PURCHASE_ORDER_STATUS_RECEIVED
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.on_hand, level.incoming, level.available) == (10, 0, 10)
    assert await ledger_fold(a.stub, sku, "WH-1") == as_domain(level)

    # Each replica relays its own events: across replicas their order on the stream is not
    # the order of the changes, which the order's version gives.
    seen = {}
    for _ in range(3):
        message = await events.next_msg(5)
        changed = msg_pb.PurchaseOrderChanged.FromString(message.data)
        received = [(r.sku, r.quantity) for r in changed.received]
        seen[changed.purchase_order.version] = (message.subject.rsplit(".", 1)[1], received)
    assert seen == {1: ("created", []), 2: ("received", [(sku, 6)]), 3: ("received", [(sku, 4)])}


async def test_over_receipts_are_taken_in_and_reported_unlisted_skus_refused(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    sku, other = unique("A"), unique("B")
    po = (await a.stub.CreatePurchaseOrder(new_order(**{sku: 5}))).purchase_order
    reply = await a.stub.ReceivePurchaseOrder(receipt(po.id, "r1", **{sku: 7}))
    assert [(o.sku, o.quantity) for o in reply.over_received] == [(sku, 2)]
    assert (reply.levels[0].on_hand, reply.levels[0].incoming) == (7, 0)
    po2 = (await a.stub.CreatePurchaseOrder(new_order(**{sku: 5}))).purchase_order
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await a.stub.ReceivePurchaseOrder(receipt(po2.id, "r2", **{sku: 1, other: 1}))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert other in (refused.value.details() or "")
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.on_hand, level.incoming) == (7, 5)  # nothing of the refused receipt


async def test_concurrent_receipts_on_two_replicas_all_count(replicas: list[Stock]) -> None:
    a, b = replicas
    sku = unique("A")
    po = (await a.stub.CreatePurchaseOrder(new_order(**{sku: 40}))).purchase_order
    await asyncio.gather(
        *(
            (a, b)[i % 2].stub.ReceivePurchaseOrder(receipt(po.id, f"r{i}", **{sku: 2}))
            for i in range(20)
        )
    )
    got = (await a.stub.GetPurchaseOrder(pb.GetPurchaseOrderRequest(id=po.id))).purchase_order
    assert (got.lines[0].received, got.status) == (40, S.PURCHASE_ORDER_STATUS_RECEIVED)
    assert got.version == 21
    level = await level_of(b.stub, sku, "WH-1")
    assert (level.on_hand, level.incoming) == (40, 0)
    assert await ledger_fold(a.stub, sku, "WH-1") == as_domain(level)


async def test_a_scanner_receives_on_a_purchase_order_once_per_scan(replicas: list[Stock]) -> None:
    a, b = replicas
    sku = unique("A")
    po = (await a.stub.CreatePurchaseOrder(new_order(**{sku: 3}))).purchase_order
    arrive = scan("s1", pb.SCAN_KIND_RECEIVE, sku, 2, location_id="WH-1", purchase_order_id=po.id)
    [first] = await send(a.stub, arrive)
    [resent] = await send(b.stub, arrive)
    assert code(first) == 0 and resent.duplicate
    assert (first.levels.levels[0].on_hand, first.levels.levels[0].incoming) == (2, 1)
    elsewhere = scan(
        "s2", pb.SCAN_KIND_RECEIVE, sku, 1, location_id="WH-2", purchase_order_id=po.id
    )
    not_listed = scan(
        "s3", pb.SCAN_KIND_RECEIVE, unique("Z"), 1, location_id="WH-1", purchase_order_id=po.id
    )
    wrong_kind = scan("s4", pb.SCAN_KIND_COUNT, sku, 1, location_id="WH-1", purchase_order_id=po.id)
    replies = await send(a.stub, elsewhere, not_listed, wrong_kind)
    assert [code(r) for r in replies] == [
        grpc.StatusCode.NOT_FOUND.value[0],
        grpc.StatusCode.FAILED_PRECONDITION.value[0],
        INVALID.value[0],
    ]
    got = (await a.stub.GetPurchaseOrder(pb.GetPurchaseOrderRequest(id=po.id))).purchase_order
    assert got.lines[0].received == 2


async def test_cancel_and_close_give_up_what_is_still_incoming(replicas: list[Stock]) -> None:
    a, b = replicas
    sku = unique("A")
    cancelled = (await a.stub.CreatePurchaseOrder(new_order(**{sku: 4}))).purchase_order
    closed = (await a.stub.CreatePurchaseOrder(new_order(**{sku: 6}))).purchase_order
    assert (await level_of(a.stub, sku, "WH-1")).incoming == 10
    for _ in range(2):  # twice: harmless
        reply = await a.stub.CancelPurchaseOrder(pb.CancelPurchaseOrderRequest(id=cancelled.id))
        assert reply.purchase_order.status == S.PURCHASE_ORDER_STATUS_CANCELLED
    await b.stub.ReceivePurchaseOrder(receipt(closed.id, "r1", **{sku: 1}))
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await b.stub.CancelPurchaseOrder(pb.CancelPurchaseOrderRequest(id=closed.id))
    assert late.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    reply = await b.stub.ClosePurchaseOrder(
        pb.ClosePurchaseOrderRequest(id=closed.id, reason="short")
    )
    assert reply.purchase_order.status == S.PURCHASE_ORDER_STATUS_CLOSED
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.on_hand, level.incoming) == (1, 0)
    assert await ledger_fold(a.stub, sku, "WH-1") == as_domain(level)

    listed = await a.stub.ListPurchaseOrders(
        pb.ListPurchaseOrdersRequest(location_id="WH-1", page_size=1)
    )
    assert len(listed.purchase_orders) == 1 and listed.next_page_token
    only_closed = await a.stub.ListPurchaseOrders(
        pb.ListPurchaseOrdersRequest(location_id="WH-1", status=S.PURCHASE_ORDER_STATUS_CLOSED)
    )
    assert closed.id in [po.id for po in only_closed.purchase_orders]
    assert cancelled.id not in [po.id for po in only_closed.purchase_orders]


async def test_bad_input_is_refused_by_field_and_changes_nothing(replicas: list[Stock]) -> None:
    a, _ = replicas
    sku = unique("A")
    cases: list[tuple[str, object, grpc.StatusCode, str]] = []
    no_date = new_order(**{sku: 1})
    no_date.lines[0].ClearField("expected_at")
    bad_time = new_order(**{sku: 1})
    bad_time.lines[0].expected_at.nanos = -1
    twice = new_order(**{sku: 1})
    twice.lines.append(twice.lines[0])
    no_lines = new_order()
    no_supplier = new_order(**{sku: 1})
    no_supplier.supplier = ""
    cases += [
        ("CreatePurchaseOrder", no_date, INVALID, "lines[0].expected_at is required"),
        ("CreatePurchaseOrder", bad_time, INVALID, "lines[0].expected_at is not a valid time"),
        ("CreatePurchaseOrder", new_order(days=5000, **{sku: 1}), INVALID, "three years"),
        ("CreatePurchaseOrder", twice, INVALID, "each sku may appear on one line only"),
        ("CreatePurchaseOrder", no_lines, INVALID, "lines must have at least one line"),
        ("CreatePurchaseOrder", no_supplier, INVALID, "supplier is required"),
        ("CreatePurchaseOrder", new_order(**{sku: 0}), INVALID, "lines[0].quantity"),
        (
            "CreatePurchaseOrder",
            new_order("NOWHERE", **{sku: 1}),
            grpc.StatusCode.NOT_FOUND,
            "NOWHERE",
        ),
        (
            "ReceivePurchaseOrder",
            receipt("po_missing", "k", **{sku: 1}),
            grpc.StatusCode.NOT_FOUND,
            "po_missing",
        ),
        (
            "ReceivePurchaseOrder",
            receipt("po_x", "", **{sku: 1}),
            INVALID,
            "idempotency_key is required",
        ),
        ("GetPurchaseOrder", pb.GetPurchaseOrderRequest(id="x" * 10_000), INVALID, "id is longer"),
        (
            "ListPurchaseOrders",
            pb.ListPurchaseOrdersRequest(location_id="WH-1", page_token="!"),
            INVALID,
            "page_token",
        ),
        (
            "ListPurchaseOrders",
            pb.ListPurchaseOrdersRequest(location_id="WH-1", status=99),
            INVALID,
            "status must be one of",
        ),
    ]
    for rpc, request, expected, words in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await getattr(a.stub, rpc)(request)
        assert (rpc, refused.value.code()) == (rpc, expected), refused.value.details()
        assert words in (refused.value.details() or ""), (rpc, refused.value.details())
        assert len(refused.value.details() or "") < 300
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.incoming, level.version) == (0, 0)


async def test_only_the_store_s_own_staff_receive_its_deliveries(replicas: list[Stock]) -> None:
    a, _ = replicas
    await add_location(a.stub, "STORE-1", kind=pb.LOCATION_KIND_STORE)
    sku = unique("A")
    at_store = (await a.stub.CreatePurchaseOrder(new_order("STORE-1", **{sku: 2}))).purchase_order
    at_warehouse = (await a.stub.CreatePurchaseOrder(new_order(**{sku: 2}))).purchase_order
    async with authorized(f"127.0.0.1:{a.app.port}", "associate") as channel:  # at STORE-1
        stub = stock_pb2_grpc.StockServiceStub(channel)
        ok = await stub.ReceivePurchaseOrder(receipt(at_store.id, "r1", **{sku: 2}))
        assert ok.purchase_order.status == S.PURCHASE_ORDER_STATUS_RECEIVED
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.ReceivePurchaseOrder(receipt(at_warehouse.id, "r2", **{sku: 2}))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stub.CreatePurchaseOrder(new_order("STORE-1", **{sku: 2}))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED  # managers order
    level = await level_of(a.stub, sku, "WH-1")
    assert (level.on_hand, level.incoming) == (0, 2)


async def test_what_may_be_promised_by_a_time_counts_the_supply_due_by_then(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("A")
    await receive(a.stub, sku, "WH-1", 3)
    soon = (await a.stub.CreatePurchaseOrder(new_order("WH-1", 2, **{sku: 5}))).purchase_order
    later = (await a.stub.CreatePurchaseOrder(new_order("WH-2", 10, **{sku: 4}))).purchase_order

    async def promised(days: float, *locations: str) -> tuple[dict[str, int], int, list[int]]:
        request = pb.GetAvailabilityRequest(
            skus=[sku], location_ids=locations, by=timestamp(utcnow() + timedelta(days=days))
        )
        reply = await b.stub.GetAvailability(request)
        per_location = {p.location_id: p.available for p in reply.promised}
        return per_location, reply.network_promised[0].available, [s.quantity for s in reply.supply]

    assert (await level_of(b.stub, sku, "WH-1")).available == 3  # the shelf alone
    assert await promised(1) == ({"WH-1": 3, "WH-2": 0}, 3, [5, 4])
    assert await promised(3) == ({"WH-1": 8, "WH-2": 0}, 8, [5, 4])
    assert await promised(11) == ({"WH-1": 8, "WH-2": 4}, 12, [5, 4])
    assert await promised(11, "WH-2") == ({"WH-2": 4}, 12, [4])
    await a.stub.ReceivePurchaseOrder(receipt(soon.id, "r1", **{sku: 2}))
    await a.stub.ClosePurchaseOrder(pb.ClosePurchaseOrderRequest(id=later.id))
    assert await promised(11) == ({"WH-1": 8, "WH-2": 0}, 8, [3])  # 5 on hand, 3 to come
    plain = await b.stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku]))
    assert not plain.promised and not plain.supply and plain.network[0].available == 5
    bad = pb.GetAvailabilityRequest(skus=[sku], by=timestamp(utcnow()))
    bad.by.nanos = 2_000_000_000
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await b.stub.GetAvailability(bad)
    assert (refused.value.code(), refused.value.details()) == (INVALID, "by is not a valid time")


async def test_a_watch_by_a_time_follows_what_may_be_promised_through_either_replica(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("A")
    await receive(a.stub, sku, "WH-1", 1)
    by = timestamp(utcnow() + timedelta(days=5))
    watch = b.stub.WatchAvailability(
        pb.WatchAvailabilityRequest(skus=[sku], location_ids=["WH-1"], by=by)
    )
    promised: dict[str, int] = {}

    async def until(location: int, network: int) -> None:
        while promised.get("WH-1") != location or promised.get("network") != network:
            update = await asyncio.wait_for(watch.read(), 10)
            if update.HasField("promised"):
                promised[update.promised.location_id] = update.promised.available
            elif update.HasField("network_promised"):
                promised["network"] = update.network_promised.available

    await until(1, 1)  # the shelf alone, first
    po = (await a.stub.CreatePurchaseOrder(new_order("WH-1", 2, **{sku: 5}))).purchase_order
    await until(6, 6)
    await a.stub.CreatePurchaseOrder(new_order("WH-1", 9, **{sku: 7}))  # due after the time
    await a.stub.ReceivePurchaseOrder(receipt(po.id, "r1", **{sku: 2}))
    hold = pb.ReserveRequest(
        idempotency_key=unique("k"),
        lines=[pb.ReserveLine(sku=sku, location_id="WH-1", quantity=2)],
    )
    await a.stub.Reserve(hold)
    await until(4, 4)  # 3 on hand + 3 due - 2 reserved
    await a.stub.ClosePurchaseOrder(pb.ClosePurchaseOrderRequest(id=po.id))
    await until(1, 1)
    watch.cancel()
