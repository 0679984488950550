"""Allocate over NATS, for the orders service: request/reply, and a durable JetStream command.

Both paths use the caller's idempotency key, so an order sent both ways (or redelivered) is
allocated once; the durable path's result is the stock.events.reserved /
allocation_rejected event written with the allocation itself.
"""

from __future__ import annotations

import logging

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from omni.platform.consumer import DurableConsumer
from omni.platform.errors import Conflict, InvalidArgument, OmniError, Unavailable
from omni.platform.grpc_server import status_for
from omni.platform.messaging import NatsLink, StreamSpec
from omni.stock import convert
from omni.stock.domain.commands import Allocate
from omni.stock.domain.model import InsufficientStock
from omni.stock.entrypoints import requests
from omni.stock.entrypoints.grpc_api import error_detail
from omni.stock.service_layer.services import StockServices
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb

log = logging.getLogger(__name__)

ALLOCATE_REQUEST_SUBJECT = "stock.rpc.allocate"
ALLOCATE_COMMAND_SUBJECT = "stock.commands.allocate"
STREAMS = [
    StreamSpec("STOCK_EVENTS", ["stock.events.>"]),
    StreamSpec("STOCK_AVAILABILITY", ["stock.availability.>"], max_msgs_per_subject=1),
    StreamSpec("STOCK_COMMANDS", ["stock.commands.>"], work_queue=True),
]


def parse_allocate(data: bytes) -> Allocate:
    try:
        request = pb.AllocateRequest.FromString(data)
    except DecodeError as exc:
        raise InvalidArgument("the message is not an omni.stock.v1.AllocateRequest") from exc
    return requests.allocate(request)


class StockNatsApi:
    def __init__(self, services: StockServices, link: NatsLink) -> None:
        self._services = services
        self._link = link

    async def subscribe(self) -> None:
        """Answers allocation requests; one replica of the queue group takes each."""
        assert self._link.nc is not None
        await self._link.nc.subscribe(ALLOCATE_REQUEST_SUBJECT, queue="stock", cb=self._on_request)

    def command_consumer(self) -> DurableConsumer:
        return DurableConsumer(
            self._link.js,
            stream="STOCK_COMMANDS",
            subject=ALLOCATE_COMMAND_SUBJECT,
            durable="stock-allocate",
            handler=self._on_command,
        )

    async def _on_request(self, msg: Msg) -> None:
        reply = msg_pb.AllocateReply()
        try:
            res = await self._services.reserve(parse_allocate(msg.data))
            reply.allocated.reservation.CopyFrom(convert.reservation_to_proto(res))
        except Exception as exc:
            status = status_for(exc, error_detail)
            reply.error.code = status.code.value[0]
            reply.error.message = status.details
            if isinstance(exc, InsufficientStock):
                reply.error.short_lines.extend(convert.short_lines_to_proto(exc.lines))
        if msg.reply:
            await msg.respond(reply.SerializeToString())

    async def _on_command(self, msg: Msg) -> None:
        """Errors that a retry cannot fix are logged and acknowledged; others retry."""
        try:
            await self._services.reserve(parse_allocate(msg.data))
        except InsufficientStock:
            pass  # the allocation_rejected event was written with the decision
        except (Unavailable, Conflict):
            raise
        except OmniError as exc:
            log.warning("allocate command refused for good: %s", exc.message)
