"""Pickup and ship tasks in the database: one row each, lines and the rest as a JSON
document."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from omni.pickup.adapters.tables import picks, ship_tasks, store_policies, tasks
from omni.pickup.domain.model import (
    DEFAULT_SHORTAGE_POLICY,
    PickupLine,
    PickupStatus,
    PickupTask,
    ShortagePolicy,
)
from omni.pickup.domain.ship import ShipLine, ShipTask, ShipTaskStatus
from omni.platform.clock import utcnow
from omni.platform.driver import insert_ignoring_conflicts
from omni.platform.pages import PageToken


class PickupRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, task: PickupTask) -> bool:
        """False when the order has a task already (a redelivered event)."""
        row = {"id": task.id, "order_id": task.order_id, **_columns(task)}
        return bool(await insert_ignoring_conflicts(self._conn, tasks, [row], "id"))

    async def save(self, changed: Sequence[PickupTask]) -> None:
        if changed:
            stmt = update(tasks).where(tasks.c.id == bindparam("task_id"))
            await self._conn.execute(stmt, [{"task_id": t.id, **_columns(t)} for t in changed])

    async def get(self, task_id: str, *, lock: bool = False) -> PickupTask | None:
        query = select(tasks).where(tasks.c.id == task_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return _task(row) if row else None

    async def for_order(self, order_id: str, *, lock: bool = False) -> PickupTask | None:
        query = select(tasks).where(tasks.c.order_id == order_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return _task(row) if row else None

    async def due(self, now: datetime, limit: int) -> list[PickupTask]:
        """Held tasks past their deadline, locked; those another replica holds are skipped."""
        query = (
            select(tasks)
            .where(tasks.c.hold_until <= now)
            .where(tasks.c.status.in_([PickupStatus.READY.value, PickupStatus.LOCKED.value]))
            .order_by(tasks.c.hold_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_task(row) for row in await self._conn.execute(query)]

    async def queue(
        self, store_id: str, status: str, size: int, token: str
    ) -> tuple[list[PickupTask], str]:
        """A store's tasks, oldest first; a page and the next page's token ("" if none)."""
        rows, more = await self._page(tasks, tasks.c.store_id == store_id, status, size, token)
        found = [_task(r) for r in rows]
        return found, PageToken.after(found[-1].created_at, found[-1].id) if more else ""

    async def add_ship_task(self, task: ShipTask) -> bool:
        """False when the order has a task at that location already."""
        row = {"id": task.id, "order_id": task.order_id, **_ship_columns(task)}
        return bool(await insert_ignoring_conflicts(self._conn, ship_tasks, [row], "id"))

    async def save_ship_tasks(self, changed: Sequence[ShipTask]) -> None:
        if changed:
            stmt = update(ship_tasks).where(ship_tasks.c.id == bindparam("task_id"))
            rows = [{"task_id": t.id, **_ship_columns(t)} for t in changed]
            await self._conn.execute(stmt, rows)

    async def ship_task(self, task_id: str, *, lock: bool = False) -> ShipTask | None:
        query = select(ship_tasks).where(ship_tasks.c.id == task_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        return _ship_task(row) if row else None

    async def ship_tasks_of(self, order_id: str, *, lock: bool = False) -> list[ShipTask]:
        """An order's ship tasks, by location (the order locks are taken in)."""
        query = (
            select(ship_tasks)
            .where(ship_tasks.c.order_id == order_id)
            .order_by(ship_tasks.c.location_id)
        )
        rows = await self._conn.execute(query.with_for_update() if lock else query)
        return [_ship_task(row) for row in rows]

    async def ship_queue(
        self, location_id: str, status: str, size: int, token: str
    ) -> tuple[list[ShipTask], str]:
        """A location's ship tasks, oldest first; a page and the next page's token."""
        where = ship_tasks.c.location_id == location_id
        rows, more = await self._page(ship_tasks, where, status, size, token)
        found = [_ship_task(r) for r in rows]
        return found, PageToken.after(found[-1].created_at, found[-1].id) if more else ""

    async def _page(
        self, table: Table, where: ColumnElement[bool], status: str, size: int, token: str
    ) -> tuple[Sequence[Row[Any]], bool]:
        """Rows of a queue, oldest first, after the token's; and whether more follow."""
        query = select(table).where(where)
        if status:
            query = query.where(table.c.status == status)
        if token:
            created, last_id = PageToken.read(token)
            query = query.where(
                or_(
                    table.c.created_at > created,
                    and_(table.c.created_at == created, table.c.id > last_id),
                )
            )
        query = query.order_by(table.c.created_at, table.c.id).limit(size + 1)
        rows = (await self._conn.execute(query)).all()
        return rows[:size], len(rows) > size

    async def record_pick(self, task_id: str, scan_id: str, sku: str, quantity: int) -> bool:
        """False when this scan was recorded before."""
        row = {
            "task_id": task_id,
            "scan_id": scan_id,
            "sku": sku,
            "quantity": quantity,
            "created_at": utcnow(),
        }
        return bool(await insert_ignoring_conflicts(self._conn, picks, [row], "scan_id"))

    async def shortage_policy(self, store_id: str) -> ShortagePolicy:
        query = select(store_policies.c.shortage).where(store_policies.c.store_id == store_id)
        found = (await self._conn.execute(query)).scalar_one_or_none()
        return ShortagePolicy(found) if found else DEFAULT_SHORTAGE_POLICY

    async def set_shortage_policy(self, store_id: str, policy: ShortagePolicy) -> None:
        row = {"store_id": store_id, "shortage": policy.value, "updated_at": utcnow()}
        if not await insert_ignoring_conflicts(self._conn, store_policies, [row], "store_id"):
            stmt = update(store_policies).where(store_policies.c.store_id == store_id)
            await self._conn.execute(stmt.values(shortage=policy.value, updated_at=utcnow()))


