"""Malformed input on every returns RPC: a clear error with the fitting code, nothing stored."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from omni.common.v1 import common_pb2 as cpb
from omni.platform.clock import utcnow
from omni.platform.natsserver import EmbeddedNats
from omni.returns.adapters import tables
from omni.returns.domain.model import KnownLocation, KnownOrder, SoldLine
from omni.returns.service_layer import handlers
from omni.returns.v1 import returns_pb2 as pb
from tests.conftest import NewDatabase
from tests.helpers.checks import assert_text_refused, eventually
from tests.helpers.running import Returns, running_returns

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
SELLABLE = pb.CONDITION_SELLABLE


def create(**fields: Any) -> pb.CreateReturnRequest:
    defaults: dict[str, Any] = {
        "idempotency_key": "k-1",
        "order_id": "ord_1",
        "channel": cpb.CHANNEL_POS,
        "lines": [pb.CreateReturnLine(sku="A", quantity=1, reason="fit")],
        "location_id": "STORE-1",
    }
    return pb.CreateReturnRequest(**{**defaults, **fields})


def received(**fields: Any) -> pb.ReceivedLine:
    return pb.ReceivedLine(
        **{"sku": "A", "quantity": 1, "condition": SELLABLE, "scan_id": "s1", **fields}
    )


def swap(*replacements: pb.Replacement, **fields: Any) -> pb.CreateReturnRequest:
    """A return of A exchanged as the replacements say, shipped north unless told."""
    where = fields or {"ship": cpb.ShipTo(region="north")}
    return create(exchange=pb.ExchangeRequest(replacements=list(replacements), **where))


NEW = pb.Replacement(sku="A", replacement_sku="B")
AFTER_NUL = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|rma_\x00").decode()
CASES: list[tuple[str, Any, grpc.StatusCode]] = [
    ("CreateReturn", create(idempotency_key=""), INVALID),
    ("CreateReturn", create(order_id=""), INVALID),
    ("CreateReturn", create(channel=0), INVALID),
    ("CreateReturn", create(channel=77), INVALID),
    ("CreateReturn", create(lines=[]), INVALID),
    ("CreateReturn", create(lines=[pb.CreateReturnLine(sku="A", quantity=0)]), INVALID),
    ("CreateReturn", create(lines=[pb.CreateReturnLine(sku="A", quantity=1)] * 2), INVALID),
    ("CreateReturn", create(location_id="has space"), INVALID),
    ("CreateReturn", create(override=pb.Override(manager_id="", reason="x")), INVALID),
    ("CreateReturn", create(override=pb.Override(manager_id="m", reason="")), INVALID),
    ("ReceiveReturn", pb.ReceiveReturnRequest(id="rma_1"), INVALID),
    ("ReceiveReturn", pb.ReceiveReturnRequest(lines=[received()]), INVALID),
    ("ReceiveReturn", pb.ReceiveReturnRequest(id="rma_1", lines=[received(condition=0)]), INVALID),
    ("ReceiveReturn", pb.ReceiveReturnRequest(id="rma_1", lines=[received(scan_id="")]), INVALID),
    ("ReceiveReturn", pb.ReceiveReturnRequest(id="rma_1", lines=[received()] * 2), INVALID),
    ("ReceiveReturn", pb.ReceiveReturnRequest(id="rma_1", lines=[received(quantity=-1)]), INVALID),
    ("ReceiveReturn", pb.ReceiveReturnRequest(id="rma_missing", lines=[received()]), NOT_FOUND),
    ("ReturnAtCounter", pb.ReturnAtCounterRequest(create=create(), received=[]), INVALID),
    (
        "ReturnAtCounter",
        pb.ReturnAtCounterRequest(create=create(), received=[received(sku="B")]),
        INVALID,
    ),
    ("ReturnAtCounter", pb.ReturnAtCounterRequest(received=[received()]), INVALID),
    # More received than the return lists: refused before the return is opened (it stayed
    # open before, found by fuzzing).
    (
        "ReturnAtCounter",
        pb.ReturnAtCounterRequest(create=create(), received=[received(quantity=2)]),
        INVALID,
    ),
    ("CreateReturn", swap(), INVALID),  # nothing to swap
    ("CreateReturn", swap(pb.Replacement(sku="Z", replacement_sku="B")), INVALID),
    ("CreateReturn", swap(pb.Replacement(sku="A", replacement_sku="")), INVALID),
    ("CreateReturn", swap(pb.Replacement(sku="A", replacement_sku="B", unit_price=-1)), INVALID),
    ("CreateReturn", swap(pb.Replacement(sku="A", replacement_sku="B" * 65)), INVALID),
    ("CreateReturn", swap(NEW, NEW), INVALID),  # one line swapped twice
    ("CreateReturn", swap(NEW, pickup=cpb.PickupAt()), INVALID),
    ("CreateReturn", swap(NEW, ship=cpb.ShipTo(region="north", latitude=1.0)), INVALID),
    ("CreateReturn", create(exchange=pb.ExchangeRequest(replacements=[NEW])), INVALID),  # to?
    ("CancelReturn", pb.CancelReturnRequest(), INVALID),
    ("CancelReturn", pb.CancelReturnRequest(id="rma_1", reason="x" * 201), INVALID),
    ("CancelReturn", pb.CancelReturnRequest(id="rma_missing"), NOT_FOUND),
    ("GetReturn", pb.GetReturnRequest(), INVALID),
    ("GetReturn", pb.GetReturnRequest(id="rma_missing"), NOT_FOUND),
    ("ListReturns", pb.ListReturnsRequest(page_size=-5), INVALID),
    ("ListReturns", pb.ListReturnsRequest(status=12), INVALID),
    ("ListReturns", pb.ListReturnsRequest(order_id="has space"), INVALID),
    ("ListReturns", pb.ListReturnsRequest(page_token="@@"), INVALID),
    # A token as the service makes them, but after an id with a NUL (none of its ids has one).
    ("ListReturns", pb.ListReturnsRequest(page_token=AFTER_NUL), INVALID),
]


NUL = "a\x00b"  # PostgreSQL cannot store a NUL: it must be refused before it gets there
LATE = pb.Override(manager_id="m-1", reason="receipt found")

# Requests valid but for one string: a NUL anywhere, or a control character in a line of text.
NUL_IN_TEXT: list[tuple[str, Any, str]] = [
    (
        "CreateReturn",
        create(lines=[pb.CreateReturnLine(sku="A", quantity=1, reason=NUL)]),
        "lines[0].reason",
    ),
    ("CreateReturn", create(override=pb.Override(manager_id="m-1", reason=NUL)), "override.reason"),
    (
        "CreateReturn",
        create(override=pb.Override(manager_id=NUL, reason="x")),
        "override.manager_id",
    ),
    (
        "ReturnAtCounter",
        pb.ReturnAtCounterRequest(
            create=create(lines=[pb.CreateReturnLine(sku="A", quantity=1, reason=NUL)]),
            received=[received()],
        ),
        "create.lines[0].reason",
    ),
    (
        "ReceiveReturn",
        pb.ReceiveReturnRequest(id="rma_1", lines=[received(scan_id=NUL)]),
        "lines[0].scan_id",
    ),
    (
        "CreateReturn",
        swap(pb.Replacement(sku="A", replacement_sku=NUL)),
        "exchange.replacements[0].replacement_sku",
    ),
    (
        "CreateReturn",
        swap(NEW, pickup=cpb.PickupAt(location_id=NUL)),
        "exchange.pickup.location_id",
    ),
    ("CancelReturn", pb.CancelReturnRequest(id="rma_1", reason=NUL), "reason"),
]
CONTROL_IN_TEXT: list[tuple[str, Any, str]] = [
    (
        "CreateReturn",
        create(lines=[pb.CreateReturnLine(sku="A", quantity=1, reason="too\nbig")]),
        "lines[0].reason",
    ),
    (
        "CreateReturn",
        create(override=pb.Override(manager_id="m-1", reason="ok\x1b[0m")),
        "override.reason",
    ),
    (
        "ReturnAtCounter",
        pb.ReturnAtCounterRequest(
            create=create(lines=[pb.CreateReturnLine(sku="A", quantity=1, reason="fit\x07")]),
            received=[received()],
        ),
        "lines[0].reason",
    ),
]


@pytest.fixture
async def returns(new_database: NewDatabase, nats_server: EmbeddedNats) -> AsyncIterator[Returns]:
    async with running_returns(await new_database("returns"), nats_server) as running:
        await running.app.nats.ready.wait()
        yield running


async def fingerprint(returns: Returns) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with returns.app.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            query = select(func.count()).select_from(table)
            counts[table.name] = (await conn.execute(query)).scalar_one()

    async def relayed() -> bool:
        return await returns.app.relay.pending() == 0

    await eventually(relayed)
    counts["events"] = (await returns.bus.jetstream().stream_info("RETURNS_EVENTS")).state.messages
    return counts


def test_every_rpc_has_bad_input_cases() -> None:
    rpcs = {m.name for m in pb.DESCRIPTOR.services_by_name["ReturnsService"].methods}
    assert rpcs == {name for name, _, _ in CASES}


async def test_malformed_requests_get_a_clear_error_and_store_nothing(returns: Returns) -> None:
    before = await fingerprint(returns)
    for rpc, request, code in CASES:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await getattr(returns.stub, rpc)(request)
        assert (rpc, failure.value.code()) == (rpc, code), failure.value.details()
        assert failure.value.details()
    assert await fingerprint(returns) == before


async def test_bytes_that_are_not_a_message_are_invalid_argument_not_internal(
    returns: Returns,
) -> None:
    for rpc in ("CreateReturn", "ReceiveReturn", "ReturnAtCounter"):
        call = returns.channel.unary_unary(f"/omni.returns.v1.ReturnsService/{rpc}")
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(b"\xff\xff\xff\xff garbage")
        assert failure.value.code() == INVALID


async def test_a_nul_or_control_character_in_text_is_refused_naming_the_field(
    returns: Returns,
) -> None:
    # What orders.events and stock.events would have told returns: a fulfilled order and a
    # store that takes returns. Each request below would open a return but for its text.
    order = KnownOrder("ord_1", "c-1", "EUR", (SoldLine("A", 1999, 1, utcnow()),), 1)
    await handlers.learn_order(returns.app.uow, order)
    await handlers.learn_location(returns.app.uow, KnownLocation("STORE-1", True))
    before = await fingerprint(returns)
    await assert_text_refused(returns.stub, NUL_IN_TEXT, CONTROL_IN_TEXT)
    assert await fingerprint(returns) == before
    opened = await returns.stub.CreateReturn(create(override=LATE))  # the same, plain text
    assert opened.rma.status == pb.RETURN_STATUS_AUTHORIZED
