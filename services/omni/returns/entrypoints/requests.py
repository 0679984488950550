"""Checks each request and turns it into a command; every failure is an InvalidArgument."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from omni.platform import validation as check
from omni.platform.errors import InvalidArgument
from omni.platform.wire import required_channel
from omni.returns import convert
from omni.returns.domain import commands
from omni.returns.domain.model import ExchangeAsked, ExchangeTo, Override, Received, Replacement
from omni.returns.v1 import returns_pb2 as pb


def create_return(msg: pb.CreateReturnRequest) -> commands.CreateReturn:
    check.lines("lines", msg.lines)
    lines = tuple(
        (
            check.identifier(f"lines[{i}].sku", ln.sku),
            check.quantity(f"lines[{i}].quantity", ln.quantity),
            check.text(f"lines[{i}].reason", ln.reason),
        )
        for i, ln in enumerate(msg.lines)
    )
    check.each_once("SKU", [sku for sku, _, _ in lines])
    override = None
    if msg.HasField("override"):
        override = Override(
            check.identifier("override.manager_id", msg.override.manager_id),
            check.text("override.reason", msg.override.reason, required=True),
        )
    return commands.CreateReturn(
        idempotency_key=check.identifier("idempotency_key", msg.idempotency_key),
        order_id=check.identifier("order_id", msg.order_id),
        channel=required_channel(msg.channel).value,  # a str, as the command (and its hash) had
        lines=lines,
        location_id=check.identifier("location_id", msg.location_id),
        override=override,
        exchange=_exchange(msg.exchange, {sku: qty for sku, qty, _ in lines})
        if msg.HasField("exchange")
        else None,
    )


def _exchange(msg: pb.ExchangeRequest, quantities: dict[str, int]) -> ExchangeAsked:
    if not msg.replacements:
        raise InvalidArgument("exchange.replacements must name at least one line to swap")
    replacements = []
    for i, r in enumerate(msg.replacements):
        sku = check.identifier(f"exchange.replacements[{i}].sku", r.sku)
        if sku not in quantities:
            raise InvalidArgument(f"exchange.replacements[{i}].sku {sku} is not a return line")
        replacements.append(
            Replacement(
                sku,
                check.identifier(f"exchange.replacements[{i}].replacement_sku", r.replacement_sku),
                check.non_negative(
                    f"exchange.replacements[{i}].unit_price",
                    r.unit_price,
                    maximum=check.MAX_UNIT_PRICE,
                ),
            )
        )
    check.each_once("exchange.replacements sku", [r.sku for r in replacements])
    total = sum(quantities[r.sku] * r.unit_price for r in replacements)
    if total > check.MAX_ORDER_TOTAL:
        raise InvalidArgument(
            f"the replacements may come to at most {check.MAX_ORDER_TOTAL} minor units"
        )
    check.each_once("replacement_sku", [r.replacement_sku for r in replacements])
    match msg.WhichOneof("fulfilment"):
        case "ship":
            ship = msg.ship
            if ship.HasField("latitude") != ship.HasField("longitude"):
                raise InvalidArgument(
                    "give both exchange.ship.latitude and exchange.ship.longitude, or neither"
                )
            to = ExchangeTo(
                region=check.identifier("exchange.ship.region", ship.region),
                latitude=check.coordinate(
                    "exchange.ship.latitude",
                    ship.latitude if ship.HasField("latitude") else None,
                    90,
                ),
                longitude=check.coordinate(
                    "exchange.ship.longitude",
                    ship.longitude if ship.HasField("longitude") else None,
                    180,
                ),
            )
        case "pickup":
            to = ExchangeTo(
                store_id=check.identifier("exchange.pickup.location_id", msg.pickup.location_id)
            )
        case _:
            raise InvalidArgument("an exchange needs where the replacement goes: ship or pickup")
    return ExchangeAsked(tuple(replacements), to, msg.advance)


def cancel_return(msg: pb.CancelReturnRequest) -> commands.CancelReturn:
    return commands.CancelReturn(
        check.identifier("id", msg.id), check.text("reason", msg.reason, max_length=200)
    )


def received(lines: Iterable[pb.ReceivedLine]) -> tuple[Received, ...]:
    items = list(lines)
    check.lines("lines", items)
    out = []
    for i, ln in enumerate(items):
        if ln.condition not in convert.CONDITIONS_FROM_PROTO:
            raise InvalidArgument(
                f"lines[{i}].condition must be CONDITION_SELLABLE, _DAMAGED or _MISSING"
            )
        out.append(
            Received(
                check.identifier(f"lines[{i}].sku", ln.sku),
                check.quantity(f"lines[{i}].quantity", ln.quantity),
                convert.CONDITIONS_FROM_PROTO[ln.condition],
                check.identifier(f"lines[{i}].scan_id", ln.scan_id),
            )
        )
    twice = sorted(s for s, n in Counter(r.scan_id for r in out).items() if n > 1)
    if twice:
        raise InvalidArgument(f"scan ids {check.listed(twice)} appear on more than one line")
    return tuple(out)


def receive_return(msg: pb.ReceiveReturnRequest) -> commands.ReceiveReturn:
    return commands.ReceiveReturn(check.identifier("id", msg.id), received(msg.lines))


def list_returns(msg: pb.ListReturnsRequest) -> commands.ListReturns:
    size = check.page_size(msg.page_size)
    status = ""
    if msg.status != pb.RETURN_STATUS_UNSPECIFIED:
        if msg.status not in convert.STATUSES_FROM_PROTO:
            raise InvalidArgument(f"status {msg.status} is not a ReturnStatus")
        status = convert.STATUSES_FROM_PROTO[msg.status].value
    return commands.ListReturns(
        order_id=check.optional_identifier("order_id", msg.order_id),
        customer_id=check.optional_identifier("customer_id", msg.customer_id),
        location_id=check.optional_identifier("location_id", msg.location_id),
        status=status,
        page_size=size,
        page_token=check.text("page_token", msg.page_token),
    )
