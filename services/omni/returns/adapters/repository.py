"""Returns, and the orders and locations returns has heard of, in the database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from omni.platform.clock import utcnow
from omni.platform.driver import insert_ignoring_conflicts
from omni.platform.pages import PageToken
from omni.returns.adapters.tables import known_locations, known_orders, return_scans, returns
from omni.returns.domain.model import (
    Exchange,
    ExchangeStatus,
    ExchangeTo,
    KnownLocation,
    KnownOrder,
    Override,
    Replacement,
    Return,
    ReturnLine,
    ReturnStatus,
    SoldLine,
)


class ReturnsRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # Read models
    async def learn_order(self, order: KnownOrder) -> bool:
        """Keeps the order if it is newer than what is known; False if it was not."""
        row = {
            "id": order.id,
            "customer_id": order.customer_id,
            "currency": order.currency,
            "version": order.version,
            "lines": json.dumps([_sold(ln) for ln in order.lines]),
        }
        if await insert_ignoring_conflicts(self._conn, known_orders, [row], "id"):
            return True
        stmt = (
            update(known_orders)
            .where(known_orders.c.id == order.id)
            .where(known_orders.c.version < order.version)
            .values(**row)
        )
        return bool((await self._conn.execute(stmt)).rowcount)

    async def order(self, order_id: str, *, lock: bool = False) -> KnownOrder | None:
        query = select(known_orders).where(known_orders.c.id == order_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            return None
        lines = tuple(
            SoldLine(sku, price, fulfilled, datetime.fromisoformat(at) if at else None)
            for sku, price, fulfilled, at in json.loads(row.lines)
        )
        return KnownOrder(row.id, row.customer_id, row.currency, lines, row.version)

    async def learn_location(self, location: KnownLocation) -> None:
        row = {"id": location.id, "accepts_returns": location.accepts_returns}
        if not await insert_ignoring_conflicts(self._conn, known_locations, [row], "id"):
            stmt = update(known_locations).where(known_locations.c.id == location.id)
            await self._conn.execute(stmt.values(accepts_returns=location.accepts_returns))

    async def location(self, location_id: str) -> KnownLocation | None:
        query = select(known_locations).where(known_locations.c.id == location_id)
        row = (await self._conn.execute(query)).first()
        return KnownLocation(row.id, row.accepts_returns) if row else None

    # Returns
    async def add(self, rma: Return) -> None:
        await self._conn.execute(insert(returns).values(id=rma.id, **_columns(rma)))

    async def save(self, changed: Sequence[Return]) -> None:
        if changed:
            stmt = update(returns).where(returns.c.id == bindparam("rma_id"))
            await self._conn.execute(stmt, [{"rma_id": r.id, **_columns(r)} for r in changed])

    async def get(self, return_id: str, *, lock: bool = False) -> Return | None:
        query = select(returns).where(returns.c.id == return_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return _return(row) if row else None

    async def for_order(self, order_id: str) -> list[Return]:
        query = select(returns).where(returns.c.order_id == order_id)
        return [_return(row) for row in await self._conn.execute(query)]

    async def fresh_scans(self, return_id: str, scan_ids: list[str]) -> set[str]:
        """Records the scan ids; returns those not recorded before."""
        now = utcnow()
        rows = [{"return_id": return_id, "scan_id": s, "created_at": now} for s in set(scan_ids)]
        return set(await insert_ignoring_conflicts(self._conn, return_scans, rows, "scan_id"))

    async def page(
        self, filters: dict[str, str], size: int, token: str
    ) -> tuple[list[Return], str]:
        """Newest first, filtered by order_id, customer_id, location_id, status."""
        query = select(returns).order_by(returns.c.created_at.desc(), returns.c.id.desc())
        for column, value in filters.items():
            if value:
                query = query.where(returns.c[column] == value)
        if token:
            created, last_id = PageToken.read(token)
            query = query.where(
                or_(
                    returns.c.created_at < created,
                    and_(returns.c.created_at == created, returns.c.id < last_id),
                )
            )
        rows = (await self._conn.execute(query.limit(size + 1))).all()
        found = [_return(r) for r in rows[:size]]
        more = len(rows) > size
        return found, PageToken.after(found[-1].created_at, found[-1].id) if more else ""


def _sold(line: SoldLine) -> list[Any]:
    at = line.fulfilled_at.isoformat() if line.fulfilled_at else None
    return [line.sku, line.unit_price, line.fulfilled, at]


def _columns(rma: Return) -> dict[str, Any]:
    document = {
        "channel": rma.channel,
        "currency": rma.currency,
        "lines": [
            [ln.sku, ln.quantity, ln.reason, ln.unit_price, ln.sellable, ln.damaged, ln.missing]
            for ln in rma.lines
        ],
        "refunded": rma.refunded,
        "override": [rma.override.manager_id, rma.override.reason] if rma.override else None,
        "receipts": rma.receipts,
        # Keys of their own, which readers of older versions skip (rolling upgrades).
        "charged": rma.charged,
        "exchange": _exchange_document(rma.exchange) if rma.exchange else None,
    }
    return {
        "order_id": rma.order_id,
        "customer_id": rma.customer_id,
        "location_id": rma.location_id,
        "status": rma.status.value,
        "created_at": rma.created_at,
        "updated_at": rma.updated_at,
        "version": rma.version,
        "document": json.dumps(document, separators=(",", ":")),
    }


def _return(row: Row[Any]) -> Return:
    doc = json.loads(row.document)
    return Return(
        id=row.id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        channel=doc["channel"],
        location_id=row.location_id,
        currency=doc["currency"],
        lines=[ReturnLine(*line) for line in doc["lines"]],
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=ReturnStatus(row.status),
        refunded=doc["refunded"],
        override=Override(*doc["override"]) if doc["override"] else None,
        receipts=doc["receipts"],
        exchange=_exchange(doc["exchange"]) if doc.get("exchange") else None,
        charged=doc.get("charged", 0),
        version=row.version,
    )


def _exchange_document(exchange: Exchange) -> dict[str, Any]:
    to = exchange.to
    return {
        "replacements": [[r.sku, r.replacement_sku, r.unit_price] for r in exchange.replacements],
        "to": [to.region, to.latitude, to.longitude, to.store_id],
        "advance": exchange.advance,
        "status": exchange.status.value,
        "ordered": exchange.ordered,
        "order": [exchange.replacement_order_id, exchange.order_version],
        "sent": exchange.sent,
        "reason": exchange.reason,
        "cancelled": exchange.cancelled,
        "withdrawing": exchange.withdrawing,
    }


def _exchange(doc: dict[str, Any]) -> Exchange:
    order_id, version = doc["order"]
    return Exchange(
        replacements=tuple(Replacement(*r) for r in doc["replacements"]),
        to=ExchangeTo(*doc["to"]),
        advance=doc["advance"],
        status=ExchangeStatus(doc["status"]),
        ordered=doc["ordered"],
        replacement_order_id=order_id,
        order_version=version,
        sent=doc.get("sent", {}),
        reason=doc["reason"],
        cancelled=doc.get("cancelled", {}),
        withdrawing=doc.get("withdrawing", False),
    )
