"""Stock's answers to this service's allocations, consumed durably from stock.events.

Stock announces each allocation it makes (`stock.events.reserved`) or refuses
(`stock.events.allocation_rejected`); those keyed `order:<id>` are this service's orders.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from omni.orders import convert
from omni.orders.domain.commands import StockDecision
from omni.orders.domain.model import order_id_of
from omni.orders.service_layer.services import OrdersServices
from omni.platform import streams
from omni.platform.consumer import DurableConsumer
from omni.platform.errors import Conflict, OmniError, Unavailable
from omni.platform.messaging import NatsLink
from omni.stock.v1 import messaging_pb2 as stock_msg

log = logging.getLogger(__name__)

# Published to, and consumed from: declared here too so the order of start-up is free.
STREAMS = [streams.ORDERS_EVENTS, streams.STOCK_EVENTS, streams.STOCK_COMMANDS]


class OrdersNatsApi:
    def __init__(self, services: OrdersServices, link: NatsLink) -> None:
        self._services = services
        self._link = link

    def consumers(self) -> list[DurableConsumer]:
        return [
            DurableConsumer(
                self._link.js,
                stream=streams.STOCK_EVENTS.name,
                subject=f"stock.events.{name}",
                durable=f"orders-{name}",
                handler=handler,
            )
            for name, handler in (
                ("reserved", self._on_reserved),
                ("allocation_rejected", self._on_rejected),
            )
        ]

    async def _on_reserved(self, msg: Msg) -> None:
        event = _parse(stock_msg.StockReserved, msg)
        order_id = order_id_of(event.idempotency_key) if event else None
        if event is None or order_id is None:
            return  # not an order's allocation (e.g. a storefront's cart)
        res = event.reservation
        plan = tuple((ln.sku, ln.location_id, ln.quantity) for ln in res.lines)
        await self._decide(StockDecision(event.event_id, order_id, res.id, plan))

    async def _on_rejected(self, msg: Msg) -> None:
        event = _parse(stock_msg.AllocationRejected, msg)
        order_id = order_id_of(event.idempotency_key) if event else None
        if event is None or order_id is None:
            return
        short = tuple(convert.short_line(s) for s in event.lines)
        await self._decide(
            StockDecision(event.event_id, order_id, short_lines=short, reason=event.reason)
        )

    async def _decide(self, decision: StockDecision) -> None:
        """Retries what may pass later (database busy or down); logs what never will."""
        try:
            await self._services.decide(decision)
        except (Unavailable, Conflict):
            raise
        except OmniError:
            pass  # logged where it was refused


M = TypeVar("M", stock_msg.StockReserved, stock_msg.AllocationRejected)


def _parse(message_type: type[M], msg: Msg) -> M | None:
    try:
        return message_type.FromString(msg.data)
    except DecodeError:
        log.error("ignoring an undecodable message on %s", msg.subject)
        return None
