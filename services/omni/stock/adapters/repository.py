"""Reads and writes stock aggregates on one connection (and its transaction)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from omni.platform.clock import utcnow
from omni.platform.driver import insert_ignoring_conflicts, run
from omni.platform.pages import PageToken
from omni.stock.adapters.tables import (
    barcodes,
    capacity_charges,
    channel_buffers,
    location_load,
    locations,
    movements,
    presale_policies,
    purchase_order_lines,
    purchase_orders,
    reservation_lines,
    reservations,
    sourcing_rules,
    stock_levels,
    transfer_lines,
    transfers,
)
from omni.stock.domain.book import Key, LevelChanged
from omni.stock.domain.channels import Channel, ChannelView
from omni.stock.domain.model import (
    Location,
    LocationKind,
    Movement,
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
)
from omni.stock.domain.presale import PresaleKind, PresalePolicy
from omni.stock.domain.purchasing import (
    EXPECTING,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supply,
)
from omni.stock.domain.sourcing import SourcingRule
from omni.stock.domain.transfers import Transfer, TransferLine, TransferStatus

MAX_SUPPLY = 1000
_LEVEL_COLUMNS = (
    "on_hand",
    "reserved",
    "safety_stock",
    "damaged",
    "version",
    "incoming",
    "backordered",
)

# The statements of every reservation batch, built once: SQLAlchemy then finds their compiled
# form without rebuilding and re-keying them on every call (a tenth of a batch's time).
_LEVEL_KEY = tuple_(stock_levels.c.sku, stock_levels.c.location_id)


def _locking(condition: ColumnElement[bool]) -> Select[Any]:
    return (
        select(stock_levels)
        .where(condition)
        .order_by(stock_levels.c.sku, stock_levels.c.location_id)
        .with_for_update()
    )


_LOCK_KEYS = _locking(_LEVEL_KEY.in_(bindparam("keys", expanding=True)))
_LOCK_SKUS = _locking(stock_levels.c.sku.in_(bindparam("skus", expanding=True)))
_LOCK_BOTH = _locking(
    or_(
        _LEVEL_KEY.in_(bindparam("keys", expanding=True)),
        stock_levels.c.sku.in_(bindparam("skus", expanding=True)),
    )
)
# PostgreSQL, for the usual cases (keys, or SKUs anywhere): arrays for parameters, one
# prepared statement whatever the count, run straight on asyncpg (see omni.platform.driver).
_KEY_ARRAYS = (
    func.unnest(bindparam("skus", type_=ARRAY(String)), bindparam("locations", type_=ARRAY(String)))
    .table_valued("sku", "location_id")
    .render_derived()
)
_PG_LOCK_KEYS = _locking(_LEVEL_KEY.in_(select(_KEY_ARRAYS.c.sku, _KEY_ARRAYS.c.location_id)))
_PG_LOCK_SKUS = _locking(stock_levels.c.sku == any_(bindparam("skus", type_=ARRAY(String))))
_UPDATE_LEVEL = (
    update(stock_levels)
    .where(
        and_(
            stock_levels.c.sku == bindparam("k_sku"),
            stock_levels.c.location_id == bindparam("k_location"),
        )
    )
    .values({c: bindparam(c) for c in (*_LEVEL_COLUMNS, "updated_at")})
)
_INSERT_MOVEMENTS = insert(movements)
_WAITING_AFTER = presale_policies.c.waiting + bindparam("delta")
_COUNT_WAITING = (
    update(presale_policies)
    .where(
        and_(
            presale_policies.c.channel == bindparam("k_channel"),
            presale_policies.c.sku == bindparam("k_sku"),
        )
    )
    .values(waiting=case((_WAITING_AFTER < 0, 0), else_=_WAITING_AFTER))
)
_INSERT_RESERVATIONS = insert(reservations)
_INSERT_LINES = insert(reservation_lines)


class StockRepository:
    """Maps rows to domain objects; `lock_*` methods take row locks (PostgreSQL)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # Locations -------------------------------------------------------------------------

    async def locations(self, ids: Collection[str] | None = None) -> dict[str, Location]:
        query = select(locations).order_by(locations.c.id)
        if ids is not None:
            query = query.where(locations.c.id.in_(list(ids)))
        rows = (await self.conn.execute(query)).mappings()
        return {r["id"]: _location(r) for r in rows}

    async def add_location(self, loc: Location) -> bool:
        """Inserts the location; False if its id is taken."""
        row = {**_location_row(loc), "updated_at": utcnow()}
        return bool(await insert_ignoring_conflicts(self.conn, locations, [row], "id"))

    async def update_location(self, loc: Location) -> bool:
        """Replaces the location's attributes but its capacity and pause (set_capacity);
        False if it does not exist."""
        stmt = update(locations).where(locations.c.id == loc.id)
        values = {**_location_row(loc), "updated_at": utcnow()}
        for kept in ("daily_capacity", "paused"):
            del values[kept]
        return (await self.conn.execute(stmt.values(values))).rowcount == 1

    async def set_capacity(self, location_id: str, changes: dict[str, Any]) -> bool:
        """Sets `daily_capacity` and/or `paused` of a location, in one statement (changes to
        the other never lost); False if it does not exist."""
        stmt = update(locations).where(locations.c.id == location_id)
        values = {**changes, "updated_at": utcnow()}
        return (await self.conn.execute(stmt.values(values))).rowcount == 1

    # Sourcing rules ------------------------------------------------------------------

    async def sourcing_rules(self, channels: Collection[str]) -> dict[str, list[SourcingRule]]:
        """The rules of these channels that have any."""
        query = select(sourcing_rules).where(sourcing_rules.c.channel.in_(sorted(channels)))
        return {
            r.channel: [_sourcing_rule(rule) for rule in json.loads(r.rules)]
            for r in (await self.conn.execute(query)).all()
        }

    async def set_sourcing_rules(self, channel: str, rules: list[SourcingRule]) -> None:
        """Replaces the channel's rules; none deletes them (the default sourcing)."""
        await self.conn.execute(delete(sourcing_rules).where(sourcing_rules.c.channel == channel))
        if rules:
            document = json.dumps([_sourcing_rule_document(rule) for rule in rules])
            row = {"channel": channel, "rules": document, "updated_at": utcnow()}
            await self.conn.execute(insert(sourcing_rules), row)

    # Capacity ------------------------------------------------------------------------

    async def lock_load(self, location_ids: Collection[str], day: str) -> dict[str, int]:
        """Ship orders given to each location on `day`, its rows locked (created at 0)."""
        if not location_ids:
            return {}
        ids = sorted(location_ids)
        rows = [{"location_id": loc, "day": day, "orders": 0} for loc in ids]
        await insert_ignoring_conflicts(self.conn, location_load, rows, "location_id")
        query = (
            select(location_load.c.location_id, location_load.c.orders)
            .where(location_load.c.day == day, location_load.c.location_id.in_(ids))
            .order_by(location_load.c.location_id)
            .with_for_update()
        )
        return {loc: n for loc, n in (await self.conn.execute(query)).all()}

    async def load_today(self, day: str) -> dict[str, int]:
        query = select(location_load.c.location_id, location_load.c.orders).where(
            location_load.c.day == day
        )
        return {loc: n for loc, n in (await self.conn.execute(query)).all()}

    async def save_load(self, day: str, orders: dict[str, int]) -> None:
        if orders:
            stmt = (
                update(location_load)
                .where(
                    location_load.c.location_id == bindparam("k_location"),
                    location_load.c.day == day,
                )
                .values(orders=bindparam("orders"))
            )
            rows = [{"k_location": loc, "orders": n} for loc, n in sorted(orders.items())]
            await self.conn.execute(stmt, rows)

    async def add_charges(self, charges: list[tuple[str, str, str]]) -> None:
        """(reservation id, location id, day) per place an allocation took."""
        if charges:
            rows = [{"reservation_id": r, "location_id": loc, "day": d} for r, loc, d in charges]
            await self.conn.execute(insert(capacity_charges), rows)

    async def charges(self, reservation_ids: Collection[str]) -> list[tuple[str, str, str]]:
        query = select(capacity_charges).where(
            capacity_charges.c.reservation_id.in_(list(reservation_ids))
        )
        rows = (await self.conn.execute(query)).all()
        return [(r.reservation_id, r.location_id, r.day) for r in rows]

    async def drop_charges(self, charges: list[tuple[str, str, str]]) -> None:
        for reservation_id, location_id, _ in charges:
            await self.conn.execute(
                delete(capacity_charges).where(
                    capacity_charges.c.reservation_id == reservation_id,
                    capacity_charges.c.location_id == location_id,
                )
            )

    # Barcodes ------------------------------------------------------------------------

    async def register_barcodes(self, pairs: dict[str, str]) -> None:
        """Maps each code to its SKU, replacing an earlier mapping of the same code."""
        await self.conn.execute(delete(barcodes).where(barcodes.c.code.in_(sorted(pairs))))
        now = utcnow()
        rows = [{"code": c, "sku": s, "updated_at": now} for c, s in sorted(pairs.items())]
        await self.conn.execute(insert(barcodes), rows)

    async def sku_of(self, code: str) -> str | None:
        found = await self.conn.execute(select(barcodes.c.sku).where(barcodes.c.code == code))
        return found.scalar_one_or_none()

    async def skus_of(self, codes: Collection[str]) -> dict[str, str]:
        """The SKU of each registered code among `codes`."""
        query = select(barcodes.c.code, barcodes.c.sku).where(barcodes.c.code.in_(list(codes)))
        return {code: sku for code, sku in await self.conn.execute(query)}

    # Channel views -------------------------------------------------------------------

    async def channel_views(self, channel: Channel | None = None) -> list[ChannelView]:
        """Stored views (one channel's, or all); a channel with no buffers has no view."""
        query = select(channel_buffers).order_by(channel_buffers.c.channel)
        if channel is not None:
            query = query.where(channel_buffers.c.channel == channel.value)
        buffers: dict[Channel, dict[LocationKind, int]] = {}
        for r in (await self.conn.execute(query)).mappings():
            buffers.setdefault(Channel(r["channel"]), {})[LocationKind(r["location_kind"])] = r[
                "units"
            ]
        return [ChannelView(c, b) for c, b in buffers.items()]

    async def set_channel_view(self, view: ChannelView) -> None:
        """Replaces the channel's buffers."""
        await self.conn.execute(
            delete(channel_buffers).where(channel_buffers.c.channel == view.channel.value)
        )
        now = utcnow()
        rows = [
            {
                "channel": view.channel.value,
                "location_kind": kind.value,
                "units": units,
                "updated_at": now,
            }
            for kind, units in view.buffers.items()
            if units
        ]
        if rows:
            await self.conn.execute(insert(channel_buffers), rows)

    # Levels ----------------------------------------------------------------------------

    async def lock_levels(
        self, keys: Collection[Key] = (), any_location_skus: Collection[str] = ()
    ) -> list[StockLevel]:
        """Levels for `keys` and for `any_location_skus` everywhere, locked in key order.

        One statement with one ORDER BY: every transaction takes its row locks in the same
        order, so two of them never wait on each other in a cycle.
        """
        if not keys and not any_location_skus:
            return []
        if self.conn.dialect.name == "postgresql" and not (keys and any_location_skus):
            if keys:
                skus, location_ids = zip(*sorted(keys), strict=True)
                rows = await run(
                    self.conn, _PG_LOCK_KEYS, {"skus": skus, "locations": location_ids}
                )
            else:
                rows = await run(self.conn, _PG_LOCK_SKUS, {"skus": list(any_location_skus)})
            return [_level(r) for r in rows]
        if keys and any_location_skus:
            query, params = _LOCK_BOTH, {"keys": sorted(keys), "skus": list(any_location_skus)}
        elif keys:
            query, params = _LOCK_KEYS, {"keys": sorted(keys)}
        else:
            query, params = _LOCK_SKUS, {"skus": list(any_location_skus)}
        return [_level(r) for r in (await self.conn.execute(query, params)).mappings()]

    async def ensure_levels(self, keys: Iterable[Key]) -> None:
        """Creates zero levels that do not exist yet (before locking them for a receipt)."""
        now = utcnow()
        rows = [
            {"sku": s, "location_id": loc, **dict.fromkeys(_LEVEL_COLUMNS, 0), "updated_at": now}
            for s, loc in sorted(set(keys))
        ]
        await insert_ignoring_conflicts(self.conn, stock_levels, rows, "sku")

    async def read_levels(
        self, skus: Collection[str], location_ids: Collection[str] = ()
    ) -> list[StockLevel]:
        query = select(stock_levels).where(stock_levels.c.sku.in_(list(skus)))
        if location_ids:
            query = query.where(stock_levels.c.location_id.in_(list(location_ids)))
        query = query.order_by(stock_levels.c.sku, stock_levels.c.location_id)
        return [_level(r) for r in (await self.conn.execute(query)).mappings()]

    async def levels_at(
        self, location_id: str, sku_prefix: str, after_sku: str, limit: int
    ) -> list[StockLevel]:
        """The location's levels in SKU order, after `after_sku`, of SKUs with the prefix."""
        query = select(stock_levels).where(stock_levels.c.location_id == location_id)
        if after_sku:
            query = query.where(stock_levels.c.sku > after_sku)
        if sku_prefix:
            # Not LIKE: "_" is a wildcard to it, and SQLite's ignores case.
            query = query.where(func.substr(stock_levels.c.sku, 1, len(sku_prefix)) == sku_prefix)
        query = query.order_by(stock_levels.c.sku).limit(limit)
        return [_level(r) for r in (await self.conn.execute(query)).mappings()]

    async def save_changes(self, changes: list[LevelChanged], levels: list[StockLevel]) -> None:
        """Writes the final state of changed levels and one ledger row per change."""
        if not changes:
            return
        now = utcnow()
        await run(
            self.conn,
            _UPDATE_LEVEL,
            [
                {
                    "k_sku": lv.sku,
                    "k_location": lv.location_id,
                    "updated_at": now,
                    **{c: getattr(lv, c) for c in _LEVEL_COLUMNS},
                }
                for lv in levels
            ],
        )
        await run(
            self.conn,
            _INSERT_MOVEMENTS,
            [{**_movement_row(c.movement), "occurred_at": now} for c in changes],
        )

    async def list_movements(
        self, sku: str, location_id: str, after_id: int, limit: int
    ) -> list[tuple[int, datetime, Movement]]:
        query = (
            select(movements)
            .where(
                movements.c.sku == sku,
                movements.c.location_id == location_id,
                movements.c.id > after_id,
            )
            .order_by(movements.c.id)
            .limit(limit)
        )
        rows = (await self.conn.execute(query)).mappings()
        return [(r["id"], r["occurred_at"], _movement(r)) for r in rows]

    # Reservations ----------------------------------------------------------------------

    async def add_reservations(self, items: list[Reservation]) -> None:
        if not items:
            return
        now = utcnow()
        await run(
            self.conn,
            _INSERT_RESERVATIONS,
            [{**_reservation_row(r), "updated_at": now} for r in items],
        )
        await run(
            self.conn,
            _INSERT_LINES,
            [_line_row(r.id, line) for r in items for line in r.lines],
        )

    async def get_reservations(
        self, ids: Collection[str], *, lock: bool = False, skip_locked: bool = False
    ) -> dict[str, Reservation]:
        """Reservations by id; `skip_locked` leaves out those another transaction holds."""
        query = select(reservations).where(reservations.c.id.in_(sorted(ids)))
        query = query.order_by(reservations.c.id)
        if lock:
            query = query.with_for_update(skip_locked=skip_locked)
        heads = list((await self.conn.execute(query)).mappings())
        if not heads:
            return {}
        lines_query = select(reservation_lines).where(
            reservation_lines.c.reservation_id.in_([h["id"] for h in heads])
        )
        by_id: dict[str, list[ReservationLine]] = {h["id"]: [] for h in heads}
        for r in (await self.conn.execute(lines_query)).mappings():
            by_id[r["reservation_id"]].append(_reservation_line(r))
        return {h["id"]: _reservation(h, by_id[h["id"]]) for h in heads}

    async def save_reservation(self, res: Reservation) -> None:
        """Writes a changed reservation's status and line counters."""
        await self.conn.execute(
            update(reservations)
            .where(reservations.c.id == res.id)
            .values(status=res.status.value, updated_at=utcnow())
        )
        stmt = (
            update(reservation_lines)
            .where(
                and_(
                    reservation_lines.c.reservation_id == res.id,
                    reservation_lines.c.sku == bindparam("k_sku"),
                    reservation_lines.c.location_id == bindparam("k_location"),
                )
            )
            .values(
                committed=bindparam("committed"),
                released=bindparam("released"),
                waiting=bindparam("waiting"),
                expected_at=bindparam("expected_at"),
                coming=bindparam("coming"),
            )
        )
        await self.conn.execute(
            stmt,
            [
                {
                    "k_sku": ln.sku,
                    "k_location": ln.location_id,
                    "committed": ln.committed,
                    "released": ln.released,
                    "waiting": ln.waiting,
                    "expected_at": ln.expected_at,
                    "coming": ln.coming,
                }
                for ln in res.lines
            ],
        )

    # Backorders ------------------------------------------------------------------------

    async def levels_to_settle(self, limit: int) -> list[Key]:
        """Levels with backorders changed since the settler last looked at them."""
        query = (
            select(stock_levels.c.sku, stock_levels.c.location_id)
            .where(
                stock_levels.c.backordered > 0,
                stock_levels.c.version != stock_levels.c.settled_version,
            )
            .order_by(stock_levels.c.sku, stock_levels.c.location_id)
            .limit(limit)
        )
        return [(sku, loc) for sku, loc in (await self.conn.execute(query)).all()]

    async def mark_settled(self, levels: Iterable[StockLevel]) -> None:
        stmt = (
            update(stock_levels)
            .where(
                and_(
                    stock_levels.c.sku == bindparam("k_sku"),
                    stock_levels.c.location_id == bindparam("k_location"),
                )
            )
            .values(settled_version=bindparam("settled"))
        )
        rows = [
            {"k_sku": lv.sku, "k_location": lv.location_id, "settled": lv.version} for lv in levels
        ]
        if rows:
            await self.conn.execute(stmt, rows)

    async def waiting_reservation_ids(self, keys: Collection[Key]) -> list[str]:
        """Reservations with lines waiting for supply at these levels, oldest first."""
        lines = reservation_lines
        query = (
            select(lines.c.reservation_id)
            .join(reservations, reservations.c.id == lines.c.reservation_id)
            .where(
                lines.c.waiting > 0,
                tuple_(lines.c.sku, lines.c.location_id).in_(sorted(keys)),
            )
            .order_by(reservations.c.created_at, reservations.c.id)
        )
        return list(dict.fromkeys((await self.conn.execute(query)).scalars()))

    async def presale_policies(
        self,
        wanted: Collection[tuple[str, str]] = (),
        *,
        lock: bool = False,
        channel: str = "",
        sku: str = "",
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> dict[tuple[str, str], PresalePolicy]:
        """Policies by (channel, sku): those `wanted`, or every one (of a channel, a SKU)."""
        table = presale_policies
        query = select(table).order_by(table.c.channel, table.c.sku)
        if wanted:
            query = query.where(tuple_(table.c.channel, table.c.sku).in_(sorted(wanted)))
        if channel:
            query = query.where(table.c.channel == channel)
        if sku:
            query = query.where(table.c.sku == sku)
        if after is not None:
            query = query.where(tuple_(table.c.channel, table.c.sku) > after)
        if limit is not None:
            query = query.limit(limit)
        if lock:
            query = query.with_for_update()
        return {
            (r["channel"], r["sku"]): PresalePolicy(
                r["channel"], r["sku"], PresaleKind(r["kind"]), r["cap"], r["waiting"], r["enabled"]
            )
            for r in (await self.conn.execute(query)).mappings()
        }

    async def set_presale_policy(self, policy: PresalePolicy) -> PresalePolicy:
        """Creates or replaces the policy's terms, keeping its count of units waiting."""
        table = presale_policies
        now = utcnow()
        terms = {
            "kind": policy.kind.value,
            "cap": policy.cap,
            "enabled": policy.enabled,
            "updated_at": now,
        }
        key = and_(table.c.channel == policy.channel, table.c.sku == policy.sku)
        changed = await self.conn.execute(update(table).where(key).values(**terms))
        if not changed.rowcount:
            row = {"channel": policy.channel, "sku": policy.sku, "waiting": 0, **terms}
            await insert_ignoring_conflicts(self.conn, table, [row], "channel")
            await self.conn.execute(update(table).where(key).values(**terms))
        return (await self.presale_policies([(policy.channel, policy.sku)]))[
            (policy.channel, policy.sku)
        ]

    async def count_waiting(self, deltas: dict[tuple[str, str], int]) -> None:
        """Adds to the units waiting per (channel, sku) (policies that exist)."""
        rows = [
            {"k_channel": channel, "k_sku": sku, "delta": delta}
            for (channel, sku), delta in sorted(deltas.items())
            if delta
        ]
        if rows:  # every reservation's transaction comes here, almost always with none
            await self.conn.execute(_COUNT_WAITING, rows)

    async def active_reservations(self) -> int:
        """How many reservations hold stock now (for the metric)."""
        query = select(func.count()).where(reservations.c.status == ReservationStatus.ACTIVE.value)
        return int((await self.conn.execute(query)).scalar_one())

    async def due_reservation_ids(self, now: datetime, limit: int) -> list[str]:
        query = (
            select(reservations.c.id)
            .where(
                reservations.c.status == ReservationStatus.ACTIVE.value,
                reservations.c.expires_at <= now,
            )
            .order_by(reservations.c.expires_at)
            .limit(limit)
        )
        return list((await self.conn.execute(query)).scalars())

    # Purchase orders -------------------------------------------------------------------

    async def add_purchase_order(self, po: PurchaseOrder) -> None:
        await self.conn.execute(insert(purchase_orders), _purchase_order_row(po))
        await self.conn.execute(
            insert(purchase_order_lines), [_po_line_row(po.id, line) for line in po.lines]
        )

    async def purchase_order(self, po_id: str, *, lock: bool = False) -> PurchaseOrder | None:
        query = select(purchase_orders).where(purchase_orders.c.id == po_id)
        if lock:
            query = query.with_for_update()
        head = (await self.conn.execute(query)).mappings().first()
        if head is None:
            return None
        return (await self._with_lines([head]))[0]

    async def save_purchase_order(self, po: PurchaseOrder) -> None:
        """Writes a changed order's status, version and received counts."""
        row = _purchase_order_row(po)
        await self.conn.execute(
            update(purchase_orders)
            .where(purchase_orders.c.id == po.id)
            .values(status=row["status"], version=row["version"], updated_at=row["updated_at"])
        )
        stmt = (
            update(purchase_order_lines)
            .where(
                and_(
                    purchase_order_lines.c.purchase_order_id == po.id,
                    purchase_order_lines.c.sku == bindparam("k_sku"),
                )
            )
            .values(
                received=bindparam("received"),
                quantity=bindparam("quantity"),
                expected_at=bindparam("expected_at"),
            )
        )
        await self.conn.execute(
            stmt,
            [
                {
                    "k_sku": line.sku,
                    "received": line.received,
                    "quantity": line.quantity,
                    "expected_at": line.expected_at,
                }
                for line in po.lines
            ],
        )

    async def purchase_orders_at(
        self, location_id: str, status: PurchaseOrderStatus | None, token: str, size: int
    ) -> tuple[list[PurchaseOrder], str]:
        """Newest first; a page and the token of the next one ("" if none)."""
        table = purchase_orders
        query = (
            select(table)
            .where(table.c.location_id == location_id)
            .order_by(table.c.created_at.desc(), table.c.id.desc())
        )
        if status is not None:
            query = query.where(table.c.status == status.value)
        heads, more = await self._newest_first(query, table, token, size)
        found = await self._with_lines(heads)
        return found, PageToken.after(found[-1].created_at, found[-1].id) if more else ""

    async def supply(self, skus: Collection[str], limit: int | None = MAX_SUPPLY) -> list[Supply]:
        """What open purchase orders still expect of these SKUs, soonest first (the first
        `limit` entries: further ahead than that no promise is made; None: every one)."""
        lines, heads = purchase_order_lines, purchase_orders
        query = (
            select(
                lines.c.sku,
                heads.c.location_id,
                lines.c.expected_at,
                (lines.c.quantity - lines.c.received).label("outstanding"),
                heads.c.id,
            )
            .join(heads, heads.c.id == lines.c.purchase_order_id)
            .where(
                lines.c.sku.in_(list(skus)),
                heads.c.status.in_([status.value for status in EXPECTING]),
                lines.c.quantity > lines.c.received,
            )
            .order_by(lines.c.expected_at, lines.c.sku, heads.c.location_id, heads.c.id)
            .limit(limit)
        )
        return [Supply(*row) for row in (await self.conn.execute(query)).all()]

    async def _with_lines(self, heads: list[Any]) -> list[PurchaseOrder]:
        if not heads:
            return []
        lines: dict[str, list[PurchaseOrderLine]] = {h["id"]: [] for h in heads}
        query = (
            select(purchase_order_lines)
            .where(purchase_order_lines.c.purchase_order_id.in_(list(lines)))
            .order_by(purchase_order_lines.c.purchase_order_id, purchase_order_lines.c.sku)
        )
        for r in (await self.conn.execute(query)).mappings():
            lines[r["purchase_order_id"]].append(
                PurchaseOrderLine(r["sku"], r["quantity"], r["expected_at"], r["received"])
            )
        return [_purchase_order(h, lines[h["id"]]) for h in heads]

    # Transfers -------------------------------------------------------------------------

    async def add_transfer(self, transfer: Transfer) -> None:
        await self.conn.execute(insert(transfers), _transfer_row(transfer))
        await self.conn.execute(
            insert(transfer_lines),
            [
                {
                    "transfer_id": transfer.id,
                    "sku": ln.sku,
                    "quantity": ln.quantity,
                    "accepted": ln.accepted,
                    "rejected": ln.rejected,
                }
                for ln in transfer.lines
            ],
        )

    async def transfer(self, transfer_id: str, *, lock: bool = False) -> Transfer | None:
        query = select(transfers).where(transfers.c.id == transfer_id)
        if lock:
            query = query.with_for_update()
        head = (await self.conn.execute(query)).mappings().first()
        return None if head is None else (await self._transfer_lines([head]))[0]

    async def transfers_for(self, reservation_id: str, *, lock: bool = False) -> list[Transfer]:
        """The transfers made for an order's reservation (in id order, as they are locked)."""
        query = (
            select(transfers)
            .where(transfers.c.for_reservation_id == reservation_id)
            .order_by(transfers.c.id)
        )
        if lock:
            query = query.with_for_update()
        return await self._transfer_lines(list((await self.conn.execute(query)).mappings()))

    async def save_transfer(self, transfer: Transfer) -> None:
        row = _transfer_row(transfer)
        await self.conn.execute(
            update(transfers)
            .where(transfers.c.id == transfer.id)
            .values({k: row[k] for k in ("status", "reservation_id", "version", "updated_at")})
        )
        stmt = (
            update(transfer_lines)
            .where(
                and_(
                    transfer_lines.c.transfer_id == transfer.id,
                    transfer_lines.c.sku == bindparam("k_sku"),
                )
            )
            .values(accepted=bindparam("accepted"), rejected=bindparam("rejected"))
        )
        await self.conn.execute(
            stmt,
            [
                {"k_sku": ln.sku, "accepted": ln.accepted, "rejected": ln.rejected}
                for ln in transfer.lines
            ],
        )

    async def transfers_at(
        self, location_id: str, status: TransferStatus | None, token: str, size: int
    ) -> tuple[list[Transfer], str]:
        """From or to the location, newest first; a page and the next page's token."""
        t = transfers
        query = (
            select(t)
            .where(or_(t.c.origin_id == location_id, t.c.destination_id == location_id))
            .order_by(t.c.created_at.desc(), t.c.id.desc())
        )
        if status is not None:
            query = query.where(t.c.status == status.value)
        heads, more = await self._newest_first(query, t, token, size)
        found = await self._transfer_lines(heads)
        return found, PageToken.after(found[-1].created_at, found[-1].id) if more else ""

    async def _newest_first(
        self, query: Select[Any], table: Table, token: str, size: int
    ) -> tuple[list[Any], bool]:
        """A page of rows ordered by (created_at, id), newest first, from after the item a
        page token names; and whether more follow."""
        if token:
            created, last_id = PageToken.read(token)
            query = query.where(
                or_(
                    table.c.created_at < created,
                    and_(table.c.created_at == created, table.c.id < last_id),
                )
            )
        rows = list((await self.conn.execute(query.limit(size + 1))).mappings())
        return rows[:size], len(rows) > size

    async def _transfer_lines(self, heads: list[Any]) -> list[Transfer]:
        if not heads:
            return []
        lines: dict[str, list[TransferLine]] = {h["id"]: [] for h in heads}
        query = (
            select(transfer_lines)
            .where(transfer_lines.c.transfer_id.in_(list(lines)))
            .order_by(transfer_lines.c.transfer_id, transfer_lines.c.sku)
        )
        for r in (await self.conn.execute(query)).mappings():
            lines[r["transfer_id"]].append(
                TransferLine(r["sku"], r["quantity"], r["accepted"], r["rejected"])
            )
        return [
            Transfer(
                id=h["id"],
                origin_id=h["origin_id"],
                destination_id=h["destination_id"],
                reference=h["reference"],
                lines=lines[h["id"]],
                created_at=h["created_at"],
                updated_at=h["updated_at"],
                status=TransferStatus(h["status"]),
                reservation_id=h["reservation_id"],
                version=h["version"],
                for_reservation_id=h["for_reservation_id"],
            )
            for h in heads
        ]


def _transfer_row(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.id,
        "origin_id": t.origin_id,
        "destination_id": t.destination_id,
        "reference": t.reference,
        "status": t.status.value,
        "reservation_id": t.reservation_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "version": t.version,
        "for_reservation_id": t.for_reservation_id,
    }


def _purchase_order_row(po: PurchaseOrder) -> dict[str, Any]:
    return {
        "id": po.id,
        "location_id": po.location_id,
        "supplier": po.supplier,
        "reference": po.reference,
        "status": po.status.value,
        "created_at": po.created_at,
        "updated_at": po.updated_at,
        "version": po.version,
    }


def _po_line_row(po_id: str, line: PurchaseOrderLine) -> dict[str, Any]:
    return {
        "purchase_order_id": po_id,
        "sku": line.sku,
        "quantity": line.quantity,
        "received": line.received,
        "expected_at": line.expected_at,
    }


def _purchase_order(h: Any, lines: list[PurchaseOrderLine]) -> PurchaseOrder:
    return PurchaseOrder(
        id=h["id"],
        location_id=h["location_id"],
        supplier=h["supplier"],
        reference=h["reference"],
        lines=lines,
        created_at=h["created_at"],
        updated_at=h["updated_at"],
        status=PurchaseOrderStatus(h["status"]),
        version=h["version"],
    )


def _location(r: Any) -> Location:
    return Location(
        id=r["id"],
        name=r["name"],
        kind=LocationKind(r["kind"]),
        ships=r["ships"],
        pickup=r["pickup"],
        accepts_returns=r["accepts_returns"],
        region=r["region"],
        latitude=r["latitude"],
        longitude=r["longitude"],
        priority=r["priority"],
        daily_capacity=r["daily_capacity"],
        paused=r["paused"],
    )


def _sourcing_rule_document(rule: SourcingRule) -> dict[str, Any]:
    return {
        "location_ids": sorted(rule.location_ids),
        "regions": sorted(rule.regions),
        "stores_may_ship": rule.stores_may_ship,
        "max_locations": rule.max_locations,
        "same_region_only": rule.same_region_only,
    }


def _sourcing_rule(doc: dict[str, Any]) -> SourcingRule:
    return SourcingRule(
        location_ids=frozenset(doc["location_ids"]),
        regions=frozenset(doc["regions"]),
        stores_may_ship=doc["stores_may_ship"],
        max_locations=doc["max_locations"],
        same_region_only=doc["same_region_only"],
    )


def _location_row(loc: Location) -> dict[str, Any]:
    return {
        "id": loc.id,
        "name": loc.name,
        "kind": loc.kind.value,
        "ships": loc.ships,
        "pickup": loc.pickup,
        "accepts_returns": loc.accepts_returns,
        "region": loc.region,
        "latitude": loc.latitude,
        "longitude": loc.longitude,
        "priority": loc.priority,
        "daily_capacity": loc.daily_capacity,
        "paused": loc.paused,
    }


def _level(r: Any) -> StockLevel:
    return StockLevel(
        sku=r["sku"],
        location_id=r["location_id"],
        on_hand=r["on_hand"],
        reserved=r["reserved"],
        safety_stock=r["safety_stock"],
        damaged=r["damaged"],
        version=r["version"],
        incoming=r["incoming"],
        backordered=r["backordered"],
    )


def _movement_row(m: Movement) -> dict[str, Any]:
    return {
        "sku": m.sku,
        "location_id": m.location_id,
        "kind": m.kind.value,
        "on_hand_delta": m.on_hand_delta,
        "reserved_delta": m.reserved_delta,
        "damaged_delta": m.damaged_delta,
        "safety_stock_delta": m.safety_stock_delta,
        "reference": m.reference,
        "actor": m.actor,
        "version": m.version,
        "incoming_delta": m.incoming_delta,
        "backordered_delta": m.backordered_delta,
    }


def _movement(r: Any) -> Movement:
    return Movement(
        r["sku"],
        r["location_id"],
        MovementKind(r["kind"]),
        r["on_hand_delta"],
        r["reserved_delta"],
        r["damaged_delta"],
        r["safety_stock_delta"],
        r["reference"],
        r["actor"],
        r["version"],
        r["incoming_delta"],
        r["backordered_delta"],
    )


def _reservation_row(r: Reservation) -> dict[str, Any]:
    return {
        "id": r.id,
        "reference": r.reference,
        "status": r.status.value,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "channel": r.channel,
    }


def _line_row(reservation_id: str, line: ReservationLine) -> dict[str, Any]:
    return {
        "reservation_id": reservation_id,
        "sku": line.sku,
        "location_id": line.location_id,
        "quantity": line.quantity,
        "committed": line.committed,
        "released": line.released,
        "waiting": line.waiting,
        "expected_at": line.expected_at,
        "coming": line.coming,
    }


def _reservation_line(r: Any) -> ReservationLine:
    return ReservationLine(
        r["sku"],
        r["location_id"],
        r["quantity"],
        r["committed"],
        r["released"],
        r["waiting"],
        r["expected_at"],
        r["coming"],
    )


def _reservation(h: Any, lines: list[ReservationLine]) -> Reservation:
    return Reservation(
        id=h["id"],
        reference=h["reference"],
        lines=lines,
        created_at=h["created_at"],
        expires_at=h["expires_at"],
        status=ReservationStatus(h["status"]),
        channel=h["channel"],
    )
