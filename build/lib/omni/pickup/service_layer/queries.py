"""Reads: one task, a store's queue, a store's policy."""

from __future__ import annotations

from omni.pickup.domain import commands
from omni.pickup.domain.model import PickupTask, ShortagePolicy
from omni.pickup.service_layer.unit_of_work import UnitOfWork
from omni.platform.auth import current_caller
from omni.platform.errors import NotFound


async def get_pickup(uow: UnitOfWork, task_id: str) -> PickupTask:
    async with uow.reader() as repo:
        task = await repo.get(task_id)
    if task is None:
        raise NotFound(f"pickup task {task_id} does not exist")
    current_caller().require_store(task.store_id)
    return task


async def list_pickups(
    uow: UnitOfWork, query: commands.ListPickups
) -> tuple[list[PickupTask], str]:
    current_caller().require_store(query.store_id)
    async with uow.reader() as repo:
        return await repo.queue(query.store_id, query.status, query.page_size, query.page_token)


async def store_policy(uow: UnitOfWork, store_id: str) -> ShortagePolicy:
    current_caller().require_store(store_id)
    async with uow.reader() as repo:
        return await repo.shortage_policy(store_id)
