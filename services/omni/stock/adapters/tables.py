"""The stock service's schema (SQLAlchemy Core); migrations create exactly this."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from omni.platform.db import UTCDateTime
from omni.platform.tables import SequenceId, platform_tables

metadata = MetaData()
outbox, processed_events, idempotency_keys = platform_tables(metadata)

locations = Table(
    "locations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ships", Boolean, nullable=False),
    Column("pickup", Boolean, nullable=False),
    Column("accepts_returns", Boolean, nullable=False),
    Column("region", String(64), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("priority", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("daily_capacity", BigInteger, nullable=True),  # ship orders per day; NULL: no limit
    Column("paused", Boolean, nullable=False, server_default=false()),
)

# Ship orders each location with a daily capacity was given, per day (UTC): locked by every
# allocation that may source there, so that two replicas never give it more than it takes.
location_load = Table(
    "location_load",
    metadata,
    Column("location_id", String(64), ForeignKey("locations.id"), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD
    Column("orders", BigInteger, nullable=False),
    CheckConstraint("orders >= 0", name="ck_location_load_orders"),
)

# Which allocation took a place in which location's day: given back if it is cancelled.
capacity_charges = Table(
    "capacity_charges",
    metadata,
    Column("reservation_id", String(64), ForeignKey("reservations.id"), primary_key=True),
    Column("location_id", String(64), primary_key=True),
    Column("day", String(10), nullable=False),
)

stock_levels = Table(
    "stock_levels",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("location_id", String(64), ForeignKey("locations.id"), primary_key=True),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("safety_stock", BigInteger, nullable=False),
    Column("damaged", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("incoming", BigInteger, nullable=False, server_default="0"),
    Column("backordered", BigInteger, nullable=False, server_default="0"),
    # The version the backorder settler last looked at (omni.stock.domain.presale).
    Column("settled_version", BigInteger, nullable=False, server_default="0"),
    # The database refuses what the domain must never do, whatever the code path.
    CheckConstraint(
        "on_hand >= 0 AND reserved >= 0 AND safety_stock >= 0 AND damaged >= 0",
        name="ck_stock_levels_non_negative",
    ),
    CheckConstraint("incoming >= 0", name="ck_stock_levels_incoming_non_negative"),
    CheckConstraint("backordered >= 0", name="ck_stock_levels_backordered_non_negative"),
    Index("ix_stock_levels_location_sku", "location_id", "sku"),  # ListLevels
    Index(  # the few levels with backorders, for the settler
        "ix_stock_levels_backordered",
        "sku",
        "location_id",
        postgresql_where=text("backordered > 0"),
        sqlite_where=text("backordered > 0"),
    ),
)

movements = Table(
    "movements",
    metadata,
    Column("id", SequenceId, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("on_hand_delta", BigInteger, nullable=False),
    Column("reserved_delta", BigInteger, nullable=False),
    Column("damaged_delta", BigInteger, nullable=False),
    Column("safety_stock_delta", BigInteger, nullable=False),
    Column("reference", String(128), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("incoming_delta", BigInteger, nullable=False, server_default="0"),
    Column("backordered_delta", BigInteger, nullable=False, server_default="0"),
    # One movement per version of a level: a lost update cannot hide in the ledger. (On
    # PostgreSQL the ledger is partitioned by month, migration 0015: its primary key is
    # (id, occurred_at) and this is a unique index on each partition; see adapters/ledger.py.)
    UniqueConstraint("sku", "location_id", "version", name="uq_movements_level_version"),
)

barcodes = Table(
    "barcodes",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

channel_buffers = Table(
    "channel_buffers",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("location_kind", String(16), primary_key=True),
    Column("units", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("reference", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False, server_default=""),
    Index("ix_reservations_status_expires_at", "status", "expires_at"),
    Index("ix_reservations_reference", "reference"),
    Index("ix_reservations_status_updated_at", "status", "updated_at"),  # purging the finished
)

reservation_lines = Table(
    "reservation_lines",
    metadata,
    Column("reservation_id", String(64), ForeignKey("reservations.id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("location_id", String(64), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("committed", BigInteger, nullable=False),
    Column("released", BigInteger, nullable=False),
    Column("waiting", BigInteger, nullable=False, server_default="0"),
    Column("expected_at", UTCDateTime, nullable=True),
    Column("coming", BigInteger, nullable=False, server_default="0"),  # by a transfer
    Index(  # lines waiting for supply, first come first served per level
        "ix_reservation_lines_waiting",
        "sku",
        "location_id",
        postgresql_where=text("waiting > 0"),
        sqlite_where=text("waiting > 0"),
    ),
)

presale_policies = Table(
    "presale_policies",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("cap", BigInteger, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("waiting", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("waiting >= 0", name="ck_presale_policies_waiting"),
)

# A channel's sourcing rules for ship orders, in order (a JSON list; no row: the default).
sourcing_rules = Table(
    "sourcing_rules",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("rules", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("location_id", String(64), ForeignKey("locations.id"), nullable=False),
    Column("supplier", String(128), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("status", String(24), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", BigInteger, nullable=False),
    Index(
        "ix_purchase_orders_location_created", "location_id", "created_at", "id"
    ),  # ListPurchaseOrders
)

purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("purchase_order_id", String(64), ForeignKey("purchase_orders.id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("expected_at", UTCDateTime, nullable=False),
    # A line may be cut to nothing by an amendment (quantity 0).
    CheckConstraint("quantity >= 0 AND received >= 0", name="ck_purchase_order_lines_quantities"),
    Index("ix_purchase_order_lines_sku", "sku"),  # a SKU's supply (available to promise)
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("origin_id", String(64), ForeignKey("locations.id"), nullable=False),
    Column("destination_id", String(64), ForeignKey("locations.id"), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("status", String(24), nullable=False),
    Column("reservation_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", BigInteger, nullable=False),
    # Made for an order's units: the reservation that waits for them ("" for any other).
    Column("for_reservation_id", String(64), nullable=False, server_default=""),
    # ListTransfers: a location's, from it or to it, newest first.
    Index("ix_transfers_origin_created", "origin_id", "created_at", "id"),
    Index("ix_transfers_destination_created", "destination_id", "created_at", "id"),
    Index(  # an order's transfers, when its reservation is released
        "ix_transfers_for_reservation",
        "for_reservation_id",
        postgresql_where=text("for_reservation_id <> ''"),
        sqlite_where=text("for_reservation_id <> ''"),
    ),
)

transfer_lines = Table(
    "transfer_lines",
    metadata,
    Column("transfer_id", String(64), ForeignKey("transfers.id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    CheckConstraint(
        "quantity > 0 AND accepted >= 0 AND rejected >= 0 AND accepted + rejected <= quantity",
        name="ck_transfer_lines_quantities",
    ),
)
