"""Read-side queries: no locks, no events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omni.platform.auth import current_caller
from omni.platform.clock import utcnow
from omni.platform.errors import NotFound
from omni.stock.adapters.repository import StockRepository
from omni.stock.domain.channels import Channel, ChannelView
from omni.stock.domain.model import Location, Movement, Reservation, StockLevel
from omni.stock.domain.presale import PresalePolicy
from omni.stock.domain.purchasing import PurchaseOrder, PurchaseOrderStatus, Supply, due_by
from omni.stock.domain.transfers import Transfer, TransferStatus
from omni.stock.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Promise:
    """What may be promised by a time: per (sku, location) and network-wide, beside the
    supply still expected (each SKU's timeline)."""

    levels: dict[tuple[str, str], int]
    network: dict[str, int]
    supply: list[Supply]


@dataclass(frozen=True, slots=True)
class Availability:
    levels: list[tuple[StockLevel, int]]  # each level, and its availability as the caller sees it
    network: dict[str, int]  # sku -> available over locations that ship
    promise: Promise | None = None  # by a time, when one was asked


@dataclass(frozen=True, slots=True)
class LevelsPage:
    """Which page of one location's levels to read, in SKU order."""

    location_id: str
    sku_prefix: str  # "": every SKU
    after_sku: str  # "": from the first
    size: int


@dataclass(frozen=True, slots=True)
class PurchaseOrdersPage:
    """Which page of one location's purchase orders to read, newest first."""

    location_id: str
    status: PurchaseOrderStatus | None  # None: every status
    token: str  # "": the first page
    size: int


async def purchase_orders_at(
    uow: UnitOfWork, page: PurchaseOrdersPage
) -> tuple[list[PurchaseOrder], str]:
    """A page of the location's purchase orders and the next page's token ("": none)."""
    async with uow.reader() as repo:
        if not await repo.locations([page.location_id]):
            raise NotFound(f"location {page.location_id} does not exist")
        return await repo.purchase_orders_at(page.location_id, page.status, page.token, page.size)


@dataclass(frozen=True, slots=True)
class TransfersPage:
    """Which page of the transfers from or to a location to read, newest first."""

    location_id: str
    status: TransferStatus | None
    token: str
    size: int


async def transfers_at(uow: UnitOfWork, page: TransfersPage) -> tuple[list[Transfer], str]:
    async with uow.reader() as repo:
        if not await repo.locations([page.location_id]):
            raise NotFound(f"location {page.location_id} does not exist")
        return await repo.transfers_at(page.location_id, page.status, page.token, page.size)


async def get_transfer(uow: UnitOfWork, transfer_id: str) -> Transfer:
    async with uow.reader() as repo:
        transfer = await repo.transfer(transfer_id)
    if transfer is None:
        raise NotFound(f"transfer {transfer_id} does not exist")
    return transfer


async def get_purchase_order(uow: UnitOfWork, purchase_order_id: str) -> PurchaseOrder:
    async with uow.reader() as repo:
        po = await repo.purchase_order(purchase_order_id)
    if po is None:
        raise NotFound(f"purchase order {purchase_order_id} does not exist")
    return po


async def levels_at(uow: UnitOfWork, page: LevelsPage) -> tuple[list[StockLevel], str]:
    """A page of the location's levels and the SKU the next page starts after ("": none)."""
    async with uow.reader() as repo:
        if not await repo.locations([page.location_id]):
            raise NotFound(f"location {page.location_id} does not exist")
        # One more than the page: whether there is a next page, without an empty last one.
        found = await repo.levels_at(
            page.location_id, page.sku_prefix, page.after_sku, page.size + 1
        )
    levels = found[: page.size]
    return levels, levels[-1].sku if len(found) > page.size else ""


async def skus_of(uow: UnitOfWork, codes: list[str]) -> list[tuple[str, str]]:
    """(code, sku) of each registered code, in the order asked."""
    async with uow.reader() as repo:
        found = await repo.skus_of(codes)
    return [(code, found[code]) for code in codes if code in found]


async def list_locations(uow: UnitOfWork) -> list[tuple[Location, int]]:
    """Every location, with the ship orders given to it today (UTC)."""
    async with uow.reader() as repo:
        found = await repo.locations()
        taken = await repo.load_today(utcnow().date().isoformat())
    return [(loc, taken.get(loc.id, 0)) for loc in found.values()]


async def get_location(uow: UnitOfWork, location_id: str) -> tuple[Location, int]:
    async with uow.reader() as repo:
        found = await repo.locations([location_id])
        taken = await repo.load_today(utcnow().date().isoformat())
    if location_id not in found:
        raise NotFound(f"location {location_id} does not exist")
    return found[location_id], taken.get(location_id, 0)


async def get_reservation(uow: UnitOfWork, reservation_id: str) -> Reservation:
    async with uow.reader() as repo:
        found = await repo.get_reservations([reservation_id])
    if reservation_id not in found:
        raise NotFound(f"reservation {reservation_id} does not exist")
    res = found[reservation_id]
    current_caller().require_store_among(line.location_id for line in res.lines)
    return res


async def availability(
    uow: UnitOfWork,
    skus: list[str],
    location_ids: list[str],
    channel: Channel | None = None,
    by: datetime | None = None,
) -> Availability:
    """Levels of the SKUs (at the given locations, or everywhere) and network availability,
    as `channel` sees them when one is given; and, `by` a time, what may be promised then."""
    async with uow.reader() as repo:
        places = await repo.locations()
        view = await channel_view(repo, channel)
        every_level = await repo.read_levels(skus)
        supply = await repo.supply(skus) if by is not None else []
    wanted = set(location_ids)

    def seen(level: StockLevel, due: int = 0) -> int:
        place = places.get(level.location_id)
        units = level.available_with(due) if due else level.available
        return view.available(units, place.kind if place else None)

    def ships(level: StockLevel) -> bool:
        return level.location_id in places and places[level.location_id].ships

    network = dict.fromkeys(skus, 0)
    for level in every_level:
        if ships(level):
            network[level.sku] += seen(level)
    levels = [(lv, seen(lv)) for lv in every_level if not wanted or lv.location_id in wanted]
    if by is None:
        return Availability(levels, network)
    due = due_by(supply, by)
    promised = {
        (lv.sku, lv.location_id): seen(lv, due.get((lv.sku, lv.location_id), 0))
        for lv in every_level
    }
    network_promised = dict.fromkeys(skus, 0)
    for level in every_level:
        if ships(level):
            network_promised[level.sku] += promised[(level.sku, level.location_id)]
    asked = {key: units for key, units in promised.items() if not wanted or key[1] in wanted}
    timeline = [entry for entry in supply if not wanted or entry.location_id in wanted]
    return Availability(levels, network, Promise(asked, network_promised, timeline))


async def channel_view(repo: StockRepository, channel: Channel | None) -> ChannelView:
    """The channel's stored view; without a channel (or buffers), nothing is held back."""
    views = await repo.channel_views(channel) if channel else []
    return views[0] if views else ChannelView(channel or Channel.WEB)


async def channel_views(uow: UnitOfWork) -> list[ChannelView]:
    async with uow.reader() as repo:
        return await repo.channel_views()


@dataclass(frozen=True, slots=True)
class PresalePage:
    """Which page of presale policies to read, by channel then SKU."""

    channel: str  # "": every channel
    sku: str  # "": every SKU
    after: tuple[str, str] | None  # (channel, sku) of the last one on the previous page
    size: int


async def presale_policies(uow: UnitOfWork, page: PresalePage) -> tuple[list[PresalePolicy], str]:
    """A page, and the token of the next one ("" if none)."""
    async with uow.reader() as repo:
        found = await repo.presale_policies(
            channel=page.channel, sku=page.sku, after=page.after, limit=page.size + 1
        )
    policies = list(found.values())
    more = len(policies) > page.size
    policies = policies[: page.size]
    after = f"{policies[-1].channel}|{policies[-1].sku}" if more else ""
    return policies, after


async def movements(
    uow: UnitOfWork, sku: str, location_id: str, after_id: int, limit: int
) -> list[tuple[int, datetime, Movement]]:
    current_caller().require_store(location_id)
    async with uow.reader() as repo:
        return await repo.list_movements(sku, location_id, after_id, limit)
