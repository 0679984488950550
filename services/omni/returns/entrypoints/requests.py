"""Checks each request and turns it into a command; every failure is an InvalidArgument."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from omni.platform import validation as check
from omni.platform.errors import InvalidArgument
from omni.platform.wire import required_channel
from omni.returns import convert
from omni.returns.domain import commands
from omni.returns.domain.model import Override, Received
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
