"""The stock service over NATS, for other services.

- `stock.rpc.allocate`: request/reply Allocate (an AllocateRequest, answered by an
  AllocateReply).
- durable JetStream commands `stock.commands.allocate|release|commit|write_off|restock`
  (AllocateRequest, ReleaseRequest, CommitRequest, WriteOffRequest, RestockRequest): each is
  applied once per
  idempotency key, so a resend or a redelivery changes nothing. Their outcome is the event
  written with the change (stock.events.reserved, allocation_rejected, released, committed).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from google.protobuf.message import DecodeError, Message
from nats.aio.msg import Msg

from omni.platform import streams
from omni.platform import validation as check
from omni.platform.consumer import DurableConsumer
from omni.platform.errors import Conflict, InvalidArgument, OmniError, Unavailable
from omni.platform.grpc_server import status_for
from omni.platform.messaging import NatsLink
from omni.stock import convert
from omni.stock.domain.model import InsufficientStock
from omni.stock.entrypoints import requests
from omni.stock.entrypoints.grpc_api import error_detail
from omni.stock.service_layer import handlers
from omni.stock.service_layer.services import StockServices
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb

log = logging.getLogger(__name__)

ALLOCATE_REQUEST_SUBJECT = streams.STOCK_ALLOCATE_REQUEST
STREAMS = [streams.STOCK_EVENTS, streams.STOCK_AVAILABILITY, streams.STOCK_COMMANDS]


def parse(message_type: type[Message], data: bytes) -> Any:
    """The request in `data`, refused (InvalidArgument) if it is not one or a string holds a
    NUL, as the gRPC server refuses it."""
    try:
        message = message_type.FromString(data)
    except DecodeError as exc:
        name = message_type.DESCRIPTOR.full_name
        raise InvalidArgument(f"the message is not an {name}") from exc
    check.refuse_nul(message, data)
    return message


class StockNatsApi:
    def __init__(self, services: StockServices, link: NatsLink) -> None:
        self._services = services
        self._link = link
        self._commands: dict[str, Callable[[bytes], Awaitable[object]]] = {
            "allocate": self._allocate,
            "release": lambda d: handlers.release(
                services.uow, requests.release(parse(pb.ReleaseRequest, d))
            ),
            "commit": lambda d: handlers.commit(
                services.uow, requests.commit(parse(pb.CommitRequest, d))
            ),
            "write_off": lambda d: handlers.write_off(
                services.uow, requests.write_off(parse(pb.WriteOffRequest, d))
            ),
            "restock": lambda d: handlers.restock(
                services.uow, requests.restock(parse(pb.RestockRequest, d))
            ),
            "correct": lambda d: handlers.correct_stock(
                services.uow, requests.correct(parse(pb.CorrectStockRequest, d))
            ),
        }

    async def subscribe(self) -> None:
        """Answers allocation requests; one replica of the queue group takes each."""
        assert self._link.nc is not None
        await self._link.nc.subscribe(ALLOCATE_REQUEST_SUBJECT, queue="stock", cb=self._on_request)

    def command_consumers(self) -> list[DurableConsumer]:
        """One durable consumer per command (a work queue needs disjoint subjects)."""
        return [
            DurableConsumer(
                self._link,
                stream=streams.STOCK_COMMANDS.name,
                subject=streams.STOCK_COMMAND.format(name),
                durable=f"stock-{name}",
                handler=self._command_handler(name),
            )
            for name in self._commands
        ]

    async def _on_request(self, msg: Msg) -> None:
        reply = msg_pb.AllocateReply()
        try:
            allocate = requests.allocate(parse(pb.AllocateRequest, msg.data))
            res = await self._services.reserve(allocate)
            reply.allocated.reservation.CopyFrom(convert.reservation_to_proto(res))
        except Exception as exc:
            status = status_for(exc, error_detail)
            reply.error.code = status.code.value[0]
            reply.error.message = status.details
            if isinstance(exc, InsufficientStock):
                reply.error.short_lines.extend(convert.short_lines_to_proto(exc.lines))
        if msg.reply:
            await msg.respond(reply.SerializeToString())

    async def _allocate(self, data: bytes) -> None:
        """A refused allocation (bad request, unknown store...) is answered with an
        allocation_rejected event carrying the reason, so the sender is never left waiting."""
        request = parse(pb.AllocateRequest, data)
        try:
            await self._services.reserve(requests.allocate(request))
        except (InsufficientStock, Unavailable, Conflict):
            raise
        except OmniError as exc:
            await handlers.reject_allocation(
                self._services.uow, request.reference, request.idempotency_key, exc.message
            )
            raise

    def _command_handler(self, name: str) -> Callable[[Msg], Awaitable[None]]:
        run = self._commands[name]

        async def handle(msg: Msg) -> None:
            """Errors that a retry cannot fix are logged and acknowledged; others retry."""
            try:
                await run(msg.data)
            except InsufficientStock:
                pass  # the allocation_rejected event was written with the decision
            except (Unavailable, Conflict):
                raise
            except OmniError as exc:
                log.warning("%s command refused for good: %s", name, exc.message)

        return handle
