"""Reads: one order, or a page of orders."""

from __future__ import annotations

from omni.orders.domain import commands
from omni.orders.domain.order import Order
from omni.orders.service_layer.unit_of_work import UnitOfWork
from omni.platform.errors import NotFound


async def get_order(uow: UnitOfWork, order_id: str) -> Order:
    async with uow.reader() as repo:
        order = await repo.get(order_id)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return order


async def get_orders(uow: UnitOfWork, order_ids: list[str]) -> list[Order]:
    """Those of the orders that exist."""
    async with uow.reader() as repo:
        return list((await repo.get_many(set(order_ids))).values())


async def list_orders(uow: UnitOfWork, query: commands.ListOrders) -> tuple[list[Order], str]:
    async with uow.reader() as repo:
        return await repo.page(
            customer_id=query.customer_id,
            channel=query.channel,
            status=query.status,
            size=query.page_size,
            token=query.page_token,
            placed_from=query.placed_from,
            placed_before=query.placed_before,
        )
