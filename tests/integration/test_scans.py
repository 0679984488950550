"""Scanners: one stream, one acknowledgement per scan, resends harmless, bad scans answered."""

from __future__ import annotations

import grpc
import pytest

from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import unique
from tests.helpers.running import Stock
from tests.helpers.stock import add_location, as_domain, ledger_fold, level_of

K = pb.ScanKind
OK, INVALID, FAILED = (
    0,
    grpc.StatusCode.INVALID_ARGUMENT.value[0],
    grpc.StatusCode.FAILED_PRECONDITION.value[0],
)


@pytest.fixture
async def replicas(two_replicas: list[Stock]) -> list[Stock]:
    await add_location(two_replicas[0].stub, "L1")
    await add_location(two_replicas[0].stub, "L2")
    return two_replicas


def scan(scan_id: str, kind: int, sku: str, qty: int, **more: str) -> pb.ScanRequest:
    return pb.ScanRequest(
        scan_id=scan_id,
        device_id="gun-7",
        kind=kind,
        sku=sku,
        location_id=more.pop("location_id", "L1"),
        quantity=qty,
        **more,
    )


async def send(
    stub: stock_pb2_grpc.StockServiceStub, *scans: pb.ScanRequest
) -> list[pb.ScanResponse]:
    """One stream carrying the scans; returns the acknowledgements in the order received."""
    call = stub.Scan()
    replies = []
    for request in scans:
        await call.write(request)
        replies.append(await call.read())  # one ack per scan, before the next is sent
    await call.done_writing()
    return replies


def code(reply: pb.ScanResponse) -> int:
    return reply.error.code if reply.HasField("error") else OK


async def test_a_scan_sent_three_times_changes_stock_once(replicas: list[Stock]) -> None:
    a, b = replicas
    sku = unique("SKU")
    receive = scan("s-1", K.SCAN_KIND_RECEIVE, sku, 5)
    same_stream = await send(a.stub, receive, receive)
    new_stream = await send(a.stub, receive)
    other_replica = await send(b.stub, receive)
    replies = [*same_stream, *new_stream, *other_replica]
    assert [r.duplicate for r in replies] == [False, True, True, True]
    assert {r.levels.levels[0].on_hand for r in replies} == {5}
    assert (await level_of(a.stub, sku, "L1")).on_hand == 5
    assert (await ledger_fold(a.stub, sku, "L1")).version == 1


