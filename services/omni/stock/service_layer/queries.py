"""Read-side queries: no locks, no events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omni.platform.auth import current_caller
from omni.platform.errors import NotFound
from omni.stock.adapters.repository import StockRepository
from omni.stock.domain.channels import Channel, ChannelView
from omni.stock.domain.model import Location, Movement, Reservation, StockLevel
from omni.stock.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Availability:
    levels: list[tuple[StockLevel, int]]  # each level, and its availability as the caller sees it
    network: dict[str, int]  # sku -> available over locations that ship


async def list_locations(uow: UnitOfWork) -> list[Location]:
    async with uow.reader() as repo:
        return list((await repo.locations()).values())


async def get_location(uow: UnitOfWork, location_id: str) -> Location:
    async with uow.reader() as repo:
        found = await repo.locations([location_id])
    if location_id not in found:
        raise NotFound(f"location {location_id} does not exist")
    return found[location_id]


async def get_reservation(uow: UnitOfWork, reservation_id: str) -> Reservation:
    async with uow.reader() as repo:
        found = await repo.get_reservations([reservation_id])
    if reservation_id not in found:
        raise NotFound(f"reservation {reservation_id} does not exist")
    res = found[reservation_id]
    current_caller().require_store_among(line.location_id for line in res.lines)
    return res


async def availability(
    uow: UnitOfWork, skus: list[str], location_ids: list[str], channel: Channel | None = None
) -> Availability:
    """Levels of the SKUs (at the given locations, or everywhere) and network availability,
    as `channel` sees them when one is given."""
    async with uow.reader() as repo:
        places = await repo.locations()
        view = await channel_view(repo, channel)
        every_level = await repo.read_levels(skus)

    def seen(level: StockLevel) -> int:
        place = places.get(level.location_id)
        return view.available(level.available, place.kind if place else None)

    network = dict.fromkeys(skus, 0)
    for level in every_level:
        if level.location_id in places and places[level.location_id].ships:
            network[level.sku] += seen(level)
    wanted = set(location_ids)
    levels = [(lv, seen(lv)) for lv in every_level if not wanted or lv.location_id in wanted]
    return Availability(levels, network)


async def channel_view(repo: StockRepository, channel: Channel | None) -> ChannelView:
    """The channel's stored view; without a channel (or buffers), nothing is held back."""
    views = await repo.channel_views(channel) if channel else []
    return views[0] if views else ChannelView(channel or Channel.WEB)


async def channel_views(uow: UnitOfWork) -> list[ChannelView]:
    async with uow.reader() as repo:
        return await repo.channel_views()


async def movements(
    uow: UnitOfWork, sku: str, location_id: str, after_id: int, limit: int
) -> list[tuple[int, datetime, Movement]]:
    current_caller().require_store(location_id)
    async with uow.reader() as repo:
        return await repo.list_movements(sku, location_id, after_id, limit)
