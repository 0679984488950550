"""What the store console reads and does through stock: a location's levels page by page, the
SKUs barcodes stand for, and a manager's count (one COUNT scan) at their own store only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.running import Stock, authorized, running_stock
from tests.helpers.stock import add_location, level_of, receive

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
# The test manager's store (tests/helpers/running.py), and another.
OWN, OTHER = "STORE-1", "STORE-2"
# SKUs at OWN, given out of order; "A_" and "a-" must not match the prefix "A-" (no LIKE).
AT_OWN = ["A-03", "B-01", "A-01", "A_01", "a-01", "A-02", "C-01"]


@pytest.fixture
async def stock(database_url: str, nats_server: EmbeddedNats) -> AsyncIterator[Stock]:
    async with running_stock(database_url, nats_server) as running:
        for store in (OWN, OTHER):
            await add_location(running.stub, store, kind=pb.LOCATION_KIND_STORE)
        for sku in AT_OWN:
            await receive(running.stub, sku, OWN, 3)
        await receive(running.stub, "A-04", OTHER, 1)  # another store's: never listed at OWN
        yield running


async def every_page(
    stub: stock_pb2_grpc.StockServiceStub, location_id: str, prefix: str = "", size: int = 2
) -> list[list[str]]:
    """The SKUs of each page, following the page tokens to the end."""
    pages: list[list[str]] = []
    token = ""
    while True:
        request = pb.ListLevelsRequest(
            location_id=location_id, sku_prefix=prefix, page_size=size, page_token=token
        )
        reply = await stub.ListLevels(request)
        assert {lv.location_id for lv in reply.levels} <= {location_id}
        pages.append([lv.sku for lv in reply.levels])
        token = reply.next_page_token
        if not token:
            return pages


def refusal(error: pytest.ExceptionInfo[grpc.aio.AioRpcError]) -> tuple[Any, str]:
    return error.value.code(), error.value.details() or ""


async def test_a_location_s_levels_come_page_by_page_in_sku_order(stock: Stock) -> None:
    pages = await every_page(stock.stub, OWN, size=3)
    listed = [sku for page in pages for sku in page]
    assert sorted(listed) == sorted(AT_OWN)
    # Ordered by the database's SKU order, whatever its collation: each page follows the last.
    assert [len(page) for page in pages] == [3, 3, 1]
    assert await every_page(stock.stub, OWN, size=500) == [listed]


async def test_a_prefix_lists_only_skus_that_start_with_it_and_no_empty_last_page(
    stock: Stock,
) -> None:
    assert await every_page(stock.stub, OWN, prefix="A-") == [["A-01", "A-02"], ["A-03"]]
    assert await every_page(stock.stub, OWN, prefix="A-0", size=3) == [["A-01", "A-02", "A-03"]]
    assert await every_page(stock.stub, OWN, prefix="A_") == [["A_01"]]
    assert await every_page(stock.stub, OWN, prefix="Z") == [[]]


async def test_a_listed_level_is_the_level_with_its_version(stock: Stock) -> None:
    await stock.stub.Reserve(
        pb.ReserveRequest(
            idempotency_key="k-1", lines=[pb.ReserveLine(sku="C-01", location_id=OWN, quantity=2)]
        )
    )
    reply = await stock.stub.ListLevels(pb.ListLevelsRequest(location_id=OWN, sku_prefix="C-01"))
    assert list(reply.levels) == [await level_of(stock.stub, "C-01", OWN)]
    assert (reply.levels[0].available, reply.levels[0].version) == (1, 2)


async def test_listing_an_unknown_location_is_not_found(stock: Stock) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stock.stub.ListLevels(pb.ListLevelsRequest(location_id="NOWHERE"))
    assert refusal(error) == (grpc.StatusCode.NOT_FOUND, "location NOWHERE does not exist")


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"location_id": ""}, "location_id is required"),
        ({"page_token": "not a token"}, "page_token is not one this service gave out"),
        ({"page_token": "A\x0001"}, "page_token may not contain a NUL"),
        ({"sku_prefix": "A 0"}, "sku_prefix 'A 0' may only contain"),
        ({"sku_prefix": "-A"}, "sku_prefix '-A' may only contain"),
        ({"sku_prefix": "A" * 65}, "sku_prefix is longer than 64 characters"),
        ({"sku_prefix": "A\x00"}, "sku_prefix may not contain a NUL"),
        ({"page_size": 501}, "page_size must be between 0 and 500, got 501"),
        ({"page_size": -1}, "page_size must be between 0 and 500, got -1"),
    ],
)
async def test_a_malformed_listing_is_invalid_argument_saying_why(
    stock: Stock, fields: dict[str, Any], says: str
) -> None:
    request = pb.ListLevelsRequest(**{"location_id": OWN, **fields})
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stock.stub.ListLevels(request)
    code, details = refusal(error)
    assert code == INVALID
    assert details.startswith(says)


async def register(stock: Stock, **pairs: str) -> None:
    barcodes = [pb.Barcode(code=code.removeprefix("c"), sku=sku) for code, sku in pairs.items()]
    await stock.stub.RegisterBarcodes(pb.RegisterBarcodesRequest(barcodes=barcodes))


async def test_a_lookup_answers_registered_codes_in_the_order_asked_and_leaves_out_others(
    stock: Stock,
) -> None:
    await register(stock, c4006381333931="A-01", c0123456789012="B-01")
    codes = ["0123456789012", "999", "4006381333931"]
    reply = await stock.stub.LookupBarcodes(pb.LookupBarcodesRequest(codes=codes))
    assert [(b.code, b.sku) for b in reply.barcodes] == [
        ("0123456789012", "B-01"),
        ("4006381333931", "A-01"),
    ]
    await register(stock, c0123456789012="C-01")  # registered again: the new SKU
    reply = await stock.stub.LookupBarcodes(pb.LookupBarcodesRequest(codes=["0123456789012"]))
    assert [(b.code, b.sku) for b in reply.barcodes] == [("0123456789012", "C-01")]


@pytest.mark.parametrize(
    ("codes", "says"),
    [
        ([], "codes must name at least one code"),
        ([f"{n:013}" for n in range(101)], "codes may name at most 100 codes, got 101"),
        (["123", "12 3"], "codes[1] '12 3' may only contain"),
        (["123", ""], "codes[1] is required"),
        (["123", "123"], "codes[1]: 123 is given twice"),
        (["1\x0023"], "codes[0] may not contain a NUL"),
    ],
)
async def test_a_malformed_lookup_is_invalid_argument_saying_why(
    stock: Stock, codes: list[str], says: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stock.stub.LookupBarcodes(pb.LookupBarcodesRequest(codes=codes))
    code, details = refusal(error)
    assert code == INVALID
    assert details.startswith(says)


async def test_a_lookup_of_100_codes_is_answered(stock: Stock) -> None:
    await register(stock, c0000000000099="A-01")
    codes = [f"{n:013}" for n in range(100)]
    reply = await stock.stub.LookupBarcodes(pb.LookupBarcodesRequest(codes=codes))
    assert [(b.code, b.sku) for b in reply.barcodes] == [("0000000000099", "A-01")]


async def test_a_storefront_and_another_store_s_staff_may_list_and_look_up_a_scanner_may_not(
    stock: Stock,
) -> None:
    target = f"127.0.0.1:{stock.app.port}"
    listing = pb.ListLevelsRequest(location_id=OTHER)
    lookup = pb.LookupBarcodesRequest(codes=["123"])
    for role in ("storefront", "associate", "manager"):  # the last two work at OWN
        async with authorized(target, role) as channel:
            stub = stock_pb2_grpc.StockServiceStub(channel)
            assert [lv.sku for lv in (await stub.ListLevels(listing)).levels] == ["A-04"]
            assert list((await stub.LookupBarcodes(lookup)).barcodes) == []
    for role in ("scanner", "scanner-store"):
        async with authorized(target, role) as channel:
            stub = stock_pb2_grpc.StockServiceStub(channel)
            for call in (stub.ListLevels(listing), stub.LookupBarcodes(lookup)):
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await call
                assert error.value.code() == DENIED, role


def count(scan_id: str, location_id: str, quantity: int) -> pb.ScanRequest:
    return pb.ScanRequest(
        scan_id=scan_id,
        device_id="console-1",
        kind=pb.SCAN_KIND_COUNT,
        sku="A-01",
        location_id=location_id,
        quantity=quantity,
    )


async def manager_scans(stock: Stock, *scans: pb.ScanRequest) -> list[pb.ScanResponse]:
    """Each scan on one stream opened with the test manager's token (bound to OWN)."""
    async with authorized(f"127.0.0.1:{stock.app.port}", "manager") as channel:
        call = stock_pb2_grpc.StockServiceStub(channel).Scan()
        replies = []
        for request in scans:
            await call.write(request)
            replies.append(await call.read())
        await call.done_writing()
        return replies


async def test_a_manager_s_count_at_their_store_sets_on_hand_once(stock: Stock) -> None:
    first, resent = await manager_scans(stock, count("count-1", OWN, 7), count("count-1", OWN, 7))
    assert not first.HasField("error"), first.error.message
    assert (first.duplicate, first.levels.levels[0].on_hand) == (False, 7)
    assert (resent.duplicate, resent.levels) == (True, first.levels)
    level = await level_of(stock.stub, "A-01", OWN)
    assert (level.on_hand, level.version) == (7, 2)  # the receipt, then one count


async def test_a_manager_s_count_at_another_store_is_refused_and_changes_nothing(
    stock: Stock,
) -> None:
    await receive(stock.stub, "A-01", OTHER, 4)
    before = await level_of(stock.stub, "A-01", OTHER)
    [reply] = await manager_scans(stock, count("count-2", OTHER, 0))
    assert reply.error.code == DENIED.value[0]
    assert "works at STORE-1 only" in reply.error.message
    assert await level_of(stock.stub, "A-01", OTHER) == before