async def test_bad_scans_are_answered_in_order_and_the_stream_stays_open(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    sku = unique("SKU")
    replies = await send(
        a.stub,
        scan("s-1", K.SCAN_KIND_RECEIVE, sku, 10),
        scan("s-2", K.SCAN_KIND_RECEIVE, sku, 0),  # no quantity
        scan("s-3", 99, sku, 1),  # unknown kind
        scan("s-4", K.SCAN_KIND_DAMAGE, sku, 2),
        scan("s-5", K.SCAN_KIND_RECEIVE, sku, 1, location_id="NOWHERE"),
        scan("s-6", K.SCAN_KIND_ADJUST, sku, -3),
        scan("s-7", K.SCAN_KIND_ADJUST, sku, -100),  # would go below zero
        scan("s-1", K.SCAN_KIND_RECEIVE, sku, 4),  # same id, other content
    )
    assert [(r.scan_id, code(r)) for r in replies] == [
        ("s-1", OK),
        ("s-2", INVALID),
        ("s-3", INVALID),
        ("s-4", OK),
        ("s-5", grpc.StatusCode.NOT_FOUND.value[0]),
        ("s-6", OK),
        ("s-7", FAILED),
        ("s-1", grpc.StatusCode.ALREADY_EXISTS.value[0]),
    ]
    level = await level_of(a.stub, sku, "L1")
    assert (level.on_hand, level.damaged) == (5, 2)
    assert await ledger_fold(a.stub, sku, "L1") == as_domain(level)


async def test_a_count_below_reserved_leaves_nothing_available_and_flags_the_shortage(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    sku = unique("SKU")
    shortages = await a.bus.subscribe("stock.events.count_shortage")
    await a.bus.flush()  # the server has the subscription before the event
    await send(a.stub, scan("s-1", K.SCAN_KIND_RECEIVE, sku, 10))
    await a.stub.Reserve(
        pb.ReserveRequest(
            idempotency_key="order-1", lines=[pb.ReserveLine(sku=sku, location_id="L1", quantity=6)]
        )
    )
    [counted] = await send(a.stub, scan("s-2", K.SCAN_KIND_COUNT, sku, 4))
    level = counted.levels.levels[0]
    assert (level.on_hand, level.reserved, level.available) == (4, 6, 0)
    event = msg_pb.CountShortage.FromString((await shortages.next_msg(5)).data)
    assert (event.level.sku, event.counted, event.short) == (sku, 4, 2)


async def test_a_move_is_out_of_one_location_and_into_the_other_or_neither(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    sku = unique("SKU")
    await send(a.stub, scan("s-1", K.SCAN_KIND_RECEIVE, sku, 5))
    await a.stub.Reserve(
        pb.ReserveRequest(
            idempotency_key="order-1", lines=[pb.ReserveLine(sku=sku, location_id="L1", quantity=2)]
        )
    )
    too_many, moved = await send(
        a.stub,
        scan("s-2", K.SCAN_KIND_MOVE, sku, 4, target_location_id="L2"),  # 2 are reserved
        scan("s-3", K.SCAN_KIND_MOVE, sku, 3, target_location_id="L2"),
    )
    assert code(too_many) == FAILED
    assert [(lv.location_id, lv.on_hand) for lv in moved.levels.levels] == [("L1", 2), ("L2", 3)]
    assert (await level_of(a.stub, sku, "L1")).reserved == 2


async def test_a_pick_changes_nothing_and_is_refused_beyond_what_is_reserved(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    sku = unique("SKU")
    await send(a.stub, scan("s-1", K.SCAN_KIND_RECEIVE, sku, 5))
    await a.stub.Reserve(
        pb.ReserveRequest(
            idempotency_key="order-1", lines=[pb.ReserveLine(sku=sku, location_id="L1", quantity=2)]
        )
    )
    ok, refused = await send(
        a.stub, scan("s-2", K.SCAN_KIND_PICK, sku, 2), scan("s-3", K.SCAN_KIND_PICK, sku, 3)
    )
    assert (code(ok), code(refused)) == (OK, FAILED)
    [again] = await send(a.stub, scan("s-3", K.SCAN_KIND_PICK, sku, 3))
    assert (code(again), again.duplicate) == (FAILED, True)
    assert (await level_of(a.stub, sku, "L1")).version == 2  # receipt + reservation only


async def test_bytes_that_are_not_a_scan_are_answered_and_the_stream_goes_on(
    replicas: list[Stock],
) -> None:
    a, _ = replicas
    sku = unique("SKU")
    call = a.channel.stream_stream("/omni.stock.v1.StockService/Scan")()
    await call.write(b"\xff\xff not a scan")
    bad = pb.ScanResponse.FromString(await call.read())
    await call.write(scan("s-1", K.SCAN_KIND_RECEIVE, sku, 3).SerializeToString())
    good = pb.ScanResponse.FromString(await call.read())
    await call.done_writing()
    assert (code(bad), code(good)) == (INVALID, OK)
    assert good.levels.levels[0].on_hand == 3


async def test_a_scan_may_name_a_registered_barcode_instead_of_the_sku(
    replicas: list[Stock],
) -> None:
    a, b = replicas
    sku = unique("SKU")
    await a.stub.RegisterBarcodes(
        pb.RegisterBarcodesRequest(barcodes=[pb.Barcode(code="4006381333931", sku=sku)])
    )
    by_barcode = scan("s-1", K.SCAN_KIND_RECEIVE, "", 3, barcode="4006381333931")
    unknown = scan("s-2", K.SCAN_KIND_RECEIVE, "", 1, barcode="0000000000000")
    both = scan("s-3", K.SCAN_KIND_RECEIVE, sku, 1, barcode="4006381333931")
    replies = await send(b.stub, by_barcode, unknown, both, by_barcode)
    assert [code(r) for r in replies] == [OK, grpc.StatusCode.NOT_FOUND.value[0], INVALID, OK]
    assert replies[0].levels.levels[0].sku == sku and replies[3].duplicate
    assert (await level_of(a.stub, sku, "L1")).on_hand == 3


async def test_bad_barcode_registrations_are_refused(replicas: list[Stock]) -> None:
    a, _ = replicas
    for barcodes in (
        [],
        [pb.Barcode(code="", sku="A")],
        [pb.Barcode(code="1", sku="")],
        [pb.Barcode(code="1", sku="A"), pb.Barcode(code="1", sku="B")],
    ):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await a.stub.RegisterBarcodes(pb.RegisterBarcodesRequest(barcodes=barcodes))
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
