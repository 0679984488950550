"""Orders in the database: one row each, its details as a JSON document."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from omni.orders.adapters.tables import idempotency_keys, orders
from omni.orders.domain.model import (
    Allocation,
    Delivery,
    Fulfilment,
    OrderLine,
    OrderStatus,
    PickupAt,
    Reallocation,
    Rejection,
    Shipment,
    ShipTo,
    ShortLine,
)
from omni.orders.domain.order import Order
from omni.platform.channels import RejectionReason
from omni.platform.idempotency import scoped
from omni.platform.pages import PageToken


class OrderRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, new: Sequence[Order]) -> None:
        if new:
            await self._conn.execute(insert(orders), [{"id": o.id, **_columns(o)} for o in new])

    async def save(self, changed: Sequence[Order]) -> None:
        if changed:
            stmt = update(orders).where(orders.c.id == bindparam("order_id"))
            await self._conn.execute(stmt, [{"order_id": o.id, **_columns(o)} for o in changed])

    async def pending(self, since: datetime) -> int:
        """How many orders placed since `since` wait for stock's decision (through the
        status index). Older ones are not a backlog but orders whose decision went astray:
        they must not keep new ones out for ever."""
        query = select(func.count()).where(
            orders.c.status == OrderStatus.PENDING.value, orders.c.created_at >= since
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def placed_with_key(self, key: str) -> bool:
        """Whether an order was placed with this idempotency key (a client's retry)."""
        query = select(idempotency_keys.c.key).where(idempotency_keys.c.key == scoped("place", key))
        return (await self._conn.execute(query)).first() is not None

    async def get(self, order_id: str, *, lock: bool = False) -> Order | None:
        return (await self.get_many({order_id}, lock=lock)).get(order_id)

    async def get_many(self, ids: set[str], *, lock: bool = False) -> dict[str, Order]:
        """The orders that exist among `ids`; locked (in id order, so no deadlocks) if asked."""
        if not ids:
            return {}
        query = select(orders).where(orders.c.id.in_(ids)).order_by(orders.c.id)
        rows = await self._conn.execute(query.with_for_update() if lock else query)
        return {row.id: _order(row) for row in rows}

    async def page(
        self,
        *,
        customer_id: str,
        channel: str,
        status: str,
        size: int,
        token: str,
        placed_from: datetime | None = None,
        placed_before: datetime | None = None,
    ) -> tuple[list[Order], str]:
        """Newest first; returns a page and the token of the next one ("" if none)."""
        query = select(orders).order_by(orders.c.created_at.desc(), orders.c.id.desc())
        if placed_from is not None:
            query = query.where(orders.c.created_at >= placed_from)
        if placed_before is not None:
            query = query.where(orders.c.created_at < placed_before)
        for column, value in (
            (orders.c.customer_id, customer_id),
            (orders.c.channel, channel),
            (orders.c.status, status),
        ):
            if value:
                query = query.where(column == value)
        if token:
            created, last_id = PageToken.read(token)
            query = query.where(
                or_(
                    orders.c.created_at < created,
                    and_(orders.c.created_at == created, orders.c.id < last_id),
                )
            )
        rows = (await self._conn.execute(query.limit(size + 1))).all()
        found = [_order(r) for r in rows[:size]]
        more = len(rows) > size
        return found, PageToken.after(found[-1].created_at, found[-1].id) if more else ""


def _columns(order: Order) -> dict[str, Any]:
    return {
        "customer_id": order.customer_id,
        "channel": order.channel,
        "status": order.status.value,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "version": order.version,
        "document": json.dumps(_document(order), separators=(",", ":")),
    }


def _document(order: Order) -> dict[str, Any]:
    f = order.fulfilment
    return {
        "currency": order.currency,
        "lines": [
            [
                ln.sku,
                ln.quantity,
                ln.unit_price,
                [_allocation_document(a) for a in ln.allocations],
                ln.cancelled,
                ln.returned,
            ]
            for ln in order.lines
        ],
        "fulfilment": {"pickup": f.location_id}
        if isinstance(f, PickupAt)
        else {"ship": [f.region, f.latitude, f.longitude]},
        "short": [[s.sku, s.location_id, s.requested, s.available] for s in order.short_lines],
        "reason": order.reason,
        "reservation_id": order.reservation_id,
        "shipments": [
            [s.id, s.location_id, s.lines, s.carrier, s.tracking_number, _iso(s.shipped_at)]
            for s in order.shipments
        ],
        "reallocations": [
            [r.key, r.sku, r.quantity, r.delivery.value] for r in order.reallocations
        ],
        "shortages": order.shortages,
        # Keys of their own, which readers of older versions skip (rolling upgrades).
        "brought": {ln.sku: ln.brought for ln in order.lines if ln.brought},
        "rejections": order.rejections,
        "exchange_of": list(order.exchange_of) if order.exchange_of else None,
        "exchanges": [list(link) for link in order.exchanges],
        "rejected": {
            ln.sku: [
                [r.location_id, r.quantity, r.reason.value, r.associate_id, _iso(r.at)]
                for r in ln.rejections
            ]
            for ln in order.lines
            if ln.rejections
        },
    }


def _allocation_document(a: Allocation) -> list[Any]:
    doc: list[Any] = [a.location_id, a.quantity, a.shipped, a.reservation_id, a.delivery.value]
    if a.backordered or a.expected_at:  # documents without them (older ones too) read as 0
        doc += [a.backordered, _iso(a.expected_at)]
    return doc


def _allocation(doc: list[Any]) -> Allocation:
    location_id, quantity, shipped, reservation_id, delivery = doc[:5]
    backordered, expected_at = doc[5:] or (0, None)
    return Allocation(
        location_id,
        quantity,
        shipped,
        reservation_id,
        Delivery(delivery),
        backordered,
        _time(expected_at),
    )


def _order(row: Row[Any]) -> Order:
    doc = json.loads(row.document)
    order = Order(
        id=row.id,
        channel=row.channel,
        customer_id=row.customer_id,
        currency=doc["currency"],
        lines=[
            OrderLine(
                sku,
                qty,
                price,
                [_allocation(a) for a in allocations],
                cancelled,
                returned,
            )
            for sku, qty, price, allocations, cancelled, returned in doc["lines"]
        ],
        fulfilment=_fulfilment(doc["fulfilment"]),
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=OrderStatus(row.status),
        short_lines=[ShortLine(*s) for s in doc["short"]],
        reason=doc["reason"],
        reservation_id=doc["reservation_id"],
        shipments=[
            Shipment(sid, loc, tuple((sku, q) for sku, q in lines), carrier, tracking, _time(at))
            for sid, loc, lines, carrier, tracking, at in doc["shipments"]
        ],
        reallocations=[
            Reallocation(key, sku, qty, Delivery(d)) for key, sku, qty, d in doc["reallocations"]
        ],
        shortages=doc["shortages"],
        rejections=doc.get("rejections", 0),
        exchange_of=tuple(doc["exchange_of"]) if doc.get("exchange_of") else None,
        exchanges=[(r, o) for r, o in doc.get("exchanges", [])],
        version=row.version,
    )
    for sku, units in doc.get("brought", {}).items():
        line = order.line(sku)
        if line is not None:
            line.brought = units
    for sku, rejections in doc.get("rejected", {}).items():
        line = order.line(sku)
        if line is not None:
            line.rejections = [
                Rejection(loc, qty, RejectionReason(reason), actor, _time(at) or order.created_at)
                for loc, qty, reason, actor, at in rejections
            ]
    return order


def _fulfilment(doc: dict[str, Any]) -> Fulfilment:
    if "pickup" in doc:
        return PickupAt(doc["pickup"])
    region, latitude, longitude = doc["ship"]
    return ShipTo(region, latitude, longitude)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _time(at: str | None) -> datetime | None:
    return datetime.fromisoformat(at) if at else None
