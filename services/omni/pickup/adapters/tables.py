"""The pickup service's schema (SQLAlchemy Core); migrations create exactly this."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

from omni.platform.db import UTCDateTime
from omni.platform.tables import platform_tables

metadata = MetaData()
outbox, processed_events, idempotency_keys = platform_tables(metadata)

tasks = Table(
    "pickup_tasks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False, unique=True),
    Column("store_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("hold_until", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    # Customer, lines, associate, wrong attempts, the code's hash: read and written whole.
    Column("document", Text, nullable=False),
    # A store's queue: oldest first, by status.
    Index("ix_pickup_tasks_store_status_created", "store_id", "status", "created_at", "id"),
    Index("ix_pickup_tasks_store_created", "store_id", "created_at", "id"),
    Index("ix_pickup_tasks_hold_until", "hold_until"),
)

# Scan ids already recorded for a task: a resent scan changes nothing.
picks = Table(
    "pickup_picks",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("scan_id", String(64), primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

store_policies = Table(
    "store_policies",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("shortage", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Ship-from-store (and warehouse) work: one task per order and location.
ship_tasks = Table(
    "ship_tasks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    # Lines, associate, packages, carrier and tracking: read and written whole.
    Column("document", Text, nullable=False),
    UniqueConstraint("order_id", "location_id", name="uq_ship_tasks_order_location"),
    # A location's queue: oldest first, by status.
    Index("ix_ship_tasks_location_status_created", "location_id", "status", "created_at", "id"),
    Index("ix_ship_tasks_location_created", "location_id", "created_at", "id"),
)
