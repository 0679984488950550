"""One handler per pickup command, each one transaction: load and lock, decide, save (the
platform runs it: omni.platform.unit_of_work.in_transaction)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from omni.pickup.adapters import tables
from omni.pickup.domain import commands
from omni.pickup.domain.model import MAX_WRONG_CODES, PickupLine, PickupTask, ShortagePolicy
from omni.pickup.service_layer import codes
from omni.pickup.service_layer.unit_of_work import Transaction, UnitOfWork
from omni.platform.auth import current_caller
from omni.platform.clock import new_id, utcnow
from omni.platform.consumer import once_per_event
from omni.platform.errors import NotFound, PermissionDenied
from omni.platform.unit_of_work import in_transaction

log = logging.getLogger(__name__)
ORDERS_CONSUMER = "pickup-orders"


@in_transaction
@once_per_event(tables.processed_events, ORDERS_CONSUMER)
async def open_task(tx: Transaction, cmd: commands.OpenTask) -> None:
    """A confirmed pickup order becomes a task at its store."""
    task = _new_task(cmd)
    task.placed()
    await tx.add(task)  # no-op if the order has a task (e.g. cancelled already)


@in_transaction
@once_per_event(tables.processed_events, ORDERS_CONSUMER)
async def bring_units(tx: Transaction, cmd: commands.BringUnits) -> None:
    """The order's news of units on their way to its task by transfer; an order with no task
    yet gets one if it is ready to pick (`opened`)."""
    task = await tx.repo.for_order(cmd.order_id, lock=True)
    if task is None:
        if cmd.opened is not None:
            opened = _new_task(cmd.opened)
            opened.placed()
            await tx.add(opened)
        return
    heard = task.order_version
    units = {sku: (coming, arrived) for sku, coming, arrived in cmd.lines}
    task.brought(cmd.order_version, cmd.order_shortages, units, utcnow())
    if task.order_version != heard:
        await tx.save([task])


@in_transaction
@once_per_event(tables.processed_events, ORDERS_CONSUMER)
async def cancel_task(tx: Transaction, cmd: commands.CancelTask) -> None:
    """The order was cancelled: so is its task, even one the confirmation has not opened yet."""
    order_id = cmd.opened.order_id
    task = await tx.repo.for_order(order_id, lock=True)
    if task is None:
        opened = _new_task(cmd.opened)
        opened.placed()
        # Lost a race with the confirmation: cancel the task it opened instead.
        task = opened if await tx.add(opened) else await tx.repo.for_order(order_id)
    assert task is not None
    task.cancel(utcnow())
    await tx.save([task])


def _new_task(cmd: commands.OpenTask) -> PickupTask:
    now = utcnow()
    return PickupTask(
        id=new_id("pck"),
        order_id=cmd.order_id,
        store_id=cmd.store_id,
        customer_id=cmd.customer_id,
        currency=cmd.currency,
        lines=[PickupLine(sku, qty, price) for sku, qty, price in cmd.lines],
        created_at=now,
        updated_at=now,
        replacement=cmd.replacement,
    )


async def start_picking(uow: UnitOfWork, task_id: str, associate_id: str) -> PickupTask:
    return await _change(uow, task_id, lambda t, now: t.start_picking(associate_id, now))


@in_transaction
async def record_pick(tx: Transaction, cmd: commands.RecordPick) -> tuple[PickupTask, bool]:
    """The task after the pick, and whether the scan had been recorded already."""
    task = await _get(tx, cmd.task_id, lock=True)
    if not await tx.repo.record_pick(task.id, cmd.scan_id, cmd.sku, cmd.quantity):
        return task, True
    task.pick(cmd.sku, cmd.quantity, utcnow())
    await tx.save([task])
    return task, False


@in_transaction
async def report_shortage(
    tx: Transaction, cmd: commands.ReportShortage
) -> tuple[PickupTask, ShortagePolicy]:
    """Units not on the shelf: the store's policy says what becomes of them."""
    task = await _get(tx, cmd.task_id, lock=True)
    policy = await tx.repo.shortage_policy(task.store_id)
    task.report_shortage(cmd.sku, cmd.missing, policy, utcnow())
    await tx.save([task])
    return task, policy


async def mark_ready(
    uow: UnitOfWork, task_id: str, sealer: codes.Sealer, hold: timedelta
) -> PickupTask:
    code = codes.new_code()
    code_hash = await codes.hash_code(code)  # slow on purpose: outside the transaction
    sealed = sealer.seal(code)
    return await _change(
        uow, task_id, lambda t, now: t.mark_ready(code_hash, sealed, now + hold, now)
    )


async def complete_pickup(uow: UnitOfWork, cmd: commands.CompletePickup) -> PickupTask:
    """COLLECTED with the right code; a wrong one is counted, then refused."""
    async with uow.reader() as repo:
        task = await repo.get(cmd.task_id)
    if task is None:
        raise NotFound(f"pickup task {cmd.task_id} does not exist")
    current_caller().require_store(task.store_id)
    # Checked outside the transaction (scrypt takes a while); the hash cannot change once
    # READY, and the status is checked again under the lock.
    right = await codes.matches(cmd.code, task.code_hash)
    task = await _change(uow, cmd.task_id, lambda t, now: t.complete(right, now))
    if not right:
        left = max(0, MAX_WRONG_CODES - task.failed_attempts)
        raise PermissionDenied(
            "wrong pickup code"
            + (
                f"; {left} more {'try' if left == 1 else 'tries'} before the task locks"
                if left
                else "; the task is locked"
            )
        )
    return task


async def unlock(uow: UnitOfWork, task_id: str) -> PickupTask:
    return await _change(uow, task_id, lambda t, now: t.unlock(now))


@in_transaction
async def expire_due(tx: Transaction, now: datetime, limit: int = 100) -> int:
    """Expires held tasks past their deadline; returns how many. Safe on every replica."""
    expired = [t for t in await tx.repo.due(now, limit) if t.expire(now)]
    await tx.save(expired)
    return len(expired)


@in_transaction
async def set_store_policy(tx: Transaction, cmd: commands.SetStorePolicy) -> ShortagePolicy:
    current_caller().require_store(cmd.store_id)
    await tx.repo.set_shortage_policy(cmd.store_id, cmd.shortage)
    return cmd.shortage


@in_transaction
async def _change(
    tx: Transaction, task_id: str, change: Callable[[PickupTask, datetime], None]
) -> PickupTask:
    """A change of one task, as the domain decides it."""
    task = await _get(tx, task_id, lock=True)
    change(task, utcnow())
    await tx.save([task])
    return task


async def _get(tx: Transaction, task_id: str, *, lock: bool = False) -> PickupTask:
    task = await tx.repo.get(task_id, lock=lock)
    if task is None:
        raise NotFound(f"pickup task {task_id} does not exist")
    current_caller().require_store(task.store_id)
    return task
