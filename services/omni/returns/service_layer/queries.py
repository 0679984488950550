"""Reads: one return, or a page of returns."""

from __future__ import annotations

from omni.platform.auth import current_caller
from omni.platform.errors import NotFound
from omni.returns.domain import commands
from omni.returns.domain.model import Return
from omni.returns.service_layer.unit_of_work import UnitOfWork


async def get_return(uow: UnitOfWork, return_id: str) -> Return:
    async with uow.reader() as repo:
        rma = await repo.get(return_id)
    if rma is None:
        raise NotFound(f"return {return_id} does not exist")
    current_caller().require_store(rma.location_id)
    return rma


async def list_returns(uow: UnitOfWork, query: commands.ListReturns) -> tuple[list[Return], str]:
    """A page of returns; store staff name their store as the location (else refused)."""
    current_caller().require_store(query.location_id)
    filters = {
        "order_id": query.order_id,
        "customer_id": query.customer_id,
        "location_id": query.location_id,
        "status": query.status,
    }
    async with uow.reader() as repo:
        return await repo.page(filters, query.page_size, query.page_token)
