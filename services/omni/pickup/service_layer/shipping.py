"""Ship tasks: each change one transaction (load and lock, decide, save); the order's news
keeps them in step with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from omni.pickup.domain import commands
from omni.pickup.domain.ship import ShipTask
from omni.pickup.service_layer.unit_of_work import Transaction, UnitOfWork
from omni.platform.auth import current_caller
from omni.platform.clock import new_id, utcnow
from omni.platform.errors import NotFound
from omni.platform.unit_of_work import in_transaction

# Rejection ids are kept with the task's pick scan ids, under a prefix of their own.
REJECTION_PREFIX = "reject:"
MAX_REJECTION_ID = 64 - len(REJECTION_PREFIX)


@in_transaction
async def follow_order(tx: Transaction, cmd: commands.FollowOrder) -> None:
    """Opens a task at each location the order gives units to ship, and brings the others
    up to the order's version. Older news changes nothing, so redelivery is harmless.

    New tasks are inserted first, then every task of the order is locked in location
    order: two events of one order handled at once take their locks in the same order."""
    now = utcnow()
    work = {loc: {sku: (q, p, s) for sku, q, p, s in lines} for loc, lines in cmd.work}
    known = {t.location_id for t in await tx.repo.ship_tasks_of(cmd.order_id)}
    opened = set()
    for location_id, units in work.items():  # sorted by location
        if location_id in known:
            continue
        task = ShipTask.open(
            new_id("shp"),
            cmd.order_id,
            location_id,
            cmd.currency,
            cmd.ship_to_region,
            cmd.order_version,
            units,
            now,
            cmd.cancelled,
        )
        if await tx.add_ship_task(task):  # else another event of the order opened it
            opened.add(location_id)
    changed = []
    for task in await tx.repo.ship_tasks_of(cmd.order_id, lock=True):
        given = work.get(task.location_id)
        if task.location_id in opened or given is None:
            continue
        if task.follow(cmd.order_version, given, cmd.cancelled, now):
            changed.append(task)
    await tx.save_ship_tasks(changed)


async def start(uow: UnitOfWork, task_id: str, associate_id: str) -> ShipTask:
    return await _change(uow, task_id, lambda t, now: t.start(associate_id, now))


@in_transaction
async def record_pick(tx: Transaction, cmd: commands.RecordShipPick) -> tuple[ShipTask, bool]:
    """The task after the pick, and whether the scan had been recorded already."""
    task = await _get(tx, cmd.task_id, lock=True)
    if not await tx.repo.record_pick(task.id, cmd.scan_id, cmd.sku, cmd.quantity):
        return task, True
    task.pick(cmd.sku, cmd.quantity, utcnow())
    await tx.save_ship_tasks([task])
    return task, False


async def pack(uow: UnitOfWork, task_id: str, packages: int) -> ShipTask:
    return await _change(uow, task_id, lambda t, now: t.pack(packages, now))


async def ship(uow: UnitOfWork, cmd: commands.ShipTaskOut) -> ShipTask:
    return await _change(
        uow, cmd.task_id, lambda t, now: t.ship(cmd.carrier, cmd.tracking_number, now)
    )


@in_transaction
async def reject(tx: Transaction, cmd: commands.RejectShipUnits) -> tuple[ShipTask, bool]:
    """The task after the rejection, and whether its id had been recorded already."""
    task = await _get(tx, cmd.task_id, lock=True)
    recorded = REJECTION_PREFIX + cmd.rejection_id  # beside the task's scan ids, apart
    if not await tx.repo.record_pick(task.id, recorded, cmd.sku, cmd.quantity):
        return task, True
    task.reject(cmd.sku, cmd.quantity, cmd.reason, cmd.associate_id, utcnow(), cmd.picked)
    await tx.save_ship_tasks([task])
    return task, False


async def get(uow: UnitOfWork, task_id: str) -> ShipTask:
    async with uow.reader() as repo:
        task = await repo.ship_task(task_id)
    return _visible(task, task_id)


async def queue(uow: UnitOfWork, query: commands.ListShipTasks) -> tuple[list[ShipTask], str]:
    current_caller().require_store(query.location_id)
    async with uow.reader() as repo:
        return await repo.ship_queue(
            query.location_id, query.status, query.page_size, query.page_token
        )


@in_transaction
async def _change(
    tx: Transaction, task_id: str, change: Callable[[ShipTask, datetime], None]
) -> ShipTask:
    task = await _get(tx, task_id, lock=True)
    version = task.version
    change(task, utcnow())
    if task.version != version:
        await tx.save_ship_tasks([task])
    return task


async def _get(tx: Transaction, task_id: str, *, lock: bool = False) -> ShipTask:
    return _visible(await tx.repo.ship_task(task_id, lock=lock), task_id)


def _visible(task: ShipTask | None, task_id: str) -> ShipTask:
    """The task, if the caller may see it: a store-bound caller, its own location's."""
    if task is None:
        raise NotFound(f"ship task {task_id} does not exist")
    current_caller().require_store(task.location_id)
    return task