def _columns(task: PickupTask) -> dict[str, Any]:
    document = {
        "customer_id": task.customer_id,
        "currency": task.currency,
        "lines": [[ln.sku, ln.quantity, ln.unit_price, ln.picked, ln.short] for ln in task.lines],
        # Keys of their own, which readers of older versions skip (rolling upgrades).
        "brought": [[ln.coming, ln.arrived] for ln in task.lines],
        "order_version": task.order_version,
        "shortages": task.shortages,
        "replacement": task.replacement,
        "associate_id": task.associate_id,
        "failed_attempts": task.failed_attempts,
        "code_hash": task.code_hash,
    }
    return {
        "store_id": task.store_id,
        "status": task.status.value,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "hold_until": task.hold_until,
        "version": task.version,
        "document": json.dumps(document, separators=(",", ":")),
    }


def _ship_columns(task: ShipTask) -> dict[str, Any]:
    document = {
        "currency": task.currency,
        "region": task.ship_to_region,
        "lines": [
            [ln.sku, ln.quantity, ln.unit_price, ln.picked, ln.rejected, ln.shipped]
            for ln in task.lines
        ],
        "associate_id": task.associate_id,
        "packages": task.packages,
        "carrier": task.carrier,
        "tracking_number": task.tracking_number,
        "shipments": task.shipments,
        "order_version": task.order_version,
    }
    return {
        "location_id": task.location_id,
        "status": task.status.value,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "version": task.version,
        "document": json.dumps(document, separators=(",", ":")),
    }


def _ship_task(row: Row[Any]) -> ShipTask:
    doc = json.loads(row.document)
    return ShipTask(
        id=row.id,
        order_id=row.order_id,
        location_id=row.location_id,
        currency=doc["currency"],
        ship_to_region=doc["region"],
        lines=[ShipLine(*line) for line in doc["lines"]],
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=ShipTaskStatus(row.status),
        associate_id=doc["associate_id"],
        packages=doc["packages"],
        carrier=doc["carrier"],
        tracking_number=doc["tracking_number"],
        shipments=doc["shipments"],
        version=row.version,
        order_version=doc["order_version"],
    )


def _task(row: Row[Any]) -> PickupTask:
    doc = json.loads(row.document)
    task = PickupTask(
        id=row.id,
        order_id=row.order_id,
        store_id=row.store_id,
        customer_id=doc["customer_id"],
        currency=doc["currency"],
        lines=[PickupLine(*line) for line in doc["lines"]],
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=PickupStatus(row.status),
        associate_id=doc["associate_id"],
        hold_until=row.hold_until,
        failed_attempts=doc["failed_attempts"],
        code_hash=doc["code_hash"],
        version=row.version,
        order_version=doc.get("order_version", 0),  # tasks saved by earlier versions lack it
        shortages=doc.get("shortages", 0),
        replacement=doc.get("replacement", False),
    )
    for line, (coming, arrived) in zip(task.lines, doc.get("brought", ()), strict=False):
        line.coming, line.arrived = coming, arrived
    return task
